//! A check in two steps, so that the slow part (hashing a backup code)
//! runs once, outside any compare-and-set retry: [`Verification`].

use alloc::borrow::ToOwned;
use alloc::string::String;
use core::fmt;

use zeroize::Zeroizing;

use super::{CodeType, TotpOutcome, TotpRecord};
use crate::backup::{BackupCodeOptions, BackupCodeSet, BackupCodes, BackupOutcome};
use crate::error::Error;
use crate::pepper::Pepper;

/// What [`TotpRecord::begin_verify`] found: an answer, a backup code to
/// hash first, or backup codes to make first.
///
/// The second case exists so that a server can keep the hashing (about
/// 10 ms of CPU under PBKDF2) out of its retry loop and under a budget:
/// the record it carries already counts the attempt against the backup
/// codes' [`Lockout`](super::Lockout), so saving it *reserves* the check.
/// However many requests race for one user, only the ones whose
/// reservation was saved hash, and those are at most the budget's free
/// failures + 1 before the lock.
#[derive(Debug)]
#[must_use]
pub enum Verification {
    /// Decided without hashing: save the record if it changed, answer the
    /// outcome.
    Decided(TotpRecord, TotpOutcome),
    /// The input may be a backup code. Save the record first (with a
    /// compare-and-set: it reserves this attempt), then run the
    /// [`BackupCodeCheck`] (slow, pure, once), then
    /// [`TotpRecord::finish_verify`] on the record as stored by then.
    CheckBackupCode(TotpRecord, BackupCodeCheck),
    /// A right code which, as the record's first, issues backup codes:
    /// nothing is decided or changed yet. Make the set with these options
    /// ([`BackupCodeSet::generate`], slow: each code is hashed), once,
    /// then call [`TotpRecord::begin_verify_issuing`] with it on the record
    /// as stored by then, and save what that decides.
    IssueBackupCodes(BackupCodeOptions),
}

/// The slow half of a backup-code check, detached from the record: the
/// set as it was when the attempt was reserved, and the input.
#[derive(Clone)]
pub struct BackupCodeCheck {
    set: BackupCodeSet,
    input: Zeroizing<String>,
    /// Whether the input was also counted as a wrong TOTP code.
    totp_counted: bool,
}

/// The result of a [`BackupCodeCheck`], to apply with
/// [`TotpRecord::finish_verify`].
#[derive(Clone)]
pub struct CheckedBackupCode {
    set: BackupCodeSet,
    found: Option<usize>,
    totp_counted: bool,
}

impl BackupCodeCheck {
    pub(super) fn new(set: &BackupCodeSet, input: &str, totp_counted: bool) -> Self {
        Self {
            set: set.clone(),
            input: Zeroizing::new(input.to_owned()),
            totp_counted,
        }
    }

    /// Hashes the input and compares it with every code of the set: the
    /// slow part, pure; run it once and apply the result with
    /// [`TotpRecord::finish_verify`].
    ///
    /// # Errors
    /// [`Error::PepperRequired`] for a peppered set without the pepper.
    ///
    /// ```
    /// use otpkit::record::{TotpOutcome, TotpRecord, Verification};
    /// let (record, _) = TotpRecord::create("ACME", "bob", &Default::default(), 0)?;
    /// let code = record.totp().generate_at(0)?.to_string();
    /// let (record, TotpOutcome::Valid { backup_codes: codes, .. }) = record.verify(&code, &otpkit::Pepper::NONE, 0)? else { panic!() };
    /// let Verification::CheckBackupCode(reserved, check) = record.begin_verify(codes.iter().next().unwrap(), 5)? else { panic!() };
    /// // … save `reserved` with a compare-and-set, then:
    /// let checked = check.run(&otpkit::Pepper::NONE)?;
    /// let (_, outcome) = reserved.finish_verify(&checked, 5);
    /// assert!(outcome.is_valid());
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn run(&self, pepper: &Pepper) -> Result<CheckedBackupCode, Error> {
        let pepper = pepper.given();
        let found = self.set.find(&self.input, pepper)?.ok().flatten();
        Ok(CheckedBackupCode {
            set: self.set.clone(),
            found,
            totp_counted: self.totp_counted,
        })
    }
}

