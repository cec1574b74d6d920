//! Sign-in: [`TotpRecord::verify`] and its two steps for servers that
//! hash outside their compare-and-set loop.

use super::{BackupCodeCheck, CodeType, Throttle, TotpOutcome, TotpRecord, Verification};
use crate::backup::{BackupCodeOptions, BackupCodeSet, BackupCodes};
use crate::engine::{Typo, Verdict};
use crate::error::Error;
use crate::pepper::Pepper;
use crate::random::CryptoRng;

impl TotpRecord {
    /// Checks a code at Unix time `now`: a TOTP code, or — once verified —
    /// a backup code (which is then used up), as Clerk's back-end
    /// `verifyTOTP` accepts either. The first right TOTP code verifies the
    /// record and, when backup codes are enabled and none exist, issues
    /// them in the returned resource, keeping only their hashes.
    ///
    /// Returns the new record to persist (it changes on every outcome but
    /// [`TotpOutcome::Locked`], [`TotpOutcome::Malformed`] and a TOTP
    /// code's [`TotpOutcome::Replayed`]) and what happened. Wrong TOTP codes
    /// and wrong backup codes have separate budgets (see [`Lockout`](super::Lockout)): a
    /// lock on one does not stop the other from being checked. A code that could be either kind (a backup code of digits
    /// only, as long as a TOTP code) is tried as both, so every issued
    /// backup code can be redeemed.
    ///
    /// # Errors
    /// Only for a problem of configuration, never for what the user typed:
    /// [`Error::PepperRequired`] for a peppered backup set without the
    /// pepper; [`Error::TimeBeforeT0`] for a clock before T0.
    ///
    /// ```
    /// use otpkit::record::{CodeType, EnrollmentOptions, TotpOutcome, TotpRecord};
    ///
    /// let now = 1_700_000_000;
    /// let (record, _) = TotpRecord::create("ACME", "alice", &EnrollmentOptions::default(), now)?;
    /// let code = record.totp().generate_at(now)?.to_string(); // from the user's app
    /// let (record, outcome) = record.verify(&code, &otpkit::Pepper::NONE, now)?;
    /// let TotpOutcome::Valid { code_type: CodeType::Totp, backup_codes } = outcome else { panic!() };
    /// assert_eq!(backup_codes.len(), 10); // issued by the first right code: show them once
    ///
    /// // The same code again is a replay; a typo is malformed, not an error.
    /// let (record, again) = record.verify(&code, &otpkit::Pepper::NONE, now + 1)?;
    /// assert_eq!(again, TotpOutcome::Replayed { code_type: CodeType::Totp });
    /// assert!(matches!(record.verify("12 34", &otpkit::Pepper::NONE, now + 2)?.1, TotpOutcome::Malformed(_)));
    ///
    /// // A backup code works once.
    /// let backup = backup_codes.iter().next().expect("ten of them");
    /// let (record, outcome) = record.verify(backup, &otpkit::Pepper::NONE, now + 3)?;
    /// assert!(matches!(outcome, TotpOutcome::Valid { code_type: CodeType::BackupCode, .. }));
    /// assert_eq!(record.verify(backup, &otpkit::Pepper::NONE, now + 4)?.1, TotpOutcome::Replayed { code_type: CodeType::BackupCode });
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[cfg(feature = "std")]
    #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
    pub fn verify(
        &self,
        input: &str,
        pepper: &Pepper,
        now: u64,
    ) -> Result<(Self, TotpOutcome), Error> {
        self.verify_with_rng(input, pepper, now, &mut crate::random::os())
    }

    /// [`TotpRecord::verify`] at the system clock's time.
    ///
    /// # Errors
    /// As [`TotpRecord::verify`].
    ///
    /// ```
    /// use otpkit::{Pepper, TotpOutcome, TotpRecord};
    /// let (record, _) = TotpRecord::create_now("ACME", "alice", &Default::default())?;
    /// let code = record.totp().generate_now()?.to_string(); // from the user's app
    /// let (record, outcome) = record.verify_now(&code, &Pepper::NONE)?;
    /// assert!(outcome.is_valid() && record.is_verified());
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[cfg(feature = "std")]
    #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
    pub fn verify_now(&self, input: &str, pepper: &Pepper) -> Result<(Self, TotpOutcome), Error> {
        self.verify(input, pepper, crate::time::unix_now()?)
    }

