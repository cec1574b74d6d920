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
//!    each locks the record for a doubling cool-down.
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
//! [`BackupCodeSet::import_hashes`] or
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
//! let TotpOutcome::Valid { resource, code_type: CodeType::Totp } = outcome else { panic!() };
//! assert!(resource.verified());
//! assert_eq!(resource.backup_codes().map(|codes| codes.len()), Some(10)); // shown once
//!
//! // Later reads never carry the secret, the URI or backup codes.
//! let later = record.resource();
//! assert!(later.secret().is_none() && later.uri().is_none() && later.backup_codes().is_none());
//! # Ok::<(), otpkit::Error>(())
//! ```

use core::fmt;

use rand::Rng;
use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;

use crate::backup::{BackupCodeOptions, BackupCodeSet, BackupCodes, BackupOutcome, Pepper};
use crate::clerk::{DeletedTotp, Timestamp};
use crate::{Algorithm, Error, OtpAuthUri, Secret, TimeStep, Totp, Verdict};

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

/// Clerk's TOTP object: what the back end returns to the front end.
///
/// `secret` and `uri` are present only in the response that creates the
/// secret; `backup_codes` only in the response that generated them. On the
/// wire: `{"object":"totp","id":…,"secret":…,"uri":…,"verified":…,
/// "backup_codes":…,"created_at":…,"updated_at":…}`, times in Unix
/// milliseconds, absent values as `null`. `Debug` shows none of the
/// secret, the URI or the codes; they are zeroized on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpResource {
    id: String,
    secret: Option<Secret>,
    uri: Option<OtpAuthUri>,
    verified: bool,
    backup_codes: Option<BackupCodes>,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl TotpResource {
    /// The TOTP secret's id (`totp_…`).
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The secret, only in the creation response.
    #[must_use]
    pub const fn secret(&self) -> Option<&Secret> {
        self.secret.as_ref()
    }

    /// The otpauth:// URI for the QR code, only in the creation response.
    #[must_use]
    pub const fn uri(&self) -> Option<&OtpAuthUri> {
        self.uri.as_ref()
    }

    /// Whether the user proved possession with one code.
    #[must_use]
    pub const fn verified(&self) -> bool {
        self.verified
    }

    /// Fresh backup codes, only in the response that generated them.
    #[must_use]
    pub const fn backup_codes(&self) -> Option<&BackupCodes> {
        self.backup_codes.as_ref()
    }

    /// When the secret was created.
    #[must_use]
    pub const fn created_at(&self) -> Timestamp {
        self.created_at
    }

    /// When it was last updated.
    #[must_use]
    pub const fn updated_at(&self) -> Timestamp {
        self.updated_at
    }
}

impl fmt::Debug for TotpResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |present: bool| if present { "Some([REDACTED])" } else { "None" };
        f.debug_struct("TotpResource")
            .field("id", &self.id)
            .field(
                "secret",
                &format_args!("{}", redacted(self.secret.is_some())),
            )
            .field("uri", &format_args!("{}", redacted(self.uri.is_some())))
            .field("verified", &self.verified)
            .field(
                "backup_codes",
                &format_args!("{}", redacted(self.backup_codes.is_some())),
            )
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .finish()
    }
}

/// Throttling after wrong codes, as django-otp (the two-factor library of
/// the Django web framework) throttles them: the first
/// `free_failures` wrong codes in a row cost nothing; each one after that
/// locks the record for `cooldown · 2^(n − 1)` seconds (n counting from the
/// first locking failure), capped at a day. A right code resets it.
///
/// ```
/// let lockout = otpkit::record::Lockout::default();
/// assert_eq!((lockout.free_failures(), lockout.cooldown()), (5, 30));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "wire::LockoutWire"))]
pub struct Lockout {
    free_failures: u32,
    cooldown: u64,
}

impl Default for Lockout {
    /// Five free failures, then 30 s, 60 s, 120 s, … up to a day.
    fn default() -> Self {
        Self {
            free_failures: 5,
            cooldown: 30,
        }
    }
}

impl Lockout {
    const MAX_LOCK: u64 = 86_400;
    /// The most free failures a policy may grant: more would let a guesser
    /// try that many codes per lock without ever waiting.
    pub const MAX_FREE_FAILURES: u32 = 20;

    /// A policy with `free_failures` free wrong codes (at most
    /// [`Lockout::MAX_FREE_FAILURES`]), then a lock starting at `cooldown`
    /// seconds (1 s to a day) and doubling. No setting turns the lockout
    /// off, here or in a stored record.
    ///
    /// # Errors
    /// [`Error::InvalidLockout`] for more free failures than the maximum, or
    /// a cooldown of 0 s or over a day.
    ///
    /// ```
    /// use otpkit::record::Lockout;
    /// assert_eq!(Lockout::new(3, 60)?.cooldown(), 60);
    /// assert!(Lockout::new(3, 0).is_err());
    /// assert!(Lockout::new(u32::MAX, 30).is_err());
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub const fn new(free_failures: u32, cooldown: u64) -> Result<Self, Error> {
        if free_failures > Self::MAX_FREE_FAILURES {
            return Err(Error::InvalidLockout {
                reason: "at most 20 free failures",
            });
        }
        if cooldown == 0 || cooldown > Self::MAX_LOCK {
            return Err(Error::InvalidLockout {
                reason: "cooldown must be 1 to 86400 seconds",
            });
        }
        Ok(Self {
            free_failures,
            cooldown,
        })
    }

