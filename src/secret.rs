//! The shared key: generation, Base32 in and out, zeroizing.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec;
use core::fmt;
use core::str::FromStr;

use crate::random::CryptoRng;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::algorithm::Algorithm;
use crate::error::Error;

/// The shortest key accepted without opting in to legacy keys: 128 bits
/// (RFC 4226 §4, requirement R6).
const MIN_BYTES: usize = 16;
/// The shortest legacy key accepted on request: 80 bits, what older
/// services issued; anything shorter is guessable offline.
const MIN_LEGACY_BYTES: usize = 10;

const BASE32: base32::Alphabet = base32::Alphabet::Rfc4648 { padding: false };

/// The key an authenticator app and the server share.
///
/// It lives on the heap, is zeroized when dropped, compares in constant
/// time, and has no `Display`: its `Debug` prints `Secret([REDACTED])`. The
/// bytes are reachable through [`Secret::expose_secret`] and the canonical
/// Base32 text through [`Secret::to_base32`], two greppable calls.
///
/// ```
/// use otpkit::Secret;
///
/// // What a person types from an enrollment page: lower case, spaces, padding.
/// let secret: Secret = "gezd gnbv gy3t qojq gezd gnbv gy3t qojq".parse()?;
/// assert_eq!(secret.expose_secret(), b"1234567890123456789012345678901234567890"[..20].as_ref());
/// assert_eq!(&*secret.to_base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
/// assert_eq!(format!("{secret:?}"), "Secret([REDACTED])");
/// # Ok::<(), otpkit::Error>(())
/// ```
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Secret {
    bytes: Box<[u8]>,
}

impl Secret {
    /// A fresh 160-bit key from the operating system's RNG: the length
    /// RFC 4226 §4 recommends and every authenticator app accepts.
    ///
    /// # Panics
    /// Only if the operating system cannot supply random bytes, in which
    /// case no key could be trusted.
    ///
    /// ```
    /// let a = otpkit::Secret::generate();
    /// let b = otpkit::Secret::generate();
    /// assert_eq!(a.len(), 20);
    /// assert_ne!(a, b);
    /// ```
    #[cfg(feature = "std")]
    #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
    #[must_use]
    pub fn generate() -> Self {
        Self::generate_for(Algorithm::Sha1)
    }

    /// A fresh key as long as `algorithm`'s output (20, 32 or 64 bytes), as
    /// RFC 6238 §5.1 and its test vectors use.
    ///
    /// # Panics
    /// Only if the operating system cannot supply random bytes.
    ///
    /// ```
    /// use otpkit::{Algorithm, Secret};
    /// assert_eq!(Secret::generate_for(Algorithm::Sha512).len(), 64);
    /// ```
    #[cfg(feature = "std")]
    #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
    #[must_use]
    pub fn generate_for(algorithm: Algorithm) -> Self {
        Self::generate_with_rng(algorithm, &mut crate::random::os())
    }

    /// [`Secret::generate_for`] with the bytes drawn from `rng`: for
    /// builds without `std` (a token's hardware RNG, a browser's
    /// `crypto.getRandomValues`), or a deterministic generator in tests.
    ///
    /// ```
    /// use otpkit::{Algorithm, Secret};
    /// use rand::{rand_core::UnwrapErr, rngs::SysRng};
    /// let mut rng = UnwrapErr(SysRng); // any `otpkit::rand_core::CryptoRng`
    /// assert_eq!(Secret::generate_with_rng(Algorithm::Sha256, &mut rng).len(), 32);
    /// ```
    #[must_use]
    pub fn generate_with_rng<R: CryptoRng + ?Sized>(algorithm: Algorithm, rng: &mut R) -> Self {
        let mut bytes = vec![0u8; algorithm.key_len()].into_boxed_slice();
        rng.fill_bytes(&mut bytes);
        Self { bytes }
    }

