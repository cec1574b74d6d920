//! `otpkit enroll` and `otpkit verify --record`: the enrollment record's
//! lifecycle from a shell.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use otpkit::backup::BackupCodes;
use otpkit::record::{CodeType, EnrollmentOptions};
use otpkit::{StoredTotpRecord, TotpOutcome, TotpRecord};

use crate::files::{
    Existing, check_destination, save_json, to_json, update_json, write_atomically,
};
use crate::input::label_part;
use crate::keys::{KeyArg, PepperArg, Storage};
use crate::qr::{QrFormat, render, warn_if_too_wide};
use crate::{Failure, Outcome, time, unix_now};

/// How `enroll` shows the QR code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EnrollQr {
    /// In the terminal.
    Terminal,
    /// An SVG file (-o).
    Svg,
    /// A PNG file (-o).
    Png,
}

/// Arguments of `otpkit enroll`.
#[derive(Debug, Args)]
pub struct EnrollArgs {
    /// The service name the app shows (not empty).
    #[arg(long)]
    issuer: String,
    /// The user's account name (not empty).
    #[arg(long)]
    account: String,
    /// Where the QR code goes.
    #[arg(long, value_enum, default_value_t = EnrollQr::Terminal)]
    qr: EnrollQr,
    /// The file for an SVG or PNG QR code (written 0600: it encodes the
    /// secret).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Save the server-side record here (hashed backup codes only, the
    /// secret sealed with --key-env), for `otpkit verify --record`.
    #[arg(long, value_name = "FILE")]
    record: Option<PathBuf>,
    #[command(flatten)]
    key: KeyArg,
    /// Store the record's secret in plaintext instead of sealing it:
    /// anyone who reads the file can then mint codes.
    #[arg(long, requires = "record")]
    unsealed: bool,
    #[command(flatten)]
    pepper: PepperArg,
    /// Replace existing files (the record, the QR image).
    #[arg(long)]
    force: bool,
    /// Print the creation response (Clerk's TOTP object) as JSON, write the
    /// QR file and the record if asked, and exit without asking for a code.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    import: ImportArgs,
}

/// Key formats for `--secret-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SecretFormat {
    /// RFC 4648 Base32 (most applications).
    Base32,
    /// Hex (django-otp).
    Hex,
}

/// `enroll --import`: bring an enrollment made by another application.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Import an existing enrollment instead of making a new secret: its
    /// key, or `-` for the first line of standard input. Needs --record;
    /// no QR code is shown (the user's app has the key already).
    #[arg(long, value_name = "SECRET", requires = "record", conflicts_with_all = ["qr", "output"])]
    import: Option<String>,
    /// How the imported key is written.
    #[arg(long, value_enum, default_value_t = SecretFormat::Base32, requires = "import")]
    secret_format: SecretFormat,
    /// The imported enrollment's hash: SHA1, SHA256 or SHA512 [default: SHA1].
    #[arg(long, requires = "import")]
    algorithm: Option<String>,
    /// The imported enrollment's digits, 6 to 10 [default: 6].
    #[arg(long, requires = "import")]
    digits: Option<u8>,
    /// The imported enrollment's period in seconds [default: 30].
    #[arg(long, requires = "import")]
    period: Option<u64>,
    /// The last time step the old application accepted (Vaultwarden's
    /// last_used, devise's consumed_timestep, django-otp's last_t), so a
    /// code used there is refused here.
    #[arg(long, requires = "import")]
    last_step: Option<u64>,
    /// The clock drift the old application learned, in time steps
    /// (django-otp's drift), -20 to 20.
    #[arg(long, requires = "import", allow_hyphen_values = true)]
    drift: Option<i64>,
    /// Accept a key shorter than 128 bits; the record is flagged legacy.
    #[arg(long, requires = "import")]
    allow_short_secret: bool,
    /// A backup-code set made by `otpkit backup import`, to attach.
    #[arg(long, value_name = "SET", requires = "import")]
    backup_set: Option<PathBuf>,
}

