//! `otpkit enroll` and `otpkit verify --record`: the enrollment record's
//! lifecycle from a shell.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use otpkit::record::{CodeType, EnrollmentOptions};
use otpkit::{StoredTotpRecord, TotpOutcome, TotpRecord, TotpResource};

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

/// What the first-code prompt ended with.
enum FirstCode {
    Verified(TotpRecord, Box<TotpResource>),
    NotVerified(TotpRecord),
}

pub fn enroll(args: &EnrollArgs, out: &mut dyn Write) -> Outcome {
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
    let uri = created
        .uri()
        .map(otpkit::OtpAuthUri::to_zeroizing_string)
        .unwrap_or_default();
    if let Some((path, format)) = image {
        write_atomically(path, &render(&uri, format)?, existing)?;
    }
    if args.json {
        save(&record)?;
        out.write_all(&to_json(&created)?)?;
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
    let secret = created.secret().map(|s| s.to_base32()).unwrap_or_default();
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
    match ask_first_code(record, pepper.as_ref(), out)? {
        FirstCode::Verified(record, resource) => {
            // Saved before the backup codes are shown: they exist only once
            // their hashes are stored.
            save(&record)?;
            match &args.record {
                Some(path) => {
                    writeln!(out, "Verified and saved to {}.", path.display())?;
                    show_backup_codes(&resource, out)
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
    pepper: Option<&otpkit::Pepper>,
    out: &mut dyn Write,
) -> Result<FirstCode, Failure> {
    let stdin = std::io::stdin();
    for attempt in 1..=3 {
        eprint!("Code from your app: ");
        let mut line = zeroize::Zeroizing::new(String::new());
        if stdin.lock().read_line(&mut line)? == 0 {
            eprintln!();
            break;
        }
        let (next, outcome) = record.verify(&line, pepper, unix_now()?)?;
        record = next;
        match outcome {
            TotpOutcome::Valid { resource, .. } => {
                return Ok(FirstCode::Verified(record, resource));
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
        let (next, outcome) = record.verify(code, pepper.as_ref(), now)?;
        let save = if next == record {
            None
        } else {
            Some(storage.store(&next)?)
        };
        Ok((save, (next, outcome)))
    })?;
    match outcome {
        TotpOutcome::Valid {
            resource,
            code_type: CodeType::Totp,
        } => {
            let step = next.last_used_step().map(|s| s.value()).unwrap_or_default();
            writeln!(out, "valid: totp step {step}")?;
            show_backup_codes(&resource, out)
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
        } => Err(Failure::Rejected(format!(
            "invalid: the code does not match ({failures} wrong in a row); now {}",
            time::locked(until, now)
        ))),
        TotpOutcome::Locked { until } => Err(Failure::Rejected(format!(
            "locked: too many wrong codes; {}",
            time::locked(until, now)
        ))),
        TotpOutcome::Malformed(typo) => Err(Failure::Rejected(format!("malformed: {typo}"))),
        _ => Err(Failure::Rejected("invalid: the code does not match".into())),
    }
}
