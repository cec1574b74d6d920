//! The application's own secrets, always read from the environment (never
//! argv): sealing keys (`--key-env`, `otpkit key new`, `otpkit rekey`) and
//! the backup-code pepper (`--pepper-env`).

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use otpkit::seal::SealingKey;
use otpkit::{Keyring, Pepper, StoredTotpRecord, TotpRecord};

use crate::files::update_json;
use crate::{Failure, Outcome};

/// `otpkit key …`
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Print a fresh sealing key (keep it in a secrets manager, never beside
    /// the records it seals).
    New,
}

/// Where the sealing keys come from.
#[derive(Debug, Args)]
pub struct KeyArg {
    /// Read the sealing keys from this environment variable (never from
    /// argv): one key, or several separated by commas, newest first; the
    /// first seals, all open.
    #[arg(long, value_name = "VAR", requires = "record")]
    key_env: Option<String>,
}

impl KeyArg {
    /// The keyring, if `--key-env` was given.
    pub fn load(&self) -> Result<Option<Keyring>, Failure> {
        let Some(var) = &self.key_env else {
            return Ok(None);
        };
        let var = variable_name("--key-env", var)?;
        let bytes = env_secret(var)
            .ok_or_else(|| Failure::Usage(format!("environment variable {var} is not set")))?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| Failure::Usage(format!("{var} does not hold sealing keys")))?;
        let keyring = text
            .parse()
            .map_err(|e| Failure::Usage(format!("{var}: {e}")))?;
        Ok(Some(keyring))
    }
}

/// The bytes of an environment variable, wiped on drop; `None` when unset.
fn env_secret(var: &str) -> Option<zeroize::Zeroizing<Vec<u8>>> {
    std::env::var_os(var).map(|value| zeroize::Zeroizing::new(value.into_encoded_bytes()))
}

/// `var`, if it can be the name of an environment variable: 1 to 64
/// letters, digits and `_`, not starting with a digit, and not shaped like
/// a key (20 or more letters and digits without a `_`: a pasted pepper or
/// key). Refused without being repeated: what was typed may be the secret
/// itself, put where its variable's name belongs.
fn variable_name<'a>(flag: &str, var: &'a str) -> Result<&'a str, Failure> {
    let named = !var.is_empty()
        && var.len() <= 64
        && var.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !var.as_bytes()[0].is_ascii_digit();
    let key_shaped = var.len() >= 20 && !var.contains('_');
    if named && !key_shaped {
        Ok(var)
    } else {
        Err(Failure::Usage(format!(
            "{flag} takes the name of an environment variable (letters, digits, _), not a \
             value: what was given is not shown, since it may be the secret itself"
        )))
    }
}

/// The environment variable a pepper is read from when `--pepper-env` is
/// not given: backup codes are peppered whenever one is configured.
pub const DEFAULT_PEPPER_ENV: &str = "OTPKIT_PEPPER";

/// Where the backup-code pepper comes from.
#[derive(Debug, Args)]
pub struct PepperArg {
    /// Read the backup-code pepper (16 bytes or more) from this environment
    /// variable [default: OTPKIT_PEPPER, when set].
    #[arg(long, value_name = "VAR")]
    pepper_env: Option<String>,
}

impl PepperArg {
    /// Whether `--pepper-env` was given.
    pub fn is_given(&self) -> bool {
        self.pepper_env.is_some()
    }

    /// The pepper: from `--pepper-env` (which must be set), else from
    /// `OTPKIT_PEPPER` if set, else [`Pepper::NONE`].
    pub fn load(&self) -> Result<Pepper, Failure> {
        let var = match self.pepper_env.as_deref() {
            Some(var) => variable_name("--pepper-env", var)?,
            None => DEFAULT_PEPPER_ENV,
        };
        let Some(bytes) = env_secret(var) else {
            return match &self.pepper_env {
                Some(var) => Err(Failure::Usage(format!(
                    "environment variable {var} is not set"
                ))),
                None => Ok(Pepper::NONE),
            };
        };
        Pepper::new(&bytes).map_err(|e| Failure::Usage(format!("{var}: {e}")))
    }

    /// The pepper for a new set of backup codes, with a warning on standard
    /// error when there is none.
    pub fn load_for_new_codes(&self) -> Result<Pepper, Failure> {
        let pepper = self.load()?;
        if !pepper.is_set() {
            eprintln!(
                "otpkit: warning: backup codes hashed without a pepper: whoever copies the file \
                 can try codes offline; set {DEFAULT_PEPPER_ENV} (or pass --pepper-env VAR) to \
                 a secret of 16 bytes or more kept elsewhere"
            );
        }
        Ok(pepper)
    }
}