/// `enroll --import`: a verified record for an existing key.
fn import(args: &EnrollArgs, secret: &str, out: &mut dyn Write) -> Outcome {
    let import = &args.import;
    let (Some(path), Some(storage)) = (
        &args.record,
        args.record
            .as_ref()
            .map(|_| Storage::chosen(&args.key, args.unsealed))
            .transpose()?,
    ) else {
        return Err(Failure::Usage("--import needs --record FILE".into()));
    };
    let existing = if args.force {
        Existing::Replace
    } else {
        Existing::Refuse
    };
    check_destination(path, existing)?;
    let text = crate::input::read_argument(secret)?;
    let secret = match import.secret_format {
        SecretFormat::Base32 => crate::input::parse_secret(&text, import.allow_short_secret)?,
        SecretFormat::Hex if import.allow_short_secret => {
            otpkit::Secret::from_hex_allow_short(&text)?
        }
        SecretFormat::Hex => otpkit::Secret::from_hex(&text).map_err(|e| match e {
            otpkit::Error::SecretTooShort { .. } => {
                Failure::Usage(format!("{e}; pass --allow-short-secret to accept it"))
            }
            e => e.into(),
        })?,
    };
    let mut options = EnrollmentOptions::default()
        .digits(import.digits.unwrap_or(6))
        .period(import.period.unwrap_or(30));
    if let Some(name) = &import.algorithm {
        options = options.algorithm(name.parse()?);
    }
    let last_step = import.last_step.map(otpkit::TimeStep::new);
    let issuer = label_part(&args.issuer, "--issuer")?;
    let account = label_part(&args.account, "--account")?;
    let mut record =
        TotpRecord::import(&issuer, &account, secret, &options, last_step, unix_now()?)?
            .with_drift(import.drift.unwrap_or(0))?;
    if let Some(set) = &import.backup_set {
        let set: otpkit::BackupCodeSet = crate::files::load_json(set)?;
        record = record.with_backup_codes(set)?;
    }
    save_json(path, &storage.store(&record)?, existing)?;
    if args.json {
        out.write_all(&to_json(&record.resource())?)?;
        return Ok(());
    }
    let legacy = if record.is_legacy_secret() {
        " (a legacy key shorter than 128 bits)"
    } else {
        ""
    };
    writeln!(
        out,
        "imported: a verified record saved to {}{legacy}",
        path.display()
    )?;
    Ok(())
}

fn show_backup_codes(codes: &BackupCodes, out: &mut dyn Write) -> Outcome {
    if !codes.is_empty() {
        writeln!(
            out,
            "\nBackup codes (shown once; each works once if the phone is lost):"
        )?;
        for code in codes.iter() {
            writeln!(out, "  {code}")?;
        }
    }
    Ok(())
}

/// What the first-code prompt ended with.
enum FirstCode {
    Verified(TotpRecord, BackupCodes),
    NotVerified(TotpRecord),
}

pub fn enroll(args: &EnrollArgs, out: &mut dyn Write) -> Outcome {
    if let Some(secret) = &args.import.import {
        return import(args, secret, out);
    }
    let issuer = label_part(&args.issuer, "--issuer")?;
    let account = label_part(&args.account, "--account")?;
    let existing = if args.force {
        Existing::Replace
    } else {
        Existing::Refuse
    };
    // Everything that could fail after the QR code is shown is settled
    // first: how the record is stored, the pepper, and where files go.
    let storage = match &args.record {
        Some(_) => Some(Storage::chosen(&args.key, args.unsealed)?),
        None => None,
    };
    let pepper = match &args.record {
        Some(_) => args.pepper.load_for_new_codes()?,
        None => args.pepper.load()?,
    };
    let image = match (args.qr, &args.output) {
        (EnrollQr::Terminal, None) => None,
        (EnrollQr::Terminal, Some(_)) => {
            return Err(Failure::Usage("-o is for --qr svg or --qr png".into()));
        }
        (EnrollQr::Svg | EnrollQr::Png, None) => {
            return Err(Failure::Usage("--qr svg and --qr png need -o FILE".into()));
        }
        (EnrollQr::Svg, Some(path)) => Some((path, QrFormat::Svg)),
        (EnrollQr::Png, Some(path)) => Some((path, QrFormat::Png)),
    };
    for path in args
        .record
        .iter()
        .chain(image.iter().map(|(path, _)| *path))
    {
        check_destination(path, existing)?;
    }
    let save = |record: &TotpRecord| match (&args.record, &storage) {
        (Some(path), Some(storage)) => save_json(path, &storage.store(record)?, existing),
        _ => Ok(()),
    };

    let now = unix_now()?;
    let (record, created) =
        TotpRecord::create(&issuer, &account, &EnrollmentOptions::default(), now)?;
    let uri = created.uri().to_zeroizing_string();
    if let Some((path, format)) = image {
        write_atomically(path, &render(&uri, format)?, existing)?;
    }
    if args.json {
        save(&record)?;
        out.write_all(&to_json(created.resource())?)?;
        return Ok(());
    }
    match image {
        Some((path, _)) => writeln!(out, "QR code written to {}", path.display())?,
        None => {
            writeln!(out, "Scan this with your authenticator app:\n")?;
            let terminal = render(&uri, QrFormat::Terminal)?;
            warn_if_too_wide(&terminal);
            out.write_all(&terminal)?;
        }
    }
    let secret = created.secret().to_base32();
    let mut grouped = zeroize::Zeroizing::new(String::with_capacity(secret.len() * 2));
    for (i, c) in secret.chars().enumerate() {
        if i > 0 && i % 4 == 0 {
            grouped.push(' ');
        }
        grouped.push(c);
    }
    writeln!(out, "\nOr enter this key by hand: {}", grouped.as_str())?;
    out.flush()?;

    // Ask only when a person can see the question and answer it.
    let interactive = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    if !interactive {
        save(&record)?;
        if let Some(path) = &args.record {
            writeln!(
                out,
                "\nSaved unverified to {0}; check the first code with: otpkit verify --record {0} CODE",
                path.display()
            )?;
        }
        return Ok(());
    }
    match ask_first_code(record, &pepper, out)? {
        FirstCode::Verified(record, backup_codes) => {
            // Saved before the backup codes are shown: they exist only once
            // their hashes are stored.
            save(&record)?;
            match &args.record {
                Some(path) => {
                    writeln!(out, "Verified and saved to {}.", path.display())?;
                    show_backup_codes(&backup_codes, out)
                }
                None => {
                    writeln!(
                        out,
                        "Verified: the app shows the right codes. Nothing was saved \
                         (pass --record FILE to keep the enrollment)."
                    )?;
                    Ok(())
                }
            }
        }
        FirstCode::NotVerified(record) => {
            save(&record)?;
            Err(Failure::Rejected(match &args.record {
                Some(path) => format!(
                    "not verified: the record is saved unverified in {0}; check a code later with \
                     otpkit verify --record {0} CODE",
                    path.display()
                ),
                None => "not verified: no code matched, and nothing was saved".to_owned(),
            }))
        }
    }
}

