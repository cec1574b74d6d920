//! RFC 6238 TOTP: time steps, windows, replay protection, drift.

use core::fmt;

use super::code::Code;
use super::hotp::Hotp;
use super::typo::Typo;
use crate::algorithm::Algorithm;
use crate::error::Error;
use crate::secret::Secret;
#[cfg(feature = "std")]
use crate::time::unix_now;

/// A TOTP time step: `floor((unix - T0) / period)`, the counter RFC 6238 §4.2
/// calls `T`. Persist the step a code matched to refuse its replay.
///
/// ```
/// use otpkit::{Secret, TimeStep, Totp};
///
/// let totp = Totp::new(Secret::generate());
/// assert_eq!(totp.step_at(59)?, TimeStep::new(1));
/// assert_eq!(TimeStep::new(1).value(), 1);
/// # Ok::<(), otpkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct TimeStep(u64);

impl TimeStep {
    /// A time step from its number, e.g. one read back from storage.
    ///
    /// ```
    /// assert_eq!(otpkit::TimeStep::new(7).value(), 7);
    /// ```
    #[must_use]
    pub const fn new(step: u64) -> Self {
        Self(step)
    }

    /// The step's number.
    ///
    /// ```
    /// assert_eq!(otpkit::TimeStep::new(37_037_036).value(), 37_037_036);
    /// ```
    #[must_use]
    pub const fn value(self) -> u64 {
        self.0
    }
}

impl fmt::Display for TimeStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The step a code matched and how far it lies from the verifier's current
/// step: negative when the code is from the past (a slow user or a clock
/// behind), positive when from the future (a clock ahead).
///
/// ```
/// use otpkit::{Secret, Totp, Verdict};
///
/// let totp = Totp::new(Secret::generate());
/// let code = totp.generate_at(1_000_000)?.to_string();
/// let Verdict::Valid(m) = totp.verify_at(&code, 1_000_030, None)? else { panic!() };
/// assert_eq!(m.step(), totp.step_at(1_000_000)?);
/// assert_eq!(m.offset(), -1);
/// # Ok::<(), otpkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match {
    step: TimeStep,
    offset: i64,
}

impl Match {
    /// The step the code belongs to: store it as the last used step.
    ///
    /// ```
    /// # use otpkit::{Secret, Totp};
    /// let totp = Totp::new(Secret::generate());
    /// let code = totp.generate_at(90)?.to_string();
    /// assert_eq!(totp.verify_at(&code, 90, None)?.matched().map(|m| m.step().value()), Some(3));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub const fn step(&self) -> TimeStep {
        self.step
    }

    /// Matched step minus current step, within the verifier's window.
    ///
    /// ```
    /// # use otpkit::{Secret, Totp};
    /// let totp = Totp::new(Secret::generate());
    /// let code = totp.generate_at(120)?.to_string();
    /// assert_eq!(totp.verify_at(&code, 90, None)?.matched().map(|m| m.offset()), Some(1));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub const fn offset(&self) -> i64 {
        self.offset
    }
}

/// The outcome of checking an entered TOTP code, in the crate's one
/// vocabulary (valid, invalid, replayed, malformed): a person's typo is an
/// outcome like a wrong code, never an `Err`.
///
/// ```
/// use otpkit::{Secret, Totp, Verdict};
///
/// let totp = Totp::new(Secret::generate());
/// let code = totp.generate_at(1_700_000_000)?.to_string();
/// let first = totp.verify_at(&code, 1_700_000_000, None)?;
/// let step = first.matched().map(|m| m.step());
/// assert!(first.is_valid());
/// // The same code again, with the step persisted: refused as a replay.
/// assert!(matches!(totp.verify_at(&code, 1_700_000_005, step)?, Verdict::Replayed(_)));
/// # Ok::<(), otpkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
pub enum Verdict {
    /// The code matches a step after the last used one: accept it and
    /// persist [`Match::step`].
    Valid(Match),
    /// The code matches, but its step is at or before the last used step:
    /// someone is using a code a second time. Refuse it.
    Replayed(Match),
    /// The code matches no step in the window.
    Invalid,
    /// The input is not a code of this length (a typo): what is wrong, as
    /// one of the errors of [`Code::parse`]. Ask again.
    Malformed(Typo),
}