impl CheckedBackupCode {
    /// Whether the input is one of the set's codes (used or not).
    ///
    /// ```
    /// use otpkit::record::{TotpOutcome, TotpRecord, Verification};
    /// let (record, _) = TotpRecord::create("ACME", "bob", &Default::default(), 0)?;
    /// let code = record.totp().generate_at(0)?.to_string();
    /// let (record, _) = record.verify(&code, &otpkit::Pepper::NONE, 0)?;
    /// let Verification::CheckBackupCode(_, check) = record.begin_verify("2345-6789-ab", 5)? else { panic!() };
    /// assert!(!check.run(&otpkit::Pepper::NONE)?.matched());
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub const fn matched(&self) -> bool {
        self.found.is_some()
    }
}

impl fmt::Debug for BackupCodeCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackupCodeCheck").finish_non_exhaustive()
    }
}

impl fmt::Debug for CheckedBackupCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CheckedBackupCode")
            .field("matched", &self.matched())
            .finish_non_exhaustive()
    }
}

impl TotpRecord {
    /// Applies a [`CheckedBackupCode`] at Unix time `now`, on the record as
    /// stored after the attempt was reserved (reload it: other requests may
    /// have saved since). A match on a code still unused in the same set
    /// uses it up and resets both budgets; a match on a used code is a
    /// replay, and the reserved attempt is given back (on both budgets, for
    /// input shaped like both kinds); no match keeps the
    /// reserved failure (nothing changes). Cheap: no hashing.
    ///
    /// A code of a set replaced since the check (regenerated) is refused
    /// as invalid.
    ///
    /// ```
    /// use otpkit::record::{CodeType, TotpOutcome, TotpRecord, Verification};
    /// let (record, _) = TotpRecord::create("ACME", "bob", &Default::default(), 0)?;
    /// let code = record.totp().generate_at(0)?.to_string();
    /// let (record, _) = record.verify(&code, &otpkit::Pepper::NONE, 0)?;
    /// let Verification::CheckBackupCode(reserved, check) = record.begin_verify("2345-6789-ab", 5)? else { panic!() };
    /// assert_eq!(reserved.backup_failures(), 1); // counted before hashing
    /// let (after, outcome) = reserved.finish_verify(&check.run(&otpkit::Pepper::NONE)?, 5);
    /// assert!(matches!(outcome, TotpOutcome::Invalid { code_type: CodeType::BackupCode, failures: 1, .. }));
    /// assert_eq!(after, reserved); // nothing more to save
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn finish_verify(&self, checked: &CheckedBackupCode, now: u64) -> (Self, TotpOutcome) {
        let invalid = TotpOutcome::Invalid {
            code_type: CodeType::BackupCode,
            failures: self.backup_throttle.failures,
            locked_until: self.backup_throttle.locked_until,
        };
        let Some(index) = checked.found else {
            return (self.clone(), invalid);
        };
        let mut next = self.clone();
        next.updated_at = now.max(self.updated_at);
        let Some(set) = next
            .backup_codes
            .as_mut()
            .filter(|set| set.same_slot(&checked.set, index))
        else {
            return (self.clone(), invalid);
        };
        match set.consume(index, now) {
            BackupOutcome::Valid { .. } => {
                next.reset_throttles();
                let outcome = TotpOutcome::Valid {
                    code_type: CodeType::BackupCode,
                    backup_codes: BackupCodes::default(),
                };
                (next, outcome)
            }
            BackupOutcome::Replayed => {
                next.backup_throttle.refund(&self.backup_lockout);
                if checked.totp_counted {
                    next.totp_throttle.refund(&self.lockout);
                }
                let code_type = CodeType::BackupCode;
                (next, TotpOutcome::Replayed { code_type })
            }
            BackupOutcome::Invalid | BackupOutcome::Malformed(_) => (self.clone(), invalid),
        }
    }
}
