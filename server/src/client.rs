//! Who the end user behind a request is, when the server can tell.
//!
//! Clerk's and Ding's routes are called by the application's backend, so
//! the peer address is the backend's for every one of its users: it names
//! no end user. A request names one only when its peer is trusted
//! (`--trusted-proxy`: the backend's addresses, or a proxy in front) and
//! its `X-Forwarded-For` carries an address that is not itself trusted:
//! the right-most such entry is the end user (entries further left were
//! written by the user's side and may be forged). Without one, the request
//! is [`EndUser::Unnamed`], and the per-user budgets in the record are all
//! that applies: an application that does not name its users can never be
//! turned into one client that locks everybody out.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;

/// The peers whose `X-Forwarded-For` is believed: addresses and CIDR
/// ranges (`10.0.0.5`, `10.0.0.0/24`, `fd00::/8`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Whether `ip` is one of them (an IPv4-mapped IPv6 address as its
    /// IPv4 address).
    #[must_use]
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = unmapped(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The addresses and ranges.
    #[must_use]
    pub fn nets(&self) -> &[IpNet] {
        &self.0
    }

    /// Whether none is configured.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<IpNet> for TrustedProxies {
    fn from_iter<I: IntoIterator<Item = IpNet>>(nets: I) -> Self {
        Self(nets.into_iter().collect())
    }
}

impl FromStr for TrustedProxies {
    type Err = String;

    /// A comma-separated list of addresses and CIDR ranges.
    fn from_str(text: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for (n, item) in text.split(',').map(str::trim).enumerate() {
            if item.is_empty() {
                continue;
            }
            let net = match item.parse::<IpAddr>() {
                Ok(ip) => IpNet::from(unmapped(ip)),
                Err(_) => item.parse::<IpNet>().map_err(|_| {
                    format!(
                        "entry {}: not an IP address or a CIDR range (10.0.0.5, 10.0.0.0/24, fd00::/8)",
                        n + 1
                    )
                })?,
            };
            nets.push(net.trunc());
        }
        Ok(Self(nets))
    }
}

/// An end user, as the per-client limits count one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Client {
    /// An address: IPv4 as is, IPv6 cut to its /64 (the block one
    /// subscriber usually holds).
    Address(IpAddr),
    /// An `X-Forwarded-For` entry that is no address (`unknown`, an
    /// obfuscated name, garbage): a client of its own, never the proxy.
    Unparsed(Box<str>),
}

/// The end user a request speaks for: named by a trusted peer, or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndUser {
    /// A trusted peer named the end user.
    Named(Client),
    /// No end user named: the per-user budgets alone apply.
    Unnamed,
}

impl EndUser {
    /// The end user of a request from `peer` with `headers`, when
    /// `trusted` says whose headers to believe.
    #[must_use]
    pub fn of(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> Self {
        if !trusted.contains(peer) {
            return Self::Unnamed;
        }
        // Every X-Forwarded-For header, in order, is one list.
        let mut entries: Vec<String> = Vec::new();
        for value in headers.get_all("x-forwarded-for") {
            match value.to_str() {
                Ok(text) => entries.extend(text.split(',').map(|e| e.trim().to_owned())),
                Err(_) => entries.push(String::from_utf8_lossy(value.as_bytes()).into_owned()),
            }
        }
        for entry in entries.iter().rev().filter(|e| !e.is_empty()) {
            match address(entry) {
                Some(ip) if trusted.contains(ip) => {}
                Some(ip) => return Self::Named(Client::Address(per_subscriber(ip))),
                None => {
                    // Bounded: at most 64 characters of it identify the
                    // client.
                    let kept: String = entry.chars().take(64).collect();
                    return Self::Named(Client::Unparsed(kept.into()));
                }
            }
        }
        Self::Unnamed
    }

    /// The client, if named.
    #[must_use]
    pub const fn client(&self) -> Option<&Client> {
        match self {
            Self::Named(client) => Some(client),
            Self::Unnamed => None,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for EndUser {
    type Rejection = std::convert::Infallible;

    /// From the peer address (`ConnectInfo`) and the [`TrustedProxies`]
    /// the app's router adds as an extension; without either, unnamed.
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>();
        let trusted = parts.extensions.get::<Arc<TrustedProxies>>();
        Ok(match (peer, trusted) {
            (Some(peer), Some(trusted)) => Self::of(peer.0.ip(), &parts.headers, trusted),
            _ => Self::Unnamed,
        })
    }
}

/// The peer itself as a client: for the `--dev` pages, which a browser
/// calls directly (the peer is the end user there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer(pub Client);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Ok(EndUser::Named(client)) = EndUser::from_request_parts(parts, state).await {
            return Ok(Self(client));
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |info| info.0.ip());
        Ok(Self(Client::Address(per_subscriber(peer))))
    }
}

/// The address an `X-Forwarded-For` entry (or Ding's `ip` field) names,
/// in the forms proxies write: `192.0.2.1`, `192.0.2.1:4711`,
/// `2001:db8::1`, `[2001:db8::1]`, `[2001:db8::1]:4711`, any of them in
/// quotes.
#[must_use]
pub fn address(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim().trim_matches('"');
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(unmapped(ip));
    }
    if let Ok(socket) = entry.parse::<SocketAddr>() {
        return Some(unmapped(socket.ip()));
    }
    entry
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|inner| inner.parse::<Ipv6Addr>().ok())
        .map(|v6| unmapped(IpAddr::V6(v6)))
}

