//! Backup (recovery) codes: generated once, stored only as hashes, used once.
//!
//! # Entropy
//!
//! Codes are drawn uniformly from the OS RNG over 31 symbols with no
//! look-alikes (`23456789abcdefghjkmnpqrstuvwxyz`: no `0`/`o`, `1`/`l`/`i`),
//! log2(31) ≈ 4.95 bits a symbol:
//!
//! | length | bits per code |
//! |---|---|
//! | 8 (minimum) | 39.6 |
//! | 10 (default) | 49.5 |
//! | 12 | 59.4 |
//! | 16 | 79.3 |
//! | 24 (maximum) | 118.9 |
//!
//! # The default, and the rules it meets
//!
//! Backup codes are what NIST SP 800-63B calls *look-up secrets*. It asks
//! that they be stored salted and hashed, and that one with less than 112
//! bits of entropy be hashed with an approved key-derivation function
//! (PBKDF2 is one) so that a stolen store costs an attacker a slow hash per
//! guess; OWASP ASVS 6.5.2 accepts a fast keyed hash only for codes of at
//! least 112 bits. Two ways meet both: 23-symbol codes (113.8 bits) under a
//! fast hash, or friendly 10-symbol codes under a slow one. The default is
//! the second, as the codes are typed by people on a bad day:
//! **10 codes of 10 symbols (49.5 bits), PBKDF2-HMAC-SHA-256 at 100 000
//! iterations**, with the application [`Pepper`] mixed in when there is one.
//!
//! A set has one random 128-bit salt and one 256-bit hash a code, and says
//! in its stored form which scheme made them, so sets made under an older
//! default (HMAC-SHA-256 before this one) keep verifying.
//!
//! # What each option costs (measured: `cargo bench --bench backup`)
//!
//! Checking a code hashes the input once and compares it with every slot,
//! so the server's cost per check is one hash, whatever the set's size. An
//! attacker with a copy of the store pays the same hash per guess, and must
//! search half of the code space on average for one code (a tenth of that
//! to hit any of ten codes sharing the salt); one core of the reference
//! machine, which GPUs beat by a large factor for both hashes:
//!
//! | scheme | code | per check (server) | offline, one code, on one core |
//! |---|---|---|---|
//! | PBKDF2-SHA-256, 100 000 iterations (default) | 10 symbols, 49.5 bits | 12.6 ms | ≈ 170 000 years |
//! | PBKDF2-SHA-256, 100 000 iterations | 8 symbols, 39.6 bits | 12.6 ms | ≈ 165 years |
//! | HMAC-SHA-256, no pepper | 10 symbols, 49.5 bits | 0.9 µs | ≈ 12 years |
//! | HMAC-SHA-256, no pepper | 23 symbols, 113.8 bits | 0.9 µs | ≈ 2 · 10^20 years |
//! | either, with the pepper kept out of the store | any | as above | nothing to try without the pepper |
//!
//! Generating a set costs one hash a code (184 ms for ten at the default).
//! Imported sets (`BackupCodeSet::import_hashes`, with the `import`
//! feature) keep the scheme and cost they came with.
//!
//! ```
//! use otpkit::BackupCodeSet;
//! use otpkit::backup::{BackupCodeOptions, BackupOutcome};
//!
//! let now = 1_700_000_000;
//! let (codes, mut set) = BackupCodeSet::generate(&BackupCodeOptions::default(), &otpkit::Pepper::NONE, now)?;
//! assert_eq!(codes.len(), 10);
//! let first = codes.iter().next().unwrap().to_owned(); // shown to the user once
//!
//! assert_eq!(set.verify_and_consume(&first.to_uppercase(), &otpkit::Pepper::NONE, now)?, BackupOutcome::Valid { remaining: 9 });
//! assert_eq!(set.verify_and_consume(&first, &otpkit::Pepper::NONE, now)?, BackupOutcome::Replayed);
//! assert_eq!(set.verify_and_consume("2345-6789-ab", &otpkit::Pepper::NONE, now)?, BackupOutcome::Invalid);
//! # Ok::<(), otpkit::Error>(())
//! ```

