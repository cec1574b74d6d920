//! Reading an otpauth:// URI: forgiving where popular apps differ, strict
//! where a contradiction would pick a secret or setting silently.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::string::ToString;
use alloc::vec::Vec;
use core::str::FromStr;

use zeroize::Zeroizing;

use super::{OtpAuthUri, OtpType};
use crate::algorithm::Algorithm;
use crate::error::Error;
use crate::secret::Secret;

impl FromStr for OtpAuthUri {
    type Err = Error;

    /// Parses an `otpauth://` URI; the secret must be at least 128 bits (see
    /// [`OtpAuthUri::parse_allow_short_secret`]).
    ///
    /// # Errors
    /// [`Error::InvalidUri`] naming the part that is wrong (scheme, type,
    /// label, a parameter, a length over [`MAX_URI_LEN`]),
    /// [`Error::MissingSecret`],
    /// [`Error::IssuerMismatch`], [`Error::DuplicateParameter`],
    /// [`Error::MissingCounter`], and the errors of [`Secret::from_base32`],
    /// [`Algorithm`]'s parser, and digit, period and counter checks.
    fn from_str(uri: &str) -> Result<Self, Error> {
        parse(uri, false)
    }
}

/// Splits off a case-insensitive ASCII prefix.
pub(super) fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}

/// Percent-decodes `raw` strictly: every `%` starts a two-digit hex escape,
/// and the result is UTF-8. With `plus_is_space`, `+` means a space (the
/// form encoding many libraries use in query values).
///
/// The value may be the secret, so it is decoded in one pass into a buffer
/// that never grows (decoding only shrinks) and is zeroized on drop: no
/// copy of it is freed unwiped.
pub(super) fn decode(
    raw: &str,
    plus_is_space: bool,
    part: &'static str,
) -> Result<Zeroizing<String>, Error> {
    let invalid = Error::InvalidUri { part };
    let mut out = Zeroizing::new(Vec::with_capacity(raw.len()));
    let mut bytes = raw.bytes();
    while let Some(b) = bytes.next() {
        out.push(match b {
            b'%' => {
                let mut hex_digit = || bytes.next().and_then(|h| char::from(h).to_digit(16));
                let (Some(high), Some(low)) = (hex_digit(), hex_digit()) else {
                    return Err(invalid);
                };
                high.checked_mul(16)
                    .and_then(|h| h.checked_add(low))
                    .and_then(|v| u8::try_from(v).ok())
                    .ok_or(invalid.clone())?
            }
            b'+' if plus_is_space => b' ',
            b => b,
        });
    }
    if core::str::from_utf8(&out).is_err() {
        return Err(invalid);
    }
    let text = String::from_utf8(core::mem::take(&mut *out)).map_err(|_| invalid)?;
    Ok(Zeroizing::new(text))
}

/// The label's issuer and account. The separator is the first `:` (literal,
/// or `%3A` when the label has no literal one, as the Key Uri Format
/// allows); spaces after it are dropped.
fn split_label(raw: &str) -> Result<(Option<String>, String), Error> {
    let (issuer, account) = match raw.split_once(':') {
        Some((issuer, account)) => (
            Some(decode(issuer, false, "label")?.to_string()),
            decode(account, false, "label")?.to_string(),
        ),
        None => {
            let label = decode(raw, false, "label")?;
            match label.split_once(':') {
                Some((issuer, account)) => (Some(issuer.to_owned()), account.to_owned()),
                None => (None, label.to_string()),
            }
        }
    };
    let account = account.trim_start_matches(' ').to_owned();
    if account.is_empty() {
        return Err(Error::InvalidUri { part: "account" });
    }
    Ok((issuer.filter(|i| !i.is_empty()), account))
}

fn number<T: FromStr>(value: &str, part: &'static str) -> Result<T, Error> {
    value.parse().map_err(|_| Error::InvalidUri { part })
}

/// The longest URI parsed, in bytes: twice the most a QR code holds
/// (4 296 alphanumeric characters), and far more than any real otpauth://
/// URI (a few hundred bytes). Longer input is refused before it is read.
pub const MAX_URI_LEN: usize = 8192;

/// The known parameters, named by their name in errors; any other is named
/// by its position (its name may be a pasted secret).
const KNOWN: [&str; 8] = [
    "secret",
    "issuer",
    "algorithm",
    "digits",
    "period",
    "counter",
    "image",
    "encoder",
];