/// An IPv4-mapped IPv6 address as its IPv4 address.
fn unmapped(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

impl std::fmt::Display for Client {
    /// The address, or the unparsed entry as it came.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Address(ip) => ip.fmt(f),
            Self::Unparsed(entry) => f.write_str(entry),
        }
    }
}

impl Client {
    /// The client at `ip` (IPv6 counted per /64).
    #[must_use]
    pub fn at(ip: IpAddr) -> Self {
        Self::Address(per_subscriber(ip))
    }
}

/// An IPv4 address as is; an IPv6 address cut to its /64.
fn per_subscriber(ip: IpAddr) -> IpAddr {
    match unmapped(ip) {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(v6.to_bits() & !u128::from(u64::MAX))),
        v4 @ IpAddr::V4(_) => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn named(text: &str) -> EndUser {
        EndUser::Named(Client::Address(ip(text)))
    }

    #[test]
    fn trusted_lists_take_addresses_and_ranges() {
        let trusted: TrustedProxies = "10.0.0.5, 192.168.0.0/16,fd00::/8".parse().unwrap();
        assert!(trusted.contains(ip("10.0.0.5")) && !trusted.contains(ip("10.0.0.6")));
        assert!(trusted.contains(ip("192.168.44.1")) && trusted.contains(ip("fd12::1")));
        assert!(trusted.contains(ip("::ffff:10.0.0.5")), "IPv4-mapped");
        assert!(!trusted.contains(ip("2001:db8::1")));
        let refused = "10.0.0.5,my-proxy".parse::<TrustedProxies>().unwrap_err();
        assert!(
            refused.contains("entry 2") && !refused.contains("my-proxy"),
            "{refused}"
        );
    }

    #[test]
    fn only_a_trusted_peer_names_the_end_user() {
        let trusted: TrustedProxies = "10.0.0.0/24".parse().unwrap();
        let xff = headers(&["198.51.100.7"]);
        assert_eq!(
            EndUser::of(ip("10.0.0.9"), &xff, &trusted),
            named("198.51.100.7")
        );
        // Another peer, whatever it claims, names nobody: it is a backend.
        assert_eq!(
            EndUser::of(ip("10.0.1.9"), &xff, &trusted),
            EndUser::Unnamed
        );
        // A trusted peer without the header names nobody either.
        assert_eq!(
            EndUser::of(ip("10.0.0.9"), &HeaderMap::new(), &trusted),
            EndUser::Unnamed
        );
        assert_eq!(
            EndUser::of(ip("10.0.0.9"), &xff, &TrustedProxies::default()),
            EndUser::Unnamed
        );
    }

    #[test]
    fn the_right_most_untrusted_entry_is_the_end_user_in_every_common_form() {
        let trusted: TrustedProxies = "10.0.0.0/24,2001:db8:ff::/48".parse().unwrap();
        let peer = ip("10.0.0.1");
        for (values, expected) in [
            (&["203.0.113.1, 198.51.100.7"][..], "198.51.100.7"),
            (&["203.0.113.1, 198.51.100.7, 10.0.0.3"], "198.51.100.7"),
            (&["203.0.113.1", "198.51.100.7, 10.0.0.3"], "198.51.100.7"),
            (&["198.51.100.7:4711"], "198.51.100.7"),
            (&["\"198.51.100.7\""], "198.51.100.7"),
            (&["[2001:db8:1:2::5]:443"], "2001:db8:1:2::"),
            (&["[2001:db8:1:2::5]"], "2001:db8:1:2::"),
            (&["2001:db8:1:2::5, 2001:db8:ff::1"], "2001:db8:1:2::"),
            (&["\"[2001:db8:1:2::5]:443\""], "2001:db8:1:2::"),
            (&["::ffff:198.51.100.7"], "198.51.100.7"),
        ] {
            assert_eq!(
                EndUser::of(peer, &headers(values), &trusted),
                named(expected),
                "{values:?}"
            );
        }
        // Every entry trusted: nobody named.
        assert_eq!(
            EndUser::of(peer, &headers(&["10.0.0.3, 10.0.0.4"]), &trusted),
            EndUser::Unnamed
        );
    }

    #[test]
    fn a_malformed_entry_is_its_own_client_never_the_proxy() {
        let trusted: TrustedProxies = "10.0.0.1".parse().unwrap();
        let peer = ip("10.0.0.1");
        let of = |value: &str| EndUser::of(peer, &headers(&[value]), &trusted);
        assert_eq!(
            of("198.51.100.7, unknown"),
            EndUser::Named(Client::Unparsed("unknown".into()))
        );
        assert_eq!(
            of("1.2.3.4.5"),
            EndUser::Named(Client::Unparsed("1.2.3.4.5".into()))
        );
        assert_ne!(of("garbage-a"), of("garbage-b"));
        let long = "x".repeat(500);
        assert_eq!(
            of(&long),
            EndUser::Named(Client::Unparsed("x".repeat(64).into()))
        );
    }
}