impl Verdict {
    /// Whether the code is accepted.
    ///
    /// ```
    /// assert!(!otpkit::Verdict::Invalid.is_valid());
    /// ```
    #[must_use]
    pub const fn is_valid(&self) -> bool {
        matches!(self, Self::Valid(_))
    }

    /// The match of a valid code, `None` for a replayed or invalid one.
    ///
    /// ```
    /// assert_eq!(otpkit::Verdict::Invalid.matched(), None);
    /// ```
    #[must_use]
    pub const fn matched(&self) -> Option<Match> {
        match self {
            Self::Valid(m) => Some(*m),
            Self::Replayed(_) | Self::Invalid | Self::Malformed(_) => None,
        }
    }
}

/// An RFC 6238 TOTP generator and verifier: HOTP over time steps, with a
/// verification window and replay protection.
///
/// Defaults are what every authenticator app assumes: SHA-1, 6 digits,
/// 30-second period, T0 = 0, and a window of one step behind and one ahead
/// (RFC 6238 §5.2 recommends at most one step of network delay).
///
/// ```
/// use otpkit::{Algorithm, Secret, Totp};
///
/// // RFC 6238 Appendix B, SHA-256 at 1111111109.
/// let secret = Secret::from_bytes(b"12345678901234567890123456789012")?;
/// let totp = Totp::builder(secret).algorithm(Algorithm::Sha256).digits(8).build()?;
/// assert_eq!(totp.generate_at(1_111_111_109)?.to_string(), "68084774");
/// assert!(totp.verify_at("6808 4774", 1_111_111_109, None)?.is_valid());
/// # Ok::<(), otpkit::Error>(())
/// ```
///
/// # References
/// [RFC 6238](https://www.rfc-editor.org/rfc/rfc6238): §4.2 (the algorithm),
/// §5.2 (validation and time-step size), §6 (resynchronization and drift).
#[derive(Clone)]
pub struct Totp {
    pub(super) hotp: Hotp,
    pub(super) period: u64,
    pub(super) t0: u64,
    pub(super) behind: u64,
    pub(super) ahead: u64,
}

impl Totp {
    /// TOTP with the defaults: SHA-1, 6 digits, 30 s, T0 = 0, window ±1.
    ///
    /// ```
    /// let totp = otpkit::Totp::new(otpkit::Secret::generate());
    /// assert_eq!((totp.digits(), totp.period()), (6, 30));
    /// ```
    #[must_use]
    pub fn new(secret: Secret) -> Self {
        Self {
            hotp: Hotp::new(secret),
            period: 30,
            t0: 0,
            behind: 1,
            ahead: 1,
        }
    }

    /// Steam Guard's codes: HMAC-SHA-1 TOTP, 30 s steps, window ±1, shown
    /// as five characters of Steam's alphabet (`23456789BCDFGHJKMNPQRTVWXY`)
    /// instead of digits. Generated and verified like any TOTP code (in
    /// constant time, with the same window and replay rules); its
    /// [`Totp::digits`] is 5. Steam hands out the key in Base64 as
    /// `shared_secret`: [`Secret::from_bytes`] of the decoded bytes.
    ///
    /// ```
    /// use otpkit::{Secret, Totp};
    /// let steam = Totp::steam(Secret::from_bytes(b"steam shared secret!")?);
    /// let code = steam.generate_at(1_700_000_000)?;
    /// assert!(code.is_steam() && code.to_string().len() == 5);
    /// assert!(steam.verify_at(&code.to_string().to_lowercase(), 1_700_000_000, None)?.is_valid());
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub fn steam(secret: Secret) -> Self {
        Self {
            hotp: Hotp::steam(secret),
            period: 30,
            t0: 0,
            behind: 1,
            ahead: 1,
        }
    }

    /// Whether the codes are Steam Guard's ([`Totp::steam`]).
    ///
    /// ```
    /// use otpkit::{Secret, Totp};
    /// assert!(Totp::steam(Secret::generate()).is_steam() && !Totp::new(Secret::generate()).is_steam());
    /// ```
    #[must_use]
    pub const fn is_steam(&self) -> bool {
        self.hotp.is_steam()
    }

