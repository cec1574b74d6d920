//! Base64 (RFC 4648 §4) for Google Authenticator's export payloads: read
//! in the standard or the URL-safe alphabet, padded or not; written
//! standard and padded. The payload holds secrets, so the decoded bytes go
//! into a buffer that is wiped on drop and never grows.

use alloc::string::String;
use alloc::vec::Vec;

use zeroize::Zeroizing;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The 6-bit value of a Base64 symbol, either alphabet (a space stands for
/// a `+` a form decoder turned into one).
fn sextet(symbol: u8) -> Option<u8> {
    Some(match symbol {
        b'A'..=b'Z' => symbol.wrapping_sub(b'A'),
        b'a'..=b'z' => symbol.wrapping_sub(b'a').wrapping_add(26),
        b'0'..=b'9' => symbol.wrapping_sub(b'0').wrapping_add(52),
        b'+' | b'-' | b' ' => 62,
        b'/' | b'_' => 63,
        _ => return None,
    })
}

/// Decodes `text`; `None` for a symbol outside both alphabets, padding
/// anywhere but the end, or a length no encoding has.
pub(crate) fn decode(text: &str) -> Option<Zeroizing<Vec<u8>>> {
    let body = text.trim_end_matches('=');
    if text.len().saturating_sub(body.len()) > 2 || body.len() % 4 == 1 {
        return None;
    }
    let mut out = Zeroizing::new(Vec::with_capacity(body.len().saturating_mul(3) / 4));
    let mut acc = 0u32;
    let mut bits = 0u32;
    for &symbol in body.as_bytes() {
        acc = (acc << 6) | u32::from(sextet(symbol)?);
        bits = bits.saturating_add(6);
        if bits >= 8 {
            bits = bits.saturating_sub(8);
            out.push(u8::try_from((acc >> bits) & 0xff).ok()?);
        }
        acc &= (1u32 << bits).wrapping_sub(1);
    }
    Some(out)
}

/// Encodes `bytes`, standard alphabet, padded, into a wiped string.
pub(crate) fn encode(bytes: &[u8]) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(
        bytes.len().div_ceil(3).saturating_mul(4),
    ));
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                let index = usize::try_from((n >> shift) & 63).unwrap_or(0);
                out.push(char::from(ALPHABET.get(index).copied().unwrap_or(b'A')));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_4648_vectors_both_ways() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode(plain.as_bytes()).as_str(), encoded);
            assert_eq!(decode(encoded).unwrap().as_slice(), plain.as_bytes());
            assert_eq!(
                decode(encoded.trim_end_matches('=')).unwrap().as_slice(),
                plain.as_bytes()
            );
        }
    }

    #[test]
    fn both_alphabets_and_refusals() {
        assert_eq!(
            decode("-_8=").unwrap().as_slice(),
            decode("+/8=").unwrap().as_slice()
        );
        assert_eq!(
            decode(" /8=").unwrap().as_slice(),
            decode("+/8=").unwrap().as_slice()
        );
        for bad in ["Z", "Zg===", "Z=g=", "Zm9v!", "Zm9vY"] {
            assert!(decode(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn round_trips_every_length() {
        let bytes: Vec<u8> = (0..=255).collect();
        for n in 0..bytes.len() {
            assert_eq!(
                decode(&encode(&bytes[..n])).unwrap().as_slice(),
                &bytes[..n]
            );
        }
    }
}
