//! Backup-code hashes made by other applications (the `import` feature):
//! bcrypt, passlib's PBKDF2-SHA-512 and Keycloak's SHA-512, read as stored
//! and checked in place.

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use sha2::{Digest as _, Sha512};
use subtle::{Choice, ConstantTimeEq};
use zeroize::Zeroizing;

use super::{ITERATIONS, ImportFormat};
use crate::encoding::phc;
use crate::error::Error;

/// bcrypt costs an imported hash may have: below, it is not a slow hash;
/// above, a tampered record could stall the server.
const BCRYPT_COSTS: core::ops::RangeInclusive<u32> = 4..=14;

/// One code's hash as another application stored it.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum ForeignHash {
    Bcrypt(String),
    Pbkdf2Sha512 {
        rounds: u32,
        salt: Vec<u8>,
        checksum: [u8; 64],
    },
    Sha512([u8; 64]),
}

impl fmt::Debug for ForeignHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ForeignHash(..)")
    }
}

fn bad(reason: &'static str) -> Error {
    Error::InvalidBackupRecord { reason }
}

impl ForeignHash {
    /// Reads one stored hash of `format`.
    pub(crate) fn parse(format: ImportFormat, text: &str) -> Result<Self, Error> {
        let text = text.trim();
        match format {
            ImportFormat::Bcrypt => {
                let parts: bcrypt::HashParts =
                    text.parse().map_err(|_| bad("not a bcrypt hash"))?;
                if !BCRYPT_COSTS.contains(&parts.get_cost()) {
                    return Err(bad("bcrypt cost must be 4 to 14"));
                }
                if !["$2a$", "$2b$", "$2y$"].iter().any(|v| text.starts_with(v)) {
                    return Err(bad("bcrypt hash is not $2a$, $2b$ or $2y$"));
                }
                Ok(Self::Bcrypt(text.to_owned()))
            }
            ImportFormat::Pbkdf2Sha512 => {
                let Some(["pbkdf2-sha512", rounds, salt, sum]) = phc::fields(text) else {
                    return Err(bad("not $pbkdf2-sha512$rounds$salt$checksum"));
                };
                let rounds: u32 = rounds.parse().map_err(|_| bad("rounds is not a number"))?;
                if !ITERATIONS.contains(&rounds) {
                    return Err(bad("pbkdf2 rounds must be 1000 to 10000000"));
                }
                let salt = ab64(salt).ok_or(bad("salt is not passlib base64"))?;
                let checksum = ab64(sum)
                    .and_then(|c| <[u8; 64]>::try_from(c.as_slice()).ok())
                    .ok_or(bad("checksum is not 64 bytes of passlib base64"))?;
                Ok(Self::Pbkdf2Sha512 {
                    rounds,
                    salt,
                    checksum,
                })
            }
            ImportFormat::Sha512 => {
                let digest = STANDARD
                    .decode(text)
                    .ok()
                    .and_then(|d| <[u8; 64]>::try_from(d.as_slice()).ok())
                    .ok_or(bad("not 64 bytes of base64"))?;
                Ok(Self::Sha512(digest))
            }
        }
    }

    /// The stored text, as it was read.
    #[cfg_attr(not(feature = "serde"), allow(dead_code))] // written with stored sets
    pub(crate) fn to_text(&self) -> String {
        match self {
            Self::Bcrypt(text) => text.clone(),
            Self::Pbkdf2Sha512 {
                rounds,
                salt,
                checksum,
            } => format!(
                "$pbkdf2-sha512${rounds}${}${}",
                STANDARD_NO_PAD.encode(salt).replace('+', "."),
                STANDARD_NO_PAD.encode(checksum).replace('+', ".")
            ),
            Self::Sha512(digest) => STANDARD.encode(digest),
        }
    }

    /// Whether `code` is the code behind this hash; constant time in what
    /// is compared.
    pub(crate) fn matches(&self, code: &[u8]) -> Choice {
        match self {
            // bcrypt's own comparison is constant time.
            Self::Bcrypt(hash) => {
                Choice::from(u8::from(bcrypt::verify(code, hash).unwrap_or(false)))
            }
            Self::Pbkdf2Sha512 {
                rounds,
                salt,
                checksum,
            } => {
                let mut out = Zeroizing::new([0u8; 64]);
                pbkdf2::pbkdf2_hmac::<Sha512>(code, salt, *rounds, &mut *out);
                out.ct_eq(checksum)
            }
            Self::Sha512(digest) => {
                let computed = Zeroizing::new(<[u8; 64]>::from(Sha512::digest(code)));
                computed.ct_eq(digest)
            }
        }
    }
}

/// passlib's "adapted base64": standard Base64 with `.` for `+`, no padding.
fn ab64(text: &str) -> Option<Vec<u8>> {
    STANDARD_NO_PAD.decode(text.replace('.', "+")).ok()
}
