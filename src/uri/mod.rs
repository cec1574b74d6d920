//! otpauth:// URIs (Google Authenticator's Key Uri Format): builder and parser.
//!
//! An authenticator app learns a secret from a URI, usually scanned as a QR
//! code: `otpauth://totp/ACME:alice@example.com?secret=…&issuer=ACME`. The
//! format was defined by Google Authenticator and is read by every app
//! (Authy, 1Password, Microsoft Authenticator, FreeOTP, Aegis, …), though
//! not every app honours every parameter: many ignore `algorithm`, `digits`
//! and `period` and assume SHA-1, 6 digits and 30 s, so keep those defaults
//! unless you control the app.
//!
//! [`OtpAuthUri`] builds URIs that leave out default parameters and encode
//! the label per RFC 3986 (a space is `%20`), and parses what real apps and
//! libraries emit: `+` for a space in query values, lower-case or padded
//! secrets, the issuer only in the label or only in the parameter. It refuses
//! contradictions (a label issuer that differs from the `issuer` parameter)
//! and anything malformed with a typed error that never repeats the input.
//!
//! ```
//! use otpkit::{OtpAuthUri, Secret, Totp};
//!
//! let uri = OtpAuthUri::for_totp(&Totp::new(Secret::generate()), "alice@example.com").with_issuer("ACME Co");
//! let parsed: OtpAuthUri = uri.to_string().parse()?;
//! assert_eq!(parsed, uri);
//! assert_eq!(parsed.issuer(), Some("ACME Co"));
//! # Ok::<(), otpkit::Error>(())
//! ```

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use zeroize::Zeroizing;

mod migration;
mod parse;

pub use migration::MigrationPayload;
pub use parse::MAX_URI_LEN;

use crate::algorithm::Algorithm;
use crate::engine::{Hotp, Totp};
use crate::error::Error;
use crate::secret::Secret;

/// Everything but RFC 3986's unreserved characters is percent-encoded, so a
/// space is `%20` (never `+`) and a `:` inside an issuer or account is
/// `%3A`, keeping the label's `issuer:account` split unambiguous.
const ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Whether a URI is for a time-based or a counter-based generator.
///
/// ```
/// use otpkit::OtpAuthUri;
/// use otpkit::uri::OtpType;
///
/// let uri: OtpAuthUri = "otpauth://hotp/alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY&counter=7".parse()?;
/// assert_eq!(uri.otp_type(), OtpType::Hotp { counter: 7 });
/// # Ok::<(), otpkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OtpType {
    /// RFC 6238 TOTP with this period in seconds.
    Totp {
        /// Seconds per step.
        period: u64,
    },
    /// RFC 4226 HOTP starting at this counter.
    Hotp {
        /// The counter of the next code.
        counter: u64,
    },
    /// Steam Guard: TOTP (HMAC-SHA-1, 30 s) shown as five characters of
    /// Steam's alphabet ([`Totp::steam`]). Read from `otpauth://steam/`,
    /// `encoder=steam`, or issuer `Steam` with no setting that says
    /// otherwise; written as `otpauth://totp/…&digits=5&encoder=steam`.
    Steam,
}

