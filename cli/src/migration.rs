//! Google Authenticator's exports from the shell: the codes of an
//! `otpauth-migration://` URI, one line per account, and `otpkit export`,
//! which writes one from otpauth:// URIs.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use otpkit::uri::{MigrationPayload, OtpType};
use otpkit::{OtpAuthUri, Qr};
use zeroize::Zeroizing;

use crate::files::{Existing, check_destination, write_atomically};
use crate::input::{parse_uri_if_uri, read_line};
use crate::{Failure, Outcome};

/// Whether `input` is a Google Authenticator export.
pub fn is_migration(input: &str) -> bool {
    input
        .get(..20)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("otpauth-migration://"))
}

/// `otpkit code EXPORT`: one line per account, `name<TAB>issuer<TAB>code`
/// (`-` for no issuer), at Unix time `at` (an HOTP account: at its counter).
pub fn print_codes(input: &str, at: u64, out: &mut dyn Write) -> Outcome {
    let batch = MigrationPayload::parse(input)?;
    for account in batch.accounts() {
        let code = match account.otp_type() {
            OtpType::Hotp { counter } => account.to_hotp()?.0.generate(counter),
            _ => account.to_totp()?.generate_at(at)?,
        };
        writeln!(
            out,
            "{}\t{}\t{code}",
            account.account(),
            account.issuer().unwrap_or("-")
        )?;
    }
    Ok(())
}

/// `otpkit inspect EXPORT`: the batch and each account's fields (as for a
/// URI) with its current code, as JSON.
pub fn inspect(input: &str, out: &mut dyn Write) -> Outcome {
    let batch = MigrationPayload::parse(input)?;
    let now = crate::unix_now()?;
    let mut accounts = Vec::with_capacity(batch.accounts().len());
    for account in batch.accounts() {
        let mut fields = crate::fields::fields(account);
        let code = match account.otp_type() {
            OtpType::Hotp { counter } => account.to_hotp()?.0.generate(counter),
            _ => account.to_totp()?.generate_at(now)?,
        };
        if let serde_json::Value::Object(map) = &mut fields {
            map.insert("code".into(), serde_json::json!(code.to_string()));
        }
        accounts.push(fields);
    }
    let mut json = serde_json::json!({
        "type": "otpauth-migration",
        "version": batch.version(),
        "batch_index": batch.batch_index(),
        "batch_size": batch.batch_size(),
        "batch_id": batch.batch_id(),
        "accounts": accounts,
    });
    let written = crate::files::to_json(&json).and_then(|text| Ok(out.write_all(&text)?));
    // The JSON holds plain copies of the secrets: wipe them.
    if let Some(serde_json::Value::Array(accounts)) = json.get_mut("accounts") {
        for account in accounts {
            if let Some(serde_json::Value::String(secret)) = account.get_mut("secret") {
                zeroize::Zeroize::zeroize(secret);
            }
        }
    }
    written
}

/// Arguments of `otpkit export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The otpauth:// URIs to export, or `-` to read them from standard
    /// input, one a line (keeps their secrets out of the process list).
    #[arg(required = true, value_name = "URI")]
    uris: Vec<String>,
    /// Write each batch as a QR code in a PNG (0600: it holds the secrets)
    /// instead of printing the URIs: FILE for one batch, FILE-1.png,
    /// FILE-2.png… for several.
    #[arg(long, value_name = "FILE")]
    qr: Option<PathBuf>,
    /// Replace existing files.
    #[arg(long, requires = "qr")]
    force: bool,
    /// Accept secrets shorter than 128 bits (80-bit keys of older apps).
    #[arg(long)]
    allow_short_secret: bool,
}

/// `otpkit export`.
pub fn export(args: &ExportArgs, out: &mut dyn Write) -> Outcome {
    let mut accounts = Vec::new();
    for arg in &args.uris {
        if arg == "-" {
            let stdin = std::io::stdin();
            while let Some(line) = read_line(&mut stdin.lock())? {
                if !line.trim().is_empty() {
                    accounts.push(parse(line.trim(), args.allow_short_secret)?);
                }
            }
        } else {
            accounts.push(parse(arg, args.allow_short_secret)?);
        }
    }
    if accounts.is_empty() {
        return Err(Failure::Usage("no otpauth:// URI to export".into()));
    }
    let batches = MigrationPayload::export(&accounts)?;
    let Some(path) = &args.qr else {
        for uri in &batches {
            writeln!(out, "{}", uri.as_str())?;
        }
        return Ok(());
    };
    let existing = if args.force {
        Existing::Replace
    } else {
        Existing::Refuse
    };
    let paths: Vec<PathBuf> = match batches.len() {
        1 => vec![path.clone()],
        n => (1..=n).map(|i| numbered(path, i)).collect(),
    };
    for path in &paths {
        check_destination(path, existing)?;
    }
    for (uri, path) in batches.iter().zip(&paths) {
        let png = Zeroizing::new(Qr::new(uri)?.to_png(&Default::default()));
        write_atomically(path, &png, existing)?;
        writeln!(out, "QR code written to {}", path.display())?;
    }
    Ok(())
}

/// `FILE-i.png` beside `FILE` (its extension kept, `png` if none).
fn numbered(path: &Path, i: usize) -> PathBuf {
    let stem = path
        .file_stem()
        .map_or_else(Default::default, |s| s.to_string_lossy().into_owned());
    let extension = path
        .extension()
        .map_or("png".into(), |e| e.to_string_lossy().into_owned());
    path.with_file_name(format!("{stem}-{i}.{extension}"))
}

fn parse(text: &str, allow_short: bool) -> Result<OtpAuthUri, Failure> {
    parse_uri_if_uri(text, allow_short)?
        .ok_or_else(|| Failure::Usage("export takes otpauth:// URIs".into()))
}
