//! How a set is made: [`BackupCodeOptions`] and [`BackupHashScheme`].

use super::{COUNTS, ITERATIONS, LENGTHS};
use crate::error::Error;

/// How backup codes are hashed for storage; see the module docs for what
/// each costs the server and an attacker.
///
/// ```
/// use otpkit::backup::BackupHashScheme;
/// assert_eq!(BackupHashScheme::default(), BackupHashScheme::PBKDF2);
/// assert_eq!(BackupHashScheme::PBKDF2, BackupHashScheme::Pbkdf2Sha256 { iterations: 100_000 });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackupHashScheme {
    /// HMAC-SHA-256 keyed with the [`Pepper`](crate::pepper::Pepper) (or an empty key without one):
    /// fast; meets ASVS 6.5.2 only for codes of 23 symbols (113.8 bits) or
    /// more, or with the pepper kept out of the database.
    HmacSha256,
    /// PBKDF2-HMAC-SHA-256 (the default): deliberately slow, so short codes
    /// resist offline guessing; the pepper, if given, is mixed in too.
    Pbkdf2Sha256 {
        /// Iterations, 1 000 to 10 000 000.
        iterations: u32,
    },
}

impl Default for BackupHashScheme {
    /// [`BackupHashScheme::PBKDF2`].
    fn default() -> Self {
        Self::PBKDF2
    }
}

impl BackupHashScheme {
    /// PBKDF2 at 100 000 iterations: about 13 ms a check on the reference
    /// machine.
    pub const PBKDF2: Self = Self::Pbkdf2Sha256 {
        iterations: 100_000,
    };
}

/// How many codes, how long, and how to hash them.
///
/// ```
/// use otpkit::BackupCodeSet;
/// use otpkit::backup::{BackupCodeOptions, BackupHashScheme};
///
/// let pbkdf2 = BackupHashScheme::Pbkdf2Sha256 { iterations: 10_000 }; // PBKDF2 defaults to 100 000; 10 000 is the floor
/// let options = BackupCodeOptions::default().count(8).length(12).scheme(pbkdf2);
/// let (codes, set) = BackupCodeSet::generate(&options, &otpkit::Pepper::NONE, 0)?;
/// assert_eq!((codes.len(), set.total()), (8, 8));
/// assert_eq!(codes.iter().next().unwrap().len(), 14); // 12 symbols, 2 dashes
/// # Ok::<(), otpkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct BackupCodeOptions {
    pub(super) count: usize,
    pub(super) length: usize,
    pub(super) scheme: BackupHashScheme,
}

impl Default for BackupCodeOptions {
    /// 10 codes of 10 symbols, PBKDF2-HMAC-SHA-256 at 100 000 iterations.
    fn default() -> Self {
        Self {
            count: 10,
            length: 10,
            scheme: BackupHashScheme::PBKDF2,
        }
    }
}

impl BackupCodeOptions {
    /// Codes in the set, 1 to 100 (default 10).
    ///
    /// ```
    /// # use otpkit::BackupCodeSet;
    /// # use otpkit::backup::BackupCodeOptions;
    /// assert!(BackupCodeSet::generate(&BackupCodeOptions::default().count(0), &otpkit::Pepper::NONE, 0).is_err());
    /// ```
    pub const fn count(mut self, count: usize) -> Self {
        self.count = count;
        self
    }

    /// Symbols a code, 8 to 24 (default 10); see the module docs for the
    /// entropy of each.
    ///
    /// ```
    /// # use otpkit::BackupCodeSet;
    /// # use otpkit::backup::BackupCodeOptions;
    /// assert!(BackupCodeSet::generate(&BackupCodeOptions::default().length(7), &otpkit::Pepper::NONE, 0).is_err());
    /// ```
    pub const fn length(mut self, length: usize) -> Self {
        self.length = length;
        self
    }

    /// The hashing scheme (default PBKDF2-HMAC-SHA-256, 100 000 iterations).
    ///
    /// ```
    /// # use otpkit::BackupCodeSet;
    /// # use otpkit::backup::{BackupCodeOptions, BackupHashScheme};
    /// let slow = BackupHashScheme::Pbkdf2Sha256 { iterations: 10_000 };
    /// let options = BackupCodeOptions::default().count(1).scheme(slow);
    /// assert_eq!(BackupCodeSet::generate(&options, &otpkit::Pepper::NONE, 0)?.1.scheme(), slow);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub const fn scheme(mut self, scheme: BackupHashScheme) -> Self {
        self.scheme = scheme;
        self
    }
}

impl BackupCodeOptions {
    /// Whether a set can be made with these options: count, length and
    /// PBKDF2 iterations in range. Checked when a set is generated and when
    /// a stored record that will generate one is loaded.
    pub(crate) fn check(&self) -> Result<(), Error> {
        if !COUNTS.contains(&self.count) {
            return Err(Error::BackupCountOutOfRange { count: self.count });
        }
        if !LENGTHS.contains(&self.length) {
            return Err(Error::BackupLengthOutOfRange {
                length: self.length,
            });
        }
        check_scheme(self.scheme)
    }
}

/// PBKDF2 iterations a new set needs at least (NIST SP 800-63B's minimum
/// for PBKDF2); stored and imported sets load from 1 000 up, as they are.
pub const MIN_NEW_ITERATIONS: u32 = 10_000;

/// The symbols a code needs for fast (HMAC) hashes without a pepper: one
/// hash a guess, so the code alone must resist offline search with 112
/// bits (23 of the 31-symbol alphabet carry 23 · log2 31 ≈ 113.9).
const MIN_UNPEPPERED_HMAC_LENGTH: usize = 23;

impl BackupCodeOptions {
    /// The floors of a new set (`peppered`: made with a pepper).
    pub(crate) fn check_new(&self, peppered: bool) -> Result<(), Error> {
        match self.scheme {
            BackupHashScheme::Pbkdf2Sha256 { iterations } if iterations < MIN_NEW_ITERATIONS => {
                Err(Error::WeakBackupScheme {
                    reason: "new sets need PBKDF2 at 10000 iterations or more",
                })
            }
            BackupHashScheme::HmacSha256
                if !peppered && self.length < MIN_UNPEPPERED_HMAC_LENGTH =>
            {
                Err(Error::WeakBackupScheme {
                    reason: "hmac-sha256 without a pepper needs codes of 23 symbols or more \
                             (112 bits); give a pepper, or use pbkdf2-sha256",
                })
            }
            _ => Ok(()),
        }
    }
}

#[cfg_attr(not(feature = "serde"), allow(dead_code))] // read when a record is stored
impl BackupCodeOptions {
    pub(crate) const fn count_value(&self) -> usize {
        self.count
    }

    pub(crate) const fn length_value(&self) -> usize {
        self.length
    }

    pub(crate) const fn scheme_value(&self) -> BackupHashScheme {
        self.scheme
    }
}

pub(super) fn check_scheme(scheme: BackupHashScheme) -> Result<(), Error> {
    match scheme {
        BackupHashScheme::Pbkdf2Sha256 { iterations } if !ITERATIONS.contains(&iterations) => {
            Err(Error::InvalidBackupRecord {
                reason: "pbkdf2 iterations must be 1000 to 10000000",
            })
        }
        _ => Ok(()),
    }
}
