//! A one-time code: a number with a fixed count of digits, or a Steam
//! Guard code of five characters.

use core::fmt;

use subtle::{Choice, ConstantTimeEq};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::typo::Typo;
use crate::error::Error;

/// A one-time code: a number shown with a fixed count of digits, leading
/// zeros kept; or a Steam Guard code, five characters of Steam's alphabet
/// ([`Totp::steam`](crate::Totp::steam)).
///
/// `Display` prints the digits a person types; `Debug` hides them.
/// Equality is constant time. The value is zeroized on drop.
///
/// ```
/// use otpkit::Code;
///
/// let code = Code::parse(" 012 345 ", 6)?;
/// assert_eq!(code.to_string(), "012345");
/// assert_eq!(code, Code::parse("012-345", 6)?);
/// assert_eq!(format!("{code:?}"), "Code { digits: 6, .. }");
/// # Ok::<(), otpkit::Error>(())
/// ```
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Code {
    value: u64,
    digits: u8,
}

impl Code {
    /// A code from its parts; `value < 10^digits` (or, for a Steam code of
    /// [`STEAM_LENGTH`] characters, `26^5`) is the caller's invariant.
    pub(crate) const fn new(value: u64, digits: u8) -> Self {
        Self { value, digits }
    }

    /// Parses a Steam Guard code as typed: five characters of Steam's
    /// alphabet (`23456789BCDFGHJKMNPQRTVWXY`), either case, surrounding
    /// white space ignored.
    ///
    /// # Errors
    /// [`Error::EmptyCode`], [`Error::InvalidCodeChar`] (a character outside
    /// the alphabet, with its position) or [`Error::WrongCodeLength`].
    ///
    /// ```
    /// use otpkit::{Code, Error};
    /// let code = Code::parse_steam(" 2bc9y ")?;
    /// assert_eq!((code.to_string(), code.is_steam()), ("2BC9Y".to_owned(), true));
    /// assert_eq!(Code::parse_steam("2BC0Y"), Err(Error::InvalidCodeChar { position: 3 }));
    /// assert_eq!(Code::parse_steam("2BC9"), Err(Error::WrongCodeLength { expected: 5, found: 4 }));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn parse_steam(input: &str) -> Result<Self, Error> {
        Ok(Self::parse_steam_typed(input)?)
    }

    /// [`Code::parse_steam`] with only typos as errors.
    pub(crate) fn parse_steam_typed(input: &str) -> Result<Self, Typo> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(Typo::EmptyCode);
        }
        let mut value = 0u64;
        let mut place = 1u64;
        let mut found = 0usize;
        for (position, c) in trimmed.chars().enumerate() {
            let symbol = u8::try_from(c.to_ascii_uppercase()).unwrap_or(0);
            let index = STEAM_ALPHABET
                .iter()
                .position(|&s| s == symbol)
                .ok_or(Typo::InvalidCodeChar { position })?;
            if found < usize::from(STEAM_LENGTH) {
                value = value.saturating_add(place.saturating_mul(index as u64));
                place = place.saturating_mul(26);
            }
            found = found.saturating_add(1);
        }
        if found != usize::from(STEAM_LENGTH) {
            return Err(Typo::WrongCodeLength {
                expected: STEAM_LENGTH,
                found,
            });
        }
        Ok(Self::new(value, STEAM_LENGTH))
    }

    /// Whether this is a Steam Guard code (five characters of Steam's
    /// alphabet) rather than digits.
    ///
    /// ```
    /// assert!(!otpkit::Code::parse("123456", 6)?.is_steam());
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub const fn is_steam(&self) -> bool {
        self.digits == STEAM_LENGTH
    }

    /// Parses what a person typed: surrounding white space is ignored, and a
    /// single space or hyphen may split the digits ("123 456", "1234-5678").
    /// Anything else is rejected, and the code must have exactly `digits`
    /// digits.
    ///
    /// # Errors
    /// [`Error::DigitsOutOfRange`] unless `6 <= digits <= 10` (wider codes
    /// are refused, never truncated or saturated); [`Error::EmptyCode`],
    /// [`Error::InvalidCodeChar`] (with the position, counted after
    /// trimming) or [`Error::WrongCodeLength`].
    ///
    /// ```
    /// use otpkit::{Code, Error};
    ///
    /// assert!(Code::parse("68084774", 8).is_ok());
    /// assert_eq!(Code::parse("12a456", 6), Err(Error::InvalidCodeChar { position: 2 }));
    /// assert_eq!(Code::parse("123 45 6", 6), Err(Error::InvalidCodeChar { position: 6 }));
    /// assert_eq!(Code::parse("12345", 6), Err(Error::WrongCodeLength { expected: 6, found: 5 }));
    /// assert_eq!(Code::parse(&"9".repeat(20), 20), Err(Error::DigitsOutOfRange { digits: 20 }));
    /// ```
    pub fn parse(input: &str, digits: u8) -> Result<Self, Error> {
        super::check_digits(digits)?;
        Ok(Self::parse_typed(input, digits)?)
    }

    /// [`Code::parse`] for a digit count already checked: only typos fail.
    pub(crate) fn parse_typed(input: &str, digits: u8) -> Result<Self, Typo> {
        let (value, found) = parse_digits(input)?;
        if found != usize::from(digits) {
            return Err(Typo::WrongCodeLength {
                expected: digits,
                found,
            });
        }
        Ok(Self { value, digits })
    }

    /// How many digits the code has (characters, for a Steam code: 5).
    ///
    /// ```
    /// assert_eq!(otpkit::Code::parse("1234567890", 10)?.digits(), 10);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub const fn digits(&self) -> u8 {
        self.digits
    }

    pub(crate) const fn value(&self) -> u64 {
        self.value
    }
}

