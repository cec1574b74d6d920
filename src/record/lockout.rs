//! Throttling after wrong codes: [`Lockout`].

use crate::error::Error;

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
#[cfg_attr(feature = "serde", serde(try_from = "LockoutWire"))]
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
    pub(super) const MAX_LOCK: u64 = 86_400;
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
    pub(super) fn lock_for(&self, failures: u32) -> u64 {
        let Some(over) = failures.checked_sub(self.free_failures).filter(|&n| n > 0) else {
            return 0;
        };
        let doubling = 1u64.checked_shl(over.saturating_sub(1)).unwrap_or(u64::MAX);
        self.cooldown.saturating_mul(doubling).min(Self::MAX_LOCK)
    }
}

#[cfg(feature = "serde")]
/// A lockout policy as stored: checked by [`Lockout::new`] on load, so
/// no stored value switches throttling off.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LockoutWire {
    free_failures: u32,
    cooldown: u64,
}

#[cfg(feature = "serde")]
impl TryFrom<LockoutWire> for Lockout {
    type Error = Error;

    fn try_from(w: LockoutWire) -> Result<Self, Error> {
        Self::new(w.free_failures, w.cooldown)
    }
}