/// An `otpauth://` URI: what an enrollment QR code holds.
///
/// Built from a [`Totp`] or [`Hotp`], it writes the issuer both as the
/// label's prefix and as the `issuer` parameter, as Google's Key Uri Format
/// recommends, and leaves out parameters at their defaults (SHA1, 6 digits,
/// 30 s) unless asked to write them all. Parsing accepts what apps and
/// libraries emit — any case in scheme and type, `+` for space in
/// parameters, a lower-case or padded secret, the issuer in the label only or
/// in the parameter only, parameters in any order — keeps parameters it does
/// not know so that a parse → build round trip loses nothing, and rejects
/// contradictions with a typed [`Error`].
///
/// The URI carries the secret: its `Display` prints it (that is its job),
/// its `Debug` does not.
///
/// ```
/// use otpkit::{OtpAuthUri, Secret, Totp};
///
/// let totp = Totp::new(Secret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")?);
/// let uri = OtpAuthUri::for_totp(&totp, "alice@example.com").with_issuer("ACME Co");
/// assert_eq!(
///     uri.to_string(),
///     "otpauth://totp/ACME%20Co:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME%20Co"
/// );
///
/// let parsed: OtpAuthUri = uri.to_string().parse()?;
/// assert_eq!(parsed.issuer(), Some("ACME Co"));
/// assert_eq!(parsed.to_totp()?.generate_at(59)?, totp.generate_at(59)?);
/// # Ok::<(), otpkit::Error>(())
/// ```
///
/// # References
/// [Key Uri Format](https://github.com/google/google-authenticator/wiki/Key-Uri-Format),
/// [RFC 3986 §2](https://www.rfc-editor.org/rfc/rfc3986#section-2) (percent-encoding).
#[derive(Clone, PartialEq, Eq)]
pub struct OtpAuthUri {
    otp_type: OtpType,
    issuer: Option<String>,
    account: String,
    secret: Secret,
    algorithm: Algorithm,
    digits: u8,
    image: Option<String>,
    extra: Vec<(String, String)>,
    explicit_defaults: bool,
}

impl OtpAuthUri {
    /// The URI of a TOTP generator for `account` (T0 and the window are not
    /// part of the format: apps assume T0 = 0).
    ///
    /// ```
    /// # use otpkit::{OtpAuthUri, Secret, Totp};
    /// let totp = Totp::new(Secret::generate());
    /// assert_eq!(OtpAuthUri::for_totp(&totp, "bob").account(), "bob");
    /// ```
    #[must_use]
    pub fn for_totp(totp: &Totp, account: impl Into<String>) -> Self {
        let otp_type = if totp.is_steam() {
            OtpType::Steam
        } else {
            OtpType::Totp {
                period: totp.period(),
            }
        };
        Self::new(
            otp_type,
            totp.secret().clone(),
            totp.algorithm(),
            totp.digits(),
            account.into(),
        )
    }

    /// The URI of an HOTP generator whose next code is `counter`.
    ///
    /// ```
    /// # use otpkit::{Hotp, OtpAuthUri, Secret};
    /// # use otpkit::uri::OtpType;
    /// let hotp = Hotp::new(Secret::generate());
    /// let uri = OtpAuthUri::for_hotp(&hotp, 5, "bob");
    /// assert!(uri.to_string().contains("&counter=5"));
    /// ```
    #[must_use]
    pub fn for_hotp(hotp: &Hotp, counter: u64, account: impl Into<String>) -> Self {
        Self::new(
            OtpType::Hotp { counter },
            hotp.secret().clone(),
            hotp.algorithm(),
            hotp.digits(),
            account.into(),
        )
    }

    fn new(
        otp_type: OtpType,
        secret: Secret,
        algorithm: Algorithm,
        digits: u8,
        account: String,
    ) -> Self {
        Self {
            otp_type,
            issuer: None,
            account,
            secret,
            algorithm,
            digits,
            image: None,
            extra: Vec::new(),
            explicit_defaults: false,
        }
    }

    /// Sets the issuer: the service name the app shows above the code.
    ///
    /// ```
    /// # use otpkit::{OtpAuthUri, Secret, Totp};
    /// let uri = OtpAuthUri::for_totp(&Totp::new(Secret::generate()), "bob").with_issuer("Zürich Bank");
    /// assert!(uri.to_string().starts_with("otpauth://totp/Z%C3%BCrich%20Bank:bob?"));
    /// ```
    #[must_use]
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Sets the `image` parameter: a logo URL that FreeOTP and 2FAS show.
    ///
    /// ```
    /// # use otpkit::{OtpAuthUri, Secret, Totp};
    /// let uri = OtpAuthUri::for_totp(&Totp::new(Secret::generate()), "bob")
    ///     .with_image("https://example.com/logo.png");
    /// assert!(uri.to_string().ends_with("&image=https%3A%2F%2Fexample.com%2Flogo.png"));
    /// ```
    #[must_use]
    pub fn with_image(mut self, url: impl Into<String>) -> Self {
        self.image = Some(url.into());
        self
    }

