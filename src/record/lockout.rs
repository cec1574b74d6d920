//! Throttling after wrong codes: the policy ([`Lockout`]) and one budget's
//! state (`Throttle`).

use crate::error::Error;

/// Throttling after wrong codes: the first `free_failures` wrong codes
/// cost nothing; each one after that locks its kind of code for
/// `cooldown · 2^(n − 1)` seconds (n counting from the first locking
/// failure), capped at `max_lock`. A right code resets it, and so does a
/// quiet period with no wrong code.
///
/// A record keeps two budgets, each with its own policy: one for TOTP codes
/// ([`Lockout::default`]: 5 free, 30 s doubling to 15 minutes) and a looser
/// one for backup codes ([`Lockout::for_backup_codes`]: 10 free, 60 s to
/// 15 minutes). A lock on one kind never blocks the other, so a stranger
/// who locks a user's TOTP with wrong codes does not lock the user out:
/// a backup code (about 50 bits) still works. Replays of a right code are
/// refused but never counted: they reveal nothing.
///
/// Because locks are capped and every failure needs the one before it to
/// have expired, the guesses against one record per day have a ceiling
/// whatever the number of clients: `free_failures` + one per lock, at
/// most `free_failures + 86 400 / max_lock` (+ the doubling's few) — 5 +
/// 96 + 5 for the TOTP default, each right with probability
/// 3 / 10⁶ (a window of ±1).
///
/// ```
/// use otpkit::record::Lockout;
/// let lockout = Lockout::default();
/// assert_eq!((lockout.free_failures(), lockout.cooldown(), lockout.max_lock(), lockout.quiet_period()), (5, 30, 900, 3600));
/// assert_eq!(Lockout::for_backup_codes().free_failures(), 10);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "LockoutWire"))]
pub struct Lockout {
    free_failures: u32,
    cooldown: u64,
    max_lock: u64,
    quiet_period: u64,
}

impl Default for Lockout {
    /// Five free failures, then 30 s, 60 s, 120 s, … up to 15 minutes;
    /// forgotten after an hour without a wrong code.
    fn default() -> Self {
        Self {
            free_failures: 5,
            cooldown: 30,
            max_lock: 900,
            quiet_period: 3600,
        }
    }
}

impl Lockout {
    /// The longest lock any policy may set, and the longest a stored
    /// record may hold.
    pub const MAX_LOCK: u64 = 86_400;
    /// The most free failures a policy may grant: more would let a guesser
    /// try that many codes per lock without ever waiting.
    pub const MAX_FREE_FAILURES: u32 = 20;
    /// The longest quiet period: 30 days.
    pub const MAX_QUIET_PERIOD: u64 = 30 * 86_400;

    /// The default budget of backup codes: ten free failures, then 60 s
    /// doubling to 15 minutes, forgotten after an hour. Looser than a TOTP
    /// code's because a backup code is about 50 bits (hopeless online), and
    /// tight enough that a record costs at most 11 slow hashes before it
    /// locks, however many requests arrive at once.
    ///
    /// ```
    /// assert_eq!(otpkit::record::Lockout::for_backup_codes().cooldown(), 60);
    /// ```
    pub const fn for_backup_codes() -> Self {
        Self {
            free_failures: 10,
            cooldown: 60,
            max_lock: 900,
            quiet_period: 3600,
        }
    }