/// Reads the digits of an entered code into a number and counts them.
///
/// The number is exact for up to 19 digits; a longer input still gets its
/// digits counted, never an overflow, and [`Code::parse`] then rejects it by
/// length (it accepts at most 10 digits), so a saturated value never
/// becomes a code.
fn parse_digits(input: &str) -> Result<(u64, usize), Typo> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(Typo::EmptyCode);
    }
    let mut value = 0u64;
    let mut count = 0usize;
    let mut separated = false;
    let mut previous_was_digit = false;
    let mut last_position = 0;
    // Every accepted character is ASCII, so up to the first rejected one a
    // byte index is a character position.
    for (position, b) in trimmed.bytes().enumerate() {
        last_position = position;
        match b {
            b'0'..=b'9' => {
                value = value
                    .checked_mul(10)
                    .and_then(|v| v.checked_add(u64::from(b.wrapping_sub(b'0'))))
                    .unwrap_or(u64::MAX);
                count = count.saturating_add(1);
                previous_was_digit = true;
            }
            b' ' | b'-' if previous_was_digit && !separated => {
                separated = true;
                previous_was_digit = false;
            }
            _ => return Err(Typo::InvalidCodeChar { position }),
        }
    }
    if !previous_was_digit {
        // A trailing hyphen: the only way to end on a separator after trim.
        return Err(Typo::InvalidCodeChar {
            position: last_position,
        });
    }
    Ok((value, count))
}

impl core::str::FromStr for Code {
    type Err = Error;

    /// Parses a code of any supported length (6 to 10 digits), taking its
    /// digit count from the input; separators as in [`Code::parse`].
    ///
    /// # Errors
    /// As [`Code::parse`]; [`Error::DigitsOutOfRange`] for fewer than 6 or
    /// more than 10 digits.
    ///
    /// ```
    /// let code: otpkit::Code = "0123 4567".parse()?;
    /// assert_eq!((code.digits(), code.to_string()), (8, "01234567".to_owned()));
    /// assert!("12345".parse::<otpkit::Code>().is_err());
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    fn from_str(input: &str) -> Result<Self, Error> {
        let (_, found) = parse_digits(input)?;
        let digits = u8::try_from(found).map_err(|_| Error::DigitsOutOfRange {
            digits: u32::try_from(found).unwrap_or(u32::MAX),
        })?;
        Self::parse(input, digits)
    }
}

