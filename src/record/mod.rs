//! Enrollment records: what a server stores for a user's authenticator app
//! ([`TotpRecord`]) and what it shows the front end ([`TotpResource`]).
//!
//! # The lifecycle
//!
//! 1. **Create** ([`TotpRecord::create`]): a fresh secret. The creation
//!    response is the only one that carries the secret and the otpauth://
//!    URI (for the QR code).
//! 2. **Verify the first code** ([`TotpRecord::verify`]): the user scans the
//!    QR code and types a code; the record becomes *verified* and, the first
//!    time, issues backup codes, returned once in plaintext and stored only
//!    as hashes.
//! 3. **Sign in** ([`TotpRecord::verify`] again): a TOTP code, used once
//!    (its time step is remembered), or a backup code, used up.
//!    Wrong codes are counted; after [`Lockout::free_failures`] in a row,
//!    each locks that kind of code for a doubling, capped cool-down
//!    (TOTP codes and backup codes have separate budgets; replays are
//!    refused but not counted).
//! 4. **Replace the backup codes** ([`TotpRecord::regenerate_backup_codes`])
//!    or **disable** ([`TotpRecord::disable`]).
//!
//! # Why Clerk's shape
//!
//! [Clerk](https://clerk.com) is a hosted authentication service whose
//! documented TOTP object (`{"object":"totp","id","secret","uri",
//! "verified","backup_codes","created_at","updated_at"}`) many front ends
//! are already written against. [`TotpResource`] serializes to exactly that
//! shape (snake_case, Unix milliseconds), so such a front end works
//! unchanged against a server built on this crate.
//!
//! # Replay protection is a policy
//!
//! A record refuses a code whose time step it already accepted (RFC 6238
//! §5.2 says a verifier "MUST NOT accept the second attempt of the same
//! OTP"): a code read over a shoulder, phished or logged cannot be used
//! again in the 60–90 s it stays valid. Some deployments allow reuse within
//! the window on purpose (two tabs signing in with one code, a retry after
//! a dropped response); the price is exactly that replay window. To choose
//! it, verify with [`Totp::verify_at`] and treat
//! [`Verdict::Replayed`] as you decide; a
//! [`TotpRecord`] always refuses, as do its backup codes, which are single
//! use by definition.
//!
//! # Coming from another application
//!
//! [`TotpRecord::import`] takes an existing enrollment (the key in Base32,
//! hex or bytes, 80-bit legacy keys included and flagged; the last used
//! step, so replay protection carries over), and
//! [`TotpRecord::with_backup_codes`] its backup codes, imported with
//! `BackupCodeSet::import_hashes` (the `import` feature) or
//! [`BackupCodeSet::import_plain`].
//!
//! # Storing a record
//!
//! Every transition is a pure function of (record, input, now) that returns
//! the new record; the caller stores it. Two things make that safe:
//!
//! - **Seal the secret**: a record's stored form is a
//!   [`StoredTotpRecord`] whose secret is sealed by a
//!   [`Keyring`](crate::Keyring) (see [`seal`](crate::seal)); plaintext is an
//!   opt-in by name.
//! - **Compare-and-set**: save only if nobody saved since you loaded, and on
//!   a lost race run the transition again on the fresh record, so a code is
//!   accepted once and every failure is counted. The recipe, tested, is in
//!   [`TotpRecord`]'s docs.
//!
//! ```
//! use otpkit::record::{CodeType, EnrollmentOptions, TotpOutcome, TotpRecord};
//!
//! let now = 1_700_000_000;
//! let (record, created) = TotpRecord::create("ACME", "alice@example.com", &EnrollmentOptions::default(), now)?;
//! assert!(created.secret().is_some() && created.uri().is_some() && !created.verified());
//!
//! // The user scans the QR code and types the first code.
//! let code = record.totp().generate_at(now + 20)?.to_string();
//! let (record, outcome) = record.verify(&code, None, now + 20)?;
//! let TotpOutcome::Valid { code_type: CodeType::Totp, backup_codes } = outcome else { panic!() };
//! assert!(record.resource().verified());
//! assert_eq!(backup_codes.map(|codes| codes.len()), Some(10)); // shown once
//!
//! // Later reads never carry the secret, the URI or backup codes.
//! let later = record.resource();
//! assert!(later.secret().is_none() && later.uri().is_none() && later.backup_codes().is_none());
//! # Ok::<(), otpkit::Error>(())
//! ```

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::String;
mod import;
mod lockout;
mod options;
mod outcome;
mod resource;
#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
mod stored;
mod verification;