use alloc::vec::Vec;
mod codes;
#[cfg(feature = "import")]
mod foreign;
mod import;
mod options;
#[cfg(feature = "serde")]
mod stored;

use core::fmt;

use rand::RngExt;
use sha2::Sha256;
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use zeroize::Zeroizing;

use crate::random::CryptoRng;

pub use codes::BackupCodes;
pub use import::{CodeCase, ImportFormat};
pub use options::{BackupCodeOptions, BackupHashScheme, MIN_NEW_ITERATIONS};

use crate::engine::Typo;
use crate::error::Error;
use crate::pepper::{HASH_LEN, Pepper, hmac_sha256, pepper_for};
use codes::group;
#[cfg(feature = "import")]
use foreign::ForeignHash;

const ALPHABET: &[u8; 31] = b"23456789abcdefghjkmnpqrstuvwxyz";
const GROUP: usize = 4;
const SALT_LEN: usize = 16;
/// Fewest and most PBKDF2 iterations a stored set may ask for: below, the
/// scheme is not slow; above, a tampered record could stall the server.
const ITERATIONS: core::ops::RangeInclusive<u32> = 1_000..=10_000_000;
/// Codes a set may hold.
const COUNTS: core::ops::RangeInclusive<usize> = 1..=100;
/// Symbols a code may have.
const LENGTHS: core::ops::RangeInclusive<usize> = 8..=24;

/// What checking an entered backup code found, in the crate's one
/// vocabulary (valid, invalid, replayed, malformed).
///
/// ```
/// use otpkit::backup::BackupOutcome;
/// assert_ne!(BackupOutcome::Invalid, BackupOutcome::Replayed);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
pub enum BackupOutcome {
    /// The code was valid and is now used up: persist the set.
    Valid {
        /// Unused codes left.
        remaining: usize,
    },
    /// The code is one of the set's but was used before: refuse it.
    Replayed,
    /// The code is not in the set.
    Invalid,
    /// The input is not shaped like a code of this set (a typo): what is
    /// wrong with it. Nothing changed.
    Malformed(Typo),
}

/// One code's hash: ours (under the set's scheme and salt), or as another
/// application stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SlotHash {
    Digest([u8; HASH_LEN]),
    #[cfg(feature = "import")]
    Foreign(ForeignHash),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Slot {
    hash: SlotHash,
    used: bool,
}

/// What a code of the set looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// Ours: `length` symbols of [`ALPHABET`], in any case.
    Otpkit { length: usize },
    /// Imported: ASCII letters and digits folded to `case`, hashed by
    /// another application in `format` (or by us from a plaintext list);
    /// `length` the codes' length when known (kept at import from a
    /// plaintext list, or declared with
    /// [`BackupCodeSet::with_code_length`]): input of another length is no
    /// code of the set, and costs no hash.
    Imported {
        case: CodeCase,
        format: Option<ImportFormat>,
        length: Option<usize>,
    },
}

/// The stored side of a set of backup codes: a salt, one hash per code and
/// a used flag per slot — never a plaintext code.
///
/// A used slot is marked, not removed, so counts and positions stay stable.
/// A new set from [`BackupCodeSet::generate`] replaces an old one entirely
/// (regeneration). With the `serde` feature the set serializes to a stable,
/// versioned JSON form whose `hasher` field is a PHC-style string naming
/// the scheme and its parameters:
///
/// ```json
/// {"version":1,"hasher":"$otpkit-pbkdf2-sha256$v=1,i=100000,p=0$<salt hex>","length":10,
///  "codes":[{"hash":"<hex>","used":false},…],"created_at":1700000000,"updated_at":1700000000}
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct BackupCodeSet {
    scheme: BackupHashScheme,
    peppered: bool,
    salt: [u8; SALT_LEN],
    form: Form,
    slots: Vec<Slot>,
    created_at: u64,
    updated_at: u64,
}

