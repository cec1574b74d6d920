//! Secrets sealed at rest: a stolen record or database gives nothing to
//! use.
//!
//! A [`TotpRecord`](crate::TotpRecord) holds the TOTP secret, and whoever
//! reads it can mint codes for the user. So the stored form seals the
//! secret with an application key, the way GitLab, devise-two-factor and
//! Laravel Fortify encrypt it and OWASP's MFA guidance asks: a database
//! dump, a backup, a replica or a logged query then holds only ciphertext.
//!
//! # The construction
//!
//! - **AEAD**: XChaCha20-Poly1305 (RustCrypto's `chacha20poly1305`). Its
//!   192-bit nonce is drawn fresh from the OS RNG for every seal, so random
//!   nonces never collide in practice (AES-GCM's 96-bit nonce would limit a
//!   key to about 2^32 seals); it is constant time in software on every
//!   CPU, without AES instructions; and it is what libsodium calls
//!   `crypto_aead_xchacha20poly1305_ietf`, so the sealed secret can be
//!   opened by other tools (the tests do, with PyNaCl). AES-256-GCM-SIV
//!   would add nonce-misuse resistance, which a random 192-bit nonce does not
//!   need.
//! - **Associated data**: the format version and, for a stored
//!   `TotpRecord`, every other field of its stored form (id, account,
//!   settings, used step, backup codes, lockout and counts, times), so a
//!   sealed secret copied into another record, a row copied over another
//!   user's (its account differs: check it), or any field changed by a
//!   writer without the keys (a weakened lockout, reset counts, a backup
//!   code marked unused) no longer opens.
//! - **Stored form**, versioned and self-describing like the backup-code
//!   hasher string:
//!   `$otpkit-xchacha20poly1305$v=1,k=<key id>$<nonce hex>$<ciphertext and tag hex>`.
//!
//! # Key management
//!
//! - **Make a key** with [`SealingKey::generate`] (or `otpkit key new`): 32
//!   random bytes and a short random id, in one line of text
//!   (`otpkit-key:v1:<id>:<64 hex digits>`). Keep it where the app's other
//!   secrets live (a secrets manager, or an environment variable filled by
//!   one), never in the database it protects.
//! - **Rotate** without a flag day: a [`Keyring`] lists keys, the first
//!   seals and all open, and each sealed secret names the key that sealed
//!   it. To rotate from A to B: deploy the keyring `B,A` (new records are
//!   sealed with B, old ones still open with A); re-seal stored records
//!   with [`StoredTotpRecord::rekey`](crate::StoredTotpRecord::rekey)
//!   (`otpkit rekey`) at your pace; when none names A any more, deploy `B`
//!   alone and destroy A.
//! - **If a key is lost**, the secrets it sealed are lost: those users must
//!   enroll again (or sign in with a backup code and re-enroll). Back keys up
//!   as carefully as the database, and separately from it.
//! - **The backup-code [`Pepper`](crate::Pepper) is kept apart** from the
//!   sealing keys, not derived from them: a sealing key rotates (every
//!   record can be re-sealed), but a pepper cannot (a backup-code hash cannot
//!   be recomputed without the plaintext code, which is never stored), so
//!   deriving one from the other would tie the pepper's life to a key's.
//!   Both come from the secrets manager; losing the pepper voids the
//!   backup codes, losing a key voids the TOTP secrets it sealed.
//!
//! ```
//! use otpkit::{Keyring, Secret};
//! use otpkit::seal::SealingKey;
//!
//! let key = SealingKey::generate();
//! let text = key.to_text(); // store this in the secrets manager
//! let keyring: Keyring = text.parse()?;
//!
//! let secret = Secret::generate();
//! let sealed = keyring.seal(&secret, b"user 42")?;
//! assert!(!sealed.to_string().contains(secret.to_base32().as_str()));
//! assert_eq!(keyring.open(&sealed, b"user 42")?, secret);
//! assert!(keyring.open(&sealed, b"user 43").is_err()); // moved to another record
//! # Ok::<(), otpkit::Error>(())
//! ```

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;