    /// Writes `algorithm`, `digits` and `period` even at their defaults, for
    /// apps that want them explicit.
    ///
    /// ```
    /// # use otpkit::{OtpAuthUri, Secret, Totp};
    /// let uri = OtpAuthUri::for_totp(&Totp::new(Secret::generate()), "bob").with_explicit_defaults(true);
    /// assert!(uri.to_string().ends_with("&algorithm=SHA1&digits=6&period=30"));
    /// ```
    #[must_use]
    pub const fn with_explicit_defaults(mut self, explicit: bool) -> Self {
        self.explicit_defaults = explicit;
        self
    }

    /// Parses like [`FromStr`](core::str::FromStr), but accepts secrets shorter than 128 bits,
    /// such as the 80-bit keys of older deployments.
    ///
    /// # Errors
    /// As [`FromStr`](core::str::FromStr), except [`Error::SecretTooShort`].
    ///
    /// ```
    /// use otpkit::OtpAuthUri;
    /// let legacy = "otpauth://totp/ACME:bob?secret=JBSWY3DPEHPK3PXP";
    /// assert!(legacy.parse::<OtpAuthUri>().is_err());
    /// assert_eq!(OtpAuthUri::parse_allow_short_secret(legacy)?.secret().len(), 10);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn parse_allow_short_secret(uri: &str) -> Result<Self, Error> {
        parse::parse(uri, true)
    }

    /// TOTP or HOTP, with the period or counter.
    ///
    /// ```
    /// # use otpkit::{OtpAuthUri, Secret, Totp};
    /// # use otpkit::uri::OtpType;
    /// let uri = OtpAuthUri::for_totp(&Totp::new(Secret::generate()), "bob");
    /// assert_eq!(uri.otp_type(), OtpType::Totp { period: 30 });
    /// ```
    #[must_use]
    pub const fn otp_type(&self) -> OtpType {
        self.otp_type
    }

    /// The issuer, from the label prefix or the `issuer` parameter.
    ///
    /// ```
    /// let uri: otpkit::OtpAuthUri = "otpauth://totp/bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY&issuer=ACME".parse()?;
    /// assert_eq!(uri.issuer(), Some("ACME"));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// The account name.
    ///
    /// ```
    /// let uri: otpkit::OtpAuthUri = "otpauth://totp/ACME:%20bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY".parse()?;
    /// assert_eq!(uri.account(), "bob");
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The shared key.
    ///
    /// ```
    /// let uri: otpkit::OtpAuthUri = "otpauth://totp/bob?secret=gezdgnbvgy3tqojqgezdgnbvgy======".parse()?;
    /// assert_eq!(&*uri.secret().to_base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY");
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub const fn secret(&self) -> &Secret {
        &self.secret
    }

    /// The hash under HMAC.
    ///
    /// ```
    /// let uri: otpkit::OtpAuthUri = "otpauth://totp/bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY&algorithm=sha512".parse()?;
    /// assert_eq!(uri.algorithm(), otpkit::Algorithm::Sha512);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub const fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Digits per code.
    ///
    /// ```
    /// let uri: otpkit::OtpAuthUri = "otpauth://totp/bob?digits=8&secret=GEZDGNBVGY3TQOJQGEZDGNBVGY".parse()?;
    /// assert_eq!(uri.digits(), 8);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub const fn digits(&self) -> u8 {
        self.digits
    }

    /// The `image` parameter, if any.
    ///
    /// ```
    /// let uri: otpkit::OtpAuthUri = "otpauth://totp/bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY&image=https%3A%2F%2Fx.io%2Fa.png".parse()?;
    /// assert_eq!(uri.image(), Some("https://x.io/a.png"));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub fn image(&self) -> Option<&str> {
        self.image.as_deref()
    }

    /// Parameters this crate does not interpret, decoded, in their order.
    ///
    /// ```
    /// let uri: otpkit::OtpAuthUri = "otpauth://totp/bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY&color=red+blue".parse()?;
    /// assert_eq!(uri.extra_parameters(), [("color".to_string(), "red blue".to_string())]);
    /// assert!(uri.to_string().ends_with("&color=red%20blue"));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub fn extra_parameters(&self) -> &[(String, String)] {
        &self.extra
    }

    /// A ready TOTP generator (T0 = 0, window ±1).
    ///
    /// # Errors
    /// [`Error::NotTotp`] for an HOTP URI.
    ///
    /// ```
    /// let uri: otpkit::OtpAuthUri = "otpauth://totp/bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&digits=8".parse()?;
    /// assert_eq!(uri.to_totp()?.generate_at(59)?.to_string(), "94287082");
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn to_totp(&self) -> Result<Totp, Error> {
        let period = match self.otp_type {
            OtpType::Totp { period } => period,
            OtpType::Steam => return Ok(Totp::steam(self.secret.clone())),
            OtpType::Hotp { .. } => return Err(Error::NotTotp),
        };
        Totp::builder(self.secret.clone())
            .algorithm(self.algorithm)
            .digits(self.digits)
            .period(period)
            .build()
    }

    /// A ready HOTP generator and the counter of its next code.
    ///
    /// # Errors
    /// [`Error::NotHotp`] for a TOTP URI.
    ///
    /// ```
    /// let uri: otpkit::OtpAuthUri = "otpauth://hotp/bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=1".parse()?;
    /// let (hotp, counter) = uri.to_hotp()?;
    /// assert_eq!(hotp.generate(counter).to_string(), "287082");
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn to_hotp(&self) -> Result<(Hotp, u64), Error> {
        let OtpType::Hotp { counter } = self.otp_type else {
            return Err(Error::NotHotp);
        };
        Ok((
            Hotp::with(self.secret.clone(), self.algorithm, self.digits)?,
            counter,
        ))
    }
}