    /// Wrong codes in a row that cost nothing.
    #[must_use]
    pub const fn free_failures(&self) -> u32 {
        self.free_failures
    }

    /// The first lock, in seconds.
    #[must_use]
    pub const fn cooldown(&self) -> u64 {
        self.cooldown
    }

    /// How long `failures` wrong codes in a row lock the record.
    fn lock_for(&self, failures: u32) -> u64 {
        let Some(over) = failures.checked_sub(self.free_failures).filter(|&n| n > 0) else {
            return 0;
        };
        let doubling = 1u64.checked_shl(over.saturating_sub(1)).unwrap_or(u64::MAX);
        self.cooldown.saturating_mul(doubling).min(Self::MAX_LOCK)
    }
}

/// How to enroll: the TOTP settings, backup codes, and throttling.
///
/// ```
/// use otpkit::Algorithm;
/// use otpkit::record::EnrollmentOptions;
/// let options = EnrollmentOptions::default().algorithm(Algorithm::Sha256).digits(8).backup_codes(None);
/// # let _ = options;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct EnrollmentOptions {
    algorithm: Algorithm,
    digits: u8,
    period: u64,
    window: u64,
    backup_codes: Option<BackupCodeOptions>,
    lockout: Lockout,
}

impl Default for EnrollmentOptions {
    /// SHA-1, 6 digits, 30 s, window ±1, ten backup codes, default lockout.
    fn default() -> Self {
        Self {
            algorithm: Algorithm::Sha1,
            digits: 6,
            period: 30,
            window: 1,
            backup_codes: Some(BackupCodeOptions::default()),
            lockout: Lockout::default(),
        }
    }
}

impl EnrollmentOptions {
    /// The hash (default SHA-1, which every app supports).
    pub const fn algorithm(mut self, algorithm: Algorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// Digits per code (default 6).
    pub const fn digits(mut self, digits: u8) -> Self {
        self.digits = digits;
        self
    }

    /// Seconds per step (default 30).
    pub const fn period(mut self, seconds: u64) -> Self {
        self.period = seconds;
        self
    }

    /// Steps accepted on each side (default 1).
    pub const fn window(mut self, steps: u64) -> Self {
        self.window = steps;
        self
    }

    /// Backup codes issued on first verification, or `None` when the
    /// instance does not enable them.
    pub const fn backup_codes(mut self, options: Option<BackupCodeOptions>) -> Self {
        self.backup_codes = options;
        self
    }

    /// Throttling after wrong codes.
    pub const fn lockout(mut self, lockout: Lockout) -> Self {
        self.lockout = lockout;
        self
    }

    fn totp(&self, secret: Secret) -> Result<Totp, Error> {
        Totp::builder(secret)
            .algorithm(self.algorithm)
            .digits(self.digits)
            .period(self.period)
            .window(self.window)
            .build()
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
    /// The code is right. The resource is verified and, the first time,
    /// carries the fresh backup codes to show once.
    Valid {
        /// The resource to return to the front end.
        resource: Box<TotpResource>,
        /// Which kind of code it was.
        code_type: CodeType,
    },
    /// A right code that was used before (a TOTP code's step, or a backup
    /// code): refused, and counted as a failure.
    Replayed {
        /// Which kind of code it was.
        code_type: CodeType,
    },
    /// A wrong code.
    Invalid {
        /// Wrong codes in a row so far.
        failures: u32,
        /// Unix time before which no code is checked, if now locked.
        locked_until: Option<u64>,
    },
    /// Too many wrong codes: nothing is checked until this Unix time.
    Locked {
        /// Unix time the lock ends.
        until: u64,
    },
    /// The input is neither a TOTP code nor a backup code (a typo): what is
    /// wrong with it as a TOTP code. Nothing changed, nothing is counted.
    Malformed(Error),
}

impl TotpOutcome {
    /// Whether the code was accepted.
    ///
    /// ```
    /// assert!(!otpkit::TotpOutcome::Locked { until: 60 }.is_valid());
    /// ```
    #[must_use]
    pub const fn is_valid(&self) -> bool {
        matches!(self, Self::Valid { .. })
    }
}

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
/// wrong code of many racing requests is counted. Save on *every* outcome
/// that changed the record (all but [`TotpOutcome::Locked`] and
/// [`TotpOutcome::Malformed`]), not only
/// on success, or failures go uncounted.
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
    failures: u32,
    locked_until: Option<u64>,
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
    pub fn create(
        issuer: &str,
        account: &str,
        options: &EnrollmentOptions,
        now: u64,
    ) -> Result<(Self, TotpResource), Error> {
        let totp = options.totp(Secret::generate_for(options.algorithm))?;
        let record = Self::fresh(issuer, account, totp, options, now);
        let mut created = record.resource();
        created.secret = Some(record.totp.secret().clone());
        created.uri = Some(record.uri());
        Ok((record, created))
    }

    /// A record for an enrollment made by another application, so its
    /// users keep their authenticator app: the existing secret (from
    /// [`Secret::from_base32`], [`Secret::from_hex`] or
    /// [`Secret::from_bytes`]; their `_allow_short` forms for legacy 80-bit
    /// keys, which the record then flags), the settings it was made with,
    /// and the last time step it accepted (Vaultwarden's `last_used`,
    /// devise's `consumed_timestep`, django-otp's `last_t`), so a code used
    /// just before the move is still refused. The record is verified; bring
    /// backup codes with [`TotpRecord::with_backup_codes`].
    ///
    /// # Errors
    /// [`Error::DigitsOutOfRange`], [`Error::ZeroPeriod`] or
    /// [`Error::WindowTooLarge`] for bad options;
    /// [`Error::InvalidUri`] for an empty issuer or account.
    ///
    /// ```
    /// use otpkit::record::{EnrollmentOptions, TotpOutcome, TotpRecord};
    /// use otpkit::{Secret, TimeStep};
    ///
    /// // django-otp keeps the key in hex and the last step as `last_t`.
    /// let key = Secret::from_hex("3132333435363738393031323334353637383930")?;
    /// let last_t = TimeStep::new(56_666_666);
    /// let record = TotpRecord::import("ACME", "alice", key, &EnrollmentOptions::default(), Some(last_t), 1_700_000_000)?;
    /// assert!(record.is_verified() && !record.is_legacy_secret());
    /// let used_before_the_move = record.totp().generate_step(last_t).to_string();
    /// let (_, outcome) = record.verify(&used_before_the_move, None, 1_700_000_000)?;
    /// assert!(matches!(outcome, TotpOutcome::Replayed { .. }));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn import(
        issuer: &str,
        account: &str,
        secret: Secret,
        options: &EnrollmentOptions,
        last_used_step: Option<TimeStep>,
        now: u64,
    ) -> Result<Self, Error> {
        if issuer.trim().is_empty() {
            return Err(Error::InvalidUri { part: "label" });
        }
        if account.trim().is_empty() {
            return Err(Error::InvalidUri { part: "account" });
        }
        let legacy_secret = secret.len() < 16;
        Ok(Self {
            verified: true,
            last_used_step,
            legacy_secret,
            ..Self::fresh(issuer, account, options.totp(secret)?, options, now)
        })
    }

