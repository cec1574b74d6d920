//! A verified record's backup codes: replaced, or removed.

use super::TotpRecord;
use crate::backup::{BackupCodeOptions, BackupCodeSet, BackupCodes};
use crate::error::Error;
use crate::pepper::Pepper;
use crate::random::CryptoRng;

impl TotpRecord {
    /// Replaces the backup codes with a new set (Clerk's
    /// `createBackupCode()`), returning the new record and the plaintext
    /// codes to show once.
    ///
    /// # Errors
    /// [`Error::NotVerified`] before the record is verified; the errors of
    /// [`BackupCodeSet::generate`].
    ///
    /// ```
    /// use otpkit::{Error, TotpRecord};
    /// use otpkit::backup::BackupCodeOptions;
    /// let (record, _) = TotpRecord::create("ACME", "bob", &Default::default(), 0)?;
    /// assert_eq!(record.regenerate_backup_codes(&BackupCodeOptions::default(), &otpkit::Pepper::NONE, 1).unwrap_err(), Error::NotVerified);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[cfg(feature = "std")]
    #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
    pub fn regenerate_backup_codes(
        &self,
        options: &BackupCodeOptions,
        pepper: &Pepper,
        now: u64,
    ) -> Result<(Self, BackupCodes), Error> {
        self.regenerate_backup_codes_with_rng(options, pepper, now, &mut crate::random::os())
    }

    /// [`TotpRecord::regenerate_backup_codes`] with the codes drawn from
    /// `rng`.
    ///
    /// # Errors
    /// As [`TotpRecord::regenerate_backup_codes`].
    ///
    /// ```
    /// use otpkit::{Error, TotpRecord};
    /// use rand::{rand_core::UnwrapErr, rngs::SysRng};
    /// let mut rng = UnwrapErr(SysRng); // any `otpkit::rand_core::CryptoRng`
    /// let (record, _) = TotpRecord::create_with_rng("ACME", "bob", &Default::default(), 0, &mut rng)?;
    /// let refused = record.regenerate_backup_codes_with_rng(&Default::default(), &otpkit::Pepper::NONE, 1, &mut rng);
    /// assert_eq!(refused.unwrap_err(), Error::NotVerified);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn regenerate_backup_codes_with_rng<R: CryptoRng + ?Sized>(
        &self,
        options: &BackupCodeOptions,
        pepper: &Pepper,
        now: u64,
        rng: &mut R,
    ) -> Result<(Self, BackupCodes), Error> {
        if !self.verified {
            return Err(Error::NotVerified);
        }
        let (codes, set) = BackupCodeSet::generate_with_rng(options, pepper, now, rng)?;
        Ok((self.with_new_backup_codes(set, *options, now)?, codes))
    }

    /// [`TotpRecord::regenerate_backup_codes`]'s cheap half: the record
    /// with `set` (made by [`BackupCodeSet::generate`] with `options`) as
    /// its backup codes at Unix time `now`. A server hashes the set once,
    /// outside its compare-and-set loop, and applies it with this.
    ///
    /// # Errors
    /// [`Error::NotVerified`] before the record is verified.
    ///
    /// ```
    /// use otpkit::{BackupCodeSet, TotpRecord};
    /// use otpkit::backup::BackupCodeOptions;
    /// let (record, _) = TotpRecord::create("ACME", "bob", &Default::default(), 0)?;
    /// let code = record.totp().generate_at(0)?.to_string();
    /// let (record, _) = record.verify(&code, &otpkit::Pepper::NONE, 0)?;
    /// let options = BackupCodeOptions::default();
    /// let (codes, set) = BackupCodeSet::generate(&options, &otpkit::Pepper::NONE, 60)?; // the slow part
    /// let record = record.with_new_backup_codes(set, options, 60)?;
    /// assert!(record.verify(codes.iter().next().unwrap(), &otpkit::Pepper::NONE, 61)?.1.is_valid());
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn with_new_backup_codes(
        &self,
        set: BackupCodeSet,
        options: BackupCodeOptions,
        now: u64,
    ) -> Result<Self, Error> {
        if !self.verified {
            return Err(Error::NotVerified);
        }
        let mut next = self.clone();
        next.backup_codes = Some(set);
        next.backup_options = Some(options);
        next.updated_at = now.max(self.updated_at);
        Ok(next)
    }

    /// Removes the backup codes (Clerk's `deleteUserBackupCodes`) at Unix
    /// time `now`, and stops issuing them: a later right code does not
    /// bring a new set; [`TotpRecord::regenerate_backup_codes`] does.
    ///
    /// # Errors
    /// [`Error::NoBackupCodes`] when the record holds none.
    ///
    /// ```
    /// use otpkit::Error;
    /// use otpkit::record::{TotpOutcome, TotpRecord};
    /// let (record, _) = TotpRecord::create("ACME", "bob", &Default::default(), 0)?;
    /// let code = record.totp().generate_at(0)?.to_string();
    /// let (record, _) = record.verify(&code, &otpkit::Pepper::NONE, 0)?;
    /// let record = record.remove_backup_codes(30)?;
    /// assert!(record.backup_codes().is_none());
    /// assert_eq!(record.remove_backup_codes(31).unwrap_err(), Error::NoBackupCodes);
    /// // The next right code issues no new set.
    /// let next = record.totp().generate_at(30)?.to_string();
    /// let (_, outcome) = record.verify(&next, &otpkit::Pepper::NONE, 30)?;
    /// assert!(matches!(outcome, TotpOutcome::Valid { ref backup_codes, .. } if backup_codes.is_empty()));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn remove_backup_codes(&self, now: u64) -> Result<Self, Error> {
        if self.backup_codes.is_none() {
            return Err(Error::NoBackupCodes);
        }
        let mut next = self.clone();
        next.backup_codes = None;
        next.backup_options = None;
        next.updated_at = now.max(self.updated_at);
        Ok(next)
    }
}
