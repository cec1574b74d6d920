//! What is wrong with a typed code: [`Typo`].

use core::fmt;

use crate::error::Error;

/// What is wrong with a code a person typed, as a check reports it
/// ([`Verdict::Malformed`](crate::Verdict::Malformed) and the other
/// outcomes' `Malformed`): a typo, not a wrong code, so nothing is counted.
/// Never holds the input. Each converts into the [`Error`] of the same
/// name and message.
///
/// ```
/// use otpkit::{Totp, Secret, Typo, Verdict};
/// let totp = Totp::new(Secret::generate());
/// let verdict = totp.verify_at("12345", 1_700_000_000, None)?;
/// assert_eq!(verdict, Verdict::Malformed(Typo::WrongCodeLength { expected: 6, found: 5 }));
/// assert_eq!(Typo::EmptyCode.to_string(), "code is empty");
/// # Ok::<(), otpkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Typo {
    /// Nothing in it.
    EmptyCode,
    /// A character that is not a digit (or, in a backup code, a symbol of
    /// the set's alphabet), or a separator out of place.
    InvalidCodeChar {
        /// Position of the character, surrounding white space removed.
        position: usize,
    },
    /// A code with the wrong number of digits.
    WrongCodeLength {
        /// Digits the code must have.
        expected: u8,
        /// Digits it had.
        found: usize,
    },
    /// A backup code with the wrong number of symbols.
    WrongBackupCodeLength {
        /// Symbols a code of the set has.
        expected: usize,
        /// Symbols it had.
        found: usize,
    },
}

impl From<Typo> for Error {
    fn from(typo: Typo) -> Self {
        match typo {
            Typo::EmptyCode => Self::EmptyCode,
            Typo::InvalidCodeChar { position } => Self::InvalidCodeChar { position },
            Typo::WrongCodeLength { expected, found } => Self::WrongCodeLength { expected, found },
            Typo::WrongBackupCodeLength { expected, found } => {
                Self::WrongBackupCodeLength { expected, found }
            }
        }
    }
}

impl fmt::Display for Typo {
    /// The message of the matching [`Error`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&Error::from(*self), f)
    }
}
