//! Backup-code sets made by other applications: see [`ImportFormat`].

use alloc::vec::Vec;
use zeroize::Zeroizing;

#[cfg(feature = "import")]
use super::foreign::ForeignHash;
use super::options::check_scheme;
use super::{BackupCodeSet, BackupHashScheme, COUNTS, Slot, SlotHash};
use crate::engine::Typo;
use crate::error::Error;
use crate::pepper::Pepper;
use crate::random::CryptoRng;

/// How codes of an imported set are written when hashed: the case their
/// letters were folded to.
///
/// ```
/// assert_eq!(otpkit::backup::CodeCase::Lower.as_str(), "lower");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodeCase {
    /// Lower case (hex codes: devise-two-factor, GitLab, django-otp).
    Lower,
    /// Upper case (Keycloak, Vaultwarden).
    Upper,
    /// As typed.
    Exact,
}

impl CodeCase {
    /// The name in the stored form.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Lower => "lower",
            Self::Upper => "upper",
            Self::Exact => "exact",
        }
    }

    #[cfg_attr(not(feature = "serde"), allow(dead_code))] // read with stored sets
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        match name {
            "lower" => Some(Self::Lower),
            "upper" => Some(Self::Upper),
            "exact" => Some(Self::Exact),
            _ => None,
        }
    }
}

/// A format of backup-code hashes made by another application, so its
/// sets can be verified where they are.
///
/// Moving an application to otpkit should not cost its users their backup
/// codes. Each format below is read as that application stores it, and
/// verified and used up like a set of ours; the foreign hashes are never
/// re-hashed (the plaintext codes are not known), so an imported set keeps
/// the strength it had:
///
/// | format | who stores it so | one stored code |
/// |---|---|---|
/// | [`ImportFormat::Bcrypt`] | devise-two-factor, Clerk's import | `$2a$`/`$2b$`/`$2y$` bcrypt string |
/// | [`ImportFormat::Pbkdf2Sha512`] | GitLab (FIPS mode) | passlib's `$pbkdf2-sha512$<rounds>$<salt>$<checksum>` |
/// | [`ImportFormat::Sha512`] | Keycloak | Base64 of the unsalted SHA-512 of the code |
///
/// Plaintext lists (django-otp's static tokens, Kanidm, Vaultwarden) are
/// hashed on import with this crate's default scheme:
/// [`BackupCodeSet::import_plain`].
///
/// A code is typed however its application showed it: surrounding space,
/// spaces and dashes are dropped, and letters are folded to the set's
/// [`CodeCase`] (lower case for the hex codes of devise and GitLab, upper
/// case for Keycloak's). Every slot is checked, used or not, with no early
/// exit; with per-code salts (bcrypt, PBKDF2) that is one slow hash per code
/// of the set, so a check costs `count ×` one hash, as it did in the
/// application the set came from.
///
/// ```
/// use otpkit::backup::ImportFormat;
/// assert_eq!(ImportFormat::Pbkdf2Sha512.as_str(), "pbkdf2-sha512");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImportFormat {
    /// bcrypt (`$2a$`, `$2b$`, `$2y$`), cost 4 to 14.
    Bcrypt,
    /// PBKDF2-HMAC-SHA-512 in passlib's format, as GitLab writes it.
    Pbkdf2Sha512,
    /// Unsalted SHA-512, Base64, as Keycloak writes it.
    Sha512,
}

impl ImportFormat {
    /// The name in the stored form and on the command line.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Bcrypt => "bcrypt",
            Self::Pbkdf2Sha512 => "pbkdf2-sha512",
            Self::Sha512 => "sha512",
        }
    }

    #[cfg_attr(not(feature = "serde"), allow(dead_code))] // read with stored sets
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        match name {
            "bcrypt" => Some(Self::Bcrypt),
            "pbkdf2-sha512" => Some(Self::Pbkdf2Sha512),
            "sha512" => Some(Self::Sha512),
            _ => None,
        }
    }
}

