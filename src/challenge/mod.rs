//! One-time code challenges sent by SMS or e-mail: issue, check, retry.
//!
//! The library owns the logic; sending the message is the caller's job.
//! Every transition is a pure function of (state, input, now) that returns
//! the new state for the caller to persist, and a challenge only moves
//! forward: *unverified*, then *verified*, *expired* or *failed*.
//!
//! # Whose model this is
//!
//! The lifecycle follows two documented APIs, so a service built on this
//! crate can answer in shapes their clients already know:
//!
//! - [Ding](https://ding.live) is an SMS verification service whose OTP API
//!   has three calls: *send* a code (here [`OtpChallenge::create`]),
//!   *check* a code ([`OtpChallenge::check`]), and *retry*, which sends a
//!   new code after a cool-down ([`OtpChallenge::retry`]).
//! - [Clerk](https://clerk.com)'s *verification object* reports where a
//!   challenge stands (`status`, `strategy`, `attempts`, `expire_at`):
//!   [`OtpChallenge::verification`] produces it, as the
//!   [`clerk`](crate::clerk) module's types.
//!
//! # The numbers
//!
//! A default policy sends 6-digit codes that live 10 minutes and allows 5
//! answers over all codes sent, so one challenge is guessed with
//! probability 5 in 10^6; 3 retries, 30 s apart, each send a new code.

//! # Concurrency
//!
//! Two requests checking the same challenge at once must not both count as
//! one attempt (or both succeed). Persist the new state with a
//! compare-and-set on what you read, and retry the whole check when it
//! loses:
//!
//! ```sql
//! UPDATE challenges SET state = :new, version = version + 1
//!  WHERE id = :id AND version = :version_read;  -- 0 rows: reload and check again
//! ```
//!
//! # The stored code
//!
//! Only a keyed hash of the code is kept: HMAC-SHA-256 over a per-challenge
//! salt and the code, keyed with the application [`Pepper`]. A 6-digit code
//! has only a million values, so without a pepper the hash hides the code
//! from casual reads of the database but not from anyone who tries them
//! all; pass a pepper.
//!
//! ```
//! use otpkit::challenge::{ChallengePolicy, CheckOutcome, OtpChallenge};
//! use otpkit::{challenge::Strategy, Pepper};
//!
//! let pepper = Pepper::new(b"from your secrets manager, >= 16 bytes")?;
//! let now = 1_700_000_000;
//! let (code, challenge) =
//!     OtpChallenge::create(Strategy::PhoneCode, &ChallengePolicy::default(), &pepper, now)?;
//! // Send `code` by SMS; store `challenge`.
//! let wrong = if code.to_string() == "000000" { "111111" } else { "000000" };
//! let (challenge, outcome) = challenge.check(wrong, &pepper, now + 5)?;
//! assert_eq!(outcome, CheckOutcome::Invalid { attempts_left: 4 });
//! let (challenge, outcome) = challenge.check(&code.to_string(), &pepper, now + 20)?;
//! assert_eq!(outcome, CheckOutcome::Valid);
//! let (_, again) = challenge.check(&code.to_string(), &pepper, now + 21)?;
//! assert_eq!(again, CheckOutcome::AlreadyVerified);
//! # Ok::<(), otpkit::Error>(())
//! ```

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::string::ToString;
use core::fmt;

use rand::RngExt;
use subtle::ConstantTimeEq;

use crate::engine::{Code, Typo, check_digits};
use crate::error::Error;
use crate::pepper::{HASH_LEN, Pepper, hmac_sha256, pepper_for};
use crate::random::CryptoRng;

#[cfg(feature = "serde")]
mod stored;

const SALT_LEN: usize = 16;

/// Where a one-time code challenge stands.
///
/// ```
/// assert_eq!(otpkit::challenge::VerificationStatus::Unverified.as_str(), "unverified");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum VerificationStatus {
    /// Issued, not yet answered correctly.
    Unverified,
    /// Answered correctly.
    Verified,
    /// Too many wrong answers.
    Failed,
    /// Not answered before it expired.
    Expired,
}

impl VerificationStatus {
    /// The wire name.
    ///
    /// ```
    /// assert_eq!(otpkit::challenge::VerificationStatus::Failed.as_str(), "failed");
    /// ```
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unverified => "unverified",
            Self::Verified => "verified",
            Self::Failed => "failed",
            Self::Expired => "expired",
        }
    }
}