use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{Tag, XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use crate::encoding::{hex, phc};
use crate::error::Error;
use crate::random::CryptoRng;
use crate::secret::Secret;

const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const KEY_PREFIX: &str = "otpkit-key:v1:";
const SEALED_ID: &str = "otpkit-xchacha20poly1305";
/// Longest key id: short enough to sit in every stored record.
const MAX_ID_LEN: usize = 16;

/// An application key that seals secrets at rest: 32 bytes and a short id.
///
/// Zeroized on drop; `Debug` shows only the id. The text form is
/// `otpkit-key:v1:<id>:<64 hex digits>`.
///
/// ```
/// use otpkit::seal::SealingKey;
///
/// let key = SealingKey::generate();
/// let again: SealingKey = key.to_text().parse()?;
/// assert_eq!(again.id(), key.id());
/// assert_eq!(format!("{key:?}"), format!("SealingKey {{ id: {:?}, .. }}", key.id()));
/// # Ok::<(), otpkit::Error>(())
/// ```
#[derive(Clone)]
pub struct SealingKey {
    id: String,
    key: Zeroizing<[u8; KEY_LEN]>,
}

impl SealingKey {
    /// A fresh key from the OS RNG, with a random 8-hex-digit id.
    ///
    /// # Panics
    /// Only if the operating system cannot supply random bytes.
    ///
    /// ```
    /// let (a, b) = (otpkit::seal::SealingKey::generate(), otpkit::seal::SealingKey::generate());
    /// assert_ne!(a.id(), b.id());
    /// assert_eq!(a.id().len(), 8);
    /// ```
    #[cfg(feature = "std")]
    #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
    #[must_use]
    pub fn generate() -> Self {
        Self::generate_with_rng(&mut crate::random::os())
    }

    /// [`SealingKey::generate`] with the key and id drawn from `rng`.
    ///
    /// ```
    /// use rand::{rand_core::UnwrapErr, rngs::SysRng};
    /// let key = otpkit::seal::SealingKey::generate_with_rng(&mut UnwrapErr(SysRng));
    /// assert_eq!(key.id().len(), 8);
    /// ```
    #[must_use]
    pub fn generate_with_rng<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        rng.fill_bytes(&mut *key);
        let mut id = [0u8; 4];
        rng.fill_bytes(&mut id);
        Self {
            id: hex::encode(&id),
            key,
        }
    }

    /// A key from its parts, e.g. bytes derived from a KMS.
    ///
    /// # Errors
    /// [`Error::InvalidSealingKey`] unless `id` is 1 to 16 characters of
    /// `a-z`, `0-9` and `-`.
    ///
    /// ```
    /// let key = otpkit::seal::SealingKey::new("2026-11", [7; 32])?;
    /// assert_eq!(key.id(), "2026-11");
    /// assert!(otpkit::seal::SealingKey::new("no spaces", [7; 32]).is_err());
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn new(id: &str, key: [u8; KEY_LEN]) -> Result<Self, Error> {
        let key = Zeroizing::new(key);
        check_id(id)?;
        Ok(Self {
            id: id.to_owned(),
            key,
        })
    }

    /// The key's id, stored beside every secret it seals.
    ///
    /// ```
    /// assert!(!otpkit::seal::SealingKey::generate().id().is_empty());
    /// ```
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The text form, to keep in a secrets manager: zeroized on drop.
    ///
    /// ```
    /// let key = otpkit::seal::SealingKey::new("k1", [0xab; 32])?;
    /// assert_eq!(*key.to_text(), format!("otpkit-key:v1:k1:{}", "ab".repeat(32)));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub fn to_text(&self) -> Zeroizing<String> {
        let hex = hex::encode_zeroizing(&*self.key);
        // Prefix, an id of at most 16, a colon and 64 hex digits: under 96.
        let mut out = Zeroizing::new(String::with_capacity(96));
        out.push_str(KEY_PREFIX);
        out.push_str(&self.id);
        out.push(':');
        out.push_str(&hex);
        out
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&(*self.key).into())
    }
}

