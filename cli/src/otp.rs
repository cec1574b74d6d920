//! `otpkit code` and `otpkit verify`.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use otpkit::uri::OtpType;
use otpkit::{Hotp, HotpVerdict, TimeStep, Totp, Verdict};

use crate::input::{Settings, parse_secret, parse_uri_if_uri, read_argument};
use crate::keys::{KeyArg, PepperArg};
use crate::{Failure, Outcome};

/// The key and the settings of a TOTP or HOTP generator.
#[derive(Debug, Args)]
pub struct OtpArgs {
    #[command(flatten)]
    settings: Settings,
    /// TOTP T0: the Unix time at which step 0 starts [default: 0].
    #[arg(long, conflicts_with = "hotp")]
    t0: Option<u64>,
    /// HOTP (RFC 4226) instead of TOTP; needs --counter.
    #[arg(long, requires = "counter")]
    hotp: bool,
    /// TOTP, the default (accepted for oathtool's habit).
    #[arg(long, conflicts_with = "hotp")]
    totp: bool,
    /// The secret is Base32, the default (accepted for oathtool's habit:
    /// oathtool reads hex without it).
    #[arg(short = 'b', long)]
    base32: bool,
    /// HOTP counter (with a hotp URI: instead of the URI's).
    #[arg(short, long)]
    counter: Option<u64>,
    /// Unix time to use instead of the clock (TOTP).
    #[arg(long, conflicts_with = "hotp")]
    at: Option<u64>,
    /// Accept secrets shorter than 128 bits (80-bit keys of older apps).
    #[arg(long)]
    allow_short_secret: bool,
}

/// Arguments of `otpkit code`.
#[derive(Debug, Args)]
pub struct CodeArgs {
    /// Base32 secret or otpauth:// URI (whose settings then apply; a Steam
    /// URI gives Steam's 5-character code), a Google Authenticator export
    /// (`otpauth-migration://`: one line per account, name, issuer and
    /// code), or `-` to read any of them from the first line of standard
    /// input (keeps it out of shell history and process lists).
    #[arg(required_unless_present = "qr")]
    secret: Option<String>,
    /// Read the URI (or export) from the QR code in this PNG image: the
    /// screenshot of an enrollment page.
    #[arg(long, value_name = "FILE", conflicts_with = "secret")]
    qr: Option<PathBuf>,
    #[command(flatten)]
    otp: OtpArgs,
}

/// Arguments of `otpkit verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The secret, as for `code`; with --record, the code to check.
    #[arg(value_name = "SECRET")]
    secret: String,
    /// The code to check, as typed ("123456", "123 456", "123-456").
    #[arg(value_name = "CODE", required_unless_present = "record")]
    code: Option<String>,
    /// Check against a record saved by `otpkit enroll --record`, with replay
    /// protection and lockout; the record is updated under a file lock.
    #[arg(long, value_name = "FILE", conflicts_with_all = [
        "hotp", "last_step", "window", "at", "algorithm", "digits", "period", "t0", "counter",
        "allow_short_secret",
    ])]
    record: Option<PathBuf>,
    #[command(flatten)]
    key: KeyArg,
    #[command(flatten)]
    pepper: PepperArg,
    #[command(flatten)]
    otp: OtpArgs,
    /// Steps accepted on each side of the current one (TOTP), or counters
    /// looked ahead (HOTP), 0 to 100 [default: 1].
    #[arg(short, long)]
    window: Option<u64>,
    /// The last step a code was accepted for: codes for it or earlier steps
    /// are refused as replayed (TOTP).
    #[arg(long, conflicts_with = "hotp")]
    last_step: Option<u64>,
}

/// A generator built from the arguments.
enum Generator {
    Totp(Totp),
    Hotp(Hotp, u64),
}