/// What a person typed, as the importing application hashed it: white
/// space and dashes dropped, letters folded to `case`; only ASCII letters
/// and digits, 4 to 64 of them.
pub(super) fn normalize(input: &str, case: CodeCase) -> Result<Zeroizing<Vec<u8>>, Typo> {
    let mut out = Zeroizing::new(Vec::with_capacity(input.len()));
    for (position, c) in input.trim().chars().enumerate() {
        if c == '-' || c.is_whitespace() {
            continue;
        }
        if !c.is_ascii_alphanumeric() {
            return Err(Typo::InvalidCodeChar { position });
        }
        let b = u8::try_from(c).map_err(|_| Typo::InvalidCodeChar { position })?;
        out.push(match case {
            CodeCase::Lower => b.to_ascii_lowercase(),
            CodeCase::Upper => b.to_ascii_uppercase(),
            CodeCase::Exact => b,
        });
    }
    match out.len() {
        0 => Err(Typo::EmptyCode),
        n if !(4..=64).contains(&n) => Err(Typo::WrongBackupCodeLength {
            expected: n.clamp(4, 64),
            found: n,
        }),
        _ => Ok(out),
    }
}

impl BackupCodeSet {
    /// Declares the length of an imported set's codes (letters and digits,
    /// dashes and spaces not counted), when the application that made them
    /// used one length: input of another length is then no code of the
    /// set and costs no hash — a 6-digit TOTP code typed by a user whose
    /// imported codes are 8 characters never runs bcrypt against them.
    /// (A set imported from a plaintext list of one length keeps it
    /// already.)
    ///
    /// # Errors
    /// [`Error::InvalidBackupRecord`] for a set that is not imported, or a
    /// length outside 4 to 64.
    ///
    /// ```
    /// # #[cfg(feature = "import")] {
    /// use otpkit::backup::{BackupCodeSet, CodeCase, ImportFormat};
    /// let stored = ["yOleJy9kYv7KmL5oE/yeR0Cb1H1vS8olIMc0hQftpqFOjkMQffEpu0CD2M3Pbubuq5mfyw0HYxR9dW2kkYZdYg=="];
    /// let set = BackupCodeSet::import_hashes(ImportFormat::Sha512, &stored, CodeCase::Upper, 0)?;
    /// assert_eq!(set.code_length(), 0); // unknown: any 4 to 64 may be one
    /// assert_eq!(set.with_code_length(12)?.code_length(), 12);
    /// # }
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn with_code_length(mut self, length: usize) -> Result<Self, Error> {
        match self.form {
            super::Form::Imported { case, format, .. } if (4..=64).contains(&length) => {
                self.form = super::Form::Imported {
                    case,
                    format,
                    length: Some(length),
                };
                Ok(self)
            }
            super::Form::Imported { .. } => Err(Error::InvalidBackupRecord {
                reason: "an imported code is 4 to 64 letters and digits",
            }),
            super::Form::Otpkit { .. } => Err(Error::InvalidBackupRecord {
                reason: "only an imported set takes a declared code length",
            }),
        }
    }
}