    /// A new, unverified record for `totp`, with a fresh id.
    fn fresh(
        issuer: &str,
        account: &str,
        totp: Totp,
        options: &EnrollmentOptions,
        now: u64,
    ) -> Self {
        Self {
            id: new_id(),
            issuer: issuer.to_owned(),
            account: account.to_owned(),
            totp,
            verified: false,
            last_used_step: None,
            backup_codes: None,
            backup_options: options.backup_codes,
            lockout: options.lockout,
            failures: 0,
            locked_until: None,
            created_at: now,
            updated_at: now,
            legacy_secret: false,
            drift: 0,
        }
    }

    /// The record with the clock drift the old application had learned
    /// (django-otp's `drift`), in time steps, positive when the user's
    /// clock runs ahead.
    ///
    /// # Errors
    /// [`Error::InvalidTotpRecord`] beyond [`TotpRecord::MAX_DRIFT`] steps.
    ///
    /// ```
    /// use otpkit::{record::TotpRecord, Secret};
    /// let record = TotpRecord::import("ACME", "bob", Secret::generate(), &Default::default(), None, 0)?
    ///     .with_drift(-2)?;
    /// assert_eq!(record.drift(), -2);
    /// assert!(record.clone().with_drift(21).is_err());
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn with_drift(mut self, steps: i64) -> Result<Self, Error> {
        if steps.unsigned_abs() > Self::MAX_DRIFT.unsigned_abs() {
            return Err(Error::InvalidTotpRecord {
                reason: "drift is more than 20 steps",
            });
        }
        self.drift = steps;
        Ok(self)
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

    /// The record with `set` as its backup codes, e.g. a set imported with
    /// [`BackupCodeSet::import_hashes`].
    ///
    /// # Errors
    /// [`Error::NotVerified`] for a record not verified yet (its codes are
    /// issued on the first right code).
    ///
    /// ```
    /// use otpkit::backup::{BackupCodeSet, CodeCase, ImportFormat};
    /// use otpkit::record::TotpRecord;
    /// use otpkit::Secret;
    ///
    /// let keycloak = ["yOleJy9kYv7KmL5oE/yeR0Cb1H1vS8olIMc0hQftpqFOjkMQffEpu0CD2M3Pbubuq5mfyw0HYxR9dW2kkYZdYg=="];
    /// let set = BackupCodeSet::import_hashes(ImportFormat::Sha512, &keycloak, CodeCase::Upper, 0)?;
    /// let record = TotpRecord::import("ACME", "bob", Secret::generate(), &Default::default(), None, 0)?
    ///     .with_backup_codes(set)?;
    /// assert!(record.verify("ABCD-2345-EFGH", None, 1)?.1.is_valid());
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn with_backup_codes(mut self, set: BackupCodeSet) -> Result<Self, Error> {
        if !self.verified {
            return Err(Error::NotVerified);
        }
        self.updated_at = self.updated_at.max(set.updated_at());
        self.backup_codes = Some(set);
        Ok(self)
    }

    /// For an unverified record whose hash is not SHA-1: when the first
    /// code is wrong, whether it is the code of the same key under SHA-1,
    /// because the user's app ignored the URI's `algorithm` parameter (as
    /// Google Authenticator and Authy long have). `Some` is the record
    /// switched to SHA-1, to verify the code against and store; `None` when
    /// the code is not that either. An opt-in: call it only if your users'
    /// apps may ignore the parameter, and only for the first code.
    ///
    /// # Errors
    /// [`Error::TimeBeforeT0`].
    ///
    /// ```
    /// use otpkit::record::{EnrollmentOptions, TotpRecord};
    /// use otpkit::{Algorithm, Secret, Totp};
    ///
    /// let options = EnrollmentOptions::default().algorithm(Algorithm::Sha256);
    /// let (record, created) = TotpRecord::create("ACME", "bob", &options, 1_700_000_000)?;
    /// // The app used SHA-1 with the key it was given.
    /// let app = Totp::new(created.secret().expect("creation carries it").clone());
    /// let code = app.generate_at(1_700_000_000)?.to_string();
    /// assert!(!record.verify(&code, None, 1_700_000_000)?.1.is_valid());
    /// let sha1 = record.fall_back_to_sha1(&code, 1_700_000_000)?.expect("the app's SHA-1 code");
    /// assert_eq!(sha1.totp().algorithm(), Algorithm::Sha1);
    /// assert!(sha1.verify(&code, None, 1_700_000_000)?.1.is_valid());
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn fall_back_to_sha1(&self, input: &str, now: u64) -> Result<Option<Self>, Error> {
        if self.verified || self.totp.algorithm() == Algorithm::Sha1 {
            return Ok(None);
        }
        let (behind, ahead) = self.totp.window();
        let sha1 = Totp::builder(self.totp.secret().clone())
            .algorithm(Algorithm::Sha1)
            .digits(self.totp.digits())
            .period(self.totp.period())
            .t0(self.totp.t0())
            .window_behind(behind)
            .window_ahead(ahead)
            .build()?;
        if !sha1.verify_at(input, now, self.last_used_step)?.is_valid() {
            return Ok(None);
        }
        let mut next = self.clone();
        next.totp = sha1;
        Ok(Some(next))
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
    /// [`TotpOutcome::Locked`] and [`TotpOutcome::Malformed`]) and what
    /// happened. A code that could be either kind (a backup code of digits
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
    /// let TotpOutcome::Valid { resource, code_type: CodeType::Totp } = outcome else { panic!() };
    /// let backup_codes = resource.backup_codes().expect("issued on the first code");
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
    pub fn verify(
        &self,
        input: &str,
        pepper: Option<&Pepper>,
        now: u64,
    ) -> Result<(Self, TotpOutcome), Error> {
        if let Some(until) = self.locked_until.filter(|&until| now < until) {
            return Ok((self.clone(), TotpOutcome::Locked { until }));
        }
        let mut next = self.clone();
        next.updated_at = now.max(self.updated_at);
        let totp = self
            .totp
            .verify_at(input, self.drifted(now), self.last_used_step)?;
        if let Verdict::Valid(m) = totp {
            next.last_used_step = Some(m.step());
            next.drift = self
                .drift
                .saturating_add(m.offset())
                .clamp(-Self::MAX_DRIFT, Self::MAX_DRIFT);
            let resource = Box::new(next.accept(pepper, now)?);
            let code_type = CodeType::Totp;
            return Ok((
                next,
                TotpOutcome::Valid {
                    resource,
                    code_type,
                },
            ));
        }
        // Not a fresh TOTP code: it may still be a backup code. Both are
        // tried, so a backup code that happens to look like a TOTP code
        // (all digits, as long as a TOTP code) is still redeemable.
        // `None`: no set to check (not verified yet, or no codes issued).
        let backup = match next.backup_codes.as_mut().filter(|_| self.verified) {
            Some(set) => Some(set.verify_and_consume(input, pepper, now)?),
            None => None,
        };
        match (totp, backup) {
            (_, Some(BackupOutcome::Valid { .. })) => {
                let resource = Box::new(next.accept(pepper, now)?);
                let code_type = CodeType::BackupCode;
                Ok((
                    next,
                    TotpOutcome::Valid {
                        resource,
                        code_type,
                    },
                ))
            }
            (_, Some(BackupOutcome::Replayed)) => {
                let code_type = CodeType::BackupCode;
                Ok((next.fail(now), TotpOutcome::Replayed { code_type }))
            }
            (Verdict::Replayed(_), _) => {
                let code_type = CodeType::Totp;
                Ok((next.fail(now), TotpOutcome::Replayed { code_type }))
            }
            // Input that is no backup code either: report it as the
            // malformed TOTP code it most likely was; nothing is counted.
            (Verdict::Malformed(typo), None | Some(BackupOutcome::Malformed(_))) => {
                Ok((self.clone(), TotpOutcome::Malformed(typo)))
            }
            _ => Ok(next.fail_invalid(now)),
        }
    }

    /// A right code: reset throttling, mark verified, issue backup codes
    /// the first time.
    fn accept(&mut self, pepper: Option<&Pepper>, now: u64) -> Result<TotpResource, Error> {
        self.failures = 0;
        self.locked_until = None;
        self.verified = true;
        let mut resource = self.resource();
        if let (Some(options), None) = (self.backup_options, &self.backup_codes) {
            let (codes, set) = BackupCodeSet::generate(&options, pepper, now)?;
            self.backup_codes = Some(set);
            resource.backup_codes = Some(codes);
        }
        Ok(resource)
    }

    fn fail(mut self, now: u64) -> Self {
        self.failures = self.failures.saturating_add(1);
        let lock = self.lockout.lock_for(self.failures);
        self.locked_until = (lock > 0).then(|| now.saturating_add(lock));
        self
    }

    fn fail_invalid(self, now: u64) -> (Self, TotpOutcome) {
        let next = self.fail(now);
        let outcome = TotpOutcome::Invalid {
            failures: next.failures,
            locked_until: next.locked_until,
        };
        (next, outcome)
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
    pub fn regenerate_backup_codes(
        &self,
        options: &BackupCodeOptions,
        pepper: Option<&Pepper>,
        now: u64,
    ) -> Result<(Self, BackupCodes), Error> {
        if !self.verified {
            return Err(Error::NotVerified);
        }
        let (codes, set) = BackupCodeSet::generate(options, pepper, now)?;
        let mut next = self.clone();
        next.backup_codes = Some(set);
        next.backup_options = Some(*options);
        next.updated_at = now.max(self.updated_at);
        Ok((next, codes))
    }

    /// Disables TOTP for the user (Clerk's `disableTOTP()`): consumes the
    /// record, whose secret is zeroized, and returns what to delete and
    /// answer.
    ///
    /// ```
    /// let (record, _) = otpkit::TotpRecord::create("ACME", "bob", &Default::default(), 0)?;
    /// let id = record.resource().id().to_owned();
    /// assert_eq!(record.disable().id(), id);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub fn disable(self) -> DeletedTotp {
        DeletedTotp::new(self.id.clone())
    }

    /// The TOTP generator (for tests, and for apps that show codes).
    #[must_use]
    pub const fn totp(&self) -> &Totp {
        &self.totp
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

    /// Wrong codes in a row.
    #[must_use]
    pub const fn failures(&self) -> u32 {
        self.failures
    }

    /// Unix time before which codes are refused, if locked.
    #[must_use]
    pub const fn locked_until(&self) -> Option<u64> {
        self.locked_until
    }
}

/// `totp_` and 26 random Base32 characters: 128 bits, URL-safe.
fn new_id() -> String {
    let mut bytes = [0u8; 16];
    UnwrapErr(SysRng).fill_bytes(&mut bytes);
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
            .field("failures", &self.failures)
            .field("locked_until", &self.locked_until)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .finish_non_exhaustive()
    }
}

/// A [`TotpRecord`] as it is stored: serializable, with the secret sealed
/// by a [`Keyring`](crate::Keyring) (or, opted into by name, in plaintext).
///
/// Loading checks every field a transition relies on; the secret is
/// opened only by [`StoredTotpRecord::open`], with the key it names. See
/// [`seal`](crate::seal) for the construction and key management.
///
/// ```
/// use otpkit::{Keyring, StoredTotpRecord, TotpRecord};
/// use otpkit::record::EnrollmentOptions;
/// use otpkit::seal::SealingKey;
///
/// let keyring = Keyring::new(SealingKey::generate()); // from your secrets manager
/// let (record, _) = TotpRecord::create("ACME", "alice", &EnrollmentOptions::default(), 0)?;
/// let json = serde_json::to_string(&record.seal(&keyring)?).unwrap();
/// assert!(!json.contains(record.totp().secret().to_base32().as_str()));
///
/// let stored: StoredTotpRecord = serde_json::from_str(&json).unwrap();
/// assert_eq!(stored.key_id(), Some(keyring.sealing_key_id()));
/// assert_eq!(stored.open(&keyring)?, record);
/// # Ok::<(), otpkit::Error>(())
/// ```
#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
#[derive(Clone, PartialEq, Eq)]
pub struct StoredTotpRecord(wire::Record);

#[cfg(feature = "serde")]
impl TotpRecord {
    /// The stored form, with the secret sealed by the keyring's first key
    /// and bound to this record's id.
    ///
    /// # Errors
    /// As [`Keyring::seal`](crate::Keyring::seal).
    ///
    /// ```
    /// # use otpkit::{Keyring, TotpRecord};
    /// # use otpkit::seal::SealingKey;
    /// let (record, _) = TotpRecord::create("ACME", "bob", &Default::default(), 0)?;
    /// let ring = Keyring::new(SealingKey::generate());
    /// assert!(record.seal(&ring)?.is_sealed());
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn seal(&self, keyring: &crate::Keyring) -> Result<StoredTotpRecord, Error> {
        let sealed = keyring.seal(self.totp.secret(), &wire::context(&self.id))?;
        let text = crate::wiping::to_zeroizing_string(&sealed);
        Ok(StoredTotpRecord(wire::Record::new(self, text)))
    }

    /// The stored form with the secret in **plaintext** Base32: anyone who
    /// reads it can mint codes. Only for tests, and for apps that encrypt
    /// the whole row themselves.
    ///
    /// ```
    /// # use otpkit::TotpRecord;
    /// let (record, _) = TotpRecord::create("ACME", "bob", &Default::default(), 0)?;
    /// let stored = record.unsealed_for_storage();
    /// assert!(!stored.is_sealed());
    /// assert_eq!(stored.open_unsealed()?, record);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub fn unsealed_for_storage(&self) -> StoredTotpRecord {
        StoredTotpRecord(wire::Record::new(self, self.totp.secret().to_base32()))
    }
}

#[cfg(feature = "serde")]
impl StoredTotpRecord {
    /// Opens a sealed record with the key it names.
    ///
    /// # Errors
    /// [`Error::PlaintextRecord`] for a record stored in plaintext (nothing
    /// falls back to it); [`Error::KeyNotInKeyring`] naming the key needed;
    /// [`Error::SealedSecretBroken`] for a wrong key, an altered ciphertext
    /// or a secret moved from another record; [`Error::InvalidTotpRecord`]
    /// and the settings' errors for a record that fails its checks.
    ///
    /// ```
    /// # use otpkit::{Error, Keyring, TotpRecord};
    /// # use otpkit::seal::SealingKey;
    /// let (record, _) = TotpRecord::create("ACME", "bob", &Default::default(), 0)?;
    /// let stored = record.seal(&Keyring::new(SealingKey::generate()))?;
    /// let other = Keyring::new(SealingKey::generate());
    /// assert!(matches!(stored.open(&other), Err(Error::KeyNotInKeyring { .. })));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn open(&self, keyring: &crate::Keyring) -> Result<TotpRecord, Error> {
        match self.0.stored_secret()? {
            wire::StoredSecret::Sealed(sealed) => {
                let secret = keyring.open_any_length(&sealed, &wire::context(self.0.id()))?;
                self.0.build(secret)
            }
            wire::StoredSecret::Plain => Err(Error::PlaintextRecord),
        }
    }