impl Totp {
    /// A ready generator and verifier from an otpauth:// URI in one call:
    /// its key, hash, digits and period, or a Steam Guard generator for a
    /// Steam URI ([`OtpType::Steam`]). The client side of an authenticator
    /// app: scan, then show [`Totp::generate_now`] for
    /// [`Totp::seconds_remaining_now`] seconds.
    ///
    /// # Errors
    /// The parser's ([`OtpAuthUri`]'s `FromStr`); [`Error::NotTotp`] for an
    /// HOTP URI ([`Hotp::from_uri`] reads those).
    ///
    /// ```
    /// use otpkit::Totp;
    /// let totp = Totp::from_uri("otpauth://totp/ACME:bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&digits=8")?;
    /// assert_eq!(totp.generate_at(59)?.to_string(), "94287082");
    /// let steam = Totp::from_uri("otpauth://steam/Steam:bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")?;
    /// assert!(steam.is_steam());
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn from_uri(uri: &str) -> Result<Self, Error> {
        uri.parse::<OtpAuthUri>()?.to_totp()
    }
}

impl Hotp {
    /// A ready HOTP generator and the counter of its next code, from an
    /// otpauth:// URI in one call.
    ///
    /// # Errors
    /// The parser's; [`Error::NotHotp`] for a TOTP or Steam URI.
    ///
    /// ```
    /// let (hotp, counter) = otpkit::Hotp::from_uri("otpauth://hotp/bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=1")?;
    /// assert_eq!(hotp.generate(counter).to_string(), "287082");
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn from_uri(uri: &str) -> Result<(Self, u64), Error> {
        uri.parse::<OtpAuthUri>()?.to_hotp()
    }
}

impl OtpAuthUri {
    /// The URI's text in a string that is zeroized on drop, built without
    /// leaving copies of the secret in freed memory (`to_string` leaves
    /// one at each reallocation).
    ///
    /// ```
    /// let uri: otpkit::OtpAuthUri = "otpauth://totp/bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY".parse()?;
    /// assert_eq!(*uri.to_zeroizing_string(), uri.to_string());
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub fn to_zeroizing_string(&self) -> Zeroizing<String> {
        crate::encoding::wiping::to_zeroizing_string(self)
    }
}