fn check_id(id: &str) -> Result<(), Error> {
    let valid = (1..=MAX_ID_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if valid {
        Ok(())
    } else {
        Err(Error::InvalidSealingKey {
            reason: "the id must be 1 to 16 characters of a-z, 0-9 and -",
        })
    }
}

impl FromStr for SealingKey {
    type Err = Error;

    /// Parses `otpkit-key:v1:<id>:<64 hex digits>` (surrounding white space
    /// ignored).
    ///
    /// # Errors
    /// [`Error::InvalidSealingKey`], saying what is wrong and never
    /// repeating the text.
    fn from_str(text: &str) -> Result<Self, Error> {
        let bad = |reason| Error::InvalidSealingKey { reason };
        let rest = text
            .trim()
            .strip_prefix(KEY_PREFIX)
            .ok_or(bad("a key starts with otpkit-key:v1:"))?;
        let (id, key_hex) = rest
            .split_once(':')
            .ok_or(bad("a key is otpkit-key:v1:<id>:<hex>"))?;
        check_id(id)?;
        let key = hex::decode::<KEY_LEN>(key_hex).ok_or(bad("the key must be 64 hex digits"))?;
        Self::new(id, key)
    }
}

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealingKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Keys that open sealed secrets; the first also seals. Parsed from a
/// comma-separated list of key texts, newest first, so an app's
/// configuration rotates keys by prepending one.
///
/// ```
/// use otpkit::{Keyring, Secret};
/// use otpkit::seal::SealingKey;
///
/// let (old, new) = (SealingKey::generate(), SealingKey::generate());
/// let sealed = Keyring::new(old.clone()).seal(&Secret::generate(), b"id")?;
///
/// let rotated: Keyring = format!("{},{}", *new.to_text(), *old.to_text()).parse()?;
/// assert_eq!(rotated.sealing_key_id(), new.id());
/// assert!(rotated.open(&sealed, b"id").is_ok()); // old secrets still open
/// # Ok::<(), otpkit::Error>(())
/// ```
#[derive(Clone)]
pub struct Keyring {
    sealing: SealingKey,
    older: Vec<SealingKey>,
}

impl Keyring {
    /// A keyring of one key.
    ///
    /// ```
    /// let key = otpkit::seal::SealingKey::generate();
    /// assert_eq!(otpkit::Keyring::new(key.clone()).sealing_key_id(), key.id());
    /// ```
    #[must_use]
    pub fn new(key: SealingKey) -> Self {
        Self {
            sealing: key,
            older: Vec::new(),
        }
    }

    /// Adds a key that opens secrets but does not seal new ones (an older
    /// key during a rotation).
    ///
    /// # Errors
    /// [`Error::InvalidSealingKey`] if a key with its id is already there.
    ///
    /// ```
    /// use otpkit::Keyring;
    /// use otpkit::seal::SealingKey;
    /// let key = SealingKey::generate();
    /// let ring = Keyring::new(SealingKey::generate()).with_old_key(key.clone())?;
    /// assert!(ring.with_old_key(key).is_err());
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn with_old_key(mut self, key: SealingKey) -> Result<Self, Error> {
        if self.key(key.id()).is_some() {
            return Err(Error::InvalidSealingKey {
                reason: "two keys in a keyring share an id",
            });
        }
        self.older.push(key);
        Ok(self)
    }

    /// The id of the key that seals.
    ///
    /// ```
    /// let ring: otpkit::Keyring = otpkit::seal::SealingKey::generate().to_text().parse()?;
    /// assert_eq!(ring.sealing_key_id().len(), 8);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub fn sealing_key_id(&self) -> &str {
        self.sealing.id()
    }

    /// Whether a key with id `id` is in the keyring (it opens what that
    /// key sealed).
    ///
    /// ```
    /// use otpkit::Keyring;
    /// use otpkit::seal::SealingKey;
    /// let (new, old) = (SealingKey::generate(), SealingKey::generate());
    /// let ring = Keyring::new(new.clone()).with_old_key(old.clone())?;
    /// assert!(ring.has_key(new.id()) && ring.has_key(old.id()));
    /// assert!(!ring.has_key("gone"));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub fn has_key(&self, id: &str) -> bool {
        self.key(id).is_some()
    }

    fn key(&self, id: &str) -> Option<&SealingKey> {
        core::iter::once(&self.sealing)
            .chain(&self.older)
            .find(|key| key.id == id)
    }

    /// Seals `secret` with the first key, binding it to `context` (a
    /// record's id): it opens only with the same context.
    ///
    /// # Errors
    /// [`Error::SealedSecretBroken`] only if the cipher refuses the input
    /// (it never does for a secret's length).
    ///
    /// # Panics
    /// Only if the operating system cannot supply random bytes.
    ///
    /// ```
    /// # use otpkit::{Keyring, Secret};
    /// # use otpkit::seal::SealingKey;
    /// let ring = Keyring::new(SealingKey::generate());
    /// let secret = Secret::generate();
    /// // A fresh nonce every time: sealing twice gives two texts.
    /// assert_ne!(ring.seal(&secret, b"a")?.to_string(), ring.seal(&secret, b"a")?.to_string());
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[cfg(feature = "std")]
    #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
    pub fn seal(&self, secret: &Secret, context: &[u8]) -> Result<SealedSecret, Error> {
        self.seal_with_rng(secret, context, &mut crate::random::os())
    }

    /// [`Keyring::seal`] with the nonce drawn from `rng`.
    ///
    /// # Errors
    /// As [`Keyring::seal`].
    ///
    /// ```
    /// # use otpkit::{Algorithm, Keyring, Secret};
    /// # use otpkit::seal::SealingKey;
    /// use rand::{rand_core::UnwrapErr, rngs::SysRng};
    /// let mut rng = UnwrapErr(SysRng); // any `otpkit::rand_core::CryptoRng`
    /// let ring = Keyring::new(SealingKey::generate_with_rng(&mut rng));
    /// let secret = Secret::generate_with_rng(Algorithm::Sha1, &mut rng);
    /// assert_eq!(ring.open(&ring.seal_with_rng(&secret, b"a", &mut rng)?, b"a")?, secret);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn seal_with_rng<R: CryptoRng + ?Sized>(
        &self,
        secret: &Secret,
        context: &[u8],
        rng: &mut R,
    ) -> Result<SealedSecret, Error> {
        let key = &self.sealing;
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let mut buffer = Zeroizing::new(secret.expose_secret().to_vec());
        let tag = key
            .cipher()
            .encrypt_inout_detached(
                &XNonce::from(nonce),
                &associated_data(context),
                buffer.as_mut_slice().into(),
            )
            .map_err(|_| Error::SealedSecretBroken)?;
        let mut ciphertext = core::mem::take(&mut *buffer);
        ciphertext.extend_from_slice(&tag);
        Ok(SealedSecret {
            key_id: key.id.clone(),
            nonce,
            ciphertext,
        })
    }

    /// Opens a sealed secret with the key it names.
    ///
    /// # Errors
    /// [`Error::KeyNotInKeyring`] (naming the key needed) when no key has
    /// its id; [`Error::SealedSecretBroken`] when it does not open: a wrong
    /// key under the same id, an altered ciphertext, or another `context`
    /// (a sealed secret moved to another record); the errors of
    /// [`Secret::from_bytes`] for what it holds.
    ///
    /// ```
    /// # use otpkit::{Error, Keyring, Secret};
    /// # use otpkit::seal::SealingKey;
    /// let sealed = Keyring::new(SealingKey::generate()).seal(&Secret::generate(), b"a")?;
    /// let other = Keyring::new(SealingKey::generate());
    /// assert!(matches!(other.open(&sealed, b"a"), Err(Error::KeyNotInKeyring { .. })));
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn open(&self, sealed: &SealedSecret, context: &[u8]) -> Result<Secret, Error> {
        let secret = self.open_any_length(sealed, context)?;
        Secret::from_bytes(secret.expose_secret())
    }

    /// [`Keyring::open`] for a record that holds a legacy key shorter than
    /// 128 bits; the record checks its length against its own flag.
    pub(crate) fn open_any_length(
        &self,
        sealed: &SealedSecret,
        context: &[u8],
    ) -> Result<Secret, Error> {
        let key = self
            .key(&sealed.key_id)
            .ok_or_else(|| Error::KeyNotInKeyring {
                key_id: sealed.key_id.clone(),
            })?;
        let split = sealed
            .ciphertext
            .len()
            .checked_sub(TAG_LEN)
            .ok_or(Error::SealedSecretBroken)?;
        let (body, tag) = sealed.ciphertext.split_at(split);
        let tag = Tag::try_from(tag).map_err(|_| Error::SealedSecretBroken)?;
        let mut buffer = Zeroizing::new(body.to_vec());
        key.cipher()
            .decrypt_inout_detached(
                &XNonce::from(sealed.nonce),
                &associated_data(context),
                buffer.as_mut_slice().into(),
                &tag,
            )
            .map_err(|_| Error::SealedSecretBroken)?;
        Secret::from_bytes_allow_short(&buffer)
    }
}

