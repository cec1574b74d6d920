//! HMAC (RFC 2104) of one 8-byte counter, with both pads hashed once.
//!
//! A code needs exactly two compression-function calls: the inner one over
//! the counter block, the outer one over the inner hash. The keyed states
//! are plain arrays copied per call, so signing neither allocates nor
//! re-keys, and nothing of the generic streaming machinery (block buffers,
//! length counters) runs per code. The compression functions are the
//! `sha1` and `sha2` crates'; the tests below check this module against
//! the `hmac` crate for keys of every length class.
//!
//! Why not RustCrypto's `hmac`, keyed once and cloned per code: measured in
//! one criterion run (`cargo bench --bench engine -- "hotp code"`, one
//! SHA-1 HOTP code from a keyed state, truncation included), this module
//! takes 126 ns a code against 151 ns for a clone of a keyed `Hmac<Sha1>`
//! (0.84×; 118 ns before the truncation became constant-address, below).
//! That margin is part of why a TOTP verification sits near its floor of
//! compressions and ahead of totp-rs (see the README's Speed section); it
//! is the only hand-written cryptographic glue in the crate, and it is
//! small and tested against `hmac` for that reason.
//!
//! Dynamic truncation (RFC 4226 §5.3) reads four bytes at an offset taken
//! from the MAC itself. Here it never indexes by that offset: the value at
//! each of the sixteen offsets is computed from the same digest words and
//! the right one kept by mask arithmetic, so the addresses read and the
//! branches taken do not depend on the MAC (no cache-timing signal about
//! the code). Cost, same run: about 8 ns a code.

use sha1::Digest;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::algorithm::Algorithm;

const IPAD: u8 = 0x36;
const OPAD: u8 = 0x5c;
const COUNTER_LEN: usize = 8;

/// One of the three hashes, seen as a compression function.
trait BlockHash {
    type State: Copy + Zeroize;
    type Block: Copy + AsRef<[u8]> + AsMut<[u8]> + Zeroize;
    /// FIPS 180-4 initial hash value.
    const IV: Self::State;
    const ZERO_BLOCK: Self::Block;
    /// The padded last block of the inner message, `K ^ ipad || counter`:
    /// the counter goes in its first 8 bytes.
    const INNER_TAIL: Self::Block;
    /// The padded last block of the outer message, `K ^ opad || inner hash`:
    /// the inner hash goes in its first bytes.
    const OUTER_TAIL: Self::Block;
    fn compress(state: &mut Self::State, block: &Self::Block);
    /// Writes the state's words big-endian from the start of `out`.
    fn write_state(state: &Self::State, out: &mut [u8]);
    /// Dynamic truncation (RFC 4226 §5.3) read straight off the final state:
    /// the digest is the state's words, big-endian.
    fn truncate(state: &Self::State) -> u32;
    /// The whole hash, for keys longer than a block (RFC 2104 §2).
    fn digest_into(data: &[u8], out: &mut [u8]);
}

struct Sha1;
struct Sha256;
struct Sha512;

impl BlockHash for Sha1 {
    type State = [u32; 5];
    type Block = [u8; 64];
    const IV: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    const ZERO_BLOCK: [u8; 64] = [0; 64];
    const INNER_TAIL: [u8; 64] = padded(COUNTER_LEN);
    const OUTER_TAIL: [u8; 64] = padded(20);
    fn compress(state: &mut [u32; 5], block: &[u8; 64]) {
        sha1::block_api::compress(state, core::slice::from_ref(block));
    }
    fn write_state(state: &[u32; 5], out: &mut [u8]) {
        write_words(state.iter().map(|w| w.to_be_bytes()), out);
    }
    fn truncate(state: &[u32; 5]) -> u32 {
        truncate_words32(state)
    }
    fn digest_into(data: &[u8], out: &mut [u8]) {
        put(out, &sha1::Sha1::digest(data));
    }
}

impl BlockHash for Sha256 {
    type State = [u32; 8];
    type Block = [u8; 64];
    const IV: [u32; 8] = [
        0x6a09_e667,
        0xbb67_ae85,
        0x3c6e_f372,
        0xa54f_f53a,
        0x510e_527f,
        0x9b05_688c,
        0x1f83_d9ab,
        0x5be0_cd19,
    ];
    const ZERO_BLOCK: [u8; 64] = [0; 64];
    const INNER_TAIL: [u8; 64] = padded(COUNTER_LEN);
    const OUTER_TAIL: [u8; 64] = padded(32);
    fn compress(state: &mut [u32; 8], block: &[u8; 64]) {
        sha2::block_api::compress256(state, core::slice::from_ref(block));
    }
    fn write_state(state: &[u32; 8], out: &mut [u8]) {
        write_words(state.iter().map(|w| w.to_be_bytes()), out);
    }
    fn truncate(state: &[u32; 8]) -> u32 {
        truncate_words32(state)
    }
    fn digest_into(data: &[u8], out: &mut [u8]) {
        put(out, &sha2::Sha256::digest(data));
    }
}

