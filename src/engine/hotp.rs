//! RFC 4226 HOTP: keyed HMAC state, dynamic truncation, counter codes.

use core::fmt;
use core::num::NonZeroU32;

use subtle::{ConditionallySelectable, ConstantTimeEq};
use zeroize::Zeroizing;

use super::MAX_WINDOW;
use super::code::{Code, STEAM_LENGTH, STEAM_MODULUS};
use super::mac::KeyedMac;
use super::typo::Typo;
use crate::algorithm::Algorithm;
use crate::error::Error;
use crate::secret::Secret;

/// The outcome of checking an entered HOTP code: valid (with the counter
/// to persist), invalid, or malformed (a typo), as
/// [`Verdict`](crate::Verdict) is for TOTP.
///
/// ```
/// let typo = otpkit::HotpVerdict::Malformed(otpkit::Typo::EmptyCode);
/// assert!(!typo.is_valid());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
pub enum HotpVerdict {
    /// The code is right: persist `next_counter` (the matched counter plus
    /// one), so it and every earlier code stop working.
    Valid {
        /// The counter to check from next time.
        next_counter: u64,
    },
    /// The code matches no counter in the look-ahead window.
    Invalid,
    /// The input is not a code of this length: one of the errors of
    /// [`Code::parse`].
    Malformed(Typo),
}

impl HotpVerdict {
    /// Whether the code is accepted.
    ///
    /// ```
    /// assert!(otpkit::HotpVerdict::Valid { next_counter: 1 }.is_valid());
    /// ```
    #[must_use]
    pub const fn is_valid(&self) -> bool {
        matches!(self, Self::Valid { .. })
    }
}

/// An RFC 4226 HOTP generator and verifier: a [`Secret`], a hash and a digit
/// count, keyed once.
///
/// ```
/// use otpkit::{Hotp, Secret};
///
/// // RFC 4226 Appendix D.
/// let hotp = Hotp::new(Secret::from_bytes(b"12345678901234567890")?);
/// assert_eq!(hotp.generate(0).to_string(), "755224");
/// assert_eq!(hotp.generate(9).to_string(), "520489");
///
/// // The user pressed the button twice without logging in: look ahead.
/// let matched = hotp.verify("969429", 1, 5)?; // counter 3 matched; persist 4
/// assert_eq!(matched, otpkit::HotpVerdict::Valid { next_counter: 4 });
/// assert_eq!(hotp.verify("969429", 4, 5)?, otpkit::HotpVerdict::Invalid); // never again
/// # Ok::<(), otpkit::Error>(())
/// ```
///
/// # References
/// [RFC 4226](https://www.rfc-editor.org/rfc/rfc4226): §5.3 (generation),
/// §7.4 (resynchronization with a look-ahead window).
#[derive(Clone)]
pub struct Hotp {
    secret: Secret,
    algorithm: Algorithm,
    digits: u8,
    /// `10^digits`, or `None` for 10 digits, where the 31-bit truncated
    /// value is always below the modulus; a 32-bit division is the cheap one.
    modulus: Option<NonZeroU32>,
    mac: KeyedMac,
}

impl Hotp {
    /// HOTP with RFC 4226's parameters: SHA-1 and 6 digits.
    ///
    /// ```
    /// let hotp = otpkit::Hotp::new(otpkit::Secret::generate());
    /// assert_eq!(hotp.digits(), 6);
    /// ```
    #[must_use]
    pub fn new(secret: Secret) -> Self {
        Self::build(secret, Algorithm::Sha1, 6)
    }

    /// HOTP with another hash or digit count.
    ///
    /// # Errors
    /// [`Error::DigitsOutOfRange`] unless `6 <= digits <= 10`.
    ///
    /// ```
    /// use otpkit::{Algorithm, Hotp, Secret};
    ///
    /// let hotp = Hotp::with(Secret::generate(), Algorithm::Sha256, 8)?;
    /// assert_eq!(hotp.generate(0).to_string().len(), 8);
    /// assert!(Hotp::with(Secret::generate(), Algorithm::Sha1, 5).is_err());
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn with(secret: Secret, algorithm: Algorithm, digits: u8) -> Result<Self, Error> {
        check_digits(digits)?;
        Ok(Self::build(secret, algorithm, digits))
    }

    fn build(secret: Secret, algorithm: Algorithm, digits: u8) -> Self {
        let mac = KeyedMac::new(algorithm, secret.expose_secret());
        Self {
            secret,
            algorithm,
            digits,
            modulus: if digits == STEAM_LENGTH {
                NonZeroU32::new(STEAM_MODULUS)
            } else {
                10u32
                    .checked_pow(u32::from(digits))
                    .and_then(NonZeroU32::new)
            },
            mac,
        }
    }

    /// The code for `counter`.
    ///
    /// ```
    /// let hotp = otpkit::Hotp::new(otpkit::Secret::from_bytes(b"12345678901234567890")?);
    /// assert_eq!(hotp.generate(1).to_string(), "287082");
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub fn generate(&self, counter: u64) -> Code {
        Code::new(self.value(counter), self.digits)
    }

