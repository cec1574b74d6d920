//! Throttling after wrong codes: the policy ([`Lockout`]) and one budget's
//! state (`Throttle`).

use crate::error::Error;

/// Throttling after wrong codes: the first `free_failures` wrong codes
/// cost nothing; each one after that locks its kind of code for
/// `cooldown · 2^(n − 1)` seconds (n counting from the first locking
/// failure), capped at `max_lock`. A right code resets it. Failures fade
/// one at a time, one per `quiet_period` without a wrong code (15 minutes
/// by default, the longest lock): never all at once, so no way of pausing
/// gives a guesser back more than one guess per quiet period.
///
/// A record keeps two budgets, each with its own policy: one for TOTP codes
/// ([`Lockout::default`]: 5 free, 30 s doubling to 15 minutes) and a looser
/// one for backup codes ([`Lockout::for_backup_codes`]: 10 free, 60 s to
/// 15 minutes). A lock on one kind never blocks the other, so a stranger
/// who locks a user's TOTP with wrong codes does not lock the user out:
/// a backup code (about 50 bits) still works. Replays of a right code are
/// refused but never counted: they reveal nothing.
///
/// Because every failure needs the lock before it to have ended, locks are
/// capped, and a failure fades no faster than a capped lock ends, the
/// guesses against one record in any 24 hours have a ceiling whatever the
/// number of clients and whatever their timing: the failures a record can
/// hold (`free_failures` + the doubling's steps to the cap) + one per
/// `quiet_period` — 5 + 5 + 96 ≈ 106 for the TOTP default, each right with
/// probability 3 / 10⁶ (a window of ±1); 10 + 4 + 96 ≈ 110 for backup
/// codes. (The tests play a family of strategies, greedy and stop-and-wait,
/// over several days, against these figures.) A lock is never longer than
/// `max_lock` from the present: a clock set back (an NTP step, a restored
/// VM) voids a lock that would end further away.
///
/// ```
/// use otpkit::record::Lockout;
/// let lockout = Lockout::default();
/// assert_eq!((lockout.free_failures(), lockout.cooldown(), lockout.max_lock(), lockout.quiet_period()), (5, 30, 900, 900));
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
    /// one failure fades per 15 minutes without a wrong code.
    fn default() -> Self {
        Self {
            free_failures: 5,
            cooldown: 30,
            max_lock: 900,
            quiet_period: 900,
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
    /// doubling to 15 minutes, one fading per 15 minutes. Looser than a TOTP
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
            quiet_period: 900,
        }
    }

    /// A policy with `free_failures` free wrong codes (at most
    /// [`Lockout::MAX_FREE_FAILURES`]), then a lock starting at `cooldown`
    /// seconds (1 s to a day) and doubling up to 15 minutes (or the
    /// cooldown, if longer); one failure fades per longest lock without a
    /// wrong code. No setting turns the lockout off, here or in a stored
    /// record.
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
        Self::with_limits(free_failures, cooldown, max_lock, max_lock)
    }

    /// A policy with every setting chosen: the longest lock `max_lock`
    /// (from `cooldown` to a day) and the `quiet_period` without a wrong
    /// code that fades one failure (at least `max_lock`, so that waiting
    /// out a capped lock never gives back more than the guess it allows;
    /// at most 30 days).
    ///
    /// # Errors
    /// [`Error::InvalidLockout`] naming the setting out of range.
    ///
    /// ```
    /// use otpkit::record::Lockout;
    /// let strict = Lockout::with_limits(3, 60, 3600, 86_400)?;
    /// assert_eq!(strict.max_lock(), 3600);
    /// assert!(Lockout::with_limits(3, 60, 3600, 1800).is_err()); // a failure would fade faster than a lock ends
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
        if quiet_period < max_lock || quiet_period > Self::MAX_QUIET_PERIOD {
            return Err(Error::InvalidLockout {
                reason: "the quiet period must be at least the longest lock and at most 30 days",
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

    /// Seconds without a wrong code that fade one failure.
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

/// One budget's state: the wrong codes it still holds, the lock they set,
/// and when the last one came (failures fade from there).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Throttle {
    pub(super) failures: u32,
    pub(super) locked_until: Option<u64>,
    pub(super) failed_at: Option<u64>,
}

impl Throttle {
    /// The end of the lock, if locked at `now` under `policy`. A lock
    /// that would end more than `max_lock` from `now` was set by a clock
    /// that has since gone back: it is void (the failures behind it still
    /// count, and the next one sets a lock from the present).
    pub(super) fn locked_at(&self, policy: &Lockout, now: u64) -> Option<u64> {
        self.locked_until
            .filter(|&until| now < until && until.saturating_sub(now) <= policy.max_lock)
    }

    /// Counts one wrong code at `now` under `policy`, after fading one
    /// failure per quiet period since the last (a clock that went back
    /// fades nothing).
    pub(super) fn fail(&mut self, policy: &Lockout, now: u64) {
        if let Some(at) = self.failed_at {
            let faded = now
                .saturating_sub(at)
                .checked_div(policy.quiet_period)
                .unwrap_or(0);
            self.failures = self
                .failures
                .saturating_sub(u32::try_from(faded).unwrap_or(u32::MAX));
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

    /// Guesses an attacker gets by guessing as soon as the lock allows,
    /// `burst` at a time (one a second), then pausing `pause` seconds, for
    /// `days`: the most in any 24 hours (a rolling window).
    fn play(policy: &Lockout, burst: u32, pause: u64, days: u64) -> usize {
        let end = days * 86_400;
        let mut throttle = Throttle::default();
        let mut guesses = alloc::vec::Vec::new();
        let mut t = 0;
        'outer: while t < end {
            for _ in 0..burst {
                if let Some(until) = throttle.locked_at(policy, t) {
                    t = until;
                }
                if t >= end {
                    break 'outer;
                }
                throttle.fail(policy, t);
                guesses.push(t);
                t += 1;
            }
            t += pause;
        }
        let mut most = 0;
        let mut first = 0;
        for (last, &at) in guesses.iter().enumerate() {
            while guesses[first] + 86_400 <= at {
                first += 1;
            }
            most = most.max(last + 1 - first);
        }
        most
    }

    /// The daily ceiling holds for every strategy: greedy, and stop after
    /// k failures (1 to 20) then wait (from the cooldown to several quiet
    /// periods), over three days. Printed: the worst strategy.
    #[test]
    fn the_daily_ceiling_holds_whatever_the_timing() {
        for (policy, ceiling, kind) in [
            (Lockout::default(), 107, "TOTP"),
            (Lockout::for_backup_codes(), 111, "backup"),
        ] {
            let mut worst = (play(&policy, u32::MAX, 0, 3), u32::MAX, 0);
            for burst in 1..=20 {
                for pause in [
                    30, 60, 120, 300, 600, 899, 900, 901, 1800, 3601, 7200, 14_400, 43_200,
                ] {
                    let got = play(&policy, burst, pause, 3);
                    if got > worst.0 {
                        worst = (got, burst, pause);
                    }
                }
            }
            std::println!(
                "{kind}: at most {} guesses in any 24 h (worst: {} then a {} s pause)",
                worst.0,
                if worst.1 == u32::MAX {
                    "greedy".into()
                } else {
                    alloc::format!("{} guesses", worst.1)
                },
                worst.2
            );
            assert!(worst.0 <= ceiling, "{kind}: {worst:?}");
            // Greedy is close to the figure the docs give.
            assert!(play(&policy, u32::MAX, 0, 3) >= ceiling - 6, "{kind}");
        }
    }

    #[test]
    fn a_clock_set_back_never_lengthens_a_lock() {
        let policy = Lockout::default();
        let mut throttle = Throttle::default();
        let t = 1_000_000;
        for i in 0..6 {
            throttle.fail(&policy, t + i);
        }
        assert_eq!(throttle.locked_at(&policy, t + 6), Some(t + 5 + 30));
        // Two hours back: the lock would end 2 h 35 s away: void.
        let back = t - 7200;
        assert_eq!(throttle.locked_at(&policy, back), None);
        // The next failure counts (none faded: the clock went back) and
        // locks from the present.
        throttle.fail(&policy, back);
        assert_eq!(throttle.failures, 7);
        assert_eq!(throttle.locked_at(&policy, back), Some(back + 60));
    }

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
        // Failures fade one per quiet period (15 minutes), not all at
        // once: an hour later four have faded, and the next still locks.
        throttle.fail(&policy, 1011 + 3600);
        assert_eq!(throttle.failures, 12 - 4 + 1);
        assert!(throttle.locked_until.is_some());
        // Two and a half hours of quiet fade them all: a first again.
        throttle.fail(&policy, 1011 + 3600 + 9 * 900);
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