use core::fmt;

pub use lockout::Lockout;
use lockout::Throttle;
pub use options::EnrollmentOptions;
pub use outcome::{CodeType, TotpOutcome};
pub use resource::TotpResource;
#[cfg(feature = "serde")]
pub use stored::StoredTotpRecord;
pub use verification::{BackupCodeCheck, CheckedBackupCode, Verification};

use crate::backup::{BackupCodeOptions, BackupCodeSet, BackupCodes};
use crate::engine::{TimeStep, Totp, Typo, Verdict};
use crate::error::Error;
use crate::pepper::Pepper;
use crate::random::CryptoRng;
use crate::secret::Secret;
use crate::time::Timestamp;
use crate::uri::OtpAuthUri;

/// The server-side TOTP record behind a [`TotpResource`]: the secret and
/// settings, verified flag, last used step, hashed backup codes, failure
/// count and times. It produces the resource, and never puts the secret in
/// it after creation. `Debug` prints no secret.
///
/// # Storing it safely: load, transition, compare-and-set
///
/// [`TotpRecord::verify`] is pure: it returns the new record and leaves
/// storing it to you. Two requests that race with the same code both load
/// the same record and both see the code as fresh; only how you *save*
/// decides that one of them loses. Keep a version beside the record and
/// save only if it is unchanged since you loaded:
///
/// ```sql
/// UPDATE totp SET record = :new, version = version + 1
///  WHERE user_id = :user AND version = :version_loaded;  -- 0 rows: you lost
/// ```
///
/// The loser must not answer with its own outcome: it reloads and runs
/// the transition again on the fresh record, which now holds the used step,
/// so the replay is refused ([`TotpOutcome::Replayed`]), and every
/// wrong code of many racing requests is counted. Save whenever the
/// record changed, not only on success, or failures go uncounted. (A
/// server that wants the slow backup-code hashing out of this loop uses
/// [`TotpRecord::begin_verify`]; see [`Verification`].)
///
/// The whole recipe, with a store that holds (version, sealed JSON), and
/// two requests interleaved to lose a race:
///
/// ```
/// # #[cfg(feature = "serde")] {
/// use otpkit::{Keyring, StoredTotpRecord, TotpOutcome, TotpRecord};
/// use otpkit::record::EnrollmentOptions;
/// use otpkit::seal::SealingKey;
/// use std::cell::RefCell;
///
/// /// One row: (version, the record as JSON, its secret sealed).
/// struct Store { row: RefCell<(u64, String)>, keyring: Keyring }
/// impl Store {
///     fn load(&self) -> (u64, TotpRecord) {
///         let (version, json) = &*self.row.borrow();
///         let stored: StoredTotpRecord = serde_json::from_str(json).expect("a valid record");
///         (*version, stored.open(&self.keyring).expect("our key"))
///     }
///     /// `UPDATE … WHERE version = :loaded`: false when someone saved first.
///     fn compare_and_set(&self, loaded: u64, record: &TotpRecord) -> bool {
///         let mut row = self.row.borrow_mut();
///         if row.0 != loaded { return false; }
///         let sealed = record.seal(&self.keyring).expect("sealable");
///         *row = (loaded + 1, serde_json::to_string(&sealed).expect("serializable"));
///         true
///     }
/// }
///
/// /// One sign-in request: load, transition, save; on a lost race, again.
/// fn sign_in(store: &Store, code: &str, now: u64) -> Result<TotpOutcome, otpkit::Error> {
///     loop {
///         let (version, record) = store.load();
///         let (next, outcome) = record.verify(code, None, now)?;
///         if next == record || store.compare_and_set(version, &next) {
///             return Ok(outcome);
///         }
///     }
/// }
///
/// let now = 1_700_000_000;
/// let (record, _) = TotpRecord::create("ACME", "alice", &EnrollmentOptions::default(), now)?;
/// let code = record.totp().generate_at(now)?.to_string();
/// let keyring = Keyring::new(SealingKey::generate());
/// let json = serde_json::to_string(&record.seal(&keyring)?).unwrap();
/// let store = Store { row: RefCell::new((1, json)), keyring };
///
/// // Request B loads and checks first, but is slow to save…
/// let (b_version, b_record) = store.load();
/// let (b_next, b_outcome) = b_record.verify(&code, None, now)?;
/// assert!(matches!(b_outcome, TotpOutcome::Valid { .. }));
/// // …while request A, with the same code, runs the recipe and wins.
/// assert!(matches!(sign_in(&store, &code, now)?, TotpOutcome::Valid { .. }));
/// // B's save fails; B reloads and runs the check again: a replay.
/// assert!(!store.compare_and_set(b_version, &b_next));
/// assert!(matches!(sign_in(&store, &code, now)?, TotpOutcome::Replayed { .. }));
/// # }
/// # Ok::<(), otpkit::Error>(())
/// ```
///
/// [`OtpChallenge`](crate::OtpChallenge) and
/// [`BackupCodeSet`] are stored the same way.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpRecord {
    id: String,
    issuer: String,
    account: String,
    totp: Totp,
    verified: bool,
    last_used_step: Option<TimeStep>,
    backup_codes: Option<BackupCodeSet>,
    backup_options: Option<BackupCodeOptions>,
    lockout: Lockout,
    backup_lockout: Lockout,
    totp_throttle: Throttle,
    backup_throttle: Throttle,
    created_at: u64,
    updated_at: u64,
    /// Imported with a key shorter than 128 bits: loading accepts a short
    /// key only when this is set.
    legacy_secret: bool,
    /// Steps the user's clock runs ahead (positive) or behind, learned
    /// from accepted codes (RFC 6238 §6): the window is centred there.
    drift: i64,
}