    /// A key from raw bytes, at least 128 bits long.
    ///
    /// # Errors
    /// [`Error::EmptySecret`] or [`Error::SecretTooShort`].
    ///
    /// ```
    /// let secret = otpkit::Secret::from_bytes(b"12345678901234567890")?;
    /// assert_eq!(secret.len(), 20);
    /// assert!(otpkit::Secret::from_bytes(b"short").is_err());
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        check_length(bytes.len())?;
        Ok(Self {
            bytes: bytes.into(),
        })
    }

    /// A key from raw bytes of any non-zero length, for legacy deployments
    /// that issued keys shorter than 128 bits (80-bit keys were common).
    /// Prefer [`Secret::from_bytes`] for anything new.
    ///
    /// # Errors
    /// [`Error::EmptySecret`].
    ///
    /// ```
    /// let legacy = otpkit::Secret::from_bytes_allow_short(b"0123456789")?;
    /// assert_eq!(legacy.len(), 10);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn from_bytes_allow_short(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.is_empty() {
            return Err(Error::EmptySecret);
        }
        if bytes.len() < MIN_LEGACY_BYTES {
            return Err(Error::LegacySecretTooShort {
                bits: bytes.len().saturating_mul(8),
            });
        }
        Ok(Self {
            bytes: bytes.into(),
        })
    }

    /// A key from Base32 (RFC 4648 §6) as people and apps write it: any case,
    /// spaces, hyphens and line breaks anywhere, `=` padding present (then
    /// exactly as RFC 4648 requires) or absent. The key must be at least 128
    /// bits; see [`Secret::from_base32_allow_short`] for legacy keys.
    ///
    /// [`FromStr`] does the same.
    ///
    /// # Errors
    /// [`Error::InvalidBase32Char`], [`Error::InvalidBase32Length`],
    /// [`Error::InvalidBase32Padding`], [`Error::EmptySecret`] or
    /// [`Error::SecretTooShort`].
    ///
    /// ```
    /// use otpkit::{Error, Secret};
    ///
    /// let secret = Secret::from_base32("JBSW-Y3DP-EHPK-3PXP-JBSW-Y3DP-EHPK-3PXP")?;
    /// assert_eq!(secret.len(), 20);
    /// assert_eq!(Secret::from_base32("JBSWY3DPEHPK3PXP"), Err(Error::SecretTooShort { bits: 80 }));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn from_base32(text: &str) -> Result<Self, Error> {
        let secret = Self::from_base32_allow_short(text)?;
        check_length(secret.len())?;
        Ok(secret)
    }

    /// Like [`Secret::from_base32`], but accepts keys shorter than 128 bits,
    /// such as the 80-bit keys of older deployments.
    ///
    /// # Errors
    /// As [`Secret::from_base32`], except [`Error::SecretTooShort`].
    ///
    /// ```
    /// let legacy = otpkit::Secret::from_base32_allow_short("JBSWY3DPEHPK3PXP")?;
    /// assert_eq!(legacy.expose_secret(), b"Hello!\xde\xad\xbe\xef");
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn from_base32_allow_short(text: &str) -> Result<Self, Error> {
        let symbols = normalize_base32(text)?;
        let decoded = Zeroizing::new(base32::decode(BASE32, &symbols).ok_or(
            Error::InvalidBase32Length {
                length: symbols.len(),
            },
        )?);
        Self::from_bytes_allow_short(&decoded)
    }

    /// A key from hex, as django-otp and some databases store it (either
    /// case, white space ignored); at least 128 bits.
    ///
    /// # Errors
    /// [`Error::InvalidHex`] for anything but an even number of hex digits;
    /// [`Error::SecretTooShort`] under 128 bits.
    ///
    /// ```
    /// let secret = otpkit::Secret::from_hex("3132333435363738393031323334353637383930")?;
    /// assert_eq!(secret.expose_secret(), b"12345678901234567890");
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn from_hex(text: &str) -> Result<Self, Error> {
        let secret = Self::from_hex_allow_short(text)?;
        check_length(secret.len())?;
        Ok(secret)
    }

    /// Like [`Secret::from_hex`], but accepts keys shorter than 128 bits,
    /// for importing legacy enrollments.
    ///
    /// # Errors
    /// As [`Secret::from_hex`], except [`Error::SecretTooShort`].
    ///
    /// ```
    /// assert_eq!(otpkit::Secret::from_hex_allow_short("48656c6c6f21deadbeef")?.len(), 10);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn from_hex_allow_short(text: &str) -> Result<Self, Error> {
        // Sized once: a growing string would free copies of the key.
        let mut compact = Zeroizing::new(String::with_capacity(text.len()));
        compact.extend(text.chars().filter(|c| !c.is_whitespace()));
        let bytes = crate::encoding::hex::decode_zeroizing(&compact).ok_or(Error::InvalidHex)?;
        Self::from_bytes_allow_short(&bytes)
    }

    /// The canonical text form: upper-case RFC 4648 Base32 without padding,
    /// as otpauth:// URIs carry it. Zeroized when dropped.
    ///
    /// ```
    /// let secret = otpkit::Secret::from_bytes(b"12345678901234567890")?;
    /// assert_eq!(&*secret.to_base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub fn to_base32(&self) -> Zeroizing<String> {
        encode_base32(&self.bytes)
    }

    /// The key bytes. Every read of key material goes through this one
    /// greppable method.
    ///
    /// ```
    /// let secret = otpkit::Secret::from_bytes(&[7; 16])?;
    /// assert_eq!(secret.expose_secret(), &[7; 16]);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub fn expose_secret(&self) -> &[u8] {
        &self.bytes
    }

    /// The key length in bytes.
    ///
    /// ```
    /// assert_eq!(otpkit::Secret::generate().len(), 20);
    /// ```
    #[must_use]
    #[allow(clippy::len_without_is_empty)] // a secret is never empty
    pub fn len(&self) -> usize {
        self.bytes.len()
    }
}

fn check_length(len: usize) -> Result<(), Error> {
    match len {
        0 => Err(Error::EmptySecret),
        n if n < MIN_BYTES => Err(Error::SecretTooShort {
            bits: n.saturating_mul(8),
        }),
        _ => Ok(()),
    }
}

