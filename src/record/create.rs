//! Enrollment: [`TotpRecord::create`], a fresh secret for an account.

use alloc::borrow::ToOwned;

use super::{EnrollmentOptions, Throttle, TotpRecord, TotpResource, new_id};
use crate::engine::Totp;
use crate::error::Error;
use crate::random::CryptoRng;
use crate::secret::Secret;

impl TotpRecord {
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
    pub(super) fn fresh<R: CryptoRng + ?Sized>(
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
}
