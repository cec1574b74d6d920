//! `otpkit backup new | use | status`.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use otpkit::BackupCodeSet;
use otpkit::backup::{BackupCodeOptions, BackupHashScheme, BackupOutcome, CodeCase, ImportFormat};

use crate::files::{Existing, load_json, save_json, update_json};
use crate::keys::PepperArg;
use crate::{Failure, Outcome, time};

/// `otpkit backup …`
#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Make a new set: print the codes once, write only their hashes.
    New(NewArgs),
    /// Use a code from a set; exit 0 and print how many remain, or exit 1.
    Use(UseArgs),
    /// Show a set's size, remaining codes, scheme and dates.
    Status(StatusArgs),
    /// Import a set made by another application: hashes verified in place
    /// (bcrypt, pbkdf2-sha512, sha512), or plaintext codes hashed now.
    Import(ImportArgs),
}

/// Formats for `backup import`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// bcrypt hashes ($2a$, $2b$, $2y$): devise-two-factor, Clerk.
    Bcrypt,
    /// passlib's $pbkdf2-sha512$ strings: GitLab.
    Pbkdf2Sha512,
    /// Base64 of unsalted SHA-512: Keycloak.
    Sha512,
    /// Plaintext codes (django-otp, Kanidm, Vaultwarden), hashed on import.
    Plain,
}

/// Letter case for `--case`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Case {
    /// Lower case (hex codes: devise, GitLab, django-otp).
    Lower,
    /// Upper case (Keycloak, Vaultwarden).
    Upper,
    /// As typed.
    Exact,
}

/// Arguments of `otpkit backup import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// What FILE holds, one per line.
    #[arg(long, value_enum)]
    format: Format,
    /// The hashes (or plaintext codes), one per line; blank lines ignored.
    file: PathBuf,
    /// The case the codes were hashed in [default: upper for sha512,
    /// lower otherwise].
    #[arg(long, value_enum)]
    case: Option<Case>,
    #[command(flatten)]
    pepper: PepperArg,
    /// Where to write the set (JSON, 0600).
    #[arg(short, long)]
    output: PathBuf,
    /// Replace an existing file.
    #[arg(long)]
    force: bool,
}

/// Hashing schemes for `--scheme`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scheme {
    /// HMAC-SHA-256, keyed with the pepper: fast, and safe with a pepper.
    HmacSha256,
    /// PBKDF2-HMAC-SHA-256: slow on purpose, for use without a pepper.
    Pbkdf2Sha256,
}

/// Arguments of `otpkit backup new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// Codes in the set, 1 to 100.
    #[arg(long, default_value_t = 10)]
    count: usize,
    /// Letters and digits a code, 8 to 24 (10 carry 49.5 bits).
    #[arg(long, default_value_t = 10)]
    length: usize,
    /// Hashing scheme.
    #[arg(long, value_enum, default_value_t = Scheme::Pbkdf2Sha256)]
    scheme: Scheme,
    /// PBKDF2 iterations, 10000 to 10000000 [default: 100000]; only with
    /// --scheme pbkdf2-sha256.
    #[arg(long)]
    iterations: Option<u32>,
    #[command(flatten)]
    pepper: PepperArg,
    /// Where to write the hashed set (JSON, 0600).
    #[arg(short, long)]
    output: PathBuf,
    /// Replace an existing file.
    #[arg(long)]
    force: bool,
}

