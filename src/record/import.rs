//! Enrollments made by other applications: [`TotpRecord::import`], with
//! the drift, backup codes and first-code fallback they bring.

use super::{EnrollmentOptions, TotpRecord};
use crate::algorithm::Algorithm;
use crate::backup::BackupCodeSet;
use crate::engine::{TimeStep, Totp};
use crate::error::Error;
use crate::random::CryptoRng;
use crate::secret::Secret;

impl TotpRecord {
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
    /// [`Error::InvalidLabel`] for an issuer or account no authenticator
    /// app can show, as at [`TotpRecord::create`].
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
    /// let (_, outcome) = record.verify(&used_before_the_move, &otpkit::Pepper::NONE, 1_700_000_000)?;
    /// assert!(matches!(outcome, TotpOutcome::Replayed { .. }));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[cfg(feature = "std")]
    #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
    pub fn import(
        issuer: &str,
        account: &str,
        secret: Secret,
        options: &EnrollmentOptions,
        last_used_step: Option<TimeStep>,
        now: u64,
    ) -> Result<Self, Error> {
        let rng = &mut crate::random::os();
        Self::import_with_rng(issuer, account, secret, options, last_used_step, now, rng)
    }

    /// [`TotpRecord::import`] with the record's id drawn from `rng`.
    ///
    /// # Errors
    /// As [`TotpRecord::import`].
    ///
    /// ```
    /// use otpkit::{record::TotpRecord, Secret};
    /// use rand::{rand_core::UnwrapErr, rngs::SysRng};
    /// let key = Secret::from_hex("3132333435363738393031323334353637383930")?;
    /// let record = TotpRecord::import_with_rng("ACME", "bob", key, &Default::default(), None, 0, &mut UnwrapErr(SysRng))?;
    /// assert!(record.is_verified());
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn import_with_rng<R: CryptoRng + ?Sized>(
        issuer: &str,
        account: &str,
        secret: Secret,
        options: &EnrollmentOptions,
        last_used_step: Option<TimeStep>,
        now: u64,
        rng: &mut R,
    ) -> Result<Self, Error> {
        let legacy_secret = secret.len() < 16;
        Ok(Self {
            verified: true,
            last_used_step,
            legacy_secret,
            ..Self::fresh(issuer, account, options.totp(secret)?, options, now, rng)?
        })
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

    /// The record with `set` as its backup codes, e.g. a set imported with
    /// [`BackupCodeSet::import_plain`] or, with the `import` feature,
    /// `BackupCodeSet::import_hashes`.
    ///
    /// # Errors
    /// [`Error::NotVerified`] for a record not verified yet (its codes are
    /// issued on the first right code).
    ///
    /// ```
    /// use otpkit::backup::{BackupCodeSet, BackupHashScheme, CodeCase};
    /// use otpkit::record::TotpRecord;
    /// use otpkit::Secret;
    ///
    /// let kanidm = ["ABCD-2345-EFGH"]; // plaintext codes another app kept
    /// let fast = BackupHashScheme::Pbkdf2Sha256 { iterations: 1_000 };
    /// let set = BackupCodeSet::import_plain(&kanidm, CodeCase::Upper, fast, &otpkit::Pepper::NONE, 0)?;
    /// let record = TotpRecord::import("ACME", "bob", Secret::generate(), &Default::default(), None, 0)?
    ///     .with_backup_codes(set)?;
    /// assert!(record.verify("ABCD-2345-EFGH", &otpkit::Pepper::NONE, 1)?.1.is_valid());
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
    /// let app = Totp::new(created.secret().clone());
    /// let code = app.generate_at(1_700_000_000)?.to_string();
    /// assert!(!record.verify(&code, &otpkit::Pepper::NONE, 1_700_000_000)?.1.is_valid());
    /// let sha1 = record.fall_back_to_sha1(&code, 1_700_000_000)?.expect("the app's SHA-1 code");
    /// assert_eq!(sha1.totp().algorithm(), Algorithm::Sha1);
    /// assert!(sha1.verify(&code, &otpkit::Pepper::NONE, 1_700_000_000)?.1.is_valid());
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
}
