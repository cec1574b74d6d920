//! `otpkit enroll` and `otpkit verify --record`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use otpkit::{
    CodeType, EnrollmentOptions, StoredTotpRecord, TotpOutcome, TotpRecord, TotpResource,
};

use crate::files::{Existing, save_json, to_json, update_json, write_atomically};
use crate::key::{KeyArg, Storage};
use crate::uri::{QrFormat, render};
use crate::{Failure, Outcome, unix_now};

/// How `enroll` shows the QR code.
#[derive(Debug, Clone, Copy, ValueEnum)]
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
    /// The service name the app shows.
    #[arg(long)]
    issuer: String,
    /// The user's account name.
    #[arg(long)]
    account: String,
    /// Where the QR code goes.
    #[arg(long, value_enum, default_value_t = EnrollQr::Terminal)]
    qr: EnrollQr,
    /// The file for an SVG or PNG QR code.
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
    /// Replace an existing record file.
    #[arg(long)]
    force: bool,
    /// Print the creation response (Clerk's TOTP object) as JSON and exit.
    #[arg(long)]
    json: bool,
}

fn show_backup_codes(resource: &TotpResource, out: &mut dyn Write) -> Outcome {
    if let Some(codes) = resource.backup_codes() {
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

pub fn enroll(args: &EnrollArgs, out: &mut dyn Write) -> Outcome {
    // How the record will be stored is settled before a QR code is shown.
    let storage = match &args.record {
        Some(_) => Some(Storage::chosen(&args.key, args.unsealed)?),
        None => None,
    };
    let save = |record: &TotpRecord, existing| match (&args.record, &storage) {
        (Some(path), Some(storage)) => save_json(path, &storage.store(record)?, existing),
        _ => Ok(()),
    };
    let now = unix_now()?;
    let (mut record, created) = TotpRecord::create(
        &args.issuer,
        &args.account,
        &EnrollmentOptions::default(),
        now,
    )?;
    let existing = if args.force {
        Existing::Replace
    } else {
        Existing::Refuse
    };
    if args.json {
        save(&record, existing)?;
        out.write_all(&to_json(&created)?)?;
        return Ok(());
    }
    let uri = created
        .uri()
        .map(otpkit::OtpAuthUri::to_zeroizing_string)
        .unwrap_or_default();
    let secret = created.secret().map(|s| s.to_base32()).unwrap_or_default();
    match (args.qr, &args.output) {
        (EnrollQr::Terminal, None) => {
            writeln!(out, "Scan this with your authenticator app:\n")?;
            out.write_all(&render(&uri, QrFormat::Terminal)?)?;
        }
        (EnrollQr::Terminal, Some(_)) => {
            return Err(Failure::Usage("-o is for --qr svg or --qr png".into()));
        }
        (EnrollQr::Svg | EnrollQr::Png, None) => {
            return Err(Failure::Usage("--qr svg and --qr png need -o FILE".into()));
        }
        (format, Some(path)) => {
            let format = if matches!(format, EnrollQr::Svg) {
                QrFormat::Svg
            } else {
                QrFormat::Png
            };
            write_atomically(path, &render(&uri, format)?, Existing::Replace)?;
            writeln!(out, "QR code written to {}", path.display())?;
        }
    }
    let mut grouped = zeroize::Zeroizing::new(String::with_capacity(secret.len() * 2));
    for (i, c) in secret.chars().enumerate() {
        if i > 0 && i % 4 == 0 {
            grouped.push(' ');
        }
        grouped.push(c);
    }
    writeln!(out, "\nOr enter this key by hand: {}", grouped.as_str())?;
    out.flush()?;

    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        for attempt in 1..=3 {
            eprint!("Code from your app: ");
            let mut line = String::new();
            if stdin.lock().read_line(&mut line)? == 0 {
                break;
            }
            match record.verify(&line, None, unix_now()?) {
                Ok((next, TotpOutcome::Accepted { resource, .. })) => {
                    record = next;
                    writeln!(out, "Verified: two-factor authentication is on.")?;
                    show_backup_codes(&resource, out)?;
                    break;
                }
                Ok((next, _)) => {
                    record = next;
                    writeln!(
                        out,
                        "That code does not match ({attempt} of 3); check the app and try again."
                    )?;
                }
                Err(err) => writeln!(out, "{err} ({attempt} of 3)")?,
            }
        }
    }
    if let Some(path) = &args.record {
        save(&record, existing)?;
        if !record.is_verified() {
            writeln!(
                out,
                "\nRecord saved to {0}; verify the first code with: otpkit verify --record {0} CODE",
                path.display()
            )?;
        }
    }
    Ok(())
}

/// `otpkit verify --record FILE CODE`.
pub fn verify_record(path: &Path, key: &KeyArg, code: &str, out: &mut dyn Write) -> Outcome {
    // Under the file's lock from load to save: of concurrent runs with the
    // same code only the first is accepted, and every wrong code counts.
    let (next, outcome) = update_json(path, |stored: StoredTotpRecord| {
        let (record, storage) = Storage::open(&stored, key)?;
        let (next, outcome) = record
            .verify(code, None, unix_now()?)
            .map_err(|e| Failure::Rejected(format!("malformed: {e}")))?;
        let save = if next == record {
            None
        } else {
            Some(storage.store(&next)?)
        };
        Ok((save, (next, outcome)))
    })?;
    match outcome {
        TotpOutcome::Accepted {
            resource,
            code_type,
        } => {
            let kind = match code_type {
                CodeType::Totp => "totp",
                CodeType::BackupCode => "backup code",
            };
            let step = next
                .last_used_step()
                .map_or(String::new(), |s| format!(" step {s}"));
            writeln!(out, "valid: {kind}{step}")?;
            show_backup_codes(&resource, out)
        }
        TotpOutcome::Replayed => Err(Failure::Rejected(
            "replayed: this code was already used".into(),
        )),
        TotpOutcome::BackupCodeAlreadyUsed => Err(Failure::Rejected(
            "replayed: this backup code was already used".into(),
        )),
        TotpOutcome::Invalid {
            locked_until: Some(until),
            ..
        }
        | TotpOutcome::LockedOut { until } => Err(Failure::Rejected(format!(
            "locked: too many wrong codes; try again after Unix time {until}"
        ))),
        TotpOutcome::Invalid { .. } => {
            Err(Failure::Rejected("invalid: the code does not match".into()))
        }
    }
}
