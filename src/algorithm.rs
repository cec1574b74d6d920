//! The HMAC hash function.

use core::fmt;
use core::str::FromStr;

use crate::error::Error;

/// The hash function under HMAC: SHA-1 (the default everywhere), SHA-256 or
/// SHA-512, as RFC 6238 §1.2 allows.
///
/// Parses "SHA1", "SHA256" and "SHA512" in any case (and the hyphenated
/// "SHA-1" spellings); prints the upper-case names that otpauth:// URIs use.
///
/// ```
/// use otpkit::Algorithm;
///
/// let alg: Algorithm = "sha256".parse()?;
/// assert_eq!(alg, Algorithm::Sha256);
/// assert_eq!(alg.to_string(), "SHA256");
/// assert_eq!(Algorithm::default(), Algorithm::Sha1);
/// # Ok::<(), otpkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Algorithm {
    /// HMAC-SHA-1, RFC 4226's hash and every authenticator app's default.
    #[default]
    Sha1,
    /// HMAC-SHA-256.
    Sha256,
    /// HMAC-SHA-512.
    Sha512,
}

impl Algorithm {
    /// The name used in otpauth:// URIs: `"SHA1"`, `"SHA256"` or `"SHA512"`.
    ///
    /// ```
    /// assert_eq!(otpkit::Algorithm::Sha512.as_str(), "SHA512");
    /// ```
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
            Self::Sha512 => "SHA512",
        }
    }

    /// The key length RFC 6238 §5.1 and its Appendix B use for this hash, in
    /// bytes: the hash's output size (20, 32 or 64). [`crate::Secret::generate`]
    /// draws this many bytes.
    ///
    /// ```
    /// assert_eq!(otpkit::Algorithm::Sha256.key_len(), 32);
    /// ```
    #[must_use]
    pub const fn key_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 => 32,
            Self::Sha512 => 64,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = Error;

    /// # Errors
    /// [`Error::UnknownAlgorithm`] for any other name.
    fn from_str(s: &str) -> Result<Self, Error> {
        const NAMES: [(&str, Algorithm); 6] = [
            ("SHA1", Algorithm::Sha1),
            ("SHA-1", Algorithm::Sha1),
            ("SHA256", Algorithm::Sha256),
            ("SHA-256", Algorithm::Sha256),
            ("SHA512", Algorithm::Sha512),
            ("SHA-512", Algorithm::Sha512),
        ];
        NAMES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(s))
            .map(|&(_, alg)| alg)
            .ok_or(Error::UnknownAlgorithm)
    }
}