impl fmt::Display for OtpAuthUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.otp_type {
            OtpType::Totp { .. } | OtpType::Steam => "totp",
            OtpType::Hotp { .. } => "hotp",
        };
        write!(f, "otpauth://{kind}/")?;
        match &self.issuer {
            Some(issuer) => write!(f, "{}:", utf8_percent_encode(issuer, ENCODE))?,
            // Without a literal `:`, a parser may split at an encoded one
            // (the format allows `%3A` as the separator): an empty issuer
            // prefix keeps such an account whole.
            None if self.account.contains(':') => f.write_str(":")?,
            None => {}
        }
        write!(f, "{}", utf8_percent_encode(&self.account, ENCODE))?;
        write!(f, "?secret={}", self.secret.to_base32().as_str())?;
        if let Some(issuer) = &self.issuer {
            write!(f, "&issuer={}", utf8_percent_encode(issuer, ENCODE))?;
        }
        if self.explicit_defaults || self.algorithm != Algorithm::Sha1 {
            write!(f, "&algorithm={}", self.algorithm)?;
        }
        // A numeric TOTP whose issuer is Steam says its digits: without
        // them a parser (this one first) reads issuer Steam as Steam's codes.
        let steam_issuer = self
            .issuer
            .as_deref()
            .is_some_and(|issuer| issuer.eq_ignore_ascii_case("steam"));
        let numeric_steam = steam_issuer && matches!(self.otp_type, OtpType::Totp { .. });
        if self.explicit_defaults || self.digits != 6 || numeric_steam {
            write!(f, "&digits={}", self.digits)?;
        }
        match self.otp_type {
            OtpType::Totp { period } if self.explicit_defaults || period != 30 => {
                write!(f, "&period={period}")?;
            }
            OtpType::Totp { .. } => {}
            OtpType::Hotp { counter } => write!(f, "&counter={counter}")?,
            // Its digits (5) are written above; the encoder says whose.
            OtpType::Steam => f.write_str("&encoder=steam")?,
        }
        if let Some(image) = &self.image {
            write!(f, "&image={}", utf8_percent_encode(image, ENCODE))?;
        }
        for (name, value) in &self.extra {
            write!(
                f,
                "&{}={}",
                utf8_percent_encode(name, ENCODE),
                utf8_percent_encode(value, ENCODE)
            )?;
        }
        Ok(())
    }
}