impl BlockHash for Sha512 {
    type State = [u64; 8];
    type Block = [u8; 128];
    const IV: [u64; 8] = [
        0x6a09_e667_f3bc_c908,
        0xbb67_ae85_84ca_a73b,
        0x3c6e_f372_fe94_f82b,
        0xa54f_f53a_5f1d_36f1,
        0x510e_527f_ade6_82d1,
        0x9b05_688c_2b3e_6c1f,
        0x1f83_d9ab_fb41_bd6b,
        0x5be0_cd19_137e_2179,
    ];
    const ZERO_BLOCK: [u8; 128] = [0; 128];
    const INNER_TAIL: [u8; 128] = padded(COUNTER_LEN);
    const OUTER_TAIL: [u8; 128] = padded(64);
    fn compress(state: &mut [u64; 8], block: &[u8; 128]) {
        sha2::block_api::compress512(state, core::slice::from_ref(block));
    }
    fn write_state(state: &[u64; 8], out: &mut [u8]) {
        write_words(state.iter().map(|w| w.to_be_bytes()), out);
    }
    fn truncate(state: &[u64; 8]) -> u32 {
        // The digest's last byte is the low byte of the last word; the four
        // bytes at `offset <= 15` lie in words 0 and 1, or 1 and 2.
        let offset = state.last().map_or(0, |w| (w & 0x0f) as u8);
        let word = |i: usize| u128::from(state.get(i).copied().unwrap_or(0));
        let (low, high) = ((word(0) << 64) | word(1), (word(1) << 64) | word(2));
        select_candidate(offset, |k| {
            let pair = if k < 8 { low } else { high };
            ((pair >> 96u32.wrapping_sub(u32::from(k % 8).wrapping_mul(8))) as u32) & 0x7fff_ffff
        })
    }
    fn digest_into(data: &[u8], out: &mut [u8]) {
        put(out, &sha2::Sha512::digest(data));
    }
}

/// [`BlockHash::truncate`] for digests of 32-bit words: the four bytes at
/// `offset <= 15` lie in words `offset / 4` and the next, both within the
/// 5 words of the shortest digest.
fn truncate_words32(state: &[u32]) -> u32 {
    let offset = state.last().map_or(0, |w| (w & 0x0f) as u8);
    let word = |i: usize| u64::from(state.get(i).copied().unwrap_or(0));
    let pairs = [
        (word(0) << 32) | word(1),
        (word(1) << 32) | word(2),
        (word(2) << 32) | word(3),
        (word(3) << 32) | word(4),
    ];
    select_candidate(offset, |k| {
        let pair = pairs.get(usize::from(k / 4)).copied().unwrap_or(0);
        ((pair >> 32u32.wrapping_sub(u32::from(k % 4).wrapping_mul(8))) as u32) & 0x7fff_ffff
    })
}

/// Dynamic truncation (RFC 4226 §5.3) without a secret-dependent address:
/// the value at every one of the sixteen offsets is computed from the same
/// words, and the one at `offset` (the digest's last nibble, which says
/// something about the code) is kept with constant-time masks, so the
/// memory touched and the branches taken are the same for every MAC.
fn select_candidate(offset: u8, candidate: impl Fn(u8) -> u32) -> u32 {
    // One optimization barrier on the offset, then plain mask arithmetic:
    // `all_ones` is 0xffff_ffff exactly when k == offset (the difference,
    // below 16, minus one borrows into the top bit only at zero), with no
    // comparison for the compiler to turn into a branch.
    let offset = u32::from(core::hint::black_box(offset));
    let mut chosen = 0u32;
    for k in 0..16u8 {
        let difference = u32::from(k) ^ offset;
        let all_ones = 0u32.wrapping_sub(difference.wrapping_sub(1) >> 31);
        chosen |= candidate(k) & all_ones;
    }
    chosen
}

/// The final block of a message of one key block plus `len` bytes, those
/// bytes left zero: the `0x80` marker after them, then the message length
/// in bits at the end (FIPS 180-4 §5.1.1 and §5.1.2; the low 64 bits of
/// SHA-512's 128-bit length field suffice).
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)] // evaluated at compile time
const fn padded<const B: usize>(len: usize) -> [u8; B] {
    let mut block = [0u8; B];
    block[len] = 0x80;
    let bits = ((B + len) * 8) as u64;
    let bytes = bits.to_be_bytes();
    let mut i = 0;
    while i < 8 {
        block[B - 8 + i] = bytes[i];
        i += 1;
    }
    block
}