/// How a factor is verified. A strategy this crate does not know (from a
/// newer server) is kept as [`Strategy::Other`], not rejected.
///
/// ```
/// use otpkit::challenge::Strategy;
///
/// assert_eq!(Strategy::from_name("phone_code"), Strategy::PhoneCode);
/// assert_eq!(Strategy::from_name("passkey"), Strategy::Other("passkey".into()));
/// assert_eq!(Strategy::Other("passkey".into()).as_str(), "passkey");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Strategy {
    /// A code sent by SMS.
    PhoneCode,
    /// A code sent by e-mail.
    EmailCode,
    /// A password-reset code sent by e-mail.
    ResetPasswordEmailCode,
    /// Verified by an administrator.
    Admin,
    /// A code from an authenticator app.
    Totp,
    /// A backup code.
    BackupCode,
    /// Any other strategy, by its wire name.
    Other(String),
}

impl Strategy {
    /// The strategy with this wire name.
    #[must_use]
    pub fn from_name(name: &str) -> Self {
        match name {
            "phone_code" => Self::PhoneCode,
            "email_code" => Self::EmailCode,
            "reset_password_email_code" => Self::ResetPasswordEmailCode,
            "admin" => Self::Admin,
            "totp" => Self::Totp,
            "backup_code" => Self::BackupCode,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The wire name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::PhoneCode => "phone_code",
            Self::EmailCode => "email_code",
            Self::ResetPasswordEmailCode => "reset_password_email_code",
            Self::Admin => "admin",
            Self::Totp => "totp",
            Self::BackupCode => "backup_code",
            Self::Other(name) => name,
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The rules of a challenge: code length, lifetime, attempts and retries.
///
/// ```
/// use otpkit::challenge::ChallengePolicy;
///
/// let strict = ChallengePolicy::default().ttl(120).max_attempts(3);
/// assert_ne!(strict, ChallengePolicy::default());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct ChallengePolicy {
    digits: u8,
    ttl: u64,
    max_attempts: u32,
    max_retries: u32,
    retry_cooldown: u64,
}

impl Default for ChallengePolicy {
    /// 6 digits, 10 minutes, 5 attempts, 3 retries 30 seconds apart.
    fn default() -> Self {
        Self {
            digits: 6,
            ttl: 600,
            max_attempts: 5,
            max_retries: 3,
            retry_cooldown: 30,
        }
    }
}

impl ChallengePolicy {
    /// The longest lifetime: a day (a code sent by SMS or e-mail lives
    /// minutes; a day covers a slow e-mail link).
    pub const MAX_TTL: u64 = 86_400;
    /// The most answers: 10 (each one a guess at a 10⁶ code).
    pub const MAX_ATTEMPTS: u32 = 10;
    /// The most new codes after the first: 10.
    pub const MAX_RETRIES: u32 = 10;
    /// The longest wait between two sends: an hour.
    pub const MAX_RETRY_COOLDOWN: u64 = 3600;

    /// Whether a challenge can run under this policy: digits 6 to 10, a
    /// lifetime of 1 s to [`Self::MAX_TTL`], 1 to [`Self::MAX_ATTEMPTS`]
    /// answers, at most [`Self::MAX_RETRIES`] retries at most
    /// [`Self::MAX_RETRY_COOLDOWN`] apart. Checked when a challenge is
    /// created and when a stored one is loaded, alike.
    pub(crate) fn check(&self) -> Result<(), Error> {
        check_digits(self.digits)?;
        let reason = if self.ttl == 0 || self.ttl > Self::MAX_TTL {
            "ttl must be 1 to 86400 seconds"
        } else if self.max_attempts == 0 || self.max_attempts > Self::MAX_ATTEMPTS {
            "max_attempts must be 1 to 10"
        } else if self.max_retries > Self::MAX_RETRIES {
            "max_retries must be at most 10"
        } else if self.retry_cooldown > Self::MAX_RETRY_COOLDOWN {
            "retry_cooldown must be at most 3600 seconds"
        } else {
            return Ok(());
        };
        Err(Error::InvalidPolicy { reason })
    }

    /// Digits per code, 6 to 10 (checked by [`OtpChallenge::create`];
    /// default 6).
    pub const fn digits(mut self, digits: u8) -> Self {
        self.digits = digits;
        self
    }

    /// Seconds from creation until the challenge expires, 1 to a day
    /// (default 600). Retries send new codes but do not extend it.
    pub const fn ttl(mut self, seconds: u64) -> Self {
        self.ttl = seconds;
        self
    }

    /// Answers allowed, over all codes sent, 1 to 10 (default 5); the
    /// last wrong one fails the challenge.
    pub const fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// New codes that may be sent after the first, at most 10 (default 3).
    pub const fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// Seconds that must pass between two sends, at most an hour
    /// (default 30).
    pub const fn retry_cooldown(mut self, seconds: u64) -> Self {
        self.retry_cooldown = seconds;
        self
    }
}

/// What checking an answer did, in the crate's one vocabulary (valid,
/// invalid, replayed, locked, expired, malformed).
///
/// ```
/// use otpkit::challenge::CheckOutcome;
/// assert_ne!(CheckOutcome::Valid, CheckOutcome::Expired);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
pub enum CheckOutcome {
    /// The code is right: the challenge is now verified.
    Valid,
    /// The code is wrong; this many answers are left.
    Invalid {
        /// Answers left before the challenge fails.
        attempts_left: u32,
    },
    /// The challenge was verified before: this answer is not checked (a
    /// replay of the one that verified it, or a late one). Nothing changed.
    AlreadyVerified,
    /// The attempts are spent: the challenge has failed for good (now or
    /// before); start a new one.
    Locked,
    /// The challenge expired before a right answer.
    Expired,
    /// The answer is not a code of the policy's length (a typo): what is
    /// wrong with it. Nothing changed, no attempt is counted.
    Malformed(Typo),
}

/// What asking for a new code did, as in Ding's retry response.
///
/// ```
/// let refused = otpkit::challenge::RetryOutcome::CoolingDown { next_retry_at: 30, remaining_retries: 3 };
/// assert!(!matches!(refused, otpkit::challenge::RetryOutcome::Sent { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum RetryOutcome {
    /// A new code to send; the previous one stopped working.
    Sent {
        /// The code to send.
        code: Code,
        /// Retries left after this one.
        remaining_retries: u32,
        /// When the next retry is allowed, Unix seconds.
        next_retry_at: u64,
    },
    /// Too soon after the last send.
    CoolingDown {
        /// When a retry is allowed, Unix seconds.
        next_retry_at: u64,
        /// Retries left.
        remaining_retries: u32,
    },
    /// Every retry has been used.
    NoRetriesLeft,
    /// The challenge expired: start a new one.
    Expired,
    /// The attempts are spent, the challenge failed: start a new one.
    Locked,
    /// The challenge is verified already.
    AlreadyVerified,
}

/// The server-side state of a one-time code challenge: only a keyed hash of
/// the current code, the attempts and retries made, and the times.
///
/// With the `serde` feature it serializes to a versioned JSON record.
/// `Debug` shows no hash or salt.
#[derive(Clone, PartialEq, Eq)]
pub struct OtpChallenge {
    strategy: Strategy,
    policy: ChallengePolicy,
    peppered: bool,
    salt: [u8; SALT_LEN],
    code_hash: [u8; HASH_LEN],
    status: VerificationStatus,
    attempts: u32,
    retries: u32,
    created_at: u64,
    expire_at: u64,
    sent_at: u64,
    verified_at: Option<u64>,
}

impl OtpChallenge {
    /// Issues a challenge at Unix time `now`: the code to send (leading
    /// zeros kept; `Display` prints it) and the state to store.
    ///
    /// # Errors
    /// [`Error::DigitsOutOfRange`], or [`Error::InvalidPolicy`] for a zero
    /// lifetime or zero attempts, or a lifetime that overflows `now`.
    ///
    /// # Panics
    /// Only if the operating system cannot supply random bytes.
    ///
    /// ```
    /// use otpkit::OtpChallenge;
    /// use otpkit::challenge::ChallengePolicy;
    /// use otpkit::challenge::{Strategy, VerificationStatus};
    /// let policy = ChallengePolicy::default().digits(8);
    /// let (code, challenge) = OtpChallenge::create(Strategy::EmailCode, &policy, &otpkit::Pepper::NONE, 100)?;
    /// assert_eq!(code.to_string().len(), 8);
    /// assert_eq!((challenge.status_at(100), challenge.expire_at()), (VerificationStatus::Unverified, 700));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[cfg(feature = "std")]
    #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
    pub fn create(
        strategy: Strategy,
        policy: &ChallengePolicy,
        pepper: &Pepper,
        now: u64,
    ) -> Result<(Code, Self), Error> {
        Self::create_with_rng(strategy, policy, pepper, now, &mut crate::random::os())
    }