/// Steam Guard's 26 symbols: digits and consonants that cannot be misread.
pub(crate) const STEAM_ALPHABET: &[u8; 26] = b"23456789BCDFGHJKMNPQRTVWXY";

/// A Steam Guard code's length: the engine's 5-character code kind (a
/// decimal code has 6 to 10 digits, so the two never meet).
pub(crate) const STEAM_LENGTH: u8 = 5;

/// `26^5`: the values a Steam code can show.
pub(crate) const STEAM_MODULUS: u32 = 11_881_376;

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_steam() {
            // Least significant symbol first, as Steam writes it.
            let mut rest = self.value;
            for _ in 0..STEAM_LENGTH {
                let index = usize::try_from(rest % 26).unwrap_or(0);
                let symbol = STEAM_ALPHABET.get(index).copied().unwrap_or(b'?');
                fmt::Write::write_char(f, char::from(symbol))?;
                rest /= 26;
            }
            return Ok(());
        }
        write!(
            f,
            "{:0width$}",
            self.value,
            width = usize::from(self.digits)
        )
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Code")
            .field("digits", &self.digits)
            .finish_non_exhaustive()
    }
}

impl ConstantTimeEq for Code {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.value.ct_eq(&other.value) & self.digits.ct_eq(&other.digits)
    }
}

impl PartialEq for Code {
    /// Constant time.
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for Code {}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::ToString;

    #[test]
    fn accepts_what_people_type() {
        for input in [
            "123456",
            " 123456\n",
            "123 456",
            "123-456",
            "1-23456",
            "\t12345-6 ",
        ] {
            assert_eq!(parse_digits(input), Ok((123_456, 6)), "{input:?}");
        }
    }

    #[test]
    fn rejects_everything_else() {
        let cases = [
            ("", Typo::EmptyCode),
            ("   ", Typo::EmptyCode),
            ("-123456", Typo::InvalidCodeChar { position: 0 }),
            ("123456-", Typo::InvalidCodeChar { position: 6 }),
            ("123--456", Typo::InvalidCodeChar { position: 4 }),
            ("123  456", Typo::InvalidCodeChar { position: 4 }),
            ("12 34 56", Typo::InvalidCodeChar { position: 5 }),
            ("１２３４５６", Typo::InvalidCodeChar { position: 0 }),
            ("١٢٣٤٥٦", Typo::InvalidCodeChar { position: 0 }),
            ("123_456", Typo::InvalidCodeChar { position: 3 }),
            ("+123456", Typo::InvalidCodeChar { position: 0 }),
        ];
        for (input, err) in cases {
            assert_eq!(parse_digits(input), Err(err), "{input:?}");
        }
    }

    #[test]
    fn long_inputs_count_without_overflow() {
        let long = "9".repeat(100);
        assert_eq!(parse_digits(&long).map(|(_, n)| n), Ok(100));
        assert_eq!(
            Code::parse(&long, 6),
            Err(Error::WrongCodeLength {
                expected: 6,
                found: 100
            })
        );
    }

    #[test]
    fn codes_wider_than_the_engine_are_refused_not_saturated() {
        let twenty = "9".repeat(20);
        let other = format!("{}8", "9".repeat(19));
        for digits in [0, 5, 11, 19, 20, 255] {
            assert_eq!(
                Code::parse(&twenty, digits),
                Err(Error::DigitsOutOfRange {
                    digits: u32::from(digits)
                })
            );
        }
        assert!(Code::parse(&other, 20).is_err());
    }

    #[test]
    fn display_pads() {
        assert_eq!(Code::new(42, 8).to_string(), "00000042");
    }
}