impl TotpRecord {
    /// The most drift a record keeps, in steps either way (10 minutes at
    /// 30 s): enough for a phone's clock, too little to matter to a guesser.
    pub const MAX_DRIFT: i64 = 20;

    /// Creates a secret for `account` at Unix time `now`: the record to
    /// store and the creation response, the only one that carries the
    /// secret and URI. Creating again while unverified replaces the record.
    ///
    /// # Errors
    /// [`Error::DigitsOutOfRange`], [`Error::ZeroPeriod`] or
    /// [`Error::WindowTooLarge`] for bad options.
    ///
    /// # Panics
    /// Only if the operating system cannot supply random bytes.
    ///
    /// ```
    /// let (record, created) = otpkit::TotpRecord::create("ACME", "bob", &Default::default(), 0)?;
    /// assert!(created.id().starts_with("totp_") && created.id() == record.resource().id());
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[cfg(feature = "std")]
    #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
    pub fn create(
        issuer: &str,
        account: &str,
        options: &EnrollmentOptions,
        now: u64,
    ) -> Result<(Self, TotpResource), Error> {
        Self::create_with_rng(issuer, account, options, now, &mut crate::random::os())
    }

    /// [`TotpRecord::create`] with the secret and id drawn from `rng`.
    ///
    /// # Errors
    /// As [`TotpRecord::create`].
    ///
    /// ```
    /// use rand::{rand_core::UnwrapErr, rngs::SysRng};
    /// let mut rng = UnwrapErr(SysRng); // any `otpkit::rand_core::CryptoRng`
    /// let (record, created) = otpkit::TotpRecord::create_with_rng("ACME", "bob", &Default::default(), 0, &mut rng)?;
    /// assert_eq!(created.id(), record.resource().id());
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn create_with_rng<R: CryptoRng + ?Sized>(
        issuer: &str,
        account: &str,
        options: &EnrollmentOptions,
        now: u64,
        rng: &mut R,
    ) -> Result<(Self, TotpResource), Error> {
        let totp = options.totp(Secret::generate_with_rng(options.algorithm, rng))?;
        let record = Self::fresh(issuer, account, totp, options, now, rng);
        let mut created = record.resource();
        created.secret = Some(record.totp.secret().clone());
        created.uri = Some(record.uri());
        Ok((record, created))
    }