/// What the AEAD authenticates besides the ciphertext: the format version
/// and the caller's context.
fn associated_data(context: &[u8]) -> Vec<u8> {
    let mut data = Vec::with_capacity(context.len().saturating_add(24));
    data.extend_from_slice(b"otpkit sealed secret v1\0");
    data.extend_from_slice(context);
    data
}

impl FromStr for Keyring {
    type Err = Error;

    /// Parses comma-separated key texts; the first seals.
    ///
    /// # Errors
    /// [`Error::InvalidSealingKey`] for an empty list, a malformed key, or
    /// two keys with one id.
    fn from_str(text: &str) -> Result<Self, Error> {
        let mut keys = text.split(',').filter(|k| !k.trim().is_empty());
        let first = keys.next().ok_or(Error::InvalidSealingKey {
            reason: "no key given",
        })?;
        keys.try_fold(Self::new(first.parse()?), |ring, key| {
            ring.with_old_key(key.parse()?)
        })
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<&str> = core::iter::once(&self.sealing)
            .chain(&self.older)
            .map(SealingKey::id)
            .collect();
        f.debug_struct("Keyring").field("key_ids", &ids).finish()
    }
}

/// A secret sealed by a [`Keyring`]: the id of the key, a nonce, and the
/// ciphertext with its tag. `Display` and `FromStr` use the stored form
/// `$otpkit-xchacha20poly1305$v=1,k=<key id>$<nonce hex>$<ciphertext hex>`.
///
/// ```
/// use otpkit::{Keyring, Secret};
/// use otpkit::seal::{SealedSecret, SealingKey};
/// let ring = Keyring::new(SealingKey::new("k1", [1; 32])?);
/// let sealed = ring.seal(&Secret::generate(), b"ctx")?;
/// let text = sealed.to_string();
/// assert!(text.starts_with("$otpkit-xchacha20poly1305$v=1,k=k1$"));
/// assert_eq!(text.parse::<SealedSecret>()?, sealed);
/// assert_eq!(sealed.key_id(), "k1");
/// # Ok::<(), otpkit::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SealedSecret {
    key_id: String,
    nonce: [u8; NONCE_LEN],
    ciphertext: Vec<u8>,
}

