//! `otpkit backup new | use | status`.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use otpkit::{BackupCodeOptions, BackupCodeSet, BackupHashScheme, BackupOutcome, Pepper};

use crate::files::{Existing, load_json, save_json, update_json};
use crate::{Failure, Outcome};

/// `otpkit backup …`
#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Make a new set: print the codes once, write only their hashes.
    New(NewArgs),
    /// Use a code from a set; exit 0 and print how many remain, or exit 1.
    Use(UseArgs),
    /// Show a set's size, remaining codes, scheme and dates.
    Status(StatusArgs),
}

/// Hashing schemes for `--scheme`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Scheme {
    /// HMAC-SHA-256, keyed with the pepper: fast.
    HmacSha256,
    /// PBKDF2-HMAC-SHA-256: slow on purpose, for use without a pepper.
    Pbkdf2Sha256,
}

/// Arguments of `otpkit backup new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// Codes in the set.
    #[arg(long, default_value_t = 10)]
    count: usize,
    /// Symbols a code.
    #[arg(long, default_value_t = 10)]
    length: usize,
    /// Hashing scheme.
    #[arg(long, value_enum, default_value_t = Scheme::HmacSha256)]
    scheme: Scheme,
    /// PBKDF2 iterations.
    #[arg(long, default_value_t = 100_000)]
    iterations: u32,
    #[command(flatten)]
    pepper: PepperArg,
    /// Where to write the hashed set (JSON).
    #[arg(short, long)]
    output: PathBuf,
    /// Replace an existing file.
    #[arg(long)]
    force: bool,
}

/// Arguments of `otpkit backup use`.
#[derive(Debug, Args)]
pub struct UseArgs {
    /// The hashed set (JSON); rewritten atomically when a code is used.
    set: PathBuf,
    /// The code, as typed.
    code: String,
    #[command(flatten)]
    pepper: PepperArg,
}

/// Arguments of `otpkit backup status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The hashed set (JSON).
    set: PathBuf,
}

/// Where the pepper comes from.
#[derive(Debug, Args)]
pub struct PepperArg {
    /// Read the pepper from this environment variable (never from argv).
    #[arg(long, value_name = "VAR")]
    pepper_env: Option<String>,
}

impl PepperArg {
    fn load(&self) -> Result<Option<Pepper>, Failure> {
        let Some(var) = &self.pepper_env else {
            return Ok(None);
        };
        let value = std::env::var_os(var)
            .ok_or_else(|| Failure::Usage(format!("environment variable {var} is not set")))?;
        let bytes = zeroize::Zeroizing::new(value.into_encoded_bytes());
        Ok(Some(Pepper::new(&bytes)?))
    }
}

pub fn run(command: &BackupCommand, out: &mut dyn Write) -> Outcome {
    match command {
        BackupCommand::New(args) => {
            let scheme = match args.scheme {
                Scheme::HmacSha256 => BackupHashScheme::HmacSha256,
                Scheme::Pbkdf2Sha256 => BackupHashScheme::Pbkdf2Sha256 {
                    iterations: args.iterations,
                },
            };
            let options = BackupCodeOptions::default()
                .count(args.count)
                .length(args.length)
                .scheme(scheme);
            let pepper = args.pepper.load()?;
            let (codes, set) =
                BackupCodeSet::generate(&options, pepper.as_ref(), crate::unix_now()?)?;
            let existing = if args.force {
                Existing::Replace
            } else {
                Existing::Refuse
            };
            // The file first: codes are shown only once they are stored.
            save_json(&args.output, &set, existing)?;
            for code in codes.iter() {
                writeln!(out, "{code}")?;
            }
            Ok(())
        }
        BackupCommand::Use(args) => {
            let pepper = args.pepper.load()?;
            // Under the file's lock from load to save: concurrent runs with
            // the same code take turns, and only the first is accepted.
            let outcome = update_json(&args.set, |mut set: BackupCodeSet| {
                let outcome = set
                    .verify_and_consume(&args.code, pepper.as_ref(), crate::unix_now()?)
                    .map_err(|e| match e {
                        otpkit::Error::PepperRequired => Failure::Usage(e.to_string()),
                        e => Failure::Rejected(format!("malformed: {e}")),
                    })?;
                let changed = matches!(outcome, BackupOutcome::Accepted { .. });
                Ok((changed.then_some(set), outcome))
            })?;
            match outcome {
                BackupOutcome::Accepted { remaining } => {
                    writeln!(out, "accepted: {remaining} remaining")?;
                    Ok(())
                }
                BackupOutcome::AlreadyUsed => {
                    Err(Failure::Rejected("used: this code was already used".into()))
                }
                BackupOutcome::Wrong => Err(Failure::Rejected(
                    "wrong: the code is not in this set".into(),
                )),
            }
        }
        BackupCommand::Status(args) => {
            let set = load_json::<BackupCodeSet>(&args.set)?;
            let scheme = match set.scheme() {
                BackupHashScheme::HmacSha256 => "hmac-sha256".to_owned(),
                BackupHashScheme::Pbkdf2Sha256 { iterations } => {
                    format!("pbkdf2-sha256 ({iterations} iterations)")
                }
                _ => "unknown".to_owned(),
            };
            writeln!(out, "total: {}", set.total())?;
            writeln!(out, "remaining: {}", set.remaining())?;
            writeln!(
                out,
                "scheme: {scheme}{}",
                if set.is_peppered() { ", peppered" } else { "" }
            )?;
            writeln!(out, "created: {}", utc(set.created_at()))?;
            writeln!(out, "updated: {}", utc(set.updated_at()))?;
            Ok(())
        }
    }
}

/// Unix seconds as an RFC 3339 UTC time (Howard Hinnant's civil-from-days).
fn utc(unix: u64) -> String {
    let days = i64::try_from(unix / 86_400).unwrap_or(i64::MAX / 2);
    let secs = unix % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_dates() {
        assert_eq!(super::utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::utc(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(super::utc(951_782_400), "2000-02-29T00:00:00Z");
    }
}