    /// A new, unverified record for `totp`, with a fresh id.
    fn fresh<R: CryptoRng + ?Sized>(
        issuer: &str,
        account: &str,
        totp: Totp,
        options: &EnrollmentOptions,
        now: u64,
        rng: &mut R,
    ) -> Self {
        Self {
            id: new_id(rng),
            issuer: issuer.to_owned(),
            account: account.to_owned(),
            totp,
            verified: false,
            last_used_step: None,
            backup_codes: None,
            backup_options: options.backup_codes,
            lockout: options.lockout,
            backup_lockout: options.backup_lockout,
            totp_throttle: Throttle::default(),
            backup_throttle: Throttle::default(),
            created_at: now,
            updated_at: now,
            legacy_secret: false,
            drift: 0,
        }
    }

    /// Steps the user's clock runs ahead (positive) or behind, as learned
    /// from the codes accepted: each right code moves the window's centre
    /// to where it matched (RFC 6238 §6), within
    /// [`TotpRecord::MAX_DRIFT`].
    ///
    /// ```
    /// use otpkit::record::{EnrollmentOptions, TotpRecord};
    /// let now = 1_700_000_000;
    /// let (record, _) = TotpRecord::create("ACME", "bob", &EnrollmentOptions::default(), now)?;
    /// let late = record.totp().generate_at(now - 30)?.to_string(); // a clock one step behind
    /// let (record, _) = record.verify(&late, None, now)?;
    /// assert_eq!(record.drift(), -1);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub const fn drift(&self) -> i64 {
        self.drift
    }

    /// `now` moved by the drift, in the user's clock; unmoved where that
    /// would leave the range of time.
    fn drifted(&self, now: u64) -> u64 {
        let shift = self
            .drift
            .saturating_mul(i64::try_from(self.totp.period()).unwrap_or(i64::MAX));
        now.checked_add_signed(shift)
            .filter(|&at| at >= self.totp.t0())
            .unwrap_or(now)
    }

    /// The otpauth:// URI of the record's secret.
    fn uri(&self) -> OtpAuthUri {
        OtpAuthUri::for_totp(&self.totp, self.account.clone()).with_issuer(self.issuer.clone())
    }

    /// The view for every read after creation: no secret, URI or codes.
    ///
    /// ```
    /// let (record, _) = otpkit::TotpRecord::create("ACME", "bob", &Default::default(), 0)?;
    /// assert!(record.resource().secret().is_none());
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub fn resource(&self) -> TotpResource {
        TotpResource {
            id: self.id.clone(),
            secret: None,
            uri: None,
            verified: self.verified,
            backup_codes: None,
            created_at: Timestamp::from_unix_seconds(self.created_at),
            updated_at: Timestamp::from_unix_seconds(self.updated_at),
        }
    }

    /// Checks a code at Unix time `now`: a TOTP code, or — once verified —
    /// a backup code (which is then used up), as Clerk's back-end
    /// `verifyTOTP` accepts either. The first right TOTP code verifies the
    /// record and, when backup codes are enabled and none exist, issues
    /// them in the returned resource, keeping only their hashes.
    ///
    /// Returns the new record to persist (it changes on every outcome but
    /// [`TotpOutcome::Locked`], [`TotpOutcome::Malformed`] and a TOTP
    /// code's [`TotpOutcome::Replayed`]) and what happened. Wrong TOTP codes
    /// and wrong backup codes have separate budgets (see [`Lockout`]): a
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
    /// let (record, outcome) = record.verify(&code, None, now)?;
    /// let TotpOutcome::Valid { code_type: CodeType::Totp, backup_codes } = outcome else { panic!() };
    /// let backup_codes = backup_codes.expect("issued on the first code");
    ///
    /// // The same code again is a replay; a typo is malformed, not an error.
    /// let (record, again) = record.verify(&code, None, now + 1)?;
    /// assert_eq!(again, TotpOutcome::Replayed { code_type: CodeType::Totp });
    /// assert!(matches!(record.verify("12 34", None, now + 2)?.1, TotpOutcome::Malformed(_)));
    ///
    /// // A backup code works once.
    /// let backup = backup_codes.iter().next().expect("ten of them");
    /// let (record, outcome) = record.verify(backup, None, now + 3)?;
    /// assert!(matches!(outcome, TotpOutcome::Valid { code_type: CodeType::BackupCode, .. }));
    /// assert_eq!(record.verify(backup, None, now + 4)?.1, TotpOutcome::Replayed { code_type: CodeType::BackupCode });
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[cfg(feature = "std")]
    #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
    pub fn verify(
        &self,
        input: &str,
        pepper: Option<&Pepper>,
        now: u64,
    ) -> Result<(Self, TotpOutcome), Error> {
        self.verify_with_rng(input, pepper, now, &mut crate::random::os())
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
    /// let (_, outcome) = record.verify_with_rng(&code, None, 0, &mut rng)?;
    /// assert!(matches!(outcome, TotpOutcome::Valid { backup_codes: Some(_), .. }));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn verify_with_rng<R: CryptoRng + ?Sized>(
        &self,
        input: &str,
        pepper: Option<&Pepper>,
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
    /// let (codes, set) = BackupCodeSet::generate(&options, None, 0)?; // the slow part
    /// let Verification::Decided(record, outcome) = record.begin_verify_issuing(&code, 1, &codes, &set)? else { panic!() };
    /// assert!(matches!(outcome, TotpOutcome::Valid { backup_codes: Some(_), .. }));
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
                        (None, _) => None,
                        (Some(options), None) => {
                            return Ok(Verification::IssueBackupCodes(options));
                        }
                        (Some(_), Some((codes, set))) => {
                            next.backup_codes = Some(set.clone());
                            Some(codes.clone())
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
    fn reset_throttles(&mut self) {
        self.totp_throttle = Throttle::default();
        self.backup_throttle = Throttle::default();
    }

    /// Replaces the backup codes with a new set (Clerk's
    /// `createBackupCode()`), returning the new record and the plaintext
    /// codes to show once.
    ///
    /// # Errors
    /// [`Error::NotVerified`] before the record is verified; the errors of
    /// [`BackupCodeSet::generate`].
    ///
    /// ```
    /// use otpkit::{Error, TotpRecord};
    /// use otpkit::backup::BackupCodeOptions;
    /// let (record, _) = TotpRecord::create("ACME", "bob", &Default::default(), 0)?;
    /// assert_eq!(record.regenerate_backup_codes(&BackupCodeOptions::default(), None, 1).unwrap_err(), Error::NotVerified);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[cfg(feature = "std")]
    #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
    pub fn regenerate_backup_codes(
        &self,
        options: &BackupCodeOptions,
        pepper: Option<&Pepper>,
        now: u64,
    ) -> Result<(Self, BackupCodes), Error> {
        self.regenerate_backup_codes_with_rng(options, pepper, now, &mut crate::random::os())
    }

    /// [`TotpRecord::regenerate_backup_codes`] with the codes drawn from
    /// `rng`.
    ///
    /// # Errors
    /// As [`TotpRecord::regenerate_backup_codes`].
    ///
    /// ```
    /// use otpkit::{Error, TotpRecord};
    /// use rand::{rand_core::UnwrapErr, rngs::SysRng};
    /// let mut rng = UnwrapErr(SysRng); // any `otpkit::rand_core::CryptoRng`
    /// let (record, _) = TotpRecord::create_with_rng("ACME", "bob", &Default::default(), 0, &mut rng)?;
    /// let refused = record.regenerate_backup_codes_with_rng(&Default::default(), None, 1, &mut rng);
    /// assert_eq!(refused.unwrap_err(), Error::NotVerified);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn regenerate_backup_codes_with_rng<R: CryptoRng + ?Sized>(
        &self,
        options: &BackupCodeOptions,
        pepper: Option<&Pepper>,
        now: u64,
        rng: &mut R,
    ) -> Result<(Self, BackupCodes), Error> {
        if !self.verified {
            return Err(Error::NotVerified);
        }
        let (codes, set) = BackupCodeSet::generate_with_rng(options, pepper, now, rng)?;
        Ok((self.with_new_backup_codes(set, *options, now)?, codes))
    }

    /// [`TotpRecord::regenerate_backup_codes`]'s cheap half: the record
    /// with `set` (made by [`BackupCodeSet::generate`] with `options`) as
    /// its backup codes at Unix time `now`. A server hashes the set once,
    /// outside its compare-and-set loop, and applies it with this.
    ///
    /// # Errors
    /// [`Error::NotVerified`] before the record is verified.
    ///
    /// ```
    /// use otpkit::{BackupCodeSet, TotpRecord};
    /// use otpkit::backup::BackupCodeOptions;
    /// let (record, _) = TotpRecord::create("ACME", "bob", &Default::default(), 0)?;
    /// let code = record.totp().generate_at(0)?.to_string();
    /// let (record, _) = record.verify(&code, None, 0)?;
    /// let options = BackupCodeOptions::default();
    /// let (codes, set) = BackupCodeSet::generate(&options, None, 60)?; // the slow part
    /// let record = record.with_new_backup_codes(set, options, 60)?;
    /// assert!(record.verify(codes.iter().next().unwrap(), None, 61)?.1.is_valid());
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn with_new_backup_codes(
        &self,
        set: BackupCodeSet,
        options: BackupCodeOptions,
        now: u64,
    ) -> Result<Self, Error> {
        if !self.verified {
            return Err(Error::NotVerified);
        }
        let mut next = self.clone();
        next.backup_codes = Some(set);
        next.backup_options = Some(options);
        next.updated_at = now.max(self.updated_at);
        Ok(next)
    }

    /// Removes the backup codes (Clerk's `deleteUserBackupCodes`) at Unix
    /// time `now`, and stops issuing them: a later right code does not
    /// bring a new set; [`TotpRecord::regenerate_backup_codes`] does.
    /// Returns `None` when the record holds no backup codes.
    ///
    /// ```
    /// use otpkit::record::{TotpOutcome, TotpRecord};
    /// let (record, _) = TotpRecord::create("ACME", "bob", &Default::default(), 0)?;
    /// let code = record.totp().generate_at(0)?.to_string();
    /// let (record, _) = record.verify(&code, None, 0)?;
    /// let record = record.remove_backup_codes(30).expect("codes were issued");
    /// assert!(record.backup_codes().is_none());
    /// assert!(record.remove_backup_codes(31).is_none());
    /// // The next right code issues no new set.
    /// let next = record.totp().generate_at(30)?.to_string();
    /// let (_, outcome) = record.verify(&next, None, 30)?;
    /// assert!(matches!(outcome, TotpOutcome::Valid { backup_codes: None, .. }));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub fn remove_backup_codes(&self, now: u64) -> Option<Self> {
        self.backup_codes.as_ref()?;
        let mut next = self.clone();
        next.backup_codes = None;
        next.backup_options = None;
        next.updated_at = now.max(self.updated_at);
        Some(next)
    }

    /// The TOTP generator (for tests, and for apps that show codes).
    #[must_use]
    pub const fn totp(&self) -> &Totp {
        &self.totp
    }

    /// The account the record is for (the authenticator app's label), as
    /// given to [`TotpRecord::create`]. A sealed record binds it, so a
    /// server that names records by account can check that a loaded record
    /// is the one it asked for.
    ///
    /// ```
    /// let (record, _) = otpkit::TotpRecord::create("ACME", "bob", &Default::default(), 0)?;
    /// assert_eq!(record.account(), "bob");
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub fn account(&self) -> &str {
        &self.account
    }

    /// Whether the user proved possession.
    #[must_use]
    pub const fn is_verified(&self) -> bool {
        self.verified
    }

    /// Whether the record holds a legacy key shorter than 128 bits, allowed
    /// only because it was imported so (see [`TotpRecord::import`]).
    ///
    /// ```
    /// use otpkit::{record::TotpRecord, Secret};
    /// let legacy = Secret::from_base32_allow_short("JBSWY3DPEHPK3PXP")?; // 80 bits
    /// let record = TotpRecord::import("ACME", "bob", legacy, &Default::default(), None, 0)?;
    /// assert!(record.is_legacy_secret());
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub const fn is_legacy_secret(&self) -> bool {
        self.legacy_secret
    }

    /// The step of the last accepted TOTP code.
    #[must_use]
    pub const fn last_used_step(&self) -> Option<TimeStep> {
        self.last_used_step
    }

    /// The hashed backup codes, if issued.
    #[must_use]
    pub const fn backup_codes(&self) -> Option<&BackupCodeSet> {
        self.backup_codes.as_ref()
    }

    /// Wrong TOTP codes in a row.
    #[must_use]
    pub const fn failures(&self) -> u32 {
        self.totp_throttle.failures
    }

    /// Unix time before which TOTP codes are refused, if locked (it may
    /// have passed).
    #[must_use]
    pub const fn locked_until(&self) -> Option<u64> {
        self.totp_throttle.locked_until
    }

    /// Wrong backup codes in a row (each attempt counted before it is
    /// hashed; see [`Verification`]).
    #[must_use]
    pub const fn backup_failures(&self) -> u32 {
        self.backup_throttle.failures
    }

    /// Unix time before which backup codes are refused, if locked.
    #[must_use]
    pub const fn backup_locked_until(&self) -> Option<u64> {
        self.backup_throttle.locked_until
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

/// `totp_` and 26 random Base32 characters: 128 bits, URL-safe.
fn new_id<R: CryptoRng + ?Sized>(rng: &mut R) -> String {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    let id = base32::encode(base32::Alphabet::Rfc4648Lower { padding: false }, &bytes);
    format!("totp_{id}")
}

impl fmt::Debug for TotpRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TotpRecord")
            .field("id", &self.id)
            .field("issuer", &self.issuer)
            .field("account", &self.account)
            .field("totp", &self.totp)
            .field("verified", &self.verified)
            .field("last_used_step", &self.last_used_step)
            .field("backup_codes", &self.backup_codes)
            .field("totp_throttle", &self.totp_throttle)
            .field("backup_throttle", &self.backup_throttle)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Code;
    use crate::random::os;
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
        let (mut record, _) = record.verify_with_rng(&code, None, now, &mut os()).unwrap();
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
            .verify_with_rng(all_digits, None, now + 1, &mut os())
            .unwrap();
        assert!(matches!(
            outcome,
            TotpOutcome::Valid {
                code_type: CodeType::BackupCode,
                ..
            }
        ));
        let (record, again) = record
            .verify_with_rng("23456789", None, now + 2, &mut os())
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
            .verify_with_rng("99999999", None, now + 3, &mut os())
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