    /// [`TotpRecord::verify`] with the first backup codes (issued by the
    /// first right code) drawn from `rng`.
    ///
    /// # Errors
    /// As [`TotpRecord::verify`].
    ///
    /// ```
    /// use otpkit::record::{TotpOutcome, TotpRecord};
    /// use rand::{rand_core::UnwrapErr, rngs::SysRng};
    /// let mut rng = UnwrapErr(SysRng); // any `otpkit::rand_core::CryptoRng`
    /// let (record, _) = TotpRecord::create_with_rng("ACME", "bob", &Default::default(), 0, &mut rng)?;
    /// let code = record.totp().generate_at(0)?.to_string();
    /// let (_, outcome) = record.verify_with_rng(&code, &otpkit::Pepper::NONE, 0, &mut rng)?;
    /// assert!(matches!(outcome, TotpOutcome::Valid { ref backup_codes, .. } if backup_codes.len() == 10));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn verify_with_rng<R: CryptoRng + ?Sized>(
        &self,
        input: &str,
        pepper: &Pepper,
        now: u64,
        rng: &mut R,
    ) -> Result<(Self, TotpOutcome), Error> {
        let verification = match self.begin_verify(input, now)? {
            Verification::IssueBackupCodes(options) => {
                let (codes, set) = BackupCodeSet::generate_with_rng(&options, pepper, now, rng)?;
                self.begin_verify_issuing(input, now, &codes, &set)?
            }
            verification => verification,
        };
        match verification {
            Verification::Decided(next, outcome) => Ok((next, outcome)),
            Verification::CheckBackupCode(reserved, check) => {
                Ok(reserved.finish_verify(&check.run(pepper)?, now))
            }
            Verification::IssueBackupCodes(_) => {
                unreachable!("begin_verify_issuing has the codes to issue")
            }
        }
    }

    /// The first, cheap step of [`TotpRecord::verify`]: it never runs a
    /// slow hash. It checks the input as a TOTP code and, if it may be a
    /// backup code, reserves the attempt instead of hashing it; a first
    /// right code that issues backup codes asks for them to be made first
    /// (see [`Verification`]). A server that hashes under a budget calls
    /// this, saves the record, does the slow part once, and applies it with
    /// [`TotpRecord::finish_verify`] or
    /// [`TotpRecord::begin_verify_issuing`].
    ///
    /// # Errors
    /// As [`TotpRecord::verify`].
    ///
    /// ```
    /// use otpkit::record::{TotpOutcome, TotpRecord, Verification};
    /// let (record, _) = TotpRecord::create("ACME", "bob", &Default::default(), 0)?;
    /// let code = record.totp().generate_at(0)?.to_string();
    /// // The first right code issues backup codes: made beforehand.
    /// let Verification::IssueBackupCodes(options) = record.begin_verify(&code, 0)? else { panic!() };
    /// // A wrong one is decided at once.
    /// let Verification::Decided(_, outcome) = record.begin_verify("000000", 0)? else { panic!() };
    /// assert!(matches!(outcome, TotpOutcome::Invalid { failures: 1, .. }));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn begin_verify(&self, input: &str, now: u64) -> Result<Verification, Error> {
        self.begin(input, now, None)
    }

    /// [`TotpRecord::begin_verify`] where a first right code issues
    /// `codes` (hashed as `set`, made by [`BackupCodeSet::generate`] with
    /// the options [`Verification::IssueBackupCodes`] named). Call it on
    /// the record as stored after the codes were made: if meanwhile another
    /// request verified it, the code is a replay or a guess like any other
    /// and `codes` are not used. It never answers `IssueBackupCodes`.
    ///
    /// # Errors
    /// As [`TotpRecord::verify`].
    ///
    /// ```
    /// use otpkit::BackupCodeSet;
    /// use otpkit::record::{TotpOutcome, TotpRecord, Verification};
    /// let (record, _) = TotpRecord::create("ACME", "bob", &Default::default(), 0)?;
    /// let code = record.totp().generate_at(0)?.to_string();
    /// let Verification::IssueBackupCodes(options) = record.begin_verify(&code, 0)? else { panic!() };
    /// let (codes, set) = BackupCodeSet::generate(&options, &otpkit::Pepper::NONE, 0)?; // the slow part
    /// let Verification::Decided(record, outcome) = record.begin_verify_issuing(&code, 1, &codes, &set)? else { panic!() };
    /// assert!(matches!(outcome, TotpOutcome::Valid { ref backup_codes, .. } if backup_codes.len() == 10));
    /// assert!(record.is_verified());
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn begin_verify_issuing(
        &self,
        input: &str,
        now: u64,
        codes: &BackupCodes,
        set: &BackupCodeSet,
    ) -> Result<Verification, Error> {
        self.begin(input, now, Some((codes, set)))
    }

    /// Both forms of the first step; `first` is what a first right code
    /// issues (`None`: ask for it).
    fn begin(
        &self,
        input: &str,
        now: u64,
        first: Option<(&BackupCodes, &BackupCodeSet)>,
    ) -> Result<Verification, Error> {
        let mut next = self.clone();
        next.updated_at = now.max(self.updated_at);
        let totp = match self.totp_throttle.locked_at(&self.lockout, now) {
            Some(until) => TotpSide::Locked(until),
            None => match self
                .totp
                .verify_at(input, self.drifted(now), self.last_used_step)?
            {
                Verdict::Valid(m) => {
                    next.last_used_step = Some(m.step());
                    next.drift = self
                        .drift
                        .saturating_add(m.offset())
                        .clamp(-Self::MAX_DRIFT, Self::MAX_DRIFT);
                    let backup_codes = match (self.first_backup_codes(), first) {
                        (None, _) => BackupCodes::default(),
                        (Some(options), None) => {
                            return Ok(Verification::IssueBackupCodes(options));
                        }
                        (Some(_), Some((codes, set))) => {
                            next.backup_codes = Some(set.clone());
                            codes.clone()
                        }
                    };
                    next.reset_throttles();
                    next.verified = true;
                    let code_type = CodeType::Totp;
                    let outcome = TotpOutcome::Valid {
                        code_type,
                        backup_codes,
                    };
                    return Ok(Verification::Decided(next, outcome));
                }
                Verdict::Replayed(_) => {
                    let code_type = CodeType::Totp;
                    let outcome = TotpOutcome::Replayed { code_type };
                    return Ok(Verification::Decided(self.clone(), outcome));
                }
                Verdict::Invalid => {
                    next.totp_throttle.fail(&self.lockout, now);
                    TotpSide::Guess
                }
                Verdict::Malformed(typo) => TotpSide::Malformed(typo),
            },
        };
        // Not a fresh TOTP code: it may still be a backup code (one of
        // digits only, as long as a TOTP code, is shaped like both, and is
        // a guess against both budgets). Only a verified record has them.
        let backup = self
            .backup_codes
            .as_ref()
            .filter(|set| self.verified && set.is_shaped(input));
        if let Some(set) = backup {
            match self.backup_throttle.locked_at(&self.backup_lockout, now) {
                None => {
                    next.backup_throttle.fail(&self.backup_lockout, now);
                    let counted = matches!(totp, TotpSide::Guess);
                    let check = BackupCodeCheck::new(set, input, counted);
                    return Ok(Verification::CheckBackupCode(next, check));
                }
                Some(until) if !matches!(totp, TotpSide::Guess) => {
                    let code_type = CodeType::BackupCode;
                    let outcome = TotpOutcome::Locked { code_type, until };
                    return Ok(Verification::Decided(self.clone(), outcome));
                }
                Some(_) => {}
            }
        }
        let code_type = CodeType::Totp;
        Ok(match totp {
            TotpSide::Guess => {
                let outcome = TotpOutcome::Invalid {
                    code_type,
                    failures: next.totp_throttle.failures,
                    locked_until: next.totp_throttle.locked_until,
                };
                Verification::Decided(next, outcome)
            }
            TotpSide::Locked(until) => {
                Verification::Decided(self.clone(), TotpOutcome::Locked { code_type, until })
            }
            // Input that is no backup code either: report it as the
            // malformed TOTP code it most likely was; nothing is counted.
            TotpSide::Malformed(typo) => {
                Verification::Decided(self.clone(), TotpOutcome::Malformed(typo))
            }
        })
    }

    /// The options of the backup codes a right code would issue now: the
    /// record issues them, and has none yet.
    const fn first_backup_codes(&self) -> Option<BackupCodeOptions> {
        match (self.backup_options, &self.backup_codes) {
            (Some(options), None) => Some(options),
            _ => None,
        }
    }

    /// A right code of either kind proves possession: both budgets reset.
    pub(super) fn reset_throttles(&mut self) {
        self.totp_throttle = Throttle::default();
        self.backup_throttle = Throttle::default();
    }
}