    /// Opens a record stored in plaintext (see
    /// [`TotpRecord::unsealed_for_storage`]).
    ///
    /// # Errors
    /// [`Error::SealedRecord`] naming the key for a sealed record; the
    /// errors of [`StoredTotpRecord::open`] for a record that fails its
    /// checks.
    ///
    /// ```
    /// # use otpkit::{Error, Keyring, TotpRecord};
    /// # use otpkit::seal::SealingKey;
    /// let (record, _) = TotpRecord::create("ACME", "bob", &Default::default(), 0)?;
    /// let stored = record.seal(&Keyring::new(SealingKey::generate()))?;
    /// assert!(matches!(stored.open_unsealed(), Err(Error::SealedRecord { .. })));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn open_unsealed(&self) -> Result<TotpRecord, Error> {
        match self.0.stored_secret()? {
            wire::StoredSecret::Sealed(sealed) => Err(Error::SealedRecord {
                key_id: sealed.key_id().to_owned(),
            }),
            wire::StoredSecret::Plain => self.0.build(self.0.plain_secret()?),
        }
    }

    /// The same record re-sealed under the keyring's first key, for key
    /// rotation; pure, like every transition. Opening uses any key of the
    /// keyring.
    ///
    /// # Errors
    /// As [`StoredTotpRecord::open`].
    ///
    /// ```
    /// use otpkit::{Keyring, TotpRecord};
    /// use otpkit::seal::SealingKey;
    /// let (a, b) = (SealingKey::generate(), SealingKey::generate());
    /// let (record, _) = TotpRecord::create("ACME", "bob", &Default::default(), 0)?;
    /// let stored = record.seal(&Keyring::new(a.clone()))?;
    /// let rotated = stored.rekey(&Keyring::new(b.clone()).with_old_key(a)?)?;
    /// assert_eq!(rotated.key_id(), Some(b.id()));
    /// assert_eq!(rotated.open(&Keyring::new(b))?, record);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn rekey(&self, keyring: &crate::Keyring) -> Result<Self, Error> {
        self.open(keyring)?.seal(keyring)
    }

    /// Whether the secret is sealed.
    ///
    /// ```
    /// # use otpkit::TotpRecord;
    /// let (record, _) = TotpRecord::create("ACME", "bob", &Default::default(), 0)?;
    /// assert!(!record.unsealed_for_storage().is_sealed());
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub fn is_sealed(&self) -> bool {
        self.key_id().is_some()
    }

    /// The id of the key that sealed the secret, `None` in plaintext: tells
    /// which records still need [`StoredTotpRecord::rekey`].
    ///
    /// ```
    /// # use otpkit::{Keyring, TotpRecord};
    /// # use otpkit::seal::SealingKey;
    /// let (record, _) = TotpRecord::create("ACME", "bob", &Default::default(), 0)?;
    /// let ring = Keyring::new(SealingKey::new("k7", [7; 32])?);
    /// assert_eq!(record.seal(&ring)?.key_id(), Some("k7"));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub fn key_id(&self) -> Option<&str> {
        self.0.sealed_key_id()
    }
}