    /// A policy with `free_failures` free wrong codes (at most
    /// [`Lockout::MAX_FREE_FAILURES`]), then a lock starting at `cooldown`
    /// seconds (1 s to a day) and doubling up to 15 minutes (or the
    /// cooldown, if longer); failures are forgotten after an hour without
    /// one (or twice the longest lock, if longer). No setting turns the
    /// lockout off, here or in a stored record.
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
        let max_lock = if cooldown > 900 { cooldown } else { 900 };
        let quiet_period = if max_lock >= 1800 {
            max_lock.saturating_mul(2)
        } else {
            3600
        };
        Self::with_limits(free_failures, cooldown, max_lock, quiet_period)
    }

    /// A policy with every setting chosen: the longest lock `max_lock`
    /// (from `cooldown` to a day) and the `quiet_period` after which wrong
    /// codes are forgotten (longer than `max_lock`, at most 30 days, so
    /// that waiting out a lock never also forgets the failures behind it).
    ///
    /// # Errors
    /// [`Error::InvalidLockout`] naming the setting out of range.
    ///
    /// ```
    /// use otpkit::record::Lockout;
    /// let strict = Lockout::with_limits(3, 60, 3600, 86_400)?;
    /// assert_eq!(strict.max_lock(), 3600);
    /// assert!(Lockout::with_limits(3, 60, 3600, 3600).is_err()); // quiet must outlast a lock
    /// assert!(Lockout::with_limits(3, 60, 30, 3600).is_err()); // a cap below the cooldown
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub const fn with_limits(
        free_failures: u32,
        cooldown: u64,
        max_lock: u64,
        quiet_period: u64,
    ) -> Result<Self, Error> {
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
        if max_lock < cooldown || max_lock > Self::MAX_LOCK {
            return Err(Error::InvalidLockout {
                reason: "the longest lock must be from the cooldown to 86400 seconds",
            });
        }
        if quiet_period <= max_lock || quiet_period > Self::MAX_QUIET_PERIOD {
            return Err(Error::InvalidLockout {
                reason: "the quiet period must be longer than the longest lock and at most 30 days",
            });
        }
        Ok(Self {
            free_failures,
            cooldown,
            max_lock,
            quiet_period,
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

    /// The longest lock, in seconds.
    #[must_use]
    pub const fn max_lock(&self) -> u64 {
        self.max_lock
    }

    /// Seconds without a wrong code after which the failures are
    /// forgotten.
    #[must_use]
    pub const fn quiet_period(&self) -> u64 {
        self.quiet_period
    }

    /// How long `failures` wrong codes in a row lock the record.
    pub(super) fn lock_for(&self, failures: u32) -> u64 {
        let Some(over) = failures.checked_sub(self.free_failures).filter(|&n| n > 0) else {
            return 0;
        };
        let doubling = 1u64.checked_shl(over.saturating_sub(1)).unwrap_or(u64::MAX);
        self.cooldown.saturating_mul(doubling).min(self.max_lock)
    }
}

/// One budget's state: wrong codes in a row, the lock they set, and when
/// the last one came (for the quiet period).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Throttle {
    pub(super) failures: u32,
    pub(super) locked_until: Option<u64>,
    pub(super) failed_at: Option<u64>,
}

impl Throttle {
    /// The end of the lock, if locked at `now`.
    pub(super) fn locked_at(&self, now: u64) -> Option<u64> {
        self.locked_until.filter(|&until| now < until)
    }

    /// Counts one wrong code at `now` under `policy`, after forgetting the
    /// failures before a quiet period.
    pub(super) fn fail(&mut self, policy: &Lockout, now: u64) {
        let quiet = self
            .failed_at
            .is_some_and(|at| now.saturating_sub(at) >= policy.quiet_period);
        if quiet {
            *self = Self::default();
        }
        self.failures = self.failures.saturating_add(1);
        let lock = policy.lock_for(self.failures);
        self.locked_until = (lock > 0).then(|| now.saturating_add(lock));
        self.failed_at = Some(now);
    }

    /// Takes back one counted attempt that turned out not to be a guess
    /// (a replay of a right code).
    pub(super) fn refund(&mut self, policy: &Lockout) {
        self.failures = self.failures.saturating_sub(1);
        if policy.lock_for(self.failures) == 0 {
            self.locked_until = None;
        }
    }
}

#[cfg(feature = "serde")]
/// A lockout policy as stored: checked by [`Lockout::with_limits`] on
/// load, so no stored value switches throttling off. Records stored before
/// the cap and the quiet period existed get [`Lockout::new`]'s.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LockoutWire {
    free_failures: u32,
    cooldown: u64,
    #[serde(default)]
    max_lock: Option<u64>,
    #[serde(default)]
    quiet_period: Option<u64>,
}

#[cfg(feature = "serde")]
impl TryFrom<LockoutWire> for Lockout {
    type Error = Error;

    fn try_from(w: LockoutWire) -> Result<Self, Error> {
        let default = Self::new(w.free_failures, w.cooldown)?;
        Self::with_limits(
            w.free_failures,
            w.cooldown,
            w.max_lock.unwrap_or(default.max_lock),
            w.quiet_period.unwrap_or(default.quiet_period),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_double_up_to_the_cap_and_failures_fade_after_a_quiet_period() {
        let policy = Lockout::default();
        let mut throttle = Throttle::default();
        let mut locks = alloc::vec::Vec::new();
        for i in 0..12 {
            throttle.fail(&policy, 1000 + i);
            locks.push(throttle.locked_until.map(|until| until - (1000 + i)));
        }
        assert_eq!(&locks[..5], &[None; 5]);
        assert_eq!(
            &locks[5..],
            &[
                Some(30),
                Some(60),
                Some(120),
                Some(240),
                Some(480),
                Some(900),
                Some(900)
            ]
        );
        // An hour after the last wrong code, the next is a first again.
        throttle.fail(&policy, 1011 + 3600);
        assert_eq!((throttle.failures, throttle.locked_until), (1, None));
        // A refund takes one back and lifts a lock it no longer earns.
        let mut throttle = Throttle::default();
        for i in 0..6 {
            throttle.fail(&policy, i);
        }
        assert!(throttle.locked_until.is_some());
        throttle.refund(&policy);
        assert_eq!((throttle.failures, throttle.locked_until), (5, None));
    }
}
