//! The stored form of a record: [`StoredTotpRecord`], sealed by default,
//! checked on load.

use alloc::borrow::ToOwned;
use core::fmt;

use super::TotpRecord;
use crate::error::Error;
#[cfg(feature = "seal")]
use crate::random::CryptoRng;
#[cfg(feature = "seal")]
use crate::seal::Keyring;

/// A [`TotpRecord`] as it is stored: serializable, with the secret sealed
/// by a [`Keyring`](crate::Keyring) (or, opted into by name, in plaintext).
///
/// Loading checks every field a transition relies on; the secret is
/// opened only by [`StoredTotpRecord::open`], with the key it names. See
/// [`seal`](crate::seal) for the construction and key management.
///
/// ```
/// use otpkit::{Keyring, StoredTotpRecord, TotpRecord};
/// use otpkit::record::EnrollmentOptions;
/// use otpkit::seal::SealingKey;
///
/// let keyring = Keyring::new(SealingKey::generate()); // from your secrets manager
/// let (record, _) = TotpRecord::create("ACME", "alice", &EnrollmentOptions::default(), 0)?;
/// let json = serde_json::to_string(&record.seal(&keyring)?).unwrap();
/// assert!(!json.contains(record.totp().secret().to_base32().as_str()));
///
/// let stored: StoredTotpRecord = serde_json::from_str(&json).unwrap();
/// assert_eq!(stored.key_id(), Some(keyring.sealing_key_id()));
/// assert_eq!(stored.open(&keyring)?, record);
/// # Ok::<(), otpkit::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct StoredTotpRecord(wire::Record);

impl TotpRecord {
    /// The stored form, with the secret sealed by the keyring's first key
    /// and bound to every other field of the stored form: its id, account
    /// and issuer, settings, used step, backup codes, lockout and counts,
    /// times. Changing any of them, or copying the row over another
    /// record's, makes [`StoredTotpRecord::open`] fail.
    ///
    /// # Errors
    /// As [`Keyring::seal`](crate::Keyring::seal).
    ///
    /// ```
    /// # use otpkit::{Keyring, TotpRecord};
    /// # use otpkit::seal::SealingKey;
    /// let (record, _) = TotpRecord::create("ACME", "bob", &Default::default(), 0)?;
    /// let ring = Keyring::new(SealingKey::generate());
    /// assert!(record.seal(&ring)?.is_sealed());
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[cfg(all(feature = "seal", feature = "std"))]
    #[cfg_attr(docsrs, doc(cfg(all(feature = "seal", feature = "std"))))]
    pub fn seal(&self, keyring: &Keyring) -> Result<StoredTotpRecord, Error> {
        self.seal_with_rng(keyring, &mut crate::random::os())
    }

    /// [`TotpRecord::seal`] with the nonce drawn from `rng`.
    ///
    /// # Errors
    /// As [`Keyring::seal`](crate::Keyring::seal).
    ///
    /// ```
    /// # use otpkit::{Keyring, TotpRecord};
    /// # use otpkit::seal::SealingKey;
    /// use rand::{rand_core::UnwrapErr, rngs::SysRng};
    /// let mut rng = UnwrapErr(SysRng); // any `otpkit::rand_core::CryptoRng`
    /// let (record, _) = TotpRecord::create_with_rng("ACME", "bob", &Default::default(), 0, &mut rng)?;
    /// let ring = Keyring::new(SealingKey::generate_with_rng(&mut rng));
    /// assert_eq!(record.seal_with_rng(&ring, &mut rng)?.open(&ring)?, record);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[cfg(feature = "seal")]
    #[cfg_attr(docsrs, doc(cfg(feature = "seal")))]
    pub fn seal_with_rng<R: CryptoRng + ?Sized>(
        &self,
        keyring: &Keyring,
        rng: &mut R,
    ) -> Result<StoredTotpRecord, Error> {
        // The secret is bound to every other field of the stored form
        // (computed before the secret is in it), so a row copied over
        // another's, or any field changed, no longer opens.
        let mut stored =
            wire::Record::new(self, zeroize::Zeroizing::new(alloc::string::String::new()));
        let sealed = keyring.seal_with_rng(self.totp.secret(), &stored.context(), rng)?;
        stored.set_secret(crate::encoding::wiping::to_zeroizing_string(&sealed));
        Ok(StoredTotpRecord(stored))
    }

