//! Enrollment: [`TotpRecord::create`], a fresh secret for an account, and
//! what is shown the user once, [`Enrollment`].

use alloc::borrow::ToOwned;
use core::fmt;

use super::{EnrollmentOptions, Throttle, TotpRecord, TotpResource, label, new_id};
use crate::engine::Totp;
use crate::error::Error;
#[cfg(feature = "qr")]
use crate::qr::Qr;
use crate::random::CryptoRng;
use crate::secret::Secret;
use crate::uri::OtpAuthUri;

/// What a new enrollment shows the user, once: the secret, its otpauth://
/// URI and (with the `qr` feature) its QR code, none of them optional, and
/// Clerk's creation response for a front end that speaks it. Nothing here
/// is stored: the record holds the secret (sealed, when you store it), and
/// no later read gives it out again. `Debug` shows only the id.
///
/// ```
/// use otpkit::TotpRecord;
/// let (record, enrollment) = TotpRecord::create_now("ACME", "alice@example.com", &Default::default())?;
/// let svg = enrollment.qr().to_svg(&Default::default()); // the page's QR code
/// let typed = enrollment.secret().to_base32(); // for those who type it
/// assert!(svg.starts_with("<svg") && typed.len() == 32);
/// assert!(enrollment.uri().to_string().starts_with("otpauth://totp/ACME:alice%40example.com?"));
/// assert_eq!(enrollment.resource().id(), record.resource().id());
/// # Ok::<(), otpkit::Error>(())
/// ```
#[derive(Clone)]
pub struct Enrollment {
    secret: Secret,
    uri: OtpAuthUri,
    #[cfg(feature = "qr")]
    qr: Qr,
    resource: TotpResource,
}

impl Enrollment {
    /// The secret, for a user who types it instead of scanning
    /// ([`Secret::to_base32`]).
    #[must_use]
    pub const fn secret(&self) -> &Secret {
        &self.secret
    }

    /// The otpauth:// URI the QR code holds (for a link on a phone).
    #[must_use]
    pub const fn uri(&self) -> &OtpAuthUri {
        &self.uri
    }

    /// The URI's QR code: [`Qr::to_svg`], [`Qr::to_data_url`],
    /// [`Qr::to_terminal`], and with the `png` feature `Qr::to_png`.
    #[cfg(feature = "qr")]
    #[cfg_attr(docsrs, doc(cfg(feature = "qr")))]
    #[must_use]
    pub const fn qr(&self) -> &Qr {
        &self.qr
    }

    /// Clerk's creation response: the TOTP object with `secret` and `uri`,
    /// the only response that carries them.
    #[must_use]
    pub const fn resource(&self) -> &TotpResource {
        &self.resource
    }
}

impl fmt::Debug for Enrollment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Enrollment")
            .field("id", &self.resource.id())
            .finish_non_exhaustive()
    }
}

impl TotpRecord {
    /// Creates a secret for `account` at Unix time `now`: the record to
    /// store, and the [`Enrollment`] to show once. To let an unverified user
    /// start over, store the new record over the old one with the version
    /// still increasing, so a check running on the old record loses its
    /// compare-and-set.
    ///
    /// # Errors
    /// [`Error::InvalidLabel`] for an issuer or account that cannot be an
    /// authenticator app's label (empty, a `:` in the issuer, a control
    /// character, over 100 or 254 bytes); [`Error::DigitsOutOfRange`],
    /// [`Error::ZeroPeriod`] or [`Error::WindowTooLarge`] for bad options.
    ///
    /// # Panics
    /// Only if the operating system cannot supply random bytes.
    ///
    /// ```
    /// use otpkit::{Error, TotpRecord};
    /// let (record, created) = TotpRecord::create("ACME", "bob", &Default::default(), 0)?;
    /// assert!(created.resource().id().starts_with("totp_"));
    /// let refused = TotpRecord::create("ACME:EU", "bob", &Default::default(), 0).unwrap_err();
    /// assert_eq!(refused.to_string(), "invalid issuer: contains ':', the label's separator");
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[cfg(feature = "std")]
    #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
    pub fn create(
        issuer: &str,
        account: &str,
        options: &EnrollmentOptions,
        now: u64,
    ) -> Result<(Self, Enrollment), Error> {
        Self::create_with_rng(issuer, account, options, now, &mut crate::random::os())
    }

    /// [`TotpRecord::create`] at the system clock's time.
    ///
    /// # Errors
    /// As [`TotpRecord::create`]; [`Error::TimeBeforeT0`] for a clock
    /// before 1970.
    ///
    /// ```
    /// let (record, enrollment) = otpkit::TotpRecord::create_now("ACME", "bob", &Default::default())?;
    /// assert!(!record.is_verified());
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[cfg(feature = "std")]
    #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
    pub fn create_now(
        issuer: &str,
        account: &str,
        options: &EnrollmentOptions,
    ) -> Result<(Self, Enrollment), Error> {
        Self::create(issuer, account, options, crate::time::unix_now()?)
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
    /// assert_eq!(created.resource().id(), record.resource().id());
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn create_with_rng<R: CryptoRng + ?Sized>(
        issuer: &str,
        account: &str,
        options: &EnrollmentOptions,
        now: u64,
        rng: &mut R,
    ) -> Result<(Self, Enrollment), Error> {
        let totp = options.totp(Secret::generate_with_rng(options.algorithm, rng))?;
        let record = Self::fresh(issuer, account, totp, options, now, rng)?;
        let secret = record.totp.secret().clone();
        let uri = record.uri();
        let mut resource = record.resource();
        resource.secret = Some(secret.clone());
        resource.uri = Some(uri.clone());
        let enrollment = Enrollment {
            #[cfg(feature = "qr")]
            qr: Qr::from_uri(&uri)?,
            secret,
            uri,
            resource,
        };
        Ok((record, enrollment))
    }

    /// A new, unverified record for `totp`, with a fresh id.
    pub(super) fn fresh<R: CryptoRng + ?Sized>(
        issuer: &str,
        account: &str,
        totp: Totp,
        options: &EnrollmentOptions,
        now: u64,
        rng: &mut R,
    ) -> Result<Self, Error> {
        label::check(issuer, account)?;
        Ok(Self {
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
        })
    }
}