    /// Checks an entered code against counters `counter ..= counter +
    /// look_ahead` (RFC 4226 §7.4). Every counter in the window is computed
    /// and compared in constant time; the scan never stops early.
    ///
    /// A right code gives the counter to persist for the next check (the
    /// matched counter plus one). When the code matches
    /// several counters of the window (codes collide about once in
    /// `10^digits` pairs), the newest one counts, so after persisting the
    /// result the same code cannot be accepted again.
    ///
    /// # Errors
    /// Only [`Error::WindowTooLarge`], if `look_ahead` exceeds
    /// [`MAX_WINDOW`](crate::MAX_WINDOW). A wrong code is
    /// [`HotpVerdict::Invalid`], a typo [`HotpVerdict::Malformed`].
    ///
    /// ```
    /// use otpkit::{Hotp, HotpVerdict, Secret};
    /// let hotp = Hotp::new(Secret::from_bytes(b"12345678901234567890")?);
    /// assert_eq!(hotp.verify("287 082", 0, 2)?, HotpVerdict::Valid { next_counter: 2 });
    /// assert_eq!(hotp.verify("000000", 0, 2)?, HotpVerdict::Invalid);
    /// assert!(matches!(hotp.verify("28708", 0, 2)?, HotpVerdict::Malformed(_)));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn verify(&self, input: &str, counter: u64, look_ahead: u64) -> Result<HotpVerdict, Error> {
        if look_ahead > MAX_WINDOW {
            return Err(Error::WindowTooLarge {
                steps: look_ahead,
                max: MAX_WINDOW,
            });
        }
        let code = match self.parse(input) {
            Ok(code) => code,
            Err(typo) => return Ok(HotpVerdict::Malformed(typo)),
        };
        let mut found = subtle::Choice::from(0);
        let mut next = 0u64;
        for candidate in (0..=look_ahead).filter_map(|i| counter.checked_add(i)) {
            let hit = self.matches(&code, candidate);
            // `candidate + 1` cannot overflow the verdict: at u64::MAX the
            // counter space is exhausted and there is no next counter.
            let hit = hit & subtle::Choice::from(u8::from(candidate != u64::MAX));
            // The last hit wins: a code that matches two counters of the
            // window moves past the newer one, so it never works again.
            next = u64::conditional_select(&next, &candidate.saturating_add(1), hit);
            found |= hit;
        }
        Ok(if bool::from(found) {
            HotpVerdict::Valid { next_counter: next }
        } else {
            HotpVerdict::Invalid
        })
    }

    /// A typed code of this generator's kind: digits, or Steam's symbols.
    pub(crate) fn parse(&self, input: &str) -> Result<Code, Typo> {
        if self.digits == STEAM_LENGTH {
            Code::parse_steam_typed(input)
        } else {
            Code::parse_typed(input, self.digits)
        }
    }

    /// Whether the codes are Steam Guard's five characters.
    pub(crate) const fn is_steam(&self) -> bool {
        self.digits == STEAM_LENGTH
    }

    /// HMAC-SHA-1 HOTP whose codes are Steam Guard's five characters.
    pub(crate) fn steam(secret: Secret) -> Self {
        Self::build(secret, Algorithm::Sha1, STEAM_LENGTH)
    }

    /// Whether `code` is the code for `counter`, in constant time.
    pub(crate) fn matches(&self, code: &Code, counter: u64) -> subtle::Choice {
        Zeroizing::new(self.value(counter)).ct_eq(&code.value())
    }

    fn value(&self, counter: u64) -> u64 {
        let truncated = self.mac.truncated(counter);
        u64::from(self.modulus.map_or(truncated, |m| truncated % m))
    }

    /// The shared key.
    ///
    /// ```
    /// let secret = otpkit::Secret::generate();
    /// let hotp = otpkit::Hotp::new(secret.clone());
    /// assert_eq!(hotp.secret(), &secret);
    /// ```
    #[must_use]
    pub const fn secret(&self) -> &Secret {
        &self.secret
    }

    /// The hash under HMAC.
    ///
    /// ```
    /// assert_eq!(otpkit::Hotp::new(otpkit::Secret::generate()).algorithm(), otpkit::Algorithm::Sha1);
    /// ```
    #[must_use]
    pub const fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Digits per code, 6 to 10.
    ///
    /// ```
    /// assert_eq!(otpkit::Hotp::new(otpkit::Secret::generate()).digits(), 6);
    /// ```
    #[must_use]
    pub const fn digits(&self) -> u8 {
        self.digits
    }
}

pub(crate) fn check_digits(digits: u8) -> Result<(), Error> {
    if (6..=10).contains(&digits) {
        Ok(())
    } else {
        Err(Error::DigitsOutOfRange {
            digits: u32::from(digits),
        })
    }
}

impl fmt::Debug for Hotp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hotp")
            .field("algorithm", &self.algorithm)
            .field("digits", &self.digits)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::os;
    use alloc::string::ToString;

    #[test]
    fn look_ahead_at_the_end_of_the_counter_space() {
        let hotp = Hotp::new(Secret::generate_with_rng(crate::Algorithm::Sha1, &mut os()));
        let code = hotp.generate(u64::MAX - 1).to_string();
        assert_eq!(
            hotp.verify(&code, u64::MAX - 3, 10),
            Ok(HotpVerdict::Valid {
                next_counter: u64::MAX
            })
        );
        let last = hotp.generate(u64::MAX).to_string();
        // Counter u64::MAX has no successor to persist, so it never verifies.
        if last != code {
            assert_eq!(
                hotp.verify(&last, u64::MAX - 3, 10),
                Ok(HotpVerdict::Invalid)
            );
        }
    }
}