pub(super) fn parse(uri: &str, allow_short_secret: bool) -> Result<OtpAuthUri, Error> {
    if uri.len() > MAX_URI_LEN {
        return Err(Error::InvalidUri {
            part: "length (more than 8192 bytes)",
        });
    }
    let rest = strip_prefix_ignore_case(uri.trim(), "otpauth://")
        .ok_or(Error::InvalidUri { part: "scheme" })?;
    let (kind, rest) = rest
        .split_once('/')
        .ok_or(Error::InvalidUri { part: "type" })?;
    // `otpauth://steam/` (Aegis's export) is a TOTP URI whose codes are
    // Steam Guard's.
    let steam_type = kind.eq_ignore_ascii_case("steam");
    let is_totp = if kind.eq_ignore_ascii_case("totp") || steam_type {
        true
    } else if kind.eq_ignore_ascii_case("hotp") {
        false
    } else {
        return Err(Error::InvalidUri { part: "type" });
    };
    if rest.contains('#') {
        return Err(Error::InvalidUri { part: "fragment" });
    }
    let (label, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (label_issuer, account) = split_label(label)?;

    // Names seen, lower-cased: a set, so a URI of many parameters costs
    // n log n, not n².
    let mut seen = alloc::collections::BTreeSet::new();
    let mut secret = None;
    let mut issuer = None;
    let mut algorithm = None;
    let mut digits = None;
    let mut steam_encoder = false;
    let mut period = None;
    let mut counter = None;
    let mut image = None;
    let mut extra = Vec::new();
    for (position, pair) in query.split('&').filter(|p| !p.is_empty()).enumerate() {
        let (raw_name, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = decode(raw_name, true, "parameter name")?.to_string();
        let lower = name.to_ascii_lowercase();
        if seen.contains(&lower) {
            let name = if KNOWN.contains(&lower.as_str()) {
                lower
            } else {
                alloc::format!("number {}", position.saturating_add(1))
            };
            return Err(Error::DuplicateParameter { name });
        }
        seen.insert(lower.clone());
        let value = decode(raw_value, true, "parameter value")?;
        match lower.as_str() {
            "secret" => {
                secret = Some(if allow_short_secret {
                    Secret::from_base32_allow_short(&value)?
                } else {
                    Secret::from_base32(&value)?
                });
            }
            "issuer" => issuer = Some(value.to_string()),
            "algorithm" => algorithm = Some(value.parse::<Algorithm>()?),
            "digits" => digits = Some(number::<u32>(&value, "digits")?),
            // KeePassXC's way of saying Steam; any other encoder would make
            // codes this library cannot: refused, never a wrong code.
            "encoder" if value.eq_ignore_ascii_case("steam") && is_totp => steam_encoder = true,
            "encoder" => return Err(Error::UnsupportedEncoder),
            "period" if is_totp => period = Some(number::<u64>(&value, "period")?),
            "counter" if !is_totp => counter = Some(number::<u64>(&value, "counter")?),
            "image" => image = Some(value.to_string()),
            _ => extra.push((name, value.to_string())),
        }
    }

    let issuer = match (label_issuer, issuer) {
        // Form-encoding libraries write a space in the label as `+` too.
        (Some(label), Some(param)) if label != param && label.replace('+', " ") != param => {
            return Err(Error::IssuerMismatch);
        }
        (label, param) => param.or(label),
    };
    // Steam: said by the type or the encoder, or by the convention of
    // steamguard-cli and the apps that follow it, issuer `Steam` with no
    // setting that says otherwise (digits, period, algorithm).
    let steam_issuer = issuer
        .as_deref()
        .is_some_and(|issuer| issuer.eq_ignore_ascii_case("steam"))
        && digits.is_none_or(|d| d == 5)
        && period.is_none_or(|p| p == 30)
        && algorithm.is_none_or(|a| a == Algorithm::Sha1);
    let steam = is_totp && (steam_type || steam_encoder || steam_issuer);
    let algorithm = algorithm.unwrap_or(Algorithm::Sha1);
    let digits = match digits {
        None if steam => 5,
        None => 6,
        Some(5) if steam => 5,
        Some(n) if steam => return Err(Error::DigitsOutOfRange { digits: n }),
        Some(n) => u8::try_from(n)
            .ok()
            .filter(|d| (6..=10).contains(d))
            .ok_or(Error::DigitsOutOfRange { digits: n })?,
    };
    let otp_type = if steam {
        // Steam Guard is HMAC-SHA-1 over 30 s steps, nothing else.
        if algorithm != Algorithm::Sha1 {
            return Err(Error::InvalidUri {
                part: "algorithm (Steam is SHA1)",
            });
        }
        if period.is_some_and(|p| p != 30) {
            return Err(Error::InvalidUri {
                part: "period (Steam is 30)",
            });
        }
        OtpType::Steam
    } else if is_totp {
        let period = period.unwrap_or(30);
        if period == 0 {
            return Err(Error::ZeroPeriod);
        }
        OtpType::Totp { period }
    } else {
        OtpType::Hotp {
            counter: counter.ok_or(Error::MissingCounter)?,
        }
    };
    Ok(OtpAuthUri {
        otp_type,
        issuer,
        account,
        secret: secret.ok_or(Error::MissingSecret)?,
        algorithm,
        digits,
        image,
        extra,
        explicit_defaults: false,
    })
}
