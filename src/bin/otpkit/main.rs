//! `otpkit`: every capability of the library from a shell, as oathtool is
//! for C. A thin shell: arguments are parsed here and converted into library
//! types; all logic lives in the library.

#![forbid(unsafe_code)]

mod backup;
mod enroll;
mod files;
mod key;
mod otp;
mod uri;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Two-factor authentication codes: TOTP/HOTP, otpauth URIs, QR codes and
/// backup codes.
#[derive(Debug, Parser)]
#[command(name = "otpkit", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Enroll a user: a new secret as a QR code, then (in a terminal) the
    /// first code and the backup codes.
    Enroll(enroll::EnrollArgs),
    /// Print the current TOTP code (or an HOTP code with --hotp).
    Code(otp::CodeArgs),
    /// Check a code; exit 0 when valid, 1 when invalid, replayed or malformed.
    Verify(otp::VerifyArgs),
    /// Print an otpauth:// URI (with a fresh secret unless one is given).
    Uri(uri::UriArgs),
    /// Print the fields of an otpauth:// URI as JSON; exit 1 if it is invalid.
    Inspect(uri::InspectArgs),
    /// Render text (an otpauth:// URI) as a QR code.
    Qr(uri::QrArgs),
    /// Backup codes: make a set, use a code, show a set's status.
    #[command(subcommand)]
    Backup(backup::BackupCommand),
    /// Sealing keys for records: make one.
    #[command(subcommand)]
    Key(key::KeyCommand),
    /// Re-seal a record under the first key of --key-env (key rotation), or
    /// seal a plaintext record.
    Rekey(key::RekeyArgs),
}

/// Why a command did not succeed, and the exit code that says so.
#[derive(Debug)]
enum Failure {
    /// The answer is "no": a wrong, replayed or malformed code (exit 1).
    Rejected(String),
    /// The command could not run as asked: a bad secret, option or file
    /// (exit 2, like clap's own usage errors).
    Usage(String),
    /// Reading or writing failed (exit 1).
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
        Command::Enroll(args) => enroll::enroll(&args, out),
        Command::Code(args) => otp::code(&args, out),
        Command::Verify(args) => otp::verify(&args, out),
        Command::Uri(args) => uri::uri(&args, out),
        Command::Inspect(args) => uri::inspect(&args, out),
        Command::Qr(args) => uri::qr(&args, out),
        Command::Backup(command) => backup::run(&command, out),
        Command::Key(command) => key::key(&command, out),
        Command::Rekey(args) => key::rekey(&args, out),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
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
        Err(Failure::Io(err)) => {
            eprintln!("otpkit: {err}");
            ExitCode::from(1)
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