/// Overwrites `block` with zeros and keeps the compiler from dropping the
/// store. `Zeroize` writes byte by byte through volatile pointers, which
/// costs a cycle a byte; this is two vector stores, which `black_box`
/// forces to happen. Best effort, as all zeroing in safe Rust is.
fn wipe<B: AsMut<[u8]>>(block: &mut B) {
    block.as_mut().fill(0);
    core::hint::black_box(block.as_mut());
}

/// Copies `bytes` to the start of `buf`, as far as `buf` reaches.
fn put(buf: &mut [u8], bytes: &[u8]) {
    buf.iter_mut().zip(bytes).for_each(|(dst, src)| *dst = *src);
}

fn write_words<const W: usize>(words: impl Iterator<Item = [u8; W]>, out: &mut [u8]) {
    for (chunk, word) in out.chunks_exact_mut(W).zip(words) {
        chunk.copy_from_slice(&word);
    }
}

/// The inner and outer states after the padded key's block: key-equivalent,
/// so zeroized on drop.
struct Pads<H: BlockHash> {
    inner: H::State,
    outer: H::State,
}

impl<H: BlockHash> Pads<H> {
    fn new(key: &[u8]) -> Self {
        let mut block = H::ZERO_BLOCK;
        if key.len() > block.as_ref().len() {
            H::digest_into(key, block.as_mut());
        } else {
            put(block.as_mut(), key);
        }
        let mut pad = |byte: u8| {
            block.as_mut().iter_mut().for_each(|b| *b ^= byte);
            let mut state = H::IV;
            H::compress(&mut state, &block);
            state
        };
        let inner = pad(IPAD);
        let outer = pad(IPAD ^ OPAD);
        wipe(&mut block);
        Self { inner, outer }
    }

    /// HMAC(key, counter), dynamically truncated (RFC 4226 §5.3).
    ///
    /// The states are copied and compressed in place, so no copy of a pad
    /// state outlives the call; the blocks hold only the public counter and
    /// the inner hash, which without the outer pad says nothing of the key.
    /// The final state (the full MAC) is zeroized.
    fn sign_truncated(&self, counter: u64) -> u32 {
        let mut block = H::INNER_TAIL;
        // The counter and the 0x80 marker after it, as one 16-byte store.
        let head = (u128::from(counter) << 64) | (0x80 << 56);
        put(block.as_mut(), &head.to_be_bytes());
        let mut state = self.inner;
        H::compress(&mut state, &block);

        block = H::OUTER_TAIL;
        H::write_state(&state, block.as_mut());
        state = self.outer;
        H::compress(&mut state, &block);

        let truncated = H::truncate(&state);
        state.zeroize();
        truncated
    }
}

impl<H: BlockHash> Clone for Pads<H> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner,
            outer: self.outer,
        }
    }
}

impl<H: BlockHash> Drop for Pads<H> {
    fn drop(&mut self) {
        self.inner.zeroize();
        self.outer.zeroize();
    }
}

impl<H: BlockHash> ZeroizeOnDrop for Pads<H> {}

/// HMAC keyed once for one of the three hashes.
#[derive(Clone)]
pub(crate) struct KeyedMac(Keyed);

#[derive(Clone)]
enum Keyed {
    Sha1(Pads<Sha1>),
    Sha256(Pads<Sha256>),
    Sha512(Pads<Sha512>),
}

impl KeyedMac {
    pub(crate) fn new(algorithm: Algorithm, key: &[u8]) -> Self {
        Self(match algorithm {
            Algorithm::Sha1 => Keyed::Sha1(Pads::new(key)),
            Algorithm::Sha256 => Keyed::Sha256(Pads::new(key)),
            Algorithm::Sha512 => Keyed::Sha512(Pads::new(key)),
        })
    }