/// Upper-cases the Base32 symbols of `text` and drops separators, checking
/// characters, padding and length on the way.
/// RFC 4648 Base32 without padding, into a buffer sized exactly once.
///
/// `base32::encode` under-reserves (5 bytes per 4 input bytes rather than 8
/// per 5) and reallocates mid-way, freeing a prefix of the key unwiped; this
/// never reallocates.
fn encode_base32(bytes: &[u8]) -> Zeroizing<String> {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let bits = bytes.len().saturating_mul(8);
    let mut out = Zeroizing::new(String::with_capacity(bits.div_ceil(5)));
    let mut buffer = 0u16;
    let mut held = 0u32;
    for &byte in bytes {
        buffer = (buffer << 8) | u16::from(byte);
        held = held.saturating_add(8);
        while held >= 5 {
            held = held.saturating_sub(5);
            let index = usize::from((buffer >> held) & 0x1f);
            out.push(ALPHABET.get(index).map_or('A', |&b| char::from(b)));
        }
        buffer &= (1u16 << held).wrapping_sub(1);
    }
    if held > 0 {
        let index = usize::from((buffer << (5u32.saturating_sub(held))) & 0x1f);
        out.push(ALPHABET.get(index).map_or('A', |&b| char::from(b)));
    }
    out
}

fn normalize_base32(text: &str) -> Result<Zeroizing<String>, Error> {
    let mut symbols = Zeroizing::new(String::with_capacity(text.len()));
    let mut padding = 0usize;
    for (position, c) in text.chars().enumerate() {
        match c {
            c if c.is_ascii_whitespace() || c == '-' => {}
            '=' => padding = padding.saturating_add(1),
            'a'..='z' | 'A'..='Z' | '2'..='7' if padding == 0 => {
                symbols.push(c.to_ascii_uppercase());
            }
            'a'..='z' | 'A'..='Z' | '2'..='7' => return Err(Error::InvalidBase32Padding),
            _ => return Err(Error::InvalidBase32Char { position }),
        }
    }
    let length = symbols.len();
    if length == 0 {
        return Err(Error::EmptySecret);
    }
    // RFC 4648 §6: the final quantum has 2, 4, 5 or 7 symbols (or a full 8),
    // padded with 6, 4, 3 or 1 `=` respectively.
    let required_padding = match length % 8 {
        0 => 0,
        2 => 6,
        4 => 4,
        5 => 3,
        7 => 1,
        _ => return Err(Error::InvalidBase32Length { length }),
    };
    if padding != 0 && padding != required_padding {
        return Err(Error::InvalidBase32Padding);
    }
    Ok(symbols)
}

impl FromStr for Secret {
    type Err = Error;

    /// Same as [`Secret::from_base32`].
    fn from_str(text: &str) -> Result<Self, Error> {
        Self::from_base32(text)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

impl PartialEq for Secret {
    /// Constant time in the contents; the lengths may leak.
    fn eq(&self, other: &Self) -> bool {
        self.bytes.ct_eq(&other.bytes).into()
    }
}

impl Eq for Secret {}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::ToString;
    use alloc::vec::Vec;

    #[test]
    fn our_encoder_agrees_with_the_base32_crate_at_every_length() {
        let bytes: Vec<u8> = (0u8..=255).rev().collect();
        for len in 0..=70 {
            let data = &bytes[..len];
            assert_eq!(
                *encode_base32(data),
                base32::encode(BASE32, data),
                "{len} bytes"
            );
        }
    }

    #[test]
    fn padding_rules() {
        // 16 bytes = 26 symbols + 6 padding.
        let unpadded = "GEZDGNBVGY3TQOJQGEZDGNBVGY";
        assert!(Secret::from_base32(unpadded).is_ok());
        assert!(Secret::from_base32(&format!("{unpadded}======")).is_ok());
        assert_eq!(
            Secret::from_base32(&format!("{unpadded}===")),
            Err(Error::InvalidBase32Padding)
        );
        assert_eq!(
            Secret::from_base32(&format!("{unpadded}==A")),
            Err(Error::InvalidBase32Padding)
        );
        assert_eq!(
            Secret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ="),
            Err(Error::InvalidBase32Padding)
        );
    }

    #[test]
    fn rejects_impossible_lengths_and_characters() {
        assert_eq!(
            Secret::from_base32_allow_short("ABC"),
            Err(Error::InvalidBase32Length { length: 3 })
        );
        assert_eq!(
            Secret::from_base32_allow_short("AB1"),
            Err(Error::InvalidBase32Char { position: 2 })
        );
        assert_eq!(Secret::from_base32(" - "), Err(Error::EmptySecret));
        assert_eq!(
            Secret::from_base32_allow_short("ÄB"),
            Err(Error::InvalidBase32Char { position: 0 })
        );
    }

    #[test]
    fn errors_never_echo_the_input() {
        let err = Secret::from_base32("SECRETSECRET!").unwrap_err();
        assert!(!err.to_string().contains("SECRET"));
    }
}