    /// The stored form with the secret in **plaintext** Base32: anyone who
    /// reads it can mint codes. Only for tests, and for apps that encrypt
    /// the whole row themselves.
    ///
    /// ```
    /// # use otpkit::TotpRecord;
    /// let (record, _) = TotpRecord::create("ACME", "bob", &Default::default(), 0)?;
    /// let stored = record.unsealed_for_storage();
    /// assert!(!stored.is_sealed());
    /// assert_eq!(stored.open_unsealed()?, record);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub fn unsealed_for_storage(&self) -> StoredTotpRecord {
        StoredTotpRecord(wire::Record::new(self, self.totp.secret().to_base32()))
    }
}

impl StoredTotpRecord {
    /// Opens a sealed record with the key it names.
    ///
    /// # Errors
    /// [`Error::PlaintextRecord`] for a record stored in plaintext (nothing
    /// falls back to it); [`Error::KeyNotInKeyring`] naming the key needed;
    /// [`Error::SealedSecretBroken`] for a wrong key, an altered ciphertext,
    /// a secret moved from another record, or any other field changed
    /// since it was sealed; [`Error::LegacyRecord`] for otpkit 0.1's form
    /// (see [`StoredTotpRecord::open_legacy`]); [`Error::InvalidTotpRecord`]
    /// and the settings' errors for a record that fails its checks.
    ///
    /// ```
    /// # use otpkit::{Error, Keyring, TotpRecord};
    /// # use otpkit::seal::SealingKey;
    /// let (record, _) = TotpRecord::create("ACME", "bob", &Default::default(), 0)?;
    /// let stored = record.seal(&Keyring::new(SealingKey::generate()))?;
    /// let other = Keyring::new(SealingKey::generate());
    /// assert!(matches!(stored.open(&other), Err(Error::KeyNotInKeyring { .. })));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[cfg(feature = "seal")]
    #[cfg_attr(docsrs, doc(cfg(feature = "seal")))]
    pub fn open(&self, keyring: &Keyring) -> Result<TotpRecord, Error> {
        if self.0.is_legacy() {
            return Err(Error::LegacyRecord);
        }
        self.open_legacy(keyring)
    }

    /// [`StoredTotpRecord::open`], also for a record sealed by otpkit 0.1,
    /// whose secret is bound to its id only: its other fields are not
    /// authenticated, so use this only to migrate such records (open, then
    /// store again: the new form is bound), as
    /// [`StoredTotpRecord::rekey`] does.
    ///
    /// # Errors
    /// As [`StoredTotpRecord::open`], but never [`Error::LegacyRecord`].
    ///
    /// ```
    /// # use otpkit::{Keyring, TotpRecord};
    /// # use otpkit::seal::SealingKey;
    /// let ring = Keyring::new(SealingKey::generate());
    /// let (record, _) = TotpRecord::create("ACME", "bob", &Default::default(), 0)?;
    /// assert_eq!(record.seal(&ring)?.open_legacy(&ring)?, record);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[cfg(feature = "seal")]
    #[cfg_attr(docsrs, doc(cfg(feature = "seal")))]
    pub fn open_legacy(&self, keyring: &Keyring) -> Result<TotpRecord, Error> {
        match self.0.stored_secret()? {
            wire::StoredSecret::Sealed(sealed) => {
                let secret = keyring.open_any_length(&sealed, &self.0.context())?;
                self.0.build(secret)
            }
            wire::StoredSecret::Plain => Err(Error::PlaintextRecord),
        }
    }

    /// Whether [`StoredTotpRecord::rekey`] would change this record: it is
    /// sealed under another key than the keyring's first, or in otpkit
    /// 0.1's form (bound to its id only).
    ///
    /// ```
    /// # use otpkit::{Keyring, TotpRecord};
    /// # use otpkit::seal::SealingKey;
    /// let (old, new) = (SealingKey::generate(), SealingKey::generate());
    /// let (record, _) = TotpRecord::create("ACME", "bob", &Default::default(), 0)?;
    /// let stored = record.seal(&Keyring::new(old.clone()))?;
    /// assert!(!stored.needs_rekey(&Keyring::new(old.clone())));
    /// assert!(stored.needs_rekey(&Keyring::new(new).with_old_key(old)?));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[cfg(feature = "seal")]
    #[cfg_attr(docsrs, doc(cfg(feature = "seal")))]
    #[must_use]
    pub fn needs_rekey(&self, keyring: &Keyring) -> bool {
        self.0.is_legacy() || self.key_id() != Some(keyring.sealing_key_id())
    }

