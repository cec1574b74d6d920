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
//! [`Verdict::Replayed`](crate::Verdict::Replayed) as you decide; a
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
//! let (secret, uri) = (created.secret(), created.uri()); // shown once, with created.qr()
//! assert!(created.resource().secret() == Some(secret) && !created.resource().verified());
//!
//! // The user scans the QR code and types the first code.
//! let code = record.totp().generate_at(now + 20)?.to_string();
//! let (record, outcome) = record.verify(&code, &otpkit::Pepper::NONE, now + 20)?;
//! let TotpOutcome::Valid { code_type: CodeType::Totp, backup_codes } = outcome else { panic!() };
//! assert!(record.resource().verified());
//! assert_eq!(backup_codes.len(), 10); // shown once
//!
//! // Later reads never carry the secret, the URI or backup codes.
//! let later = record.resource();
//! assert!(later.secret().is_none() && later.uri().is_none() && later.backup_codes().is_none());
//! # Ok::<(), otpkit::Error>(())
//! ```

use alloc::format;
use alloc::string::String;
mod backup_codes;
mod create;
mod import;
pub(crate) mod label;
mod lockout;
mod options;
mod outcome;
mod resource;
mod sign_in;
#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
mod stored;
mod verification;

use core::fmt;

pub use create::Enrollment;
pub use lockout::Lockout;
use lockout::Throttle;
pub use options::EnrollmentOptions;
pub use outcome::{CodeType, TotpOutcome};
pub use resource::TotpResource;
#[cfg(feature = "serde")]
pub use stored::StoredTotpRecord;
pub use verification::{BackupCodeCheck, CheckedBackupCode, Verification};

use crate::backup::{BackupCodeOptions, BackupCodeSet};
use crate::engine::{TimeStep, Totp};
use crate::random::CryptoRng;
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
/// use otpkit::{Error, Keyring, Pepper, StoredTotpRecord, TotpOutcome, TotpRecord};
/// use otpkit::seal::SealingKey;
/// use std::cell::RefCell;
///
/// /// One row, (version, the record sealed, as JSON), and the app's secrets.
/// struct Store { row: RefCell<(u64, String)>, keyring: Keyring, pepper: Pepper }
/// impl Store {
///     /// `SELECT version, record …`
///     fn load(&self) -> Result<(u64, TotpRecord), Error> {
///         let (version, json) = &*self.row.borrow();
///         Ok((*version, StoredTotpRecord::from_json(json)?.open(&self.keyring)?))
///     }
///     /// `UPDATE … WHERE version = :loaded`: false when someone saved first.
///     fn compare_and_set(&self, loaded: u64, record: &TotpRecord) -> Result<bool, Error> {
///         let json = record.seal(&self.keyring)?.to_json();
///         let mut row = self.row.borrow_mut();
///         if row.0 != loaded { return Ok(false); }
///         *row = (loaded + 1, json);
///         Ok(true)
///     }
/// }
///
/// /// One sign-in request: load, transition, save; on a lost race, again.
/// fn sign_in(store: &Store, code: &str, now: u64) -> Result<TotpOutcome, Error> {
///     loop {
///         let (version, record) = store.load()?;
///         let (next, outcome) = record.verify(code, &store.pepper, now)?;
///         if next == record || store.compare_and_set(version, &next)? {
///             return Ok(outcome);
///         }
///     }
/// }
///
/// let now = 1_700_000_000;
/// let (record, _) = TotpRecord::create("ACME", "alice", &Default::default(), now)?;
/// let code = record.totp().generate_at(now)?.to_string();
/// let keyring = Keyring::new(SealingKey::generate()); // from your secrets manager
/// let pepper = Pepper::new(b"from your secrets manager too")?;
/// let json = record.seal(&keyring)?.to_json();
/// let store = Store { row: RefCell::new((1, json)), keyring, pepper };
///
/// // Request B loads and checks first, but is slow to save…
/// let (b_version, b_record) = store.load()?;
/// let (b_next, b_outcome) = b_record.verify(&code, &store.pepper, now)?;
/// assert!(matches!(b_outcome, TotpOutcome::Valid { .. }));
/// // …while request A, with the same code, runs the recipe and wins.
/// assert!(matches!(sign_in(&store, &code, now)?, TotpOutcome::Valid { .. }));
/// // B's save fails; B reloads and runs the check again: a replay.
/// assert!(!store.compare_and_set(b_version, &b_next)?);
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
    /// let (record, _) = record.verify(&late, &otpkit::Pepper::NONE, now)?;
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
