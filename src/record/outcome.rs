//! What a sign-in check did: [`TotpOutcome`], and which kind of code
//! [`CodeType`] it was.

use crate::backup::BackupCodes;
use crate::engine::Typo;

/// Which kind of code was accepted, as Clerk's back-end `verifyTOTP`
/// answers (`"code_type": "totp"` or `"backup_code"`).
///
/// ```
/// assert_eq!(otpkit::record::CodeType::BackupCode.as_str(), "backup_code");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeType {
    /// A code from the authenticator app.
    Totp,
    /// A backup code, now used up.
    BackupCode,
}

impl CodeType {
    /// The wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::BackupCode => "backup_code",
        }
    }
}

/// What checking a sign-in code did, in the crate's one vocabulary
/// (valid, invalid, replayed, locked, malformed).
///
/// ```
/// use otpkit::record::{CodeType, TotpOutcome};
/// let outcome = TotpOutcome::Replayed { code_type: CodeType::Totp };
/// assert!(!outcome.is_valid());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
pub enum TotpOutcome {
    /// The code is right: the record is verified.
    Valid {
        /// Which kind of code it was.
        code_type: CodeType,
        /// The backup codes this check issued, to show the user once: the
        /// set the first right code brings, empty on every other check
        /// (and when the enrollment issues none). Clerk's response carries
        /// them: [`TotpResource::with_backup_codes`](super::TotpResource::with_backup_codes).
        backup_codes: BackupCodes,
    },
    /// A right code that was used before (a TOTP code's step, or a backup
    /// code): refused, and not counted as a failure (a double submit or a
    /// second tab reveals nothing to a guesser). Nothing changed.
    Replayed {
        /// Which kind of code it was.
        code_type: CodeType,
    },
    /// A wrong code, counted against its kind's budget.
    Invalid {
        /// Which budget counted it: [`CodeType::BackupCode`] for input
        /// shaped like a backup code (which may also have been counted as
        /// a TOTP guess, if it was shaped like one too).
        code_type: CodeType,
        /// Wrong codes of that kind in a row so far.
        failures: u32,
        /// Unix time before which no code is checked, if now locked.
        locked_until: Option<u64>,
    },
    /// Too many wrong codes of this kind: none is checked until this Unix
    /// time. Codes of the other kind still are.
    Locked {
        /// The kind of code that is locked.
        code_type: CodeType,
        /// Unix time the lock ends.
        until: u64,
    },
    /// The input is neither a TOTP code nor a backup code (a typo): what is
    /// wrong with it as a TOTP code. Nothing changed, nothing is counted.
    Malformed(Typo),
}

impl TotpOutcome {
    /// Whether the code was accepted.
    ///
    /// ```
    /// use otpkit::record::{CodeType, TotpOutcome};
    /// assert!(!TotpOutcome::Locked { code_type: CodeType::Totp, until: 60 }.is_valid());
    /// ```
    #[must_use]
    pub const fn is_valid(&self) -> bool {
        matches!(self, Self::Valid { .. })
    }
}
