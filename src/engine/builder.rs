//! Settings for a [`Totp`]: [`TotpBuilder`], checked once in `build`.

use super::MAX_WINDOW;
use super::code::STEAM_LENGTH;
use super::hotp::{Hotp, check_digits};
use super::totp::Totp;
use crate::algorithm::Algorithm;
use crate::error::Error;
use crate::secret::Secret;

impl Totp {
    /// A builder for other settings, checked once in [`TotpBuilder::build`].
    ///
    /// ```
    /// let totp = otpkit::Totp::builder(otpkit::Secret::generate()).period(60).build()?;
    /// assert_eq!(totp.period(), 60);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn builder(secret: Secret) -> TotpBuilder {
        TotpBuilder {
            secret,
            algorithm: Algorithm::Sha1,
            digits: 6,
            period: 30,
            t0: 0,
            behind: 1,
            ahead: 1,
            steam: false,
        }
    }
}

/// Settings for a [`Totp`], checked once in [`TotpBuilder::build`].
///
/// ```
/// use otpkit::{Algorithm, Secret, Totp};
///
/// let totp = Totp::builder(Secret::generate_for(Algorithm::Sha512))
///     .algorithm(Algorithm::Sha512)
///     .digits(8)
///     .period(60)
///     .t0(1_000)
///     .window(2)
///     .build()?;
/// assert_eq!(totp.window(), (2, 2));
/// # Ok::<(), otpkit::Error>(())
/// ```
#[derive(Debug)]
#[must_use]
pub struct TotpBuilder {
    pub(super) secret: Secret,
    pub(super) algorithm: Algorithm,
    pub(super) digits: u8,
    pub(super) period: u64,
    pub(super) t0: u64,
    pub(super) behind: u64,
    pub(super) ahead: u64,
    pub(super) steam: bool,
}

impl TotpBuilder {
    /// The hash under HMAC (default SHA-1).
    ///
    /// ```
    /// # use otpkit::{Algorithm, Secret, Totp};
    /// let totp = Totp::builder(Secret::generate()).algorithm(Algorithm::Sha256).build()?;
    /// assert_eq!(totp.algorithm(), Algorithm::Sha256);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub const fn algorithm(mut self, algorithm: Algorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// Digits per code, 6 to 10 (default 6).
    ///
    /// ```
    /// # use otpkit::{Secret, Totp};
    /// assert!(Totp::builder(Secret::generate()).digits(11).build().is_err());
    /// ```
    pub const fn digits(mut self, digits: u8) -> Self {
        self.digits = digits;
        self
    }

    /// Seconds per step, at least 1 (default 30).
    ///
    /// ```
    /// # use otpkit::{Secret, Totp};
    /// assert!(Totp::builder(Secret::generate()).period(0).build().is_err());
    /// ```
    pub const fn period(mut self, seconds: u64) -> Self {
        self.period = seconds;
        self
    }

    /// The Unix time at which step 0 starts (default 0).
    ///
    /// ```
    /// # use otpkit::{Secret, Totp};
    /// let totp = Totp::builder(Secret::generate()).t0(100).build()?;
    /// assert!(totp.generate_at(99).is_err());
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub const fn t0(mut self, unix: u64) -> Self {
        self.t0 = unix;
        self
    }

    /// Steps accepted on each side of the current one (default 1).
    ///
    /// ```
    /// # use otpkit::{Secret, Totp};
    /// assert_eq!(Totp::builder(Secret::generate()).window(0).build()?.window(), (0, 0));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub const fn window(self, steps: u64) -> Self {
        self.window_behind(steps).window_ahead(steps)
    }

    /// Past steps accepted, for slow users and network delay (default 1).
    ///
    /// ```
    /// # use otpkit::{Secret, Totp};
    /// assert_eq!(Totp::builder(Secret::generate()).window_behind(2).build()?.window(), (2, 1));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub const fn window_behind(mut self, steps: u64) -> Self {
        self.behind = steps;
        self
    }

    /// Future steps accepted, for clocks running ahead (default 1).
    ///
    /// ```
    /// # use otpkit::{Secret, Totp};
    /// assert_eq!(Totp::builder(Secret::generate()).window_ahead(0).build()?.window(), (1, 0));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub const fn window_ahead(mut self, steps: u64) -> Self {
        self.ahead = steps;
        self
    }

    /// Steam Guard's codes ([`Totp::steam`]): HMAC-SHA-1, 30 s, five
    /// characters of Steam's alphabet; the window and T0 still apply.
    ///
    /// ```
    /// # use otpkit::{Secret, Totp};
    /// let steam = Totp::builder(Secret::generate()).steam().window(2).build()?;
    /// assert!(steam.is_steam() && steam.window() == (2, 2));
    /// assert!(Totp::builder(Secret::generate()).steam().period(60).build().is_err());
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub const fn steam(mut self) -> Self {
        self.steam = true;
        self.algorithm = Algorithm::Sha1;
        self.digits = STEAM_LENGTH;
        self.period = 30;
        self
    }

    /// Checks the settings and keys the HMAC.
    ///
    /// # Errors
    /// [`Error::DigitsOutOfRange`], [`Error::ZeroPeriod`] or
    /// [`Error::WindowTooLarge`].
    ///
    /// ```
    /// # use otpkit::{Secret, Totp};
    /// assert!(Totp::builder(Secret::generate()).window(101).build().is_err());
    /// ```
    pub fn build(self) -> Result<Totp, Error> {
        if self.steam {
            if (self.algorithm, self.digits, self.period) != (Algorithm::Sha1, STEAM_LENGTH, 30) {
                return Err(Error::SteamSettings);
            }
        } else {
            check_digits(self.digits)?;
        }
        if self.period == 0 {
            return Err(Error::ZeroPeriod);
        }
        for steps in [self.behind, self.ahead] {
            if steps > MAX_WINDOW {
                return Err(Error::WindowTooLarge {
                    steps,
                    max: MAX_WINDOW,
                });
            }
        }
        Ok(Totp {
            hotp: if self.steam {
                Hotp::steam(self.secret)
            } else {
                Hotp::with(self.secret, self.algorithm, self.digits)?
            },
            period: self.period,
            t0: self.t0,
            behind: self.behind,
            ahead: self.ahead,
        })
    }
}
