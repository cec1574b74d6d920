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

/// An application secret mixed into every backup-code and one-time-code
/// hash, kept outside the database (an environment variable, a secrets
/// manager), so a stolen database alone cannot be brute-forced. At least
/// 16 bytes; zeroized on drop; never printed.
///
/// Every function that hashes takes one, so the choice is made where the
/// code is read: a pepper from your secrets manager, or [`Pepper::NONE`]
/// by name. A set hashed with a pepper needs it to be checked
/// ([`Error::PepperRequired`] otherwise); a set hashed without one ignores
/// whatever is passed.
///
/// ```
/// let pepper = otpkit::Pepper::new(b"an application secret of 32 byte")?;
/// assert_eq!(format!("{pepper:?}"), "Pepper([REDACTED])");
/// assert!(otpkit::Pepper::new(b"short").is_err());
/// assert!(pepper.is_set() && !otpkit::Pepper::NONE.is_set());
/// # Ok::<(), otpkit::Error>(())
/// ```
#[derive(Clone)]
pub struct Pepper(Option<Zeroizing<Vec<u8>>>);

impl Pepper {
    /// No pepper, chosen by name: hashes are keyed by nothing a database
    /// thief lacks, so a stolen set of backup-code hashes can be attacked
    /// offline at the hash's cost (PBKDF2 makes that slow, not impossible).
    /// For tests, and for apps that protect the database otherwise.
    ///
    /// ```
    /// use otpkit::{BackupCodeSet, Pepper};
    /// let (codes, set) = BackupCodeSet::generate(&Default::default(), &Pepper::NONE, 0)?;
    /// assert!(!set.is_peppered());
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub const NONE: Self = Self(None);

    /// Whether this is a pepper, not [`Pepper::NONE`].
    ///
    /// ```
    /// assert!(otpkit::Pepper::new(&[7; 16])?.is_set());
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub const fn is_set(&self) -> bool {
        self.0.is_some()
    }

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
        Ok(Self(Some(Zeroizing::new(bytes.to_vec()))))
    }
}

impl Pepper {
    /// The pepper's bytes (empty for [`Pepper::NONE`], which the hashing
    /// code never passes here: see [`Pepper::given`]).
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.0.as_deref().map_or(&[], |bytes| bytes.as_slice())
    }

    /// `Some(self)` for a pepper, `None` for [`Pepper::NONE`]: the form the
    /// hashing code works with.
    pub(crate) fn given(&self) -> Option<&Self> {
        self.is_set().then_some(self)
    }
}

impl fmt::Debug for Pepper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_set() {
            "Pepper([REDACTED])"
        } else {
            "Pepper::NONE"
        })
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
