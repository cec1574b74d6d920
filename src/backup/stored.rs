//! The stable JSON form, version 1. The `hasher` field names the
//! scheme, its parameters and the salt, PHC style:
//! `$otpkit-pbkdf2-sha256$v=1,i=100000,p=0$<salt hex>` for our sets
//! (with `c=<case>` for a set imported from plaintext), and
//! `$otpkit-import-<format>$v=1,c=<case>$` for hashes made elsewhere,
//! whose `hash` fields then hold the foreign hash strings as read.

#[cfg(feature = "import")]
use super::foreign::ForeignHash;
use super::{
    BackupCodeSet, BackupHashScheme, COUNTS, CodeCase, Form, ITERATIONS, ImportFormat, LENGTHS,
    SALT_LEN, Slot, SlotHash,
};
use crate::encoding::{hex, phc};
use crate::error::Error;
use crate::pepper::HASH_LEN;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Set {
    version: u32,
    hasher: String,
    length: usize,
    codes: Vec<Code>,
    created_at: u64,
    updated_at: u64,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Code {
    hash: String,
    used: bool,
}

fn hasher(set: &BackupCodeSet) -> String {
    let pepper = u8::from(set.peppered);
    let salt = hex::encode(&set.salt);
    let case = match set.form {
        Form::Imported { case, .. } => format!(",c={}", case.as_str()),
        Form::Otpkit { .. } => String::new(),
    };
    match (set.form, set.scheme) {
        (
            Form::Imported {
                case,
                format: Some(format),
                ..
            },
            _,
        ) => {
            format!(
                "$otpkit-import-{}$v=1,c={}$",
                format.as_str(),
                case.as_str()
            )
        }
        (_, BackupHashScheme::HmacSha256) => {
            format!("$otpkit-hmac-sha256$v=1,p={pepper}{case}${salt}")
        }
        (_, BackupHashScheme::Pbkdf2Sha256 { iterations }) => {
            format!("$otpkit-pbkdf2-sha256$v=1,i={iterations},p={pepper}{case}${salt}")
        }
    }
}

impl From<&BackupCodeSet> for Set {
    fn from(set: &BackupCodeSet) -> Self {
        Self {
            version: 1,
            hasher: hasher(set),
            length: set.code_length(),
            codes: set
                .slots
                .iter()
                .map(|slot| Code {
                    hash: match &slot.hash {
                        SlotHash::Digest(digest) => hex::encode(digest),
                        #[cfg(feature = "import")]
                        SlotHash::Foreign(foreign) => foreign.to_text(),
                    },
                    used: slot.used,
                })
                .collect(),
            created_at: set.created_at,
            updated_at: set.updated_at,
        }
    }
}

fn bad(reason: &'static str) -> Error {
    Error::InvalidBackupRecord { reason }
}

/// What the hasher string says.
struct Hasher {
    scheme: BackupHashScheme,
    peppered: bool,
    salt: [u8; SALT_LEN],
    form: Form,
}

/// Parses `$<id>$<params>$<salt>`.
fn parse_hasher(text: &str, length: usize) -> Result<Hasher, Error> {
    let Some([id, params, salt]) = phc::fields(text) else {
        return Err(bad("hasher is not $id$params$salt"));
    };
    let (mut version, mut iterations, mut pepper, mut case) = (None, None, None, None);
    for param in params.split(',') {
        let (name, value) = param
            .split_once('=')
            .ok_or(bad("hasher parameter without ="))?;
        let number = || {
            value
                .parse::<u32>()
                .map_err(|_| bad("hasher parameter is not a number"))
        };
        let fresh = match name {
            "v" => version.replace(number()?).is_none(),
            "i" => iterations.replace(number()?).is_none(),
            "p" => pepper.replace(number()?).is_none(),
            "c" => case
                .replace(CodeCase::from_name(value).ok_or(bad("unknown code case"))?)
                .is_none(),
            _ => return Err(bad("unknown hasher parameter")),
        };
        if !fresh {
            return Err(bad("hasher parameter given twice"));
        }
    }
    if version != Some(1) {
        return Err(bad("unsupported hasher version"));
    }
    if let Some(format) = id.strip_prefix("otpkit-import-") {
        let format = ImportFormat::from_name(format).ok_or(bad("unknown hasher"))?;
        let case = case.ok_or(bad("an imported set names its code case"))?;
        if iterations.is_some() || pepper.is_some() || !salt.is_empty() {
            return Err(bad("an imported set has no salt, pepper or iterations"));
        }
        return Ok(Hasher {
            scheme: BackupHashScheme::default(),
            peppered: false,
            salt: [0; SALT_LEN],
            form: Form::Imported {
                case,
                format: Some(format),
                length: imported_length(length)?,
            },
        });
    }
    let peppered = match pepper {
        Some(0) => false,
        Some(1) => true,
        _ => return Err(bad("hasher pepper flag must be 0 or 1")),
    };
    let scheme = match (id, iterations) {
        ("otpkit-hmac-sha256", None) => BackupHashScheme::HmacSha256,
        ("otpkit-pbkdf2-sha256", Some(iterations)) if ITERATIONS.contains(&iterations) => {
            BackupHashScheme::Pbkdf2Sha256 { iterations }
        }
        ("otpkit-pbkdf2-sha256", _) => {
            return Err(bad("pbkdf2 iterations missing or out of range"));
        }
        _ => return Err(bad("unknown hasher")),
    };
    let salt = hex::decode::<SALT_LEN>(salt).ok_or(bad("salt is not 16 bytes of hex"))?;
    let form = match case {
        Some(case) => Form::Imported {
            case,
            format: None,
            length: imported_length(length)?,
        },
        None if LENGTHS.contains(&length) => Form::Otpkit { length },
        None => return Err(bad("code length out of range")),
    };
    Ok(Hasher {
        scheme,
        peppered,
        salt,
        form,
    })
}

/// An imported set's stored code length: 0 for unknown (any 4 to 64), else
/// 4 to 64.
fn imported_length(length: usize) -> Result<Option<usize>, Error> {
    match length {
        0 => Ok(None),
        4..=64 => Ok(Some(length)),
        _ => Err(bad("an imported code length is 4 to 64 (0: unknown)")),
    }
}

impl TryFrom<Set> for BackupCodeSet {
    type Error = Error;

    fn try_from(set: Set) -> Result<Self, Error> {
        if set.version != 1 {
            return Err(bad("unsupported record version"));
        }
        let hasher = parse_hasher(&set.hasher, set.length)?;
        if !COUNTS.contains(&set.codes.len()) {
            return Err(bad("number of codes out of range"));
        }
        if set.updated_at < set.created_at {
            return Err(bad("updated_at is before created_at"));
        }
        let slots = set
            .codes
            .iter()
            .map(|code| {
                let hash = match hasher.form {
                    #[cfg(feature = "import")]
                    Form::Imported {
                        format: Some(format),
                        ..
                    } => SlotHash::Foreign(ForeignHash::parse(format, &code.hash)?),
                    #[cfg(not(feature = "import"))]
                    Form::Imported {
                        format: Some(_), ..
                    } => return Err(Error::FeatureDisabled { feature: "import" }),
                    _ => SlotHash::Digest(
                        hex::decode::<HASH_LEN>(&code.hash)
                            .ok_or(bad("code hash is not 32 bytes of hex"))?,
                    ),
                };
                Ok(Slot {
                    hash,
                    used: code.used,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(Self {
            scheme: hasher.scheme,
            peppered: hasher.peppered,
            salt: hasher.salt,
            form: hasher.form,
            slots,
            created_at: set.created_at,
            updated_at: set.updated_at,
        })
    }
}

impl serde::Serialize for BackupCodeSet {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Set::from(self).serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for BackupCodeSet {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let set = Set::deserialize(deserializer)?;
        Self::try_from(set).map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "seal")]
impl BackupCodeSet {
    /// Writes the set's stored form into `binding` (what a sealed record is
    /// bound to): every field of its JSON, in order.
    pub(crate) fn bind_into(&self, binding: &mut crate::encoding::binding::Binding) {
        let set = Set::from(self);
        let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        binding
            .num(u64::from(set.version))
            .text(&set.hasher)
            .num(count(set.length))
            .num(count(set.codes.len()));
        for code in &set.codes {
            binding.text(&code.hash).flag(code.used);
        }
        binding.num(set.created_at).num(set.updated_at);
    }
}
