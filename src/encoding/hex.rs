//! Lower-case hex for salts and hashes in stored records.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;

/// `bytes` as lower-case hex.
pub(crate) fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().saturating_mul(2));
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// `bytes` as lower-case hex in a string wiped on drop, sized once.
pub(crate) fn encode_zeroizing(bytes: &[u8]) -> zeroize::Zeroizing<String> {
    let mut out = zeroize::Zeroizing::new(String::with_capacity(bytes.len().saturating_mul(2)));
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Decodes hex (either case) of any whole number of bytes into a buffer
/// wiped on drop.
pub(crate) fn decode_zeroizing(text: &str) -> Option<zeroize::Zeroizing<Vec<u8>>> {
    if !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = zeroize::Zeroizing::new(Vec::with_capacity(text.len() / 2));
    for pair in text.as_bytes().chunks_exact(2) {
        let pair = core::str::from_utf8(pair).ok()?;
        out.push(u8::from_str_radix(pair, 16).ok()?);
    }
    Some(out)
}

/// Decodes hex (either case) of exactly `N` bytes.
pub(crate) fn decode<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != N.checked_mul(2)? {
        return None;
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
        // `from_str_radix` would take a leading `+`.
        if !pair.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        let pair = core::str::from_utf8(pair).ok()?;
        *byte = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip_and_rejects() {
        assert_eq!(super::encode(&[0, 0xab, 0x10]), "00ab10");
        assert_eq!(super::decode::<3>("00AB10"), Some([0, 0xab, 0x10]));
        assert_eq!(super::decode::<3>("00ab1"), None);
        assert_eq!(super::decode::<2>("0g00"), None);
        assert_eq!(super::decode::<2>("+1+1"), None);
        assert_eq!(super::decode::<1>("é"), None);
    }
}