/// A key not given is the caller's (exit 2); a record that does not open
/// with the key it names (edited on disk, moved, or sealed with another
/// key of that id) or fails its checks is the file's (exit 3).
fn open_failure(err: otpkit::Error) -> Failure {
    match err {
        otpkit::Error::KeyNotInKeyring { .. } => Failure::Usage(err.to_string()),
        err => Failure::File(err.to_string()),
    }
}

/// How a record file holds its secret.
pub enum Storage {
    /// Sealed with the keyring's first key.
    Sealed(Keyring),
    /// In plaintext: opted into with `--unsealed`.
    Unsealed,
}

impl Storage {
    /// The storage `enroll --record` asked for: a key, or `--unsealed`.
    pub fn chosen(key: &KeyArg, unsealed: bool) -> Result<Self, Failure> {
        match (key.load()?, unsealed) {
            (Some(keyring), false) => Ok(Self::Sealed(keyring)),
            (None, true) => Ok(Self::Unsealed),
            (Some(_), true) => Err(Failure::Usage(
                "--key-env and --unsealed contradict each other".into(),
            )),
            (None, false) => Err(Failure::Usage(
                "a record holds the secret: pass --key-env VAR with a key from `otpkit key new` \
                 (or --unsealed to store it in plaintext)"
                    .into(),
            )),
        }
    }

    pub fn store(&self, record: &TotpRecord) -> Result<StoredTotpRecord, Failure> {
        Ok(match self {
            Self::Sealed(keyring) => record.seal(keyring)?,
            Self::Unsealed => record.unsealed_for_storage(),
        })
    }

    /// Opens a stored record as it is stored: sealed with the keyring, or
    /// in plaintext when no key is given. The returned storage saves it
    /// back the same way.
    pub fn open(stored: &StoredTotpRecord, key: &KeyArg) -> Result<(TotpRecord, Self), Failure> {
        match key.load()? {
            Some(keyring) => match stored.open(&keyring) {
                Ok(record) => Ok((record, Self::Sealed(keyring))),
                Err(otpkit::Error::PlaintextRecord) => Err(Failure::Usage(
                    "the record holds its secret in plaintext: seal it with \
                     `otpkit rekey --record FILE --key-env VAR`"
                        .into(),
                )),
                Err(otpkit::Error::LegacyRecord) => Err(Failure::Usage(
                    "the record was sealed by otpkit 0.1 (its secret bound to its id only): \
                     re-seal it with `otpkit rekey --record FILE --key-env VAR`"
                        .into(),
                )),
                Err(e) => Err(open_failure(e)),
            },
            None => match stored.open_unsealed() {
                Ok(record) => Ok((record, Self::Unsealed)),
                Err(otpkit::Error::SealedRecord { key_id }) => Err(Failure::Usage(format!(
                    "the record is sealed with key {key_id:?}: pass --key-env VAR holding it"
                ))),
                Err(e) => Err(open_failure(e)),
            },
        }
    }
}

/// Arguments of `otpkit rekey`.
#[derive(Debug, Args)]
pub struct RekeyArgs {
    /// The record to re-seal under the first key (a plaintext record is
    /// sealed).
    #[arg(long, value_name = "FILE")]
    record: PathBuf,
    #[command(flatten)]
    key: KeyArg,
}

pub fn key(command: &KeyCommand, out: &mut dyn Write) -> Outcome {
    match command {
        KeyCommand::New => {
            let text = SealingKey::generate().to_text();
            out.write_all(text.as_bytes())?;
            out.write_all(b"\n")?;
            Ok(())
        }
    }
}

pub fn rekey(args: &RekeyArgs, out: &mut dyn Write) -> Outcome {
    let keyring = args
        .key
        .load()?
        .ok_or_else(|| Failure::Usage("rekey needs --key-env VAR".into()))?;
    let (from, to) = update_json(&args.record, |stored: StoredTotpRecord| {
        let from = stored.key_id().map(str::to_owned);
        let resealed = match stored.rekey(&keyring) {
            Err(otpkit::Error::PlaintextRecord) => stored.open_unsealed()?.seal(&keyring)?,
            other => other.map_err(open_failure)?,
        };
        Ok((Some(resealed), (from, keyring.sealing_key_id().to_owned())))
    })?;
    match from {
        Some(from) => writeln!(out, "resealed: key {from} -> key {to}")?,
        None => writeln!(out, "sealed: plaintext -> key {to}")?,
    }
    Ok(())
}