    /// Opens a record stored in plaintext (see
    /// [`TotpRecord::unsealed_for_storage`]).
    ///
    /// # Errors
    /// [`Error::SealedRecord`] naming the key for a sealed record; the
    /// errors of [`StoredTotpRecord::open`] for a record that fails its
    /// checks.
    ///
    /// ```
    /// # use otpkit::{Error, Keyring, TotpRecord};
    /// # use otpkit::seal::SealingKey;
    /// let (record, _) = TotpRecord::create("ACME", "bob", &Default::default(), 0)?;
    /// let stored = record.seal(&Keyring::new(SealingKey::generate()))?;
    /// assert!(matches!(stored.open_unsealed(), Err(Error::SealedRecord { .. })));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn open_unsealed(&self) -> Result<TotpRecord, Error> {
        if let Some(key_id) = self.0.sealed_key_id() {
            return Err(Error::SealedRecord {
                key_id: key_id.to_owned(),
            });
        }
        self.0.build(self.0.plain_secret()?)
    }

    /// The same record re-sealed under the keyring's first key, for key
    /// rotation, and in the current form (a record sealed by otpkit 0.1 is
    /// bound to its whole state from now on); pure, like every transition.
    /// Opening uses any key of the keyring.
    ///
    /// # Errors
    /// As [`StoredTotpRecord::open`].
    ///
    /// ```
    /// use otpkit::{Keyring, TotpRecord};
    /// use otpkit::seal::SealingKey;
    /// let (a, b) = (SealingKey::generate(), SealingKey::generate());
    /// let (record, _) = TotpRecord::create("ACME", "bob", &Default::default(), 0)?;
    /// let stored = record.seal(&Keyring::new(a.clone()))?;
    /// let rotated = stored.rekey(&Keyring::new(b.clone()).with_old_key(a)?)?;
    /// assert_eq!(rotated.key_id(), Some(b.id()));
    /// assert_eq!(rotated.open(&Keyring::new(b))?, record);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[cfg(all(feature = "seal", feature = "std"))]
    #[cfg_attr(docsrs, doc(cfg(all(feature = "seal", feature = "std"))))]
    pub fn rekey(&self, keyring: &Keyring) -> Result<Self, Error> {
        self.rekey_with_rng(keyring, &mut crate::random::os())
    }

    /// [`StoredTotpRecord::rekey`] with the new nonce drawn from `rng`.
    ///
    /// # Errors
    /// As [`StoredTotpRecord::rekey`].
    ///
    /// ```
    /// # use otpkit::{Keyring, TotpRecord};
    /// # use otpkit::seal::SealingKey;
    /// use rand::{rand_core::UnwrapErr, rngs::SysRng};
    /// let mut rng = UnwrapErr(SysRng); // any `otpkit::rand_core::CryptoRng`
    /// let (old, new) = (SealingKey::generate_with_rng(&mut rng), SealingKey::generate_with_rng(&mut rng));
    /// let (record, _) = TotpRecord::create_with_rng("ACME", "bob", &Default::default(), 0, &mut rng)?;
    /// let stored = record.seal_with_rng(&Keyring::new(old.clone()), &mut rng)?;
    /// let rotated = stored.rekey_with_rng(&Keyring::new(new.clone()).with_old_key(old)?, &mut rng)?;
    /// assert_eq!(rotated.key_id(), Some(new.id()));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[cfg(feature = "seal")]
    #[cfg_attr(docsrs, doc(cfg(feature = "seal")))]
    pub fn rekey_with_rng<R: CryptoRng + ?Sized>(
        &self,
        keyring: &Keyring,
        rng: &mut R,
    ) -> Result<Self, Error> {
        self.open_legacy(keyring)?.seal_with_rng(keyring, rng)
    }

    /// The stored form as JSON: the text to keep in a database column.
    ///
    /// ```
    /// use otpkit::{Keyring, StoredTotpRecord, TotpRecord};
    /// use otpkit::seal::SealingKey;
    /// let keyring = Keyring::new(SealingKey::generate()); // from your secrets manager
    /// let (record, _) = TotpRecord::create("ACME", "bob", &Default::default(), 0)?;
    /// let row = record.seal(&keyring)?.to_json(); // INSERT this
    /// assert_eq!(StoredTotpRecord::from_json(&row)?.open(&keyring)?, record);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    #[allow(clippy::expect_used)]
    pub fn to_json(&self) -> alloc::string::String {
        // serde_json grows its buffer as it writes, freeing the smaller
        // ones unwiped: the form is written without its secret, and the
        // secret put in once, into a string allocated at its full length.
        let mut shell = self.0.clone();
        shell.set_secret(zeroize::Zeroizing::new(alloc::string::String::new()));
        // Strings, numbers and structs with string keys: nothing in the
        // stored form can fail to serialize.
        let json = serde_json::to_string(&shell).expect("a stored record serializes");
        // `"secret":""` as a key can only be the field: in a string value
        // its quotes would be escaped.
        let marker = ",\"secret\":\"";
        let at = json
            .find(marker)
            .map(|at| at.saturating_add(marker.len()))
            .expect("the stored form has a secret field");
        let (head, tail) = json.split_at(at);
        let secret = self.0.secret_text();
        let mut out = alloc::string::String::with_capacity(json.len().saturating_add(secret.len()));
        out.push_str(head);
        out.push_str(secret);
        out.push_str(tail);
        out
    }

    /// Reads a stored form from its JSON, checking it as serde does (every
    /// field a transition relies on), with a typed error that names what is
    /// wrong: [`Error::InvalidTotpRecord`] naming a damaged or missing
    /// field, or a bound it breaks. Never a value from the text.
    ///
    /// # Errors
    /// [`Error::InvalidTotpRecord`], and the settings' errors
    /// ([`Error::WindowTooLarge`], [`Error::DigitsOutOfRange`],
    /// [`Error::ZeroPeriod`]) for a record out of the bounds creation
    /// enforces.
    ///
    /// ```
    /// use otpkit::{Error, StoredTotpRecord, TotpRecord};
    /// let (record, _) = TotpRecord::create("ACME", "bob", &Default::default(), 0)?;
    /// let row = record.unsealed_for_storage().to_json();
    /// let mut damaged: serde_json::Value = serde_json::from_str(&row).unwrap();
    /// damaged["lockout"]["free_failures"] = "many".into();
    /// assert_eq!(
    ///     StoredTotpRecord::from_json(&damaged.to_string()).unwrap_err(),
    ///     Error::InvalidTotpRecord { reason: "the field `lockout` is damaged" },
    /// );
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn from_json(json: &str) -> Result<Self, Error> {
        match serde_json::from_str::<wire::Record>(json) {
            Ok(record) => {
                record.check()?;
                Ok(Self(record))
            }
            Err(_) => Err(wire::damaged(json)),
        }
    }

    /// Whether the secret is sealed.
    ///
    /// ```
    /// # use otpkit::TotpRecord;
    /// let (record, _) = TotpRecord::create("ACME", "bob", &Default::default(), 0)?;
    /// assert!(!record.unsealed_for_storage().is_sealed());
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub fn is_sealed(&self) -> bool {
        self.key_id().is_some()
    }

    /// The id of the key that sealed the secret, `None` in plaintext: tells
    /// which records still need [`StoredTotpRecord::rekey`].
    ///
    /// ```
    /// # use otpkit::{Keyring, TotpRecord};
    /// # use otpkit::seal::SealingKey;
    /// let (record, _) = TotpRecord::create("ACME", "bob", &Default::default(), 0)?;
    /// let ring = Keyring::new(SealingKey::new("k7", [7; 32])?);
    /// assert_eq!(record.seal(&ring)?.key_id(), Some("k7"));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub fn key_id(&self) -> Option<&str> {
        self.0.sealed_key_id()
    }
}

impl fmt::Debug for StoredTotpRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredTotpRecord")
            .field("id", &self.0.id())
            .field("key_id", &self.key_id())
            .finish_non_exhaustive()
    }
}

mod wire;
