//! `otpkit`: every capability of the library from a shell, as oathtool is
//! for C. A thin shell: arguments are parsed here and converted into library
//! types; all logic lives in the library.
//!
//! This is the binary's code as a library with one function, [`main`], so
//! that the interop package's tests can build and run the very same
//! command (cargo builds binaries only for their own package's tests).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod backup;
mod fields;
mod files;
mod input;
mod keys;
mod migration;
mod otp;
mod qr;
mod record;
mod scan;
mod time;
mod uri;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Parser, Subcommand};

/// The exit codes, one table for every command (also in the README).
const EXIT_CODES: &str = "\
Exit codes:
  0  done: the code is valid, the file is written, the record is verified and saved
  1  the answer is no: a code that is invalid, replayed, malformed or locked out,
     or an enrollment that was not verified
  2  usage: a bad argument, option, secret or URI, or a refused overwrite
  3  a file could not be read or written, or holds data that does not load";

/// Two-factor authentication codes: TOTP/HOTP, otpauth URIs, QR codes,
/// enrollment records and backup codes.
#[derive(Debug, Parser)]
#[command(name = "otpkit", version, about, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Enroll a user: a new secret as a QR code, then (in a terminal) the
    /// first code and the backup codes.
    #[command(after_help = EXIT_CODES)]
    Enroll(record::EnrollArgs),
    /// Print the current TOTP code (or an HOTP code with --hotp).
    #[command(after_help = EXIT_CODES)]
    Code(otp::CodeArgs),
    /// Check a code against a secret, or against an enrolled record.
    #[command(
        after_help = EXIT_CODES,
        override_usage = "otpkit verify [OPTIONS] <SECRET> <CODE>\n       \
                          otpkit verify --record <FILE> [--key-env <VAR>] [--pepper-env <VAR>] <CODE>"
    )]
    Verify(otp::VerifyArgs),
    /// Print an otpauth:// URI (with a fresh secret unless one is given).
    #[command(after_help = EXIT_CODES)]
    Uri(uri::UriArgs),
    /// Print the fields of an otpauth:// URI as JSON.
    #[command(after_help = EXIT_CODES)]
    Inspect(uri::InspectArgs),
    /// Render text (an otpauth:// URI) as a QR code.
    #[command(after_help = EXIT_CODES)]
    Qr(qr::QrArgs),
    /// Write otpauth:// URIs as a Google Authenticator export
    /// (`otpauth-migration://`), in batches of 10, or as their QR codes.
    #[command(after_help = EXIT_CODES)]
    Export(migration::ExportArgs),
    /// Backup codes: make a set, use a code, show a set's status.
    #[command(subcommand)]
    Backup(backup::BackupCommand),
    /// Sealing keys for records: make one.
    #[command(subcommand)]
    Key(keys::KeyCommand),
    /// Re-seal a record under the first key of --key-env (key rotation), or
    /// seal a plaintext record.
    #[command(after_help = EXIT_CODES)]
    Rekey(keys::RekeyArgs),
}

/// Why a command did not succeed, and the exit code that says so.
#[derive(Debug)]
enum Failure {
    /// The answer is "no": a wrong, replayed, malformed or locked-out code,
    /// or an enrollment not verified (exit 1).
    Rejected(String),
    /// The command could not run as asked: a bad argument, secret, URI or
    /// option, or a refused overwrite (exit 2, like clap's own).
    Usage(String),
    /// A file could not be read or written, or does not load (exit 3).
    File(String),
    /// Writing to standard output failed (exit 3; a closed pipe is success).
    Io(io::Error),
}

impl From<io::Error> for Failure {
    fn from(err: io::Error) -> Self {
        Self::Io(err)
    }
}

impl From<otpkit::Error> for Failure {
    fn from(err: otpkit::Error) -> Self {
        Self::Usage(err.to_string())
    }
}

type Outcome = Result<(), Failure>;

/// The system clock in Unix seconds.
fn unix_now() -> Result<u64, Failure> {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .map_err(|_| Failure::Usage("the system clock reads before 1970".into()))
}