/// Asks for the first code, three times at most (or until end of input).
fn ask_first_code(
    mut record: TotpRecord,
    pepper: &otpkit::Pepper,
    out: &mut dyn Write,
) -> Result<FirstCode, Failure> {
    let stdin = std::io::stdin();
    for attempt in 1..=3 {
        eprint!("Code from your app: ");
        let Some(line) = crate::input::read_line(&mut stdin.lock())? else {
            eprintln!();
            break;
        };
        let (next, outcome) = record.verify(&line, pepper, unix_now()?)?;
        record = next;
        match outcome {
            TotpOutcome::Valid { backup_codes, .. } => {
                return Ok(FirstCode::Verified(record, backup_codes));
            }
            TotpOutcome::Malformed(typo) => writeln!(out, "{typo} ({attempt} of 3)")?,
            _ => writeln!(
                out,
                "That code does not match ({attempt} of 3); check the app and try again."
            )?,
        }
    }
    Ok(FirstCode::NotVerified(record))
}

/// `otpkit verify --record FILE CODE`.
pub fn verify_record(
    path: &Path,
    key: &KeyArg,
    pepper: &PepperArg,
    code: &str,
    out: &mut dyn Write,
) -> Outcome {
    let pepper = pepper.load()?;
    let now = unix_now()?;
    // Under the file's lock from load to save: of concurrent runs with the
    // same code only the first is accepted, and every wrong code counts.
    let (next, outcome) = update_json(path, |stored: StoredTotpRecord| {
        let (record, storage) = Storage::open(&stored, key)?;
        let (next, outcome) = record.verify(code, &pepper, now)?;
        let save = if next == record {
            None
        } else {
            Some(storage.store(&next)?)
        };
        Ok((save, (next, outcome)))
    })?;
    match outcome {
        TotpOutcome::Valid {
            code_type: CodeType::Totp,
            backup_codes,
        } => {
            let step = next.last_used_step().map(|s| s.value()).unwrap_or_default();
            writeln!(out, "valid: totp step {step}")?;
            show_backup_codes(&backup_codes, out)
        }
        TotpOutcome::Valid { .. } => {
            let remaining = next.backup_codes().map_or(0, |set| set.remaining());
            writeln!(out, "valid: backup code, {remaining} remaining")?;
            Ok(())
        }
        TotpOutcome::Replayed {
            code_type: CodeType::BackupCode,
        } => Err(Failure::Rejected(
            "replayed: this backup code was already used".into(),
        )),
        TotpOutcome::Replayed { .. } => Err(Failure::Rejected(
            "replayed: this code was already used".into(),
        )),
        TotpOutcome::Invalid {
            locked_until: Some(until),
            failures,
            code_type,
        } => Err(Failure::Rejected(format!(
            "invalid: the code does not match ({failures} wrong {} in a row); now {}",
            kind(code_type),
            time::locked(until, now)
        ))),
        TotpOutcome::Locked { until, code_type } => Err(Failure::Rejected(format!(
            "locked: too many wrong {}; {} (the other kind of code is still checked)",
            kind(code_type),
            time::locked(until, now)
        ))),
        TotpOutcome::Malformed(typo) => Err(Failure::Rejected(format!("malformed: {typo}"))),
        _ => Err(Failure::Rejected("invalid: the code does not match".into())),
    }
}

/// The kind of code a budget counts, for messages.
const fn kind(code_type: CodeType) -> &'static str {
    match code_type {
        CodeType::Totp => "TOTP codes",
        CodeType::BackupCode => "backup codes",
    }
}