#[cfg(feature = "serde")]
impl fmt::Debug for StoredTotpRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredTotpRecord")
            .field("id", &self.0.id())
            .field("key_id", &self.key_id())
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "serde")]
mod wire {
    //! The JSON shapes: the resource as Clerk's API writes it, the record
    //! as a versioned stored form.
    //!
    //! Every string that holds a secret, a URI or a backup code is a
    //! `Zeroizing<String>` here, both ways: what serialization builds and
    //! what a load reads (accepted or refused) is wiped when dropped.

    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use zeroize::Zeroizing;

    use super::{Lockout, StoredTotpRecord, TotpRecord, TotpResource};
    use crate::backup::{BackupCodeOptions, BackupCodeSet, BackupCodes, BackupHashScheme};
    use crate::clerk::Timestamp;
    use crate::seal::SealedSecret;
    use crate::{Algorithm, Error, OtpAuthUri, Secret, TimeStep, Totp};

    #[derive(Serialize, Deserialize, Clone, Copy)]
    #[serde(rename_all = "snake_case")]
    enum TotpObject {
        Totp,
    }

    #[derive(Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Resource {
        object: TotpObject,
        id: String,
        #[serde(default)]
        secret: Option<Zeroizing<String>>,
        #[serde(default)]
        uri: Option<Zeroizing<String>>,
        verified: bool,
        #[serde(default)]
        backup_codes: Option<Vec<Zeroizing<String>>>,
        created_at: Timestamp,
        updated_at: Timestamp,
    }

    /// The resource's JSON, borrowing the codes rather than copying them.
    #[derive(Serialize)]
    struct ResourceOut<'a> {
        object: TotpObject,
        id: &'a str,
        secret: Option<Zeroizing<String>>,
        uri: Option<Zeroizing<String>>,
        verified: bool,
        backup_codes: Option<Vec<&'a str>>,
        created_at: Timestamp,
        updated_at: Timestamp,
    }

    impl Serialize for TotpResource {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            ResourceOut {
                object: TotpObject::Totp,
                id: &self.id,
                secret: self.secret.as_ref().map(Secret::to_base32),
                uri: self.uri.as_ref().map(OtpAuthUri::to_zeroizing_string),
                verified: self.verified,
                backup_codes: self.backup_codes.as_ref().map(|c| c.iter().collect()),
                created_at: self.created_at,
                updated_at: self.updated_at,
            }
            .serialize(s)
        }
    }

    impl<'de> Deserialize<'de> for TotpResource {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            use serde::de::Error as _;
            let r = Resource::deserialize(d)?;
            let secret = r
                .secret
                .map(|s| Secret::from_base32(&s))
                .transpose()
                .map_err(|e| D::Error::custom(format!("secret: {e}")))?;
            let uri = r
                .uri
                .map(|u| u.parse::<OtpAuthUri>())
                .transpose()
                .map_err(|e| D::Error::custom(format!("uri: {e}")))?;
            if let (Some(secret), Some(uri)) = (&secret, &uri)
                && secret != uri.secret()
            {
                return Err(D::Error::custom("secret and uri carry different keys"));
            }
            Ok(Self {
                id: r.id,
                secret,
                uri,
                verified: r.verified,
                backup_codes: r.backup_codes.map(BackupCodes::from_texts),
                created_at: r.created_at,
                updated_at: r.updated_at,
            })
        }
    }

    /// A lockout policy as stored: checked by [`Lockout::new`] on load, so
    /// no stored value switches throttling off.
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct LockoutWire {
        free_failures: u32,
        cooldown: u64,
    }

    impl TryFrom<LockoutWire> for Lockout {
        type Error = Error;

        fn try_from(w: LockoutWire) -> Result<Self, Error> {
            Self::new(w.free_failures, w.cooldown)
        }
    }

    /// Backup-code options as stored in a record.
    #[derive(Serialize, Deserialize, Clone, PartialEq, Eq)]
    #[serde(deny_unknown_fields)]
    struct BackupSettings {
        count: usize,
        length: usize,
        /// 0 for HMAC-SHA-256, else PBKDF2 iterations.
        pbkdf2_iterations: u32,
    }

    /// The stored form. `secret` is the sealed secret
    /// (`$otpkit-xchacha20poly1305$…`) or, opted into by name, the plain
    /// Base32 secret; the two cannot be confused, as `$` is not Base32.
    #[derive(Serialize, Deserialize, Clone, PartialEq, Eq)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Record {
        version: u32,
        id: String,
        issuer: String,
        account: String,
        secret: Zeroizing<String>,
        algorithm: String,
        digits: u8,
        period: u64,
        window: u64,
        verified: bool,
        last_used_step: Option<TimeStep>,
        backup_codes: Option<BackupCodeSet>,
        backup_settings: Option<BackupSettings>,
        lockout: Lockout,
        failures: u32,
        locked_until: Option<u64>,
        created_at: u64,
        updated_at: u64,
        /// Present (true) only for a record imported with a key shorter
        /// than 128 bits.
        #[serde(default, skip_serializing_if = "core::ops::Not::not")]
        legacy_short_secret: bool,
        /// Steps of clock drift learned; absent when 0.
        #[serde(default, skip_serializing_if = "is_zero")]
        drift: i64,
    }

    #[allow(clippy::trivially_copy_pass_by_ref)] // serde passes a reference
    fn is_zero(value: &i64) -> bool {
        *value == 0
    }

    /// How a record's secret is stored.
    pub(super) enum StoredSecret {
        Sealed(SealedSecret),
        Plain,
    }

    /// What the sealed secret is bound to: the record's id.
    pub(super) fn context(id: &str) -> Vec<u8> {
        let mut context = b"totp-record:".to_vec();
        context.extend_from_slice(id.as_bytes());
        context
    }

    impl Record {
        /// The stored form of `record`, with `secret` as its secret text.
        pub(super) fn new(record: &TotpRecord, secret: Zeroizing<String>) -> Self {
            let totp = &record.totp;
            Self {
                version: 1,
                id: record.id.clone(),
                issuer: record.issuer.clone(),
                account: record.account.clone(),
                secret,
                algorithm: totp.algorithm().as_str().to_owned(),
                digits: totp.digits(),
                period: totp.period(),
                window: totp.window().0,
                verified: record.verified,
                last_used_step: record.last_used_step,
                backup_codes: record.backup_codes.clone(),
                backup_settings: record.backup_options.map(|o| BackupSettings {
                    count: o.count_value(),
                    length: o.length_value(),
                    pbkdf2_iterations: match o.scheme_value() {
                        BackupHashScheme::Pbkdf2Sha256 { iterations } => iterations,
                        BackupHashScheme::HmacSha256 => 0,
                    },
                }),
                lockout: record.lockout,
                failures: record.failures,
                locked_until: record.locked_until,
                created_at: record.created_at,
                updated_at: record.updated_at,
                legacy_short_secret: record.legacy_secret,
                drift: record.drift,
            }
        }

        pub(super) fn id(&self) -> &str {
            &self.id
        }

        /// The key id in a sealed secret's text, read without parsing it
        /// all (it was checked on load).
        pub(super) fn sealed_key_id(&self) -> Option<&str> {
            let params = self.secret.strip_prefix('$')?.split('$').nth(1)?;
            params.strip_prefix("v=1,k=")
        }

        /// Whether the secret is sealed, and by what.
        pub(super) fn stored_secret(&self) -> Result<StoredSecret, Error> {
            if self.secret.starts_with('$') {
                Ok(StoredSecret::Sealed(self.secret.parse()?))
            } else {
                Ok(StoredSecret::Plain)
            }
        }

        /// The plain secret of an unsealed record.
        pub(super) fn plain_secret(&self) -> Result<Secret, Error> {
            Secret::from_base32_allow_short(&self.secret)
        }

        /// Checks everything a transition relies on, but the secret, so
        /// that no stored value can switch a check off or make a right code
        /// fail.
        fn check(&self) -> Result<(), Error> {
            if self.version != 1 {
                return Err(bad("unsupported record version"));
            }
            if self.id.is_empty() {
                return Err(bad("id is empty"));
            }
            if self.updated_at < self.created_at {
                return Err(bad("updated_at is before created_at"));
            }
            if !self.verified && (self.last_used_step.is_some() || self.backup_codes.is_some()) {
                return Err(bad("an unverified record has a used step or backup codes"));
            }
            // Each wrong code past the free ones sets a lock, and a right one
            // clears both: a count past the free failures without a lock (or
            // the reverse) was not written by a transition.
            if self.locked_until.is_some() != (self.failures > self.lockout.free_failures()) {
                return Err(bad("failures and locked_until disagree"));
            }
            if self
                .locked_until
                .is_some_and(|until| until > self.updated_at.saturating_add(Lockout::MAX_LOCK))
            {
                return Err(bad("locked_until is more than a day after updated_at"));
            }
            if self.drift.unsigned_abs() > TotpRecord::MAX_DRIFT.unsigned_abs() {
                return Err(bad("drift is more than 20 steps"));
            }
            crate::engine::check_digits(self.digits)?;
            if self.period == 0 {
                return Err(Error::ZeroPeriod);
            }
            if self.window > crate::MAX_WINDOW {
                return Err(Error::WindowTooLarge { steps: self.window });
            }
            self.algorithm.parse::<Algorithm>()?;
            self.backup_options()?;
            match self.stored_secret()? {
                StoredSecret::Sealed(_) => Ok(()),
                StoredSecret::Plain => self.check_length(&self.plain_secret()?),
            }
        }

        /// A short key loads only into a record imported with one.
        fn check_length(&self, secret: &Secret) -> Result<(), Error> {
            if secret.len() < 16 && !self.legacy_short_secret {
                return Err(Error::SecretTooShort {
                    bits: secret.len().saturating_mul(8),
                });
            }
            Ok(())
        }

        fn backup_options(&self) -> Result<Option<BackupCodeOptions>, Error> {
            self.backup_settings
                .as_ref()
                .map(|b| {
                    let scheme = match b.pbkdf2_iterations {
                        0 => BackupHashScheme::HmacSha256,
                        iterations => BackupHashScheme::Pbkdf2Sha256 { iterations },
                    };
                    let options = BackupCodeOptions::default()
                        .count(b.count)
                        .length(b.length)
                        .scheme(scheme);
                    options.check().map(|()| options)
                })
                .transpose()
        }

        /// The record, with its secret opened by the caller.
        pub(super) fn build(&self, secret: Secret) -> Result<TotpRecord, Error> {
            self.check()?;
            self.check_length(&secret)?;
            let totp = Totp::builder(secret)
                .algorithm(self.algorithm.parse()?)
                .digits(self.digits)
                .period(self.period)
                .window(self.window)
                .build()?;
            Ok(TotpRecord {
                id: self.id.clone(),
                issuer: self.issuer.clone(),
                account: self.account.clone(),
                totp,
                verified: self.verified,
                last_used_step: self.last_used_step,
                backup_codes: self.backup_codes.clone(),
                backup_options: self.backup_options()?,
                lockout: self.lockout,
                failures: self.failures,
                locked_until: self.locked_until,
                created_at: self.created_at,
                updated_at: self.updated_at,
                legacy_secret: self.legacy_short_secret,
                drift: self.drift,
            })
        }
    }

    fn bad(reason: &'static str) -> Error {
        Error::InvalidTotpRecord { reason }
    }

    impl Serialize for StoredTotpRecord {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            self.0.serialize(s)
        }
    }

    impl<'de> Deserialize<'de> for StoredTotpRecord {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let record = Record::deserialize(d)?;
            record.check().map_err(serde::de::Error::custom)?;
            Ok(Self(record))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Code;

    /// A backup code drawn from digits only, as long as a TOTP code, parses
    /// as a TOTP code too; it must still be redeemable (once).
    #[test]
    fn a_backup_code_that_looks_like_a_totp_code_is_redeemable() {
        let now = 1_700_000_000;
        let options = EnrollmentOptions::default()
            .digits(8)
            .backup_codes(Some(BackupCodeOptions::default().length(8)));
        let (record, _) = TotpRecord::create("ACME", "bob", &options, now).unwrap();
        let code = record.totp().generate_at(now).unwrap().to_string();
        let (mut record, _) = record.verify(&code, None, now).unwrap();
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

        let (record, outcome) = record.verify(all_digits, None, now + 1).unwrap();
        assert!(matches!(
            outcome,
            TotpOutcome::Valid {
                code_type: CodeType::BackupCode,
                ..
            }
        ));
        let (record, again) = record.verify("23456789", None, now + 2).unwrap();
        assert_eq!(
            again,
            TotpOutcome::Replayed {
                code_type: CodeType::BackupCode
            }
        );
        // A wrong all-digit code is one failure, not two.
        let (record, wrong) = record.verify("99999999", None, now + 3).unwrap();
        assert!(matches!(wrong, TotpOutcome::Invalid { failures: 2, .. }));
        assert_eq!(record.backup_codes().map(BackupCodeSet::remaining), Some(1));
    }
}