impl fmt::Debug for OtpAuthUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtpAuthUri")
            .field("otp_type", &self.otp_type)
            .field("issuer", &self.issuer)
            .field("account", &self.account)
            .field("secret", &self.secret)
            .field("algorithm", &self.algorithm)
            .field("digits", &self.digits)
            .field("image", &self.image)
            .field("extra", &self.extra)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::borrow::ToOwned;
    use alloc::format;
    use alloc::string::ToString;

    const S: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    fn parse_ok(uri: &str) -> OtpAuthUri {
        uri.parse().unwrap_or_else(|e| panic!("{uri}: {e}"))
    }

    #[test]
    fn forgiving_where_apps_differ() {
        let uri = parse_ok(&format!(
            "OTPAUTH://TOTP/ACME+Co:john.doe%40email.com?issuer=ACME+Co&period=60&secret={}",
            S.to_lowercase()
        ));
        // `+` is a space only in parameter values; in the path it is a plus.
        assert_eq!(uri.issuer(), Some("ACME Co"));
        assert_eq!(uri.account(), "john.doe@email.com");
        assert_eq!(uri.otp_type(), OtpType::Totp { period: 60 });
        let param_only = parse_ok(&format!("otpauth://totp/alice?secret={S}&issuer=ACME"));
        assert_eq!(param_only.issuer(), Some("ACME"));
        let encoded_separator = parse_ok(&format!("otpauth://totp/ACME%3A%20alice?secret={S}"));
        assert_eq!(encoded_separator.issuer(), Some("ACME"));
        assert_eq!(encoded_separator.account(), "alice");
    }

    #[test]
    fn label_plus_is_literal() {
        // RFC 3986 gives `+` no special meaning in a path.
        let uri = parse_ok(&format!("otpauth://totp/A+B:c?secret={S}"));
        assert_eq!(uri.issuer(), Some("A+B"));
    }

    #[test]
    fn strict_where_it_matters() {
        let cases = [
            (
                format!("http://totp/a?secret={S}"),
                Error::InvalidUri { part: "scheme" },
            ),
            (
                format!("otpauth://motp/a?secret={S}"),
                Error::InvalidUri { part: "type" },
            ),
            ("otpauth://totp/a?issuer=x".to_owned(), Error::MissingSecret),
            (
                format!("otpauth://totp/A:a?secret={S}&issuer=B"),
                Error::IssuerMismatch,
            ),
            (
                format!("otpauth://totp/a?secret={S}&digits=6&digits=8"),
                Error::DuplicateParameter {
                    name: "digits".into(),
                },
            ),
            (
                format!("otpauth://totp/a?secret={S}&Pasted{S}=1&x=2&pasted{S}=3"),
                Error::DuplicateParameter {
                    name: "number 4".into(),
                },
            ),
            (
                format!(
                    "otpauth://totp/a?secret={S}&x={}",
                    "a".repeat(super::MAX_URI_LEN)
                ),
                Error::InvalidUri {
                    part: "length (more than 8192 bytes)",
                },
            ),
            (
                format!("otpauth://totp/a?secret={S}&digits=12"),
                Error::DigitsOutOfRange { digits: 12 },
            ),
            (
                format!("otpauth://totp/a?secret={S}&digits=x"),
                Error::InvalidUri { part: "digits" },
            ),
            (
                format!("otpauth://totp/a?secret={S}&period=0"),
                Error::ZeroPeriod,
            ),
            (
                format!("otpauth://totp/a?secret={S}&period=-5"),
                Error::InvalidUri { part: "period" },
            ),
            (
                format!("otpauth://hotp/a?secret={S}"),
                Error::MissingCounter,
            ),
            (
                format!("otpauth://hotp/a?secret={S}&counter=99999999999999999999"),
                Error::InvalidUri { part: "counter" },
            ),
            (
                format!("otpauth://totp/a%ZZ?secret={S}"),
                Error::InvalidUri { part: "label" },
            ),
            (
                format!("otpauth://totp/a%FF?secret={S}"),
                Error::InvalidUri { part: "label" },
            ),
            (
                format!("otpauth://totp/ACME:?secret={S}"),
                Error::InvalidUri { part: "account" },
            ),
            (
                format!("otpauth://totp/a?secret={S}#x"),
                Error::InvalidUri { part: "fragment" },
            ),
            (
                format!("otpauth://totp/a?secret={S}&algorithm=MD5"),
                Error::UnknownAlgorithm,
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP".to_owned(),
                Error::SecretTooShort { bits: 80 },
            ),
        ];
        for (uri, err) in cases {
            assert_eq!(uri.parse::<OtpAuthUri>(), Err(err), "{uri}");
        }
    }

    #[test]
    fn colon_in_an_account_without_issuer_round_trips() {
        // Found by the `uri` fuzz target.
        let uri = parse_ok(&format!(
            "otpauth://totp/://totp/ACME%20Co:alice%40x.com?secret={S}"
        ));
        assert_eq!(
            (uri.issuer(), uri.account()),
            (None, "//totp/ACME Co:alice@x.com")
        );
        let rebuilt = uri.to_string();
        assert!(rebuilt.starts_with("otpauth://totp/:%2F%2Ftotp%2FACME%20Co%3Aalice%40x.com?"));
        assert_eq!(parse_ok(&rebuilt), uri);
    }

    #[test]
    fn debug_hides_the_secret() {
        let uri = parse_ok(&format!("otpauth://totp/a?secret={S}"));
        assert!(!format!("{uri:?}").contains(S));
    }
}