impl OtpArgs {
    /// The generator `secret` (Base32, or an otpauth:// URI) and the flags
    /// make; `totp_only` names the caller's own TOTP-only flags that were
    /// given (verify's `--last-step`). Beside a URI, a flag its parameters
    /// replace, or one that does not apply to its type, is refused naming
    /// both: never dropped.
    fn generator(
        &self,
        input: &str,
        window: u64,
        totp_only: &[&'static str],
    ) -> Result<Generator, Failure> {
        if let Some(uri) = parse_uri_if_uri(input, self.allow_short_secret)? {
            let not_for = |flag: &str, kind: &str| {
                Failure::Usage(format!(
                    "{flag} does not apply to {kind} otpauth:// URI: drop one or the other"
                ))
            };
            match uri.otp_type() {
                OtpType::Totp { .. } if self.counter.is_some() => {
                    return Err(not_for("--counter", "a totp"));
                }
                OtpType::Steam if self.counter.is_some() => {
                    return Err(not_for("--counter", "a steam"));
                }
                OtpType::Hotp { .. } => {
                    let mut timed: Vec<&str> = totp_only.to_vec();
                    timed.extend(self.at.map(|_| "--at"));
                    timed.extend(self.totp.then_some("--totp"));
                    if let Some(flag) = timed.first() {
                        return Err(not_for(flag, "an hotp"));
                    }
                }
                _ => {}
            }
            if let Some(flag) = self.given().first() {
                return Err(Failure::Usage(format!(
                    "{flag} conflicts with the settings of the otpauth:// URI: give one or the other"
                )));
            }
            return Ok(match uri.otp_type() {
                OtpType::Totp { period } => Generator::Totp(
                    Totp::builder(uri.secret().clone())
                        .algorithm(uri.algorithm())
                        .digits(uri.digits())
                        .period(period)
                        .window(window)
                        .build()?,
                ),
                OtpType::Steam => Generator::Totp(
                    Totp::builder(uri.secret().clone())
                        .steam()
                        .window(window)
                        .build()?,
                ),
                OtpType::Hotp { counter } => {
                    let (hotp, _) = uri.to_hotp()?;
                    Generator::Hotp(hotp, self.counter.unwrap_or(counter))
                }
                _ => return Err(Failure::Usage("unsupported otpauth type".into())),
            });
        }
        if self.counter.is_some() && !self.hotp {
            return Err(Failure::Usage(
                "--counter is for HOTP: pass --hotp too".into(),
            ));
        }
        let secret = parse_secret(input, self.allow_short_secret)?;
        Ok(match self.counter {
            Some(counter) => Generator::Hotp(self.settings.hotp(secret)?, counter),
            None => Generator::Totp(self.settings.totp(secret, self.t0.unwrap_or(0), window)?),
        })
    }

    /// The flags a URI's (or an export's) own settings replace, given.
    fn given(&self) -> Vec<&'static str> {
        let mut given = self.settings.given();
        given.extend(self.t0.map(|_| "--t0"));
        given.extend(self.hotp.then_some("--hotp"));
        // The URI's secret is Base32 by definition: `-b` names a bare key.
        given.extend(self.base32.then_some("--base32"));
        given
    }

    fn now(&self) -> Result<u64, Failure> {
        match self.at {
            Some(at) => Ok(at),
            None => crate::unix_now(),
        }
    }
}

pub fn code(args: &CodeArgs, out: &mut dyn Write) -> Outcome {
    let input = match (&args.qr, &args.secret) {
        (Some(path), _) => crate::scan::text_of_qr(path)?,
        (None, Some(secret)) => read_argument(secret)?,
        (None, None) => return Err(Failure::Usage("give the SECRET, or --qr FILE".into())),
    };
    if crate::migration::is_migration(&input) {
        let mut given = args.otp.given();
        given.extend(args.otp.counter.map(|_| "--counter"));
        if let Some(flag) = given.first() {
            return Err(Failure::Usage(format!(
                "{flag} conflicts with the settings of the export's accounts: drop it"
            )));
        }
        return crate::migration::print_codes(&input, args.otp.now()?, out);
    }
    let code = match args.otp.generator(&input, 0, &[])? {
        Generator::Totp(totp) => totp.generate_at(args.otp.now()?)?,
        Generator::Hotp(hotp, counter) => hotp.generate(counter),
    };
    writeln!(out, "{code}")?;
    Ok(())
}

pub fn verify(args: &VerifyArgs, out: &mut dyn Write) -> Outcome {
    let (secret, code) = match (&args.record, &args.code) {
        (Some(path), None) => {
            let code = &args.secret;
            return crate::record::verify_record(path, &args.key, &args.pepper, code, out);
        }
        (None, Some(code)) => (&args.secret, code),
        (Some(_), Some(_)) => {
            return Err(Failure::Usage("with --record, give only the CODE".into()));
        }
        (None, None) => return Err(Failure::Usage("give the SECRET and the CODE".into())),
    };
    if args.pepper.is_given() {
        return Err(Failure::Usage(
            "--pepper-env is for --record (its backup codes)".into(),
        ));
    }
    let window = args.window.unwrap_or(1);
    let totp_only: Vec<&'static str> = args.last_step.map(|_| "--last-step").into_iter().collect();
    match args
        .otp
        .generator(&read_argument(secret)?, window, &totp_only)?
    {
        Generator::Totp(totp) => {
            let last = args.last_step.map(TimeStep::new);
            match totp.verify_at(code, args.otp.now()?, last)? {
                Verdict::Valid(m) => {
                    writeln!(out, "valid: step {} offset {}", m.step(), m.offset())?;
                    Ok(())
                }
                Verdict::Replayed(m) => Err(Failure::Rejected(format!(
                    "replayed: step {} is at or before the last used step",
                    m.step()
                ))),
                Verdict::Malformed(typo) => Err(Failure::Rejected(format!("malformed: {typo}"))),
                _ => Err(Failure::Rejected("invalid: the code does not match".into())),
            }
        }
        Generator::Hotp(hotp, counter) => match hotp.verify(code, counter, window)? {
            HotpVerdict::Valid { next_counter } => {
                let matched = next_counter.saturating_sub(1);
                writeln!(out, "valid: counter {matched} next {next_counter}")?;
                Ok(())
            }
            HotpVerdict::Malformed(typo) => Err(Failure::Rejected(format!("malformed: {typo}"))),
            _ => Err(Failure::Rejected("invalid: the code does not match".into())),
        },
    }
}