impl SealedSecret {
    /// The id of the key that sealed it.
    ///
    /// ```
    /// # use otpkit::{Keyring, Secret};
    /// # use otpkit::seal::SealingKey;
    /// let key = SealingKey::generate();
    /// assert_eq!(Keyring::new(key.clone()).seal(&Secret::generate(), b"")?.key_id(), key.id());
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[must_use]
    pub fn key_id(&self) -> &str {
        &self.key_id
    }
}

impl fmt::Display for SealedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "${SEALED_ID}$v=1,k={}${}${}",
            self.key_id,
            hex::encode(&self.nonce),
            hex::encode(&self.ciphertext)
        )
    }
}

impl fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedSecret")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl FromStr for SealedSecret {
    type Err = Error;

    /// Parses the stored form.
    ///
    /// # Errors
    /// [`Error::InvalidSealedSecret`] for an unknown scheme or version, a
    /// bad key id, or a nonce or ciphertext that is not hex of the right
    /// length (a truncated record).
    fn from_str(text: &str) -> Result<Self, Error> {
        let bad = |reason| Error::InvalidSealedSecret { reason };
        let Some([scheme, params, nonce, ciphertext]) = phc::fields(text) else {
            return Err(bad("not $scheme$params$nonce$ciphertext"));
        };
        if scheme != SEALED_ID {
            return Err(bad("unknown sealing scheme"));
        }
        let key_id = params
            .strip_prefix("v=1,k=")
            .ok_or(bad("unsupported version or parameters"))?;
        check_id(key_id).map_err(|_| bad("bad key id"))?;
        let nonce = hex::decode::<NONCE_LEN>(nonce).ok_or(bad("nonce is not 24 bytes of hex"))?;
        let ciphertext = hex::decode_zeroizing(ciphertext)
            .filter(|c| c.len() > TAG_LEN)
            .ok_or(bad("ciphertext is not hex, or too short to hold a tag"))?;
        Ok(Self {
            key_id: key_id.to_owned(),
            nonce,
            ciphertext: ciphertext.to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::os;
    use alloc::format;

    #[test]
    fn every_bit_of_the_stored_form_is_authenticated() {
        let ring = Keyring::new(SealingKey::generate_with_rng(&mut os()));
        let secret = Secret::generate_with_rng(crate::Algorithm::Sha1, &mut os());
        let sealed = ring.seal_with_rng(&secret, b"ctx", &mut os()).unwrap();
        for i in 0..sealed.ciphertext.len() {
            let mut flipped = sealed.clone();
            flipped.ciphertext[i] ^= 1;
            assert_eq!(ring.open(&flipped, b"ctx"), Err(Error::SealedSecretBroken));
        }
        for i in 0..NONCE_LEN {
            let mut flipped = sealed.clone();
            flipped.nonce[i] ^= 0x80;
            assert_eq!(ring.open(&flipped, b"ctx"), Err(Error::SealedSecretBroken));
        }
        let mut truncated = sealed.clone();
        truncated.ciphertext.truncate(TAG_LEN - 1);
        assert_eq!(
            ring.open(&truncated, b"ctx"),
            Err(Error::SealedSecretBroken)
        );
        assert_eq!(ring.open(&sealed, b"ctx").unwrap(), secret);
    }

    #[test]
    fn key_text_errors_never_repeat_the_key() {
        let text = SealingKey::generate_with_rng(&mut os()).to_text();
        let broken = [
            text.replacen("otpkit-key:v1:", "otpkit-key:v2:", 1),
            text.replacen(':', ";", 3),
            format!("{}0", &*text),
            text.to_uppercase(),
        ];
        for input in &broken {
            let err = input.parse::<SealingKey>().unwrap_err();
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains(&text[text.len() - 20..]), "{shown}");
        }
    }
}