impl BackupCodeSet {
    /// Draws a fresh set at Unix time `now`: the plaintext codes to show
    /// once, and the hashed set to store. With a pepper, the set records
    /// that one is needed to verify.
    ///
    /// # Errors
    /// [`Error::BackupCountOutOfRange`] or [`Error::BackupLengthOutOfRange`];
    /// [`Error::InvalidBackupRecord`] for PBKDF2 iterations out of range.
    ///
    /// # Panics
    /// Only if the operating system cannot supply random bytes.
    ///
    /// ```
    /// # use otpkit::{BackupCodeSet, Pepper};
    /// # use otpkit::backup::BackupCodeOptions;
    /// let pepper = Pepper::new(&[9; 32])?;
    /// let (_, set) = BackupCodeSet::generate(&BackupCodeOptions::default(), &pepper, 5)?;
    /// assert!(set.is_peppered() && set.remaining() == 10 && set.created_at() == 5);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[cfg(feature = "std")]
    #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
    pub fn generate(
        options: &BackupCodeOptions,
        pepper: &Pepper,
        now: u64,
    ) -> Result<(BackupCodes, Self), Error> {
        Self::generate_with_rng(options, pepper, now, &mut crate::random::os())
    }

    /// [`BackupCodeSet::generate`] with the codes and salt drawn from `rng`.
    ///
    /// # Errors
    /// As [`BackupCodeSet::generate`].
    ///
    /// ```
    /// # use otpkit::BackupCodeSet;
    /// # use otpkit::backup::BackupCodeOptions;
    /// use rand::{rand_core::UnwrapErr, rngs::SysRng};
    /// let mut rng = UnwrapErr(SysRng); // any `otpkit::rand_core::CryptoRng`
    /// let (codes, set) = BackupCodeSet::generate_with_rng(&BackupCodeOptions::default(), &otpkit::Pepper::NONE, 5, &mut rng)?;
    /// assert_eq!((codes.len(), set.remaining()), (10, 10));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn generate_with_rng<R: CryptoRng + ?Sized>(
        options: &BackupCodeOptions,
        pepper: &Pepper,
        now: u64,
        rng: &mut R,
    ) -> Result<(BackupCodes, Self), Error> {
        let pepper = pepper.given();
        options.check()?;
        options.check_new(pepper.is_some())?;
        let mut set = Self {
            scheme: options.scheme,
            peppered: pepper.is_some(),
            salt: fresh_salt(rng),
            form: Form::Otpkit {
                length: options.length,
            },
            slots: Vec::with_capacity(options.count),
            created_at: now,
            updated_at: now,
        };
        let mut codes = Vec::with_capacity(options.count);
        for _ in 0..options.count {
            let symbols: Zeroizing<Vec<u8>> = Zeroizing::new(
                (0..options.length)
                    .map(|_| {
                        let index = rng.random_range(0..ALPHABET.len());
                        ALPHABET.get(index).copied().unwrap_or(b'2')
                    })
                    .collect(),
            );
            set.slots.push(Slot {
                hash: SlotHash::Digest(*set.hash(&symbols, pepper)),
                used: false,
            });
            codes.push(group(&symbols));
        }
        Ok((BackupCodes(codes), set))
    }

    /// Checks an entered code at Unix time `now` and, if it is an unused
    /// code of the set, marks it used. The input is normalized (any case,
    /// dashes and spaces ignored) and hashed once, then compared with every
    /// slot in constant time, used or not, with no early exit.
    ///
    /// A set made with a pepper needs it; a set made without one ignores
    /// one given. Persist the set after [`BackupOutcome::Valid`] (with a
    /// compare-and-set, so two requests racing with the same code cannot
    /// both succeed).
    ///
    /// # Errors
    /// Only [`Error::PepperRequired`], when the set needs a pepper and none
    /// is given: a configuration problem. What the user typed never makes an
    /// `Err`: a wrong code is [`BackupOutcome::Invalid`], a typo
    /// [`BackupOutcome::Malformed`] ([`Typo::EmptyCode`],
    /// [`Typo::InvalidCodeChar`] or [`Typo::WrongBackupCodeLength`]).
    ///
    /// ```
    /// use otpkit::backup::{BackupCodeOptions, BackupCodeSet, BackupOutcome};
    /// use otpkit::Typo;
    ///
    /// let (codes, mut set) = BackupCodeSet::generate(&BackupCodeOptions::default(), &otpkit::Pepper::NONE, 0)?;
    /// let code = codes.iter().last().unwrap().replace('-', " ");
    /// assert_eq!(set.verify_and_consume(&code, &otpkit::Pepper::NONE, 60)?, BackupOutcome::Valid { remaining: 9 });
    /// assert_eq!(set.updated_at(), 60);
    /// assert_eq!(
    ///     set.verify_and_consume("o0o0-o0o0-o0", &otpkit::Pepper::NONE, 61)?,
    ///     BackupOutcome::Malformed(Typo::InvalidCodeChar { position: 0 })
    /// );
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn verify_and_consume(
        &mut self,
        input: &str,
        pepper: &Pepper,
        now: u64,
    ) -> Result<BackupOutcome, Error> {
        let pepper = pepper.given();
        let found = match self.find(input, pepper)? {
            Ok(found) => found,
            Err(typo) => return Ok(BackupOutcome::Malformed(typo)),
        };
        let Some(index) = found else {
            return Ok(BackupOutcome::Invalid);
        };
        Ok(self.consume(index, now))
    }

    /// Whether `input` is shaped like a code of this set (no hashing).
    pub(crate) fn is_shaped(&self, input: &str) -> bool {
        self.symbols(input).is_ok()
    }

    fn symbols(&self, input: &str) -> Result<Zeroizing<Vec<u8>>, Typo> {
        match self.form {
            Form::Otpkit { length } => normalize(input, length),
            Form::Imported { case, length, .. } => {
                let symbols = import::normalize(input, case)?;
                match length {
                    Some(expected) if symbols.len() != expected => {
                        Err(Typo::WrongBackupCodeLength {
                            expected,
                            found: symbols.len(),
                        })
                    }
                    _ => Ok(symbols),
                }
            }
        }
    }

    /// The slot `input` matches, used or not: the slow part of a check
    /// (the hashing), pure. `Err(typo)` inside for input of the wrong
    /// shape.
    pub(crate) fn find(
        &self,
        input: &str,
        pepper: Option<&Pepper>,
    ) -> Result<Result<Option<usize>, Typo>, Error> {
        let pepper = pepper_for(self.peppered, pepper)?;
        let symbols = match self.symbols(input) {
            Ok(symbols) => symbols,
            Err(typo) => return Ok(Err(typo)),
        };
        // Our hashes share the set's salt: hash the input once. Foreign
        // hashes each have their own salt: check each.
        let digest = self.hash(&symbols, pepper);
        let mut found = Choice::from(0);
        let mut index = 0u64;
        for (i, slot) in (0u64..).zip(&self.slots) {
            let hit = match &slot.hash {
                SlotHash::Digest(hash) => hash.ct_eq(&*digest),
                #[cfg(feature = "import")]
                SlotHash::Foreign(foreign) => foreign.matches(&symbols),
            };
            index.conditional_assign(&i, hit & !found);
            found |= hit;
        }
        Ok(Ok(bool::from(found)
            .then(|| usize::try_from(index).ok())
            .flatten()
            .filter(|&i| i < self.slots.len())))
    }

    /// Whether slot `index` holds the same hash in `self` and in `other`:
    /// the same code of the same set (not a regenerated one).
    pub(crate) fn same_slot(&self, other: &Self, index: usize) -> bool {
        matches!((self.slots.get(index), other.slots.get(index)), (Some(a), Some(b)) if a.hash == b.hash)
    }

    /// Marks slot `index` (found by [`BackupCodeSet::find`]) used.
    pub(crate) fn consume(&mut self, index: usize, now: u64) -> BackupOutcome {
        let Some(slot) = self.slots.get_mut(index) else {
            return BackupOutcome::Invalid;
        };
        if slot.used {
            return BackupOutcome::Replayed;
        }
        slot.used = true;
        self.updated_at = now.max(self.updated_at);
        BackupOutcome::Valid {
            remaining: self.remaining(),
        }
    }

    pub(super) fn hash(
        &self,
        symbols: &[u8],
        pepper: Option<&Pepper>,
    ) -> Zeroizing<[u8; HASH_LEN]> {
        let key: &[u8] = pepper.map_or(&[], Pepper::as_bytes);
        let mut out = Zeroizing::new([0u8; HASH_LEN]);
        if matches!(
            self.form,
            Form::Imported {
                format: Some(_),
                ..
            }
        ) {
            return out; // foreign hashes are checked slot by slot
        }
        match self.scheme {
            BackupHashScheme::HmacSha256 => {
                let mac = hmac_sha256(key, &[&self.salt, symbols]);
                out.copy_from_slice(&*mac);
            }
            BackupHashScheme::Pbkdf2Sha256 { iterations } => {
                let peppered;
                let password = match pepper {
                    Some(_) => {
                        peppered = hmac_sha256(key, &[symbols]);
                        peppered.as_slice()
                    }
                    None => symbols,
                };
                pbkdf2::pbkdf2_hmac::<Sha256>(password, &self.salt, iterations, &mut *out);
            }
        }
        out
    }

    /// Codes in the set, used or not.
    ///
    /// ```
    /// # use otpkit::BackupCodeSet;
    /// # use otpkit::backup::BackupCodeOptions;
    /// assert_eq!(BackupCodeSet::generate(&BackupCodeOptions::default(), &otpkit::Pepper::NONE, 0)?.1.total(), 10);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub fn total(&self) -> usize {
        self.slots.len()
    }

    /// Unused codes.
    ///
    /// ```
    /// # use otpkit::BackupCodeSet;
    /// # use otpkit::backup::BackupCodeOptions;
    /// assert_eq!(BackupCodeSet::generate(&BackupCodeOptions::default(), &otpkit::Pepper::NONE, 0)?.1.remaining(), 10);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub fn remaining(&self) -> usize {
        self.slots.iter().filter(|slot| !slot.used).count()
    }

    /// The hashing scheme the set was made with.
    ///
    /// ```
    /// # use otpkit::BackupCodeSet;
    /// # use otpkit::backup::{BackupCodeOptions, BackupHashScheme};
    /// assert_eq!(BackupCodeSet::generate(&BackupCodeOptions::default(), &otpkit::Pepper::NONE, 0)?.1.scheme(), BackupHashScheme::PBKDF2);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub const fn scheme(&self) -> BackupHashScheme {
        self.scheme
    }

    /// Whether verifying needs the application pepper.
    ///
    /// ```
    /// # use otpkit::BackupCodeSet;
    /// # use otpkit::backup::BackupCodeOptions;
    /// assert!(!BackupCodeSet::generate(&BackupCodeOptions::default(), &otpkit::Pepper::NONE, 0)?.1.is_peppered());
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub const fn is_peppered(&self) -> bool {
        self.peppered
    }

    /// Symbols a code has (dashes not counted); 0 for an imported set,
    /// whose codes keep the lengths they had.
    ///
    /// ```
    /// # use otpkit::BackupCodeSet;
    /// # use otpkit::backup::BackupCodeOptions;
    /// assert_eq!(BackupCodeSet::generate(&BackupCodeOptions::default(), &otpkit::Pepper::NONE, 0)?.1.code_length(), 10);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub const fn code_length(&self) -> usize {
        match self.form {
            Form::Otpkit { length } => length,
            Form::Imported { length, .. } => match length {
                Some(length) => length,
                None => 0,
            },
        }
    }

    /// The format of an imported set's hashes, `None` for a set hashed by
    /// this crate (generated, or imported from plaintext).
    ///
    /// ```
    /// # use otpkit::backup::{BackupCodeOptions, BackupCodeSet};
    /// assert_eq!(BackupCodeSet::generate(&BackupCodeOptions::default(), &otpkit::Pepper::NONE, 0)?.1.import_format(), None);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub const fn import_format(&self) -> Option<ImportFormat> {
        match self.form {
            Form::Imported { format, .. } => format,
            Form::Otpkit { .. } => None,
        }
    }

    /// Unix time the set was made.
    ///
    /// ```
    /// # use otpkit::BackupCodeSet;
    /// # use otpkit::backup::BackupCodeOptions;
    /// assert_eq!(BackupCodeSet::generate(&BackupCodeOptions::default(), &otpkit::Pepper::NONE, 42)?.1.created_at(), 42);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub const fn created_at(&self) -> u64 {
        self.created_at
    }

    /// Unix time a code was last used (or the set made).
    ///
    /// ```
    /// # use otpkit::BackupCodeSet;
    /// # use otpkit::backup::BackupCodeOptions;
    /// assert_eq!(BackupCodeSet::generate(&BackupCodeOptions::default(), &otpkit::Pepper::NONE, 42)?.1.updated_at(), 42);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub const fn updated_at(&self) -> u64 {
        self.updated_at
    }
}