fn run(cli: Cli, out: &mut dyn Write) -> Outcome {
    match cli.command {
        Command::Enroll(args) => record::enroll(&args, out),
        Command::Code(args) => otp::code(&args, out),
        Command::Verify(args) => otp::verify(&args, out),
        Command::Uri(args) => uri::uri(&args, out),
        Command::Inspect(args) => uri::inspect(&args, out),
        Command::Qr(args) => qr::qr(&args, out),
        Command::Export(args) => migration::export(&args, out),
        Command::Backup(command) => backup::run(&command, out),
        Command::Key(command) => keys::key(&command, out),
        Command::Rekey(args) => keys::rekey(&args, out),
    }
}

/// clap's message for a usage error, without any value the user typed: a
/// misplaced secret must not be echoed to the terminal or a log.
/// `arg`'s flag, `--name` or `-n`, without a value after `=`; `None` for
/// anything that may not be a flag's name alone: a flag is lower-case
/// letters and hyphens, at most 24 bytes, so a secret run into its flag
/// (`--importJBSWY3DP…`, Base32 upper or lower case, with its digits 2 to
/// 7, or hex) is never repeated.
fn flag_name(arg: &str) -> Option<&str> {
    let flag = arg.split_once('=').map_or(arg, |(flag, _)| flag);
    let name = flag.strip_prefix("--").or_else(|| flag.strip_prefix('-'))?;
    let plain = name.chars().all(|c| c.is_ascii_lowercase() || c == '-');
    (plain && !name.is_empty() && flag.len() <= 24).then_some(flag)
}

fn usage_error(err: &clap::Error) -> String {
    let arg = match err.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(arg)) => arg.clone(),
        _ => "an argument".to_owned(),
    };
    match err.kind() {
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let why = std::error::Error::source(err)
                .map(|e| format!(": {e}"))
                .unwrap_or_default();
            format!("invalid value for {arg}{why}")
        }
        // A flag is named (up to its `=`); a stray value is not, as it
        // may be a secret typed in the wrong place.
        ErrorKind::UnknownArgument => match flag_name(&arg) {
            Some(flag) => format!("unexpected argument '{flag}'"),
            None => {
                "an unexpected argument was given (not repeated: it may be a secret)".to_owned()
            }
        },
        ErrorKind::InvalidSubcommand => "unknown command".to_owned(),
        ErrorKind::TooManyValues | ErrorKind::WrongNumberOfValues => {
            format!("too many values for {arg}")
        }
        // These name arguments, never their values.
        ErrorKind::MissingRequiredArgument
        | ErrorKind::ArgumentConflict
        | ErrorKind::MissingSubcommand
        | ErrorKind::NoEquals => err
            .render()
            .to_string()
            .lines()
            .next()
            .unwrap_or_default()
            .trim_start_matches("error: ")
            .to_owned(),
        _ => "invalid arguments".to_owned(),
    }
}

/// Runs the `otpkit` command with the process's arguments, printing to
/// standard output and error; the exit code follows the table in `--help`.
#[must_use]
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if !err.use_stderr() => err.exit(), // --help, --version
        Err(err) => {
            eprintln!("otpkit: {}", usage_error(&err));
            eprintln!("See otpkit --help, or otpkit COMMAND --help.");
            return ExitCode::from(2);
        }
    };
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let result = run(cli, &mut out).and_then(|()| out.flush().map_err(Failure::Io));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`otpkit code … | head -c0`) is the reader's choice.
        Err(Failure::Io(err)) if err.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(Failure::Rejected(reason)) => {
            eprintln!("otpkit: {reason}");
            ExitCode::from(1)
        }
        Err(Failure::Usage(reason)) => {
            eprintln!("otpkit: {reason}");
            ExitCode::from(2)
        }
        Err(Failure::File(reason)) => {
            eprintln!("otpkit: {reason}");
            ExitCode::from(3)
        }
        Err(Failure::Io(err)) => {
            eprintln!("otpkit: cannot write to standard output: {err}");
            ExitCode::from(3)
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