    /// [`OtpChallenge::create`] with the code and salt drawn from `rng`.
    ///
    /// # Errors
    /// As [`OtpChallenge::create`].
    ///
    /// ```
    /// use otpkit::OtpChallenge;
    /// use otpkit::challenge::{ChallengePolicy, Strategy};
    /// use rand::{rand_core::UnwrapErr, rngs::SysRng};
    /// let mut rng = UnwrapErr(SysRng); // any `otpkit::rand_core::CryptoRng`
    /// let (code, challenge) = OtpChallenge::create_with_rng(Strategy::PhoneCode, &ChallengePolicy::default(), &otpkit::Pepper::NONE, 0, &mut rng)?;
    /// assert_eq!(challenge.check(&code.to_string(), &otpkit::Pepper::NONE, 1)?.1, otpkit::challenge::CheckOutcome::Valid);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn create_with_rng<R: CryptoRng + ?Sized>(
        strategy: Strategy,
        policy: &ChallengePolicy,
        pepper: &Pepper,
        now: u64,
        rng: &mut R,
    ) -> Result<(Code, Self), Error> {
        let pepper = pepper.given();
        policy.check()?;
        let expire_at = now.checked_add(policy.ttl).ok_or(Error::InvalidPolicy {
            reason: "expiry time overflows",
        })?;
        let mut challenge = Self {
            strategy,
            policy: *policy,
            peppered: pepper.is_some(),
            salt: [0; SALT_LEN],
            code_hash: [0; HASH_LEN],
            status: VerificationStatus::Unverified,
            attempts: 0,
            retries: 0,
            created_at: now,
            expire_at,
            sent_at: now,
            verified_at: None,
        };
        let code = challenge.new_code(pepper, rng);
        Ok((code, challenge))
    }

