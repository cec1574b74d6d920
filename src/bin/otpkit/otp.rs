//! `otpkit code` and `otpkit verify`.

use std::io::{self, Read, Write};

use clap::Args;
use otpkit::{Algorithm, Hotp, OtpAuthUri, OtpType, Secret, TimeStep, Totp, Verdict};
use zeroize::Zeroizing;

use crate::{Failure, Outcome};

/// Hash, digits and period: the settings `code`, `verify` and `uri` share.
#[derive(Debug, Args)]
pub struct Settings {
    /// Hash: SHA1, SHA256 or SHA512.
    #[arg(long, default_value = "SHA1")]
    algorithm: String,
    /// Digits per code, 6 to 10.
    #[arg(long, default_value_t = 6)]
    digits: u8,
    /// TOTP period in seconds.
    #[arg(long, default_value_t = 30, conflicts_with = "hotp")]
    period: u64,
}

impl Settings {
    /// The chosen hash.
    pub fn algorithm(&self) -> Result<Algorithm, Failure> {
        Ok(self.algorithm.parse()?)
    }

    /// An HOTP generator with these settings.
    pub fn hotp(&self, secret: Secret) -> Result<Hotp, Failure> {
        Ok(Hotp::with(secret, self.algorithm()?, self.digits)?)
    }

    /// A TOTP generator with these settings.
    pub fn totp(&self, secret: Secret, t0: u64, window: u64) -> Result<Totp, Failure> {
        Ok(Totp::builder(secret)
            .algorithm(self.algorithm()?)
            .digits(self.digits)
            .period(self.period)
            .t0(t0)
            .window(window)
            .build()?)
    }
}

/// The key and the settings of a TOTP or HOTP generator.
#[derive(Debug, Args)]
pub struct OtpArgs {
    #[command(flatten)]
    settings: Settings,
    /// TOTP T0: the Unix time at which step 0 starts.
    #[arg(long, default_value_t = 0, conflicts_with = "hotp")]
    t0: u64,
    /// HOTP (RFC 4226) instead of TOTP; needs --counter.
    #[arg(long, requires = "counter")]
    hotp: bool,
    /// HOTP counter.
    #[arg(long, requires = "hotp")]
    counter: Option<u64>,
    /// Unix time to use instead of the clock (TOTP).
    #[arg(long, conflicts_with = "hotp")]
    at: Option<u64>,
}

/// Arguments of `otpkit code`.
#[derive(Debug, Args)]
pub struct CodeArgs {
    /// Base32 secret or otpauth:// URI (whose settings then apply), or `-`
    /// to read either from standard input (keeps it out of shell history
    /// and process lists).
    secret: String,
    #[command(flatten)]
    otp: OtpArgs,
}

/// Arguments of `otpkit verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The secret (as for `code`) and the code to check, as typed ("123456",
    /// "123 456", "123-456"); with --record, only the code.
    #[arg(value_names = ["SECRET", "CODE"], num_args = 1..=2, required = true)]
    inputs: Vec<String>,
    /// Check against a record saved by `otpkit enroll --record`, with replay
    /// protection; the record is updated atomically.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["hotp", "last_step", "window", "at"])]
    record: Option<std::path::PathBuf>,
    /// With --record: the environment variable holding the key that
    /// opens the record (one or several, comma-separated).
    #[command(flatten)]
    key: crate::key::KeyArg,
    #[command(flatten)]
    otp: OtpArgs,
    /// Steps accepted on each side of the current one (TOTP), or counters
    /// looked ahead (HOTP).
    #[arg(long, default_value_t = 1)]
    window: u64,
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
    fn generator(&self, secret: &str, window: u64) -> Result<Generator, Failure> {
        let input = read_argument(secret)?;
        if let Some(uri) = parse_uri_if_uri(&input)? {
            return Ok(match uri.otp_type() {
                OtpType::Totp { period } => Generator::Totp(
                    Totp::builder(uri.secret().clone())
                        .algorithm(uri.algorithm())
                        .digits(uri.digits())
                        .period(period)
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
        let secret = Secret::from_base32(&input)?;
        Ok(match self.counter {
            Some(counter) => Generator::Hotp(self.settings.hotp(secret)?, counter),
            None => Generator::Totp(self.settings.totp(secret, self.t0, window)?),
        })
    }

    fn now(&self) -> Result<u64, Failure> {
        match self.at {
            Some(at) => Ok(at),
            None => crate::unix_now(),
        }
    }
}

/// The argument, or standard input for `-`, trimmed; zeroized on drop since
/// it holds a secret.
pub fn read_argument(arg: &str) -> Result<Zeroizing<String>, Failure> {
    if arg == "-" {
        let mut text = Zeroizing::new(String::new());
        io::stdin().read_to_string(&mut text)?;
        Ok(Zeroizing::new(text.trim().to_owned()))
    } else {
        Ok(Zeroizing::new(arg.to_owned()))
    }
}

/// A Base32 secret argument (or `-` for standard input).
pub fn read_secret(arg: &str) -> Result<Secret, Failure> {
    Ok(Secret::from_base32(&read_argument(arg)?)?)
}

/// The parsed URI when `input` is an otpauth:// URI.
pub fn parse_uri_if_uri(input: &str) -> Result<Option<OtpAuthUri>, Failure> {
    let is_uri = input
        .get(..10)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("otpauth://"));
    Ok(if is_uri { Some(input.parse()?) } else { None })
}

pub fn code(args: &CodeArgs, out: &mut dyn Write) -> Outcome {
    let code = match args.otp.generator(&args.secret, 0)? {
        Generator::Totp(totp) => totp.generate_at(args.otp.now()?)?,
        Generator::Hotp(hotp, counter) => hotp.generate(counter),
    };
    writeln!(out, "{code}")?;
    Ok(())
}

pub fn verify(args: &VerifyArgs, out: &mut dyn Write) -> Outcome {
    let malformed = |err: otpkit::Error| Failure::Rejected(format!("malformed: {err}"));
    let (secret, code) = match (&args.record, args.inputs.as_slice()) {
        (Some(path), [code]) => return crate::enroll::verify_record(path, &args.key, code, out),
        (None, [secret, code]) => (secret, code),
        (Some(_), _) => return Err(Failure::Usage("with --record, give only the CODE".into())),
        (None, _) => return Err(Failure::Usage("give the SECRET and the CODE".into())),
    };
    match args.otp.generator(secret, args.window)? {
        Generator::Totp(totp) => {
            let last = args.last_step.map(TimeStep::new);
            let now = args.otp.now()?;
            // A time before T0 is a usage problem, a bad code a rejection.
            totp.step_at(now)?;
            match totp.verify_at(code, now, last).map_err(malformed)? {
                Verdict::Valid(m) => {
                    writeln!(out, "valid: step {} offset {}", m.step(), m.offset())?;
                    Ok(())
                }
                Verdict::Replayed(m) => Err(Failure::Rejected(format!(
                    "replayed: step {} is at or before the last used step",
                    m.step()
                ))),
                Verdict::Invalid => {
                    Err(Failure::Rejected("invalid: the code does not match".into()))
                }
            }
        }
        Generator::Hotp(hotp, counter) => {
            if args.window > otpkit::MAX_WINDOW {
                return Err(otpkit::Error::WindowTooLarge { steps: args.window }.into());
            }
            match hotp.verify(code, counter, args.window).map_err(malformed)? {
                Some(next) => {
                    writeln!(out, "valid: counter {} next {next}", next.saturating_sub(1))?;
                    Ok(())
                }
                None => Err(Failure::Rejected("invalid: the code does not match".into())),
            }
        }
    }
}