impl fmt::Debug for BackupCodeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackupCodeSet")
            .field("scheme", &self.scheme)
            .field("peppered", &self.peppered)
            .field("total", &self.total())
            .field("remaining", &self.remaining())
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .finish_non_exhaustive()
    }
}

/// A fresh 128-bit salt from `rng`.
pub(super) fn fresh_salt<R: CryptoRng + ?Sized>(rng: &mut R) -> [u8; SALT_LEN] {
    let mut salt = [0u8; SALT_LEN];
    rng.fill_bytes(&mut salt);
    salt
}

/// The symbols of an entered code: case folded, dashes and white space
/// dropped, every other character checked against the alphabet.
fn normalize(input: &str, length: usize) -> Result<Zeroizing<Vec<u8>>, Typo> {
    let mut symbols = Zeroizing::new(Vec::with_capacity(input.len()));
    for (position, c) in input.trim().chars().enumerate() {
        if c == '-' || c.is_whitespace() {
            continue;
        }
        let lower = c.to_ascii_lowercase();
        match u8::try_from(lower).ok().filter(|b| ALPHABET.contains(b)) {
            Some(b) => symbols.push(b),
            None => return Err(Typo::InvalidCodeChar { position }),
        }
    }
    if symbols.is_empty() {
        return Err(Typo::EmptyCode);
    }
    if symbols.len() != length {
        return Err(Typo::WrongBackupCodeLength {
            expected: length,
            found: symbols.len(),
        });
    }
    Ok(symbols)
}