impl BackupCodeSet {
    /// A set of backup codes hashed by another application (one stored hash
    /// per code, in `format`), verified in place and used up like a set of
    /// ours. See [`ImportFormat`] for the formats and their cost.
    ///
    /// # Errors
    /// [`Error::InvalidImportedHash`] naming the first hash (counting from
    /// 0) that is not of `format`, or whose cost is out of range;
    /// [`Error::BackupCountOutOfRange`] for an empty or oversized list.
    ///
    /// ```
    /// use otpkit::backup::{BackupCodeSet, BackupOutcome, CodeCase, ImportFormat};
    ///
    /// // Keycloak stores Base64(SHA-512(code)); this is the hash of "ABCD2345EFGH".
    /// let stored = ["yOleJy9kYv7KmL5oE/yeR0Cb1H1vS8olIMc0hQftpqFOjkMQffEpu0CD2M3Pbubuq5mfyw0HYxR9dW2kkYZdYg=="];
    /// let mut set = BackupCodeSet::import_hashes(ImportFormat::Sha512, &stored, CodeCase::Upper, 0)?;
    /// assert_eq!(set.verify_and_consume("abcd-2345-efgh", &otpkit::Pepper::NONE, 1)?, BackupOutcome::Valid { remaining: 0 });
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[cfg(feature = "import")]
    #[cfg_attr(docsrs, doc(cfg(feature = "import")))]
    pub fn import_hashes(
        format: ImportFormat,
        hashes: &[&str],
        case: CodeCase,
        now: u64,
    ) -> Result<Self, Error> {
        if !COUNTS.contains(&hashes.len()) {
            return Err(Error::BackupCountOutOfRange {
                count: hashes.len(),
            });
        }
        let slots = hashes
            .iter()
            .enumerate()
            .map(|(position, text)| {
                let hash = ForeignHash::parse(format, text).map_err(|e| match e {
                    Error::InvalidBackupRecord { reason } => {
                        Error::InvalidImportedHash { position, reason }
                    }
                    e => e,
                })?;
                Ok(Slot {
                    hash: SlotHash::Foreign(hash),
                    used: false,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(Self {
            scheme: BackupHashScheme::default(),
            peppered: false,
            salt: [0; super::SALT_LEN],
            form: super::Form::Imported {
                case,
                format: Some(format),
                length: None,
            },
            slots,
            created_at: now,
            updated_at: now,
        })
    }

    /// A set from plaintext codes another application stored (django-otp,
    /// Kanidm, Vaultwarden): each is hashed now, with `scheme` and the
    /// pepper if given, and only the hashes are kept. Codes keep their own
    /// alphabet and length; typed codes are folded to `case`.
    ///
    /// # Errors
    /// [`Error::InvalidImportedHash`] naming the first code that is not 4 to
    /// 64 ASCII letters and digits (dashes and spaces aside);
    /// [`Error::BackupCountOutOfRange`]; [`Error::InvalidBackupRecord`] for
    /// PBKDF2 iterations out of range.
    ///
    /// # Panics
    /// Only if the operating system cannot supply random bytes.
    ///
    /// ```
    /// use otpkit::backup::{BackupCodeSet, BackupHashScheme, BackupOutcome, CodeCase};
    ///
    /// let django = ["k3mw7q2p", "a9x4t6zr"]; // django-otp static tokens
    /// let fast = BackupHashScheme::Pbkdf2Sha256 { iterations: 1_000 };
    /// let mut set = BackupCodeSet::import_plain(&django, CodeCase::Lower, fast, &otpkit::Pepper::NONE, 0)?;
    /// assert_eq!(set.verify_and_consume("A9X4T6ZR", &otpkit::Pepper::NONE, 1)?, BackupOutcome::Valid { remaining: 1 });
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    #[cfg(feature = "std")]
    #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
    pub fn import_plain(
        codes: &[&str],
        case: CodeCase,
        scheme: BackupHashScheme,
        pepper: &Pepper,
        now: u64,
    ) -> Result<Self, Error> {
        Self::import_plain_with_rng(codes, case, scheme, pepper, now, &mut crate::random::os())
    }

    /// [`BackupCodeSet::import_plain`] with the salt drawn from `rng`.
    ///
    /// # Errors
    /// As [`BackupCodeSet::import_plain`].
    ///
    /// ```
    /// use otpkit::backup::{BackupCodeSet, BackupHashScheme, CodeCase};
    /// use rand::{rand_core::UnwrapErr, rngs::SysRng};
    /// let fast = BackupHashScheme::Pbkdf2Sha256 { iterations: 1_000 };
    /// let set = BackupCodeSet::import_plain_with_rng(&["k3mw7q2p"], CodeCase::Lower, fast, &otpkit::Pepper::NONE, 0, &mut UnwrapErr(SysRng))?;
    /// assert_eq!(set.remaining(), 1);
    /// # Ok::<(), otpkit::Error>(())
    /// ```
    pub fn import_plain_with_rng<R: CryptoRng + ?Sized>(
        codes: &[&str],
        case: CodeCase,
        scheme: BackupHashScheme,
        pepper: &Pepper,
        now: u64,
        rng: &mut R,
    ) -> Result<Self, Error> {
        let pepper = pepper.given();
        if !COUNTS.contains(&codes.len()) {
            return Err(Error::BackupCountOutOfRange { count: codes.len() });
        }
        check_scheme(scheme)?;
        let mut set = Self {
            scheme,
            peppered: pepper.is_some(),
            salt: super::fresh_salt(rng),
            form: super::Form::Imported {
                case,
                format: None,
                length: None,
            },
            slots: Vec::with_capacity(codes.len()),
            created_at: now,
            updated_at: now,
        };
        let mut lengths = Vec::with_capacity(codes.len());
        for (position, code) in codes.iter().enumerate() {
            let symbols = normalize(code, case).map_err(|_| Error::InvalidImportedHash {
                position,
                reason: "a code must be 4 to 64 ASCII letters and digits",
            })?;
            lengths.push(symbols.len());
            let hash = SlotHash::Digest(*set.hash(&symbols, pepper));
            set.slots.push(Slot { hash, used: false });
        }
        // Codes of one length keep it: input of another is no code of the
        // set, and costs no hash.
        if lengths
            .iter()
            .all(|&length| Some(&length) == lengths.first())
        {
            set.form = super::Form::Imported {
                case,
                format: None,
                length: lengths.first().copied(),
            };
        }
        Ok(set)
    }
}