/// What the TOTP half of a check found, when it did not decide.
enum TotpSide {
    /// A well-formed wrong code, counted.
    Guess,
    /// TOTP codes are locked until then: not checked.
    Locked(u64),
    /// Not shaped like a TOTP code.
    Malformed(Typo),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Code;
    use crate::random::os;
    use crate::record::EnrollmentOptions;
    use alloc::string::ToString;

    /// A backup code drawn from digits only, as long as a TOTP code, parses
    /// as a TOTP code too; it must still be redeemable (once).
    #[test]
    fn a_backup_code_that_looks_like_a_totp_code_is_redeemable() {
        let now = 1_700_000_000;
        let options = EnrollmentOptions::default()
            .digits(8)
            .backup_codes(Some(BackupCodeOptions::default().length(8)));
        let (record, _) =
            TotpRecord::create_with_rng("ACME", "bob", &options, now, &mut os()).unwrap();
        let code = record.totp().generate_at(now).unwrap().to_string();
        let (mut record, _) = record
            .verify_with_rng(&code, &crate::pepper::Pepper::NONE, now, &mut os())
            .unwrap();
        let all_digits = "2345-6789";
        record.backup_codes = Some(BackupCodeSet::with_codes(
            &[all_digits, "abcd-efgh"],
            8,
            now,
        ));
        assert!(
            Code::parse(all_digits, 8).is_ok(),
            "it parses as a TOTP code"
        );

        let (record, outcome) = record
            .verify_with_rng(all_digits, &crate::pepper::Pepper::NONE, now + 1, &mut os())
            .unwrap();
        assert!(matches!(
            outcome,
            TotpOutcome::Valid {
                code_type: CodeType::BackupCode,
                ..
            }
        ));
        let (record, again) = record
            .verify_with_rng("23456789", &crate::pepper::Pepper::NONE, now + 2, &mut os())
            .unwrap();
        assert_eq!(
            again,
            TotpOutcome::Replayed {
                code_type: CodeType::BackupCode
            }
        );
        // The replay was counted nowhere; a wrong all-digit code is a guess
        // against both kinds, so it counts on both budgets.
        assert_eq!((record.failures(), record.backup_failures()), (0, 0));
        let (record, wrong) = record
            .verify_with_rng("99999999", &crate::pepper::Pepper::NONE, now + 3, &mut os())
            .unwrap();
        assert!(matches!(
            wrong,
            TotpOutcome::Invalid {
                code_type: CodeType::BackupCode,
                failures: 1,
                ..
            }
        ));
        assert_eq!((record.failures(), record.backup_failures()), (1, 1));
        assert_eq!(record.backup_codes().map(BackupCodeSet::remaining), Some(1));
    }
}