    /// RFC 4226 §5.3: HMAC of the 8-byte big-endian counter, dynamically
    /// truncated to 31 bits.
    pub(crate) fn truncated(&self, counter: u64) -> u32 {
        match &self.0 {
            Keyed::Sha1(pads) => pads.sign_truncated(counter),
            Keyed::Sha256(pads) => pads.sign_truncated(counter),
            Keyed::Sha512(pads) => pads.sign_truncated(counter),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use hmac::{Hmac, KeyInit, Mac};

    fn reference<M: Mac + KeyInit>(key: &[u8], counter: u64) -> u32 {
        let mac = <M as KeyInit>::new_from_slice(key)
            .unwrap()
            .chain_update(counter.to_be_bytes())
            .finalize()
            .into_bytes();
        // RFC 4226 §5.3, byte by byte.
        let offset = usize::from(mac[mac.len() - 1] & 0x0f);
        u32::from_be_bytes(mac[offset..offset + 4].try_into().unwrap()) & 0x7fff_ffff
    }

    #[test]
    fn agrees_with_the_hmac_crate_for_every_key_length() {
        for len in (1..=300).step_by(7).chain([63, 64, 65, 127, 128, 129]) {
            let key: Vec<u8> = (0..len).map(|i| (i * 31 + len) as u8).collect();
            for counter in [0, 1, 0x0123_4567_89ab_cdef, u64::MAX] {
                let ours = |alg| KeyedMac::new(alg, &key).truncated(counter);
                assert_eq!(
                    ours(Algorithm::Sha1),
                    reference::<Hmac<sha1::Sha1>>(&key, counter)
                );
                assert_eq!(
                    ours(Algorithm::Sha256),
                    reference::<Hmac<sha2::Sha256>>(&key, counter)
                );
                assert_eq!(
                    ours(Algorithm::Sha512),
                    reference::<Hmac<sha2::Sha512>>(&key, counter)
                );
            }
        }
    }

    #[test]
    fn truncation_matches_rfc_4226_section_5_4() {
        // The example digest of §5.4 as SHA-1 state words.
        let state = [
            0x1f86_9869,
            0x0e02_ca16,
            0x6185_50ef,
            0x7f19_da8e,
            0x945b_555a,
        ];
        assert_eq!(Sha1::truncate(&state), 0x50ef_7f19);
    }

    #[test]
    fn sha512_truncation_at_every_offset() {
        for offset in 0..16u64 {
            let state = [
                0x0001_0203_0405_0607,
                0x0809_0a0b_0c0d_0e0f,
                0x1011_1213_1415_1617,
                0,
                0,
                0,
                0,
                offset,
            ];
            let o = offset as u32;
            let expected = u32::from_be_bytes([o as u8, o as u8 + 1, o as u8 + 2, o as u8 + 3]);
            assert_eq!(
                Sha512::truncate(&state),
                expected & 0x7fff_ffff,
                "offset {offset}"
            );
        }
    }

    /// With RFC 4226's key, a counter whose HMAC ends in each of the
    /// sixteen offsets, for each hash: the masked selection gives what
    /// §5.3's byte-by-byte truncation gives (the RFC's own ten counters,
    /// in `tests/rfc_vectors.rs`, reach only some offsets).
    #[test]
    fn every_offset_truncates_as_rfc_4226_section_5_3() {
        let key = b"12345678901234567890";
        fn last_nibble<M: Mac + KeyInit>(key: &[u8], counter: u64) -> u8 {
            let mac = <M as KeyInit>::new_from_slice(key)
                .unwrap()
                .chain_update(counter.to_be_bytes())
                .finalize()
                .into_bytes();
            mac[mac.len() - 1] & 0x0f
        }
        for (algorithm, nibble, reference) in [
            (
                Algorithm::Sha1,
                last_nibble::<Hmac<sha1::Sha1>> as fn(&[u8], u64) -> u8,
                reference::<Hmac<sha1::Sha1>> as fn(&[u8], u64) -> u32,
            ),
            (
                Algorithm::Sha256,
                last_nibble::<Hmac<sha2::Sha256>>,
                reference::<Hmac<sha2::Sha256>>,
            ),
            (
                Algorithm::Sha512,
                last_nibble::<Hmac<sha2::Sha512>>,
                reference::<Hmac<sha2::Sha512>>,
            ),
        ] {
            let ours = KeyedMac::new(algorithm, key);
            let mut seen = [false; 16];
            for counter in 0u64.. {
                let offset = usize::from(nibble(key, counter));
                if !seen[offset] {
                    seen[offset] = true;
                    assert_eq!(
                        ours.truncated(counter),
                        reference(key, counter),
                        "{algorithm:?}, offset {offset}, counter {counter}"
                    );
                }
                if seen.iter().all(|&s| s) {
                    break;
                }
            }
        }
        // The RFC's counter 0 (offset 0xa) and §5.4's example stay exact.
        assert_eq!(
            KeyedMac::new(Algorithm::Sha1, key).truncated(0) % 1_000_000,
            755_224
        );
    }

    #[test]
    fn words32_truncation_at_every_offset() {
        for offset in 0..16u32 {
            let state = [
                0x0001_0203,
                0x0405_0607,
                0x0809_0a0b,
                0x0c0d_0e0f,
                0x1011_1200 | offset,
            ];
            let o = offset as u8;
            let expected = u32::from_be_bytes([o, o + 1, o + 2, o + 3]);
            assert_eq!(
                Sha1::truncate(&state),
                expected & 0x7fff_ffff,
                "offset {offset}"
            );
        }
    }
}