    /// Draws a fresh code and a fresh salt, and stores the code's hash.
    fn new_code<R: CryptoRng + ?Sized>(&mut self, pepper: Option<&Pepper>, rng: &mut R) -> Code {
        let modulus = 10u64
            .checked_pow(u32::from(self.policy.digits))
            .unwrap_or(1_000_000);
        let code = Code::new(rng.random_range(0..modulus), self.policy.digits);
        rng.fill_bytes(&mut self.salt);
        self.code_hash = *self.hash(&code, pepper);
        code
    }

    fn hash(&self, code: &Code, pepper: Option<&Pepper>) -> zeroize::Zeroizing<[u8; HASH_LEN]> {
        let key: &[u8] = pepper.map_or(&[], Pepper::as_bytes);
        let digits = zeroize::Zeroizing::new(code.to_string());
        hmac_sha256(key, &[&self.salt, digits.as_bytes()])
    }

    /// Checks an answer at Unix time `now`, returning the new state to
    /// persist and what happened. The comparison is constant time. Every
    /// well-formed answer to a live challenge counts as an attempt, over
    /// all codes sent; a malformed one does not.
    ///
    /// The code is good until `expire_at`, exclusive: at `expire_at` the
    /// challenge has expired.
    ///
    /// # Errors
    /// Only [`Error::PepperRequired`]: a configuration problem, never what
    /// the user typed (a typo is [`CheckOutcome::Malformed`]).
    ///
    /// ```
    /// use otpkit::challenge::{ChallengePolicy, CheckOutcome, OtpChallenge};
    /// use otpkit::challenge::Strategy;
    /// let (code, challenge) = OtpChallenge::create(Strategy::PhoneCode, &ChallengePolicy::default(), &otpkit::Pepper::NONE, 0)?;
    /// let (_, late) = challenge.check(&code.to_string(), &otpkit::Pepper::NONE, 600)?;
    /// assert_eq!(late, CheckOutcome::Expired);
    /// let (_, in_time) = challenge.check(&code.to_string(), &otpkit::Pepper::NONE, 599)?;
    /// assert_eq!(in_time, CheckOutcome::Valid);
    /// assert!(matches!(challenge.check("12345", &otpkit::Pepper::NONE, 1)?.1, CheckOutcome::Malformed(_)));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn check(
        &self,
        input: &str,
        pepper: &Pepper,
        now: u64,
    ) -> Result<(Self, CheckOutcome), Error> {
        let pepper = pepper.given();
        let mut next = self.clone();
        match self.status_at(now) {
            VerificationStatus::Verified => return Ok((next, CheckOutcome::AlreadyVerified)),
            VerificationStatus::Failed => return Ok((next, CheckOutcome::Locked)),
            VerificationStatus::Expired => {
                next.status = VerificationStatus::Expired;
                return Ok((next, CheckOutcome::Expired));
            }
            VerificationStatus::Unverified => {}
        }
        if self.remaining_attempts() == 0 {
            // Unreachable from a state this crate wrote or loaded (the last
            // wrong answer fails the challenge, and loading refuses an
            // unverified challenge with no attempts left); refuse rather
            // than compare, so no state ever buys one more guess.
            next.status = VerificationStatus::Failed;
            return Ok((next, CheckOutcome::Locked));
        }
        let pepper = pepper_for(self.peppered, pepper)?;
        let code = match Code::parse_typed(input, self.policy.digits) {
            Ok(code) => code,
            Err(typo) => return Ok((next, CheckOutcome::Malformed(typo))),
        };
        next.attempts = next.attempts.saturating_add(1);
        if bool::from(self.hash(&code, pepper).ct_eq(&self.code_hash)) {
            next.status = VerificationStatus::Verified;
            // Clocks of several servers may disagree; stored times never
            // run backwards.
            next.verified_at = Some(now.max(self.sent_at));
            return Ok((next, CheckOutcome::Valid));
        }
        let attempts_left = self.policy.max_attempts.saturating_sub(next.attempts);
        if attempts_left == 0 {
            next.status = VerificationStatus::Failed;
            return Ok((next, CheckOutcome::Locked));
        }
        Ok((next, CheckOutcome::Invalid { attempts_left }))
    }

    /// Sends a new code at Unix time `now` (the old one stops working),
    /// unless the cool-down has not passed or the retries are spent. The
    /// attempts made so far still count, and the expiry stays where it was.
    ///
    /// # Errors
    /// [`Error::PepperRequired`]; the state is then unchanged.
    ///
    /// ```
    /// use otpkit::OtpChallenge;
    /// use otpkit::challenge::{ChallengePolicy, RetryOutcome};
    /// use otpkit::challenge::Strategy;
    /// let (old, challenge) = OtpChallenge::create(Strategy::PhoneCode, &ChallengePolicy::default(), &otpkit::Pepper::NONE, 0)?;
    /// let (challenge, early) = challenge.retry(&otpkit::Pepper::NONE, 10)?;
    /// assert_eq!(early, RetryOutcome::CoolingDown { next_retry_at: 30, remaining_retries: 3 });
    /// let (challenge, sent) = challenge.retry(&otpkit::Pepper::NONE, 30)?;
    /// let RetryOutcome::Sent { code, remaining_retries: 2, next_retry_at: 60 } = sent else { panic!() };
    /// # if code != old {
    /// assert!(!challenge.check(&old.to_string(), &otpkit::Pepper::NONE, 31)?.0.status_at(31).eq(&otpkit::challenge::VerificationStatus::Verified));
    /// # }
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[cfg(feature = "std")]
    #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
    pub fn retry(&self, pepper: &Pepper, now: u64) -> Result<(Self, RetryOutcome), Error> {
        self.retry_with_rng(pepper, now, &mut crate::random::os())
    }

    /// [`OtpChallenge::retry`] with the new code and salt drawn from `rng`.
    ///
    /// # Errors
    /// As [`OtpChallenge::retry`].
    ///
    /// ```
    /// use otpkit::OtpChallenge;
    /// use otpkit::challenge::{ChallengePolicy, RetryOutcome, Strategy};
    /// use rand::{rand_core::UnwrapErr, rngs::SysRng};
    /// let mut rng = UnwrapErr(SysRng); // any `otpkit::rand_core::CryptoRng`
    /// let (_, challenge) = OtpChallenge::create_with_rng(Strategy::PhoneCode, &ChallengePolicy::default(), &otpkit::Pepper::NONE, 0, &mut rng)?;
    /// let (_, sent) = challenge.retry_with_rng(&otpkit::Pepper::NONE, 30, &mut rng)?;
    /// assert!(matches!(sent, RetryOutcome::Sent { remaining_retries: 2, .. }));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn retry_with_rng<R: CryptoRng + ?Sized>(
        &self,
        pepper: &Pepper,
        now: u64,
        rng: &mut R,
    ) -> Result<(Self, RetryOutcome), Error> {
        let pepper = pepper.given();
        let mut next = self.clone();
        let outcome = match self.status_at(now) {
            VerificationStatus::Verified => RetryOutcome::AlreadyVerified,
            VerificationStatus::Failed => RetryOutcome::Locked,
            VerificationStatus::Expired => {
                next.status = VerificationStatus::Expired;
                RetryOutcome::Expired
            }
            VerificationStatus::Unverified if self.remaining_retries() == 0 => {
                RetryOutcome::NoRetriesLeft
            }
            VerificationStatus::Unverified if now < self.next_retry_at() => {
                RetryOutcome::CoolingDown {
                    next_retry_at: self.next_retry_at(),
                    remaining_retries: self.remaining_retries(),
                }
            }
            VerificationStatus::Unverified => {
                let pepper = pepper_for(self.peppered, pepper)?;
                next.retries = next.retries.saturating_add(1);
                next.sent_at = now.max(self.sent_at);
                let code = next.new_code(pepper, rng);
                RetryOutcome::Sent {
                    code,
                    remaining_retries: next.remaining_retries(),
                    next_retry_at: next.next_retry_at(),
                }
            }
        };
        Ok((next, outcome))
    }

    /// The status at Unix time `now`: a stored *unverified* challenge whose
    /// expiry has come reads as *expired*.
    ///
    /// ```
    /// use otpkit::OtpChallenge;
    /// use otpkit::challenge::ChallengePolicy;
    /// use otpkit::challenge::{Strategy, VerificationStatus};
    /// let (_, c) = OtpChallenge::create(Strategy::PhoneCode, &ChallengePolicy::default(), &otpkit::Pepper::NONE, 0)?;
    /// assert_eq!(c.status_at(599), VerificationStatus::Unverified);
    /// assert_eq!(c.status_at(600), VerificationStatus::Expired);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub fn status_at(&self, now: u64) -> VerificationStatus {
        match self.status {
            VerificationStatus::Unverified if now >= self.expire_at => VerificationStatus::Expired,
            status => status,
        }
    }

    /// Answers made so far.
    #[must_use]
    pub const fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Answers left before the challenge fails.
    #[must_use]
    pub const fn remaining_attempts(&self) -> u32 {
        self.policy.max_attempts.saturating_sub(self.attempts)
    }

    /// Retries left.
    #[must_use]
    pub const fn remaining_retries(&self) -> u32 {
        self.policy.max_retries.saturating_sub(self.retries)
    }

    /// When the next retry is allowed, Unix seconds.
    #[must_use]
    pub const fn next_retry_at(&self) -> u64 {
        self.sent_at.saturating_add(self.policy.retry_cooldown)
    }

    /// When the challenge was created (its first code sent), Unix seconds.
    ///
    /// ```
    /// use otpkit::challenge::{ChallengePolicy, OtpChallenge, Strategy};
    /// let (_, challenge) = OtpChallenge::create(Strategy::PhoneCode, &ChallengePolicy::default(), &otpkit::Pepper::NONE, 42)?;
    /// assert_eq!(challenge.created_at(), 42);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub const fn created_at(&self) -> u64 {
        self.created_at
    }

    /// When the challenge expires, Unix seconds (exclusive).
    #[must_use]
    pub const fn expire_at(&self) -> u64 {
        self.expire_at
    }

    /// When it was answered correctly, Unix seconds.
    #[must_use]
    pub const fn verified_at(&self) -> Option<u64> {
        self.verified_at
    }

    /// How the code is delivered.
    #[must_use]
    pub const fn strategy(&self) -> &Strategy {
        &self.strategy
    }
}

impl core::fmt::Debug for OtpChallenge {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OtpChallenge")
            .field("strategy", &self.strategy)
            .field("status", &self.status)
            .field("attempts", &self.attempts)
            .field("retries", &self.retries)
            .field("created_at", &self.created_at)
            .field("expire_at", &self.expire_at)
            .field("sent_at", &self.sent_at)
            .field("verified_at", &self.verified_at)
            .finish_non_exhaustive()
    }
}