/// Arguments of `otpkit backup use`.
#[derive(Debug, Args)]
pub struct UseArgs {
    /// The hashed set (JSON); rewritten under a file lock when a code is
    /// used.
    set: PathBuf,
    /// The code, as typed (any case; dashes and spaces ignored).
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

pub fn run(command: &BackupCommand, out: &mut dyn Write) -> Outcome {
    match command {
        BackupCommand::New(args) => new(args, out),
        BackupCommand::Use(args) => use_code(args, out),
        BackupCommand::Status(args) => status(args, out),
        BackupCommand::Import(args) => import(args, out),
    }
}

fn import(args: &ImportArgs, out: &mut dyn Write) -> Outcome {
    let existing = if args.force {
        Existing::Replace
    } else {
        Existing::Refuse
    };
    crate::files::check_destination(&args.output, existing)?;
    let text = crate::files::read_text(&args.file)?;
    let text = std::str::from_utf8(&text)
        .map_err(|_| Failure::File(format!("{} is not UTF-8 text", args.file.display())))?;
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let case = match (args.case, args.format) {
        (Some(Case::Lower), _) => CodeCase::Lower,
        (Some(Case::Upper), _) => CodeCase::Upper,
        (Some(Case::Exact), _) => CodeCase::Exact,
        (None, Format::Sha512) => CodeCase::Upper,
        (None, _) => CodeCase::Lower,
    };
    let now = crate::unix_now()?;
    let set = match args.format {
        Format::Plain => {
            let pepper = args.pepper.load_for_new_codes()?;
            BackupCodeSet::import_plain(&lines, case, BackupHashScheme::default(), &pepper, now)
        }
        format => {
            if args.pepper.is_given() {
                return Err(Failure::Usage(
                    "--pepper-env is for --format plain: imported hashes keep their own".into(),
                ));
            }
            let format = match format {
                Format::Bcrypt => ImportFormat::Bcrypt,
                Format::Pbkdf2Sha512 => ImportFormat::Pbkdf2Sha512,
                _ => ImportFormat::Sha512,
            };
            BackupCodeSet::import_hashes(format, &lines, case, now)
        }
    }
    .map_err(|e| Failure::File(format!("{}: {e}", args.file.display())))?;
    save_json(&args.output, &set, existing)?;
    writeln!(
        out,
        "imported: {} codes to {}",
        set.total(),
        args.output.display()
    )?;
    Ok(())
}

fn new(args: &NewArgs, out: &mut dyn Write) -> Outcome {
    let scheme = match (args.scheme, args.iterations) {
        (Scheme::HmacSha256, None) => BackupHashScheme::HmacSha256,
        (Scheme::HmacSha256, Some(_)) => {
            return Err(Failure::Usage(
                "--iterations is for --scheme pbkdf2-sha256".into(),
            ));
        }
        (Scheme::Pbkdf2Sha256, iterations) => BackupHashScheme::Pbkdf2Sha256 {
            iterations: iterations.unwrap_or(100_000),
        },
    };
    let options = BackupCodeOptions::default()
        .count(args.count)
        .length(args.length)
        .scheme(scheme);
    let pepper = args.pepper.load_for_new_codes()?;
    let (codes, set) = BackupCodeSet::generate(&options, &pepper, crate::unix_now()?)?;
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

fn use_code(args: &UseArgs, out: &mut dyn Write) -> Outcome {
    let pepper = args.pepper.load()?;
    let now = crate::unix_now()?;
    // Under the file's lock from load to save: concurrent runs with the
    // same code take turns, and only the first is accepted.
    let outcome = update_json(&args.set, |mut set: BackupCodeSet| {
        let outcome = set.verify_and_consume(&args.code, &pepper, now)?;
        let changed = matches!(outcome, BackupOutcome::Valid { .. });
        Ok((changed.then_some(set), outcome))
    })?;
    match outcome {
        BackupOutcome::Valid { remaining } => {
            writeln!(out, "valid: backup code, {remaining} remaining")?;
            Ok(())
        }
        BackupOutcome::Replayed => Err(Failure::Rejected(
            "replayed: this backup code was already used".into(),
        )),
        BackupOutcome::Malformed(typo) => Err(Failure::Rejected(format!("malformed: {typo}"))),
        _ => Err(Failure::Rejected(
            "invalid: the code is not in this set".into(),
        )),
    }
}

fn status(args: &StatusArgs, out: &mut dyn Write) -> Outcome {
    let set = load_json::<BackupCodeSet>(&args.set)?;
    let scheme = match (set.import_format(), set.scheme()) {
        (Some(format), _) => format!("imported {}", format.as_str()),
        (None, BackupHashScheme::HmacSha256) => "hmac-sha256".to_owned(),
        (None, BackupHashScheme::Pbkdf2Sha256 { iterations }) => {
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
    writeln!(out, "created: {}", time::utc(set.created_at()))?;
    writeln!(out, "updated: {}", time::utc(set.updated_at()))?;
    Ok(())
}
