//! How to enroll: [`EnrollmentOptions`].

use super::Lockout;
use crate::algorithm::Algorithm;
use crate::backup::BackupCodeOptions;
use crate::engine::Totp;
use crate::error::Error;
use crate::secret::Secret;

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
    pub(super) algorithm: Algorithm,
    digits: u8,
    period: u64,
    window: u64,
    pub(super) backup_codes: Option<BackupCodeOptions>,
    pub(super) lockout: Lockout,
    pub(super) backup_lockout: Lockout,
}

impl Default for EnrollmentOptions {
    /// SHA-1, 6 digits, 30 s, window ±1, ten backup codes, default lockouts.
    fn default() -> Self {
        Self {
            algorithm: Algorithm::Sha1,
            digits: 6,
            period: 30,
            window: 1,
            backup_codes: Some(BackupCodeOptions::default()),
            lockout: Lockout::default(),
            backup_lockout: Lockout::for_backup_codes(),
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

    /// Throttling after wrong TOTP codes (default [`Lockout::default`]).
    pub const fn lockout(mut self, lockout: Lockout) -> Self {
        self.lockout = lockout;
        self
    }

    /// Throttling after wrong backup codes (default
    /// [`Lockout::for_backup_codes`]).
    pub const fn backup_lockout(mut self, lockout: Lockout) -> Self {
        self.backup_lockout = lockout;
        self
    }

    pub(super) fn totp(&self, secret: Secret) -> Result<Totp, Error> {
        Totp::builder(secret)
            .algorithm(self.algorithm)
            .digits(self.digits)
            .period(self.period)
            .window(self.window)
            .build()
    }
}
