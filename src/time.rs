//! Points in time as Clerk's objects carry them: [`Timestamp`], Unix
//! milliseconds.

/// A point in time as Clerk's API writes it: Unix milliseconds.
///
/// ```
/// use otpkit::clerk::Timestamp;
/// let t = Timestamp::from_unix_seconds(1_700_000_000);
/// assert_eq!(t.unix_millis(), 1_700_000_000_000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct Timestamp(u64);

impl Timestamp {
    /// From Unix milliseconds.
    #[must_use]
    pub const fn from_unix_millis(millis: u64) -> Self {
        Self(millis)
    }

    /// From Unix seconds (saturating far in the future).
    #[must_use]
    pub const fn from_unix_seconds(seconds: u64) -> Self {
        Self(seconds.saturating_mul(1000))
    }

    /// Unix milliseconds.
    #[must_use]
    pub const fn unix_millis(self) -> u64 {
        self.0
    }

    /// As a [`SystemTime`](std::time::SystemTime) (saturating where the
    /// platform's range ends).
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// let t = otpkit::clerk::Timestamp::from_unix_seconds(1_700_000_000);
    /// assert_eq!(t.to_system_time(), UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    /// ```
    #[cfg(feature = "std")]
    #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
    #[must_use]
    pub fn to_system_time(self) -> std::time::SystemTime {
        use std::time::{Duration, UNIX_EPOCH};
        UNIX_EPOCH
            .checked_add(Duration::from_millis(self.0))
            .unwrap_or(UNIX_EPOCH)
    }
}

/// The system clock in Unix seconds.
///
/// # Errors
/// [`Error::TimeBeforeT0`] for a clock before 1970.
#[cfg(feature = "std")]
pub(crate) fn unix_now() -> Result<u64, crate::error::Error> {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .map_err(|_| crate::error::Error::TimeBeforeT0)
}