    /// The time step containing Unix time `unix`.
    ///
    /// # Errors
    /// [`Error::TimeBeforeT0`] if `unix` is before T0.
    ///
    /// ```
    /// let totp = otpkit::Totp::new(otpkit::Secret::generate());
    /// assert_eq!(totp.step_at(1_111_111_109)?.value(), 37_037_036);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn step_at(&self, unix: u64) -> Result<TimeStep, Error> {
        let elapsed = unix.checked_sub(self.t0).ok_or(Error::TimeBeforeT0)?;
        // `period` is non-zero, checked when built.
        Ok(TimeStep(elapsed.checked_div(self.period).unwrap_or(0)))
    }

    /// The code at Unix time `unix`.
    ///
    /// # Errors
    /// [`Error::TimeBeforeT0`] if `unix` is before T0.
    ///
    /// ```
    /// // RFC 6238 Appendix B, SHA-1.
    /// let secret = otpkit::Secret::from_bytes(b"12345678901234567890")?;
    /// let totp = otpkit::Totp::builder(secret).digits(8).build()?;
    /// assert_eq!(totp.generate_at(59)?.to_string(), "94287082");
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn generate_at(&self, unix: u64) -> Result<Code, Error> {
        Ok(self.generate_step(self.step_at(unix)?))
    }

    /// The code for a time step.
    ///
    /// ```
    /// let totp = otpkit::Totp::new(otpkit::Secret::generate());
    /// assert_eq!(totp.generate_step(totp.step_at(100)?), totp.generate_at(100)?);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub fn generate_step(&self, step: TimeStep) -> Code {
        self.hotp.generate(step.0)
    }

    /// The code now, by the system clock.
    ///
    /// # Errors
    /// [`Error::TimeBeforeT0`] if the clock reads before T0.
    ///
    /// ```
    /// let totp = otpkit::Totp::new(otpkit::Secret::generate());
    /// assert_eq!(totp.generate_now()?.to_string().len(), 6);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[cfg(feature = "std")]
    #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
    pub fn generate_now(&self) -> Result<Code, Error> {
        self.generate_at(unix_now()?)
    }

    /// Seconds until the code at `unix` expires, from `period` down to 1.
    ///
    /// # Errors
    /// [`Error::TimeBeforeT0`] if `unix` is before T0.
    ///
    /// ```
    /// let totp = otpkit::Totp::new(otpkit::Secret::generate());
    /// assert_eq!(totp.seconds_remaining_at(60)?, 30);
    /// assert_eq!(totp.seconds_remaining_at(89)?, 1);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn seconds_remaining_at(&self, unix: u64) -> Result<u64, Error> {
        let elapsed = unix.checked_sub(self.t0).ok_or(Error::TimeBeforeT0)?;
        let into_step = elapsed.checked_rem(self.period).unwrap_or(0);
        Ok(self.period.saturating_sub(into_step))
    }

    /// [`Totp::seconds_remaining_at`] at the system clock's time: how long
    /// the code an authenticator app shows now stays on screen.
    ///
    /// # Errors
    /// As [`Totp::seconds_remaining_at`].
    ///
    /// ```
    /// let totp = otpkit::Totp::new(otpkit::Secret::generate());
    /// assert!((1..=30).contains(&totp.seconds_remaining_now()?));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[cfg(feature = "std")]
    #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
    pub fn seconds_remaining_now(&self) -> Result<u64, Error> {
        self.seconds_remaining_at(unix_now()?)
    }

    /// Checks an entered code at Unix time `unix` against every step in the
    /// window, refusing a code whose step is at or before `last_used` as a
    /// replay.
    ///
    /// A code that matches several steps of the window (two steps' codes can
    /// collide, about once in `10^digits` pairs) matches the *newest* of
    /// them: persisting that step makes every other match a replay, so no
    /// code is ever accepted twice (RFC 6238 §5.2).
    ///
    /// The scan runs newest step first and stops at the first match (the
    /// step to persist). Each comparison is constant time, and a wrong code
    /// is compared with every step of the window; what the timing can show
    /// is only *where* a right code matched, which the caller learns
    /// anyway from the returned [`Match`]. Steps outside the representable
    /// range (before T0, past `u64::MAX`) are skipped, never wrapped.
    ///
    /// # Errors
    /// Only [`Error::TimeBeforeT0`], if `unix` is before T0: a clock or
    /// configuration problem. What the user typed never makes an `Err`: a
    /// wrong code is [`Verdict::Invalid`], a typo [`Verdict::Malformed`], so
    /// `?` in a handler does the right thing.
    ///
    /// ```
    /// use otpkit::{Error, Secret, Totp, Verdict};
    ///
    /// let totp = Totp::new(Secret::generate());
    /// let now = 1_700_000_000;
    /// let code = totp.generate_at(now - 30)?.to_string(); // one step late
    /// let verdict = totp.verify_at(&code, now, None)?;
    /// assert_eq!(verdict.matched().map(|m| m.offset()), Some(-1));
    /// assert_eq!(totp.verify_at(&totp.generate_at(now - 60)?.to_string(), now, None)?, Verdict::Invalid);
    /// assert_eq!(
    ///     totp.verify_at("12345", now, None)?,
    ///     Verdict::Malformed(otpkit::Typo::WrongCodeLength { expected: 6, found: 5 })
    /// );
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn verify_at(
        &self,
        input: &str,
        unix: u64,
        last_used: Option<TimeStep>,
    ) -> Result<Verdict, Error> {
        let current = self.step_at(unix)?.0;
        let code = match self.hotp.parse(input) {
            Ok(code) => code,
            Err(typo) => return Ok(Verdict::Malformed(typo)),
        };
        // Newest step first, stopping at the first hit: the newest matching
        // step is the one to persist (persisting an older one would leave
        // a code that also matches a later step of the window "fresh" for
        // a second use), and the fresh steps (after `last_used`) are the
        // newest ones, so the first hit decides valid or replayed. Each
        // comparison is constant time; only *where* a right code matched
        // shows in the timing, which tells its sender nothing new. A wrong
        // code is compared with every step of the window.
        let matched = self.offsets().rev().find_map(|offset| {
            let step = current.checked_add_signed(offset)?;
            bool::from(self.hotp.matches(&code, step)).then_some(Match {
                step: TimeStep(step),
                offset,
            })
        });
        Ok(match matched {
            None => Verdict::Invalid,
            Some(m) if last_used.is_none_or(|last| m.step.0 > last.0) => Verdict::Valid(m),
            Some(m) => Verdict::Replayed(m),
        })
    }

    /// [`Totp::verify_at`] at the system clock's time.
    ///
    /// # Errors
    /// As [`Totp::verify_at`].
    ///
    /// ```
    /// let totp = otpkit::Totp::new(otpkit::Secret::generate());
    /// let code = totp.generate_now()?.to_string();
    /// assert!(totp.verify_now(&code, None)?.is_valid());
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[cfg(feature = "std")]
    #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
    pub fn verify_now(&self, input: &str, last_used: Option<TimeStep>) -> Result<Verdict, Error> {
        self.verify_at(input, unix_now()?, last_used)
    }

    /// Window offsets from oldest to newest: `-behind ..= ahead`.
    fn offsets(&self) -> core::ops::RangeInclusive<i64> {
        // Both are at most MAX_WINDOW, checked when built.
        let behind = i64::try_from(self.behind).unwrap_or(0);
        let ahead = i64::try_from(self.ahead).unwrap_or(0);
        behind.checked_neg().unwrap_or(0)..=ahead
    }

    /// The shared key.
    ///
    /// ```
    /// let secret = otpkit::Secret::generate();
    /// assert_eq!(otpkit::Totp::new(secret.clone()).secret(), &secret);
    /// ```
    #[must_use]
    pub const fn secret(&self) -> &Secret {
        self.hotp.secret()
    }

    /// The hash under HMAC.
    ///
    /// ```
    /// assert_eq!(otpkit::Totp::new(otpkit::Secret::generate()).algorithm(), otpkit::Algorithm::Sha1);
    /// ```
    #[must_use]
    pub const fn algorithm(&self) -> Algorithm {
        self.hotp.algorithm()
    }

    /// Digits per code, 6 to 10.
    ///
    /// ```
    /// assert_eq!(otpkit::Totp::new(otpkit::Secret::generate()).digits(), 6);
    /// ```
    #[must_use]
    pub const fn digits(&self) -> u8 {
        self.hotp.digits()
    }

    /// Seconds per time step.
    ///
    /// ```
    /// assert_eq!(otpkit::Totp::new(otpkit::Secret::generate()).period(), 30);
    /// ```
    #[must_use]
    pub const fn period(&self) -> u64 {
        self.period
    }

    /// The Unix time at which step 0 starts.
    ///
    /// ```
    /// assert_eq!(otpkit::Totp::new(otpkit::Secret::generate()).t0(), 0);
    /// ```
    #[must_use]
    pub const fn t0(&self) -> u64 {
        self.t0
    }

    /// Steps accepted before and after the current one.
    ///
    /// ```
    /// let totp = otpkit::Totp::builder(otpkit::Secret::generate()).window_ahead(0).build()?;
    /// assert_eq!(totp.window(), (1, 0));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub const fn window(&self) -> (u64, u64) {
        (self.behind, self.ahead)
    }
}