#[cfg(test)]
impl BackupCodeSet {
    /// A set holding exactly `codes` (for tests of codes the RNG rarely
    /// draws, such as all digits).
    pub(crate) fn with_codes(codes: &[&str], length: usize, now: u64) -> Self {
        let options = BackupCodeOptions::default()
            .count(codes.len())
            .length(length)
            .scheme(BackupHashScheme::HmacSha256);
        // Made peppered (a set of short unpeppered HMAC codes is below the
        // floor for new sets), then its slots rewritten unpeppered.
        let pepper = Pepper::new(&[7; 32]).unwrap();
        let (_, mut set) =
            Self::generate_with_rng(&options, &pepper, now, &mut crate::random::os()).unwrap();
        set.peppered = false;
        for (slot, code) in set.slots.iter_mut().zip(codes) {
            let symbols = normalize(code, length).unwrap();
            slot.hash = SlotHash::Digest(*hmac_sha256(&[], &[&set.salt, &symbols]));
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::os;

    #[test]
    fn codes_use_only_the_alphabet_and_group_by_four() {
        let (codes, _) = BackupCodeSet::generate_with_rng(
            &BackupCodeOptions::default().length(11),
            &crate::pepper::Pepper::NONE,
            0,
            &mut os(),
        )
        .unwrap();
        for code in codes.iter() {
            let groups: Vec<&str> = code.split('-').collect();
            assert_eq!(
                groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
                [4, 4, 3]
            );
            assert!(code.bytes().all(|b| b == b'-' || ALPHABET.contains(&b)));
        }
    }

    #[test]
    fn symbols_are_roughly_uniform() {
        let (codes, _) = BackupCodeSet::generate_with_rng(
            &BackupCodeOptions::default().count(100).length(24),
            &crate::pepper::Pepper::NONE,
            0,
            &mut os(),
        )
        .unwrap();
        let mut counts = [0usize; 31];
        for b in codes.iter().flat_map(str::bytes).filter(|&b| b != b'-') {
            counts[ALPHABET.iter().position(|&a| a == b).unwrap()] += 1;
        }
        // 2400 draws, 77.4 expected per symbol; 6 sigma is about 52.
        assert!(
            counts.iter().all(|&n| (25..=130).contains(&n)),
            "{counts:?}"
        );
    }

    #[test]
    fn new_sets_meet_the_floors() {
        let pepper = Pepper::new(&[1; 32]).unwrap();
        let weak = |options: &BackupCodeOptions, pepper: &Pepper| {
            matches!(
                BackupCodeSet::generate_with_rng(options, pepper, 0, &mut os()),
                Err(Error::WeakBackupScheme { .. })
            )
        };
        let pbkdf2 = |iterations| {
            BackupCodeOptions::default()
                .count(1)
                .scheme(BackupHashScheme::Pbkdf2Sha256 { iterations })
        };
        assert!(
            weak(&pbkdf2(9_999), &crate::pepper::Pepper::NONE) && weak(&pbkdf2(1_000), &pepper)
        );
        assert!(!weak(
            &pbkdf2(MIN_NEW_ITERATIONS),
            &crate::pepper::Pepper::NONE
        ));
        let hmac = |length| {
            BackupCodeOptions::default()
                .length(length)
                .scheme(BackupHashScheme::HmacSha256)
        };
        // Without a pepper, only codes of 112 bits or more.
        assert!(
            weak(&hmac(8), &crate::pepper::Pepper::NONE)
                && weak(&hmac(22), &crate::pepper::Pepper::NONE)
        );
        assert!(!weak(&hmac(23), &crate::pepper::Pepper::NONE) && !weak(&hmac(8), &pepper));
    }

    #[test]
    fn pepper_is_required_when_used_and_must_match() {
        let pepper = Pepper::new(&[1; 32]).unwrap();
        let other = Pepper::new(&[2; 32]).unwrap();
        for scheme in [
            BackupHashScheme::HmacSha256,
            BackupHashScheme::Pbkdf2Sha256 { iterations: 10_000 },
        ] {
            let options = BackupCodeOptions::default().scheme(scheme);
            let (codes, mut set) =
                BackupCodeSet::generate_with_rng(&options, &pepper, 0, &mut os()).unwrap();
            let code = codes.iter().next().unwrap();
            assert_eq!(
                set.verify_and_consume(code, &crate::pepper::Pepper::NONE, 1),
                Err(Error::PepperRequired)
            );
            assert_eq!(
                set.verify_and_consume(code, &other, 1),
                Ok(BackupOutcome::Invalid)
            );
            assert_eq!(
                set.verify_and_consume(code, &pepper, 1),
                Ok(BackupOutcome::Valid { remaining: 9 })
            );
        }
    }

    #[test]
    fn normalization() {
        assert_eq!(&*normalize(" AB23-cd45 ef ", 10).unwrap(), b"ab23cd45ef");
        assert_eq!(
            normalize("ab23-cd45-e", 10),
            Err(Typo::WrongBackupCodeLength {
                expected: 10,
                found: 9
            })
        );
        assert_eq!(
            normalize("ab23-cd45-e!", 10),
            Err(Typo::InvalidCodeChar { position: 11 })
        );
        assert_eq!(
            normalize("I", 10),
            Err(Typo::InvalidCodeChar { position: 0 })
        );
        assert_eq!(normalize(" - ", 10), Err(Typo::EmptyCode));
    }
}
