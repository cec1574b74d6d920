//! The application secret kept outside the database, [`Pepper`], and the
//! keyed hash it is used with (backup codes and one-time code challenges).

use alloc::vec::Vec;
use core::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::Error;

/// Bytes of an HMAC-SHA-256 output.
pub(crate) const HASH_LEN: usize = 32;

/// An application secret mixed into every backup-code hash, kept outside
/// the database (an environment variable, a secrets manager), so a stolen
/// database alone cannot be brute-forced. At least 16 bytes; zeroized on
/// drop; never printed.
///
/// ```
/// let pepper = otpkit::Pepper::new(b"an application secret of 32 byte")?;
/// assert_eq!(format!("{pepper:?}"), "Pepper([REDACTED])");
/// assert!(otpkit::Pepper::new(b"short").is_err());
/// # Ok::<(), otpkit::Error>(())
/// ```
#[derive(Clone)]
pub struct Pepper(Zeroizing<Vec<u8>>);

impl Pepper {
    /// A pepper from its bytes.
    ///
    /// # Errors
    /// [`Error::PepperTooShort`] under 16 bytes.
    ///
    /// ```
    /// assert!(otpkit::Pepper::new(&[7; 16]).is_ok());
    /// ```
    pub fn new(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() < 16 {
            return Err(Error::PepperTooShort);
        }
        Ok(Self(Zeroizing::new(bytes.to_vec())))
    }
}

impl Pepper {
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Pepper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pepper([REDACTED])")
    }
}

/// The pepper to hash with for a record made with (`peppered`) or without
/// one: a peppered record needs it, an unpeppered one ignores it.
pub(crate) fn pepper_for(
    peppered: bool,
    pepper: Option<&Pepper>,
) -> Result<Option<&Pepper>, Error> {
    match (peppered, pepper) {
        (true, None) => Err(Error::PepperRequired),
        (true, pepper) => Ok(pepper),
        (false, _) => Ok(None),
    }
}

/// HMAC-SHA-256 of the concatenated `parts`.
#[allow(clippy::expect_used)]
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Zeroizing<[u8; HASH_LEN]> {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC accepts keys of any length");
    for part in parts {
        mac.update(part);
    }
    let mut out = Zeroizing::new([0u8; HASH_LEN]);
    out.copy_from_slice(&mac.finalize().into_bytes());
    out
}