impl PartialEq for Totp {
    /// Same key (compared in constant time) and same settings.
    fn eq(&self, other: &Self) -> bool {
        self.secret() == other.secret()
            && (
                self.algorithm(),
                self.digits(),
                self.period,
                self.t0,
                self.window(),
            ) == (
                other.algorithm(),
                other.digits(),
                other.period,
                other.t0,
                other.window(),
            )
    }
}

impl Eq for Totp {}

impl fmt::Debug for Totp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Totp")
            .field("algorithm", &self.algorithm())
            .field("digits", &self.digits())
            .field("period", &self.period)
            .field("t0", &self.t0)
            .field("window", &self.window())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::os;
    use alloc::string::ToString;

    fn totp(period: u64, t0: u64, window: u64) -> Totp {
        Totp::builder(Secret::generate_with_rng(crate::Algorithm::Sha1, &mut os()))
            .period(period)
            .t0(t0)
            .window(window)
            .build()
            .unwrap()
    }

    #[test]
    fn extreme_times_neither_wrap_nor_panic() {
        let totp = totp(1, 0, 3);
        let code = totp.generate_at(u64::MAX).unwrap().to_string();
        let verdict = totp.verify_at(&code, u64::MAX, None).unwrap();
        assert_eq!(
            verdict.matched(),
            Some(Match {
                step: TimeStep(u64::MAX),
                offset: 0
            })
        );
        assert_eq!(totp.seconds_remaining_at(u64::MAX).unwrap(), 1);
        let at_zero = totp.generate_at(0).unwrap().to_string();
        assert!(totp.verify_at(&at_zero, 0, None).unwrap().is_valid());
    }

    #[test]
    fn before_t0_is_an_error() {
        let totp = totp(30, 1_000, 1);
        assert_eq!(totp.step_at(999), Err(Error::TimeBeforeT0));
        assert_eq!(
            totp.verify_at("123456", 999, None),
            Err(Error::TimeBeforeT0)
        );
        assert_eq!(totp.step_at(1_029), Ok(TimeStep(0)));
        assert_eq!(totp.step_at(1_030), Ok(TimeStep(1)));
    }

    #[test]
    fn replay_is_distinct_from_invalid() {
        let totp = totp(30, 0, 1);
        let now = 3_000;
        let code = totp.generate_at(now).unwrap().to_string();
        let step = totp.step_at(now).unwrap();
        let earlier = TimeStep(step.0 - 1);
        assert!(
            totp.verify_at(&code, now, Some(earlier))
                .unwrap()
                .is_valid()
        );
        assert!(matches!(
            totp.verify_at(&code, now, Some(step)).unwrap(),
            Verdict::Replayed(m) if m.step == step
        ));
        let later = TimeStep(step.0 + 5);
        assert!(matches!(
            totp.verify_at(&code, now, Some(later)).unwrap(),
            Verdict::Replayed(_)
        ));
    }

    #[test]
    fn asymmetric_windows() {
        let totp = Totp::builder(Secret::generate_with_rng(crate::Algorithm::Sha1, &mut os()))
            .window_behind(2)
            .window_ahead(0)
            .build()
            .unwrap();
        let now = 10_000;
        let past = totp.generate_at(now - 60).unwrap().to_string();
        let future = totp.generate_at(now + 30).unwrap().to_string();
        assert_eq!(
            totp.verify_at(&past, now, None)
                .unwrap()
                .matched()
                .map(|m| m.offset()),
            Some(-2)
        );
        // A collision with a window step is possible (1 in 10^6); check it is not one.
        if !(0..=2).any(|k| totp.generate_at(now - 30 * k).unwrap().to_string() == future) {
            assert_eq!(
                totp.verify_at(&future, now, None).unwrap(),
                Verdict::Invalid
            );
        }
    }
}
