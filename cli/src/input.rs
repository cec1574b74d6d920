//! What the user hands the CLI: secrets and URIs from argv or standard
//! input, and the settings of a generator.

use std::io::{self, BufRead};

use clap::Args;
use otpkit::{Algorithm, Hotp, OtpAuthUri, Secret, Totp};
use zeroize::Zeroizing;

use crate::Failure;

/// Hash, digits and period: the settings `code`, `verify` and `uri` share.
/// Each is optional so that one given beside an otpauth:// URI (which has
/// its own) can be refused rather than silently ignored.
#[derive(Debug, Args)]
pub struct Settings {
    /// Hash: SHA1, SHA256 or SHA512 [default: SHA1].
    #[arg(long)]
    algorithm: Option<String>,
    /// Digits per code, 6 to 10 [default: 6].
    #[arg(short, long)]
    digits: Option<u8>,
    /// TOTP period in seconds, at least 1 [default: 30] (oathtool's
    /// `-s`/`--time-step-size` too).
    #[arg(
        short = 's',
        long,
        visible_alias = "time-step-size",
        conflicts_with = "hotp"
    )]
    period: Option<u64>,
}

impl Settings {
    /// The chosen hash.
    pub fn algorithm(&self) -> Result<Algorithm, Failure> {
        match &self.algorithm {
            Some(name) => Ok(name.parse()?),
            None => Ok(Algorithm::Sha1),
        }
    }

    /// The flags given, by name: refused beside a URI.
    pub fn given(&self) -> Vec<&'static str> {
        [
            ("--algorithm", self.algorithm.is_some()),
            ("--digits", self.digits.is_some()),
            ("--period", self.period.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, given)| given.then_some(name))
        .collect()
    }

    /// An HOTP generator with these settings.
    pub fn hotp(&self, secret: Secret) -> Result<Hotp, Failure> {
        Ok(Hotp::with(
            secret,
            self.algorithm()?,
            self.digits.unwrap_or(6),
        )?)
    }

    /// A TOTP generator with these settings.
    pub fn totp(&self, secret: Secret, t0: u64, window: u64) -> Result<Totp, Failure> {
        Ok(Totp::builder(secret)
            .algorithm(self.algorithm()?)
            .digits(self.digits.unwrap_or(6))
            .period(self.period.unwrap_or(30))
            .t0(t0)
            .window(window)
            .build()?)
    }
}

/// The argument, or the first line of standard input for `-`, trimmed;
/// zeroized on drop since it may hold a secret.
pub fn read_argument(arg: &str) -> Result<Zeroizing<String>, Failure> {
    if arg != "-" {
        return Ok(Zeroizing::new(arg.to_owned()));
    }
    let line = read_line(&mut io::stdin().lock())?.unwrap_or_default();
    Ok(Zeroizing::new(line.trim().to_owned()))
}

/// The longest line read from standard input: twice the longest URI the
/// library parses ([`otpkit::uri::MAX_URI_LEN`]); a secret or a code is
/// far shorter.
pub const MAX_LINE: usize = 2 * otpkit::uri::MAX_URI_LEN;

/// One line of `input` (without its end), `None` at the end of input; at
/// most [`MAX_LINE`] bytes, in bounded memory (a longer line is refused
/// as soon as it passes the bound), and every buffer it went through is
/// wiped (the line may hold a secret).
pub fn read_line(input: &mut dyn BufRead) -> Result<Option<Zeroizing<String>>, Failure> {
    let mut line = crate::files::WipingBuffer::with_capacity(256);
    let mut held = 0usize;
    let mut read_any = false;
    loop {
        let available = match input.fill_buf() {
            Ok(available) => available,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        if available.is_empty() {
            break;
        }
        read_any = true;
        let (chunk, done) = match available.iter().position(|&b| b == b'\n') {
            Some(end) => (available.get(..end).unwrap_or_default(), end + 1),
            None => (available, available.len()),
        };
        held = held.saturating_add(chunk.len());
        if held > MAX_LINE {
            return Err(Failure::Usage(format!(
                "standard input: a line longer than {MAX_LINE} bytes is no secret, code or URI"
            )));
        }
        io::Write::write_all(&mut line, chunk)?;
        let ended = done > chunk.len();
        input.consume(done);
        if ended {
            break;
        }
    }
    if !read_any {
        return Ok(None);
    }
    let bytes = line.into_inner();
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Failure::Usage("standard input: not UTF-8 text".to_owned()))?;
    Ok(Some(Zeroizing::new(text.to_owned())))
}

/// A Base32 secret argument (or `-` for standard input); 80-bit legacy
/// secrets only with `allow_short`.
pub fn read_secret(arg: &str, allow_short: bool) -> Result<Secret, Failure> {
    parse_secret(&read_argument(arg)?, allow_short)
}

pub fn parse_secret(text: &str, allow_short: bool) -> Result<Secret, Failure> {
    let secret = if allow_short {
        Secret::from_base32_allow_short(text)
    } else {
        Secret::from_base32(text)
    };
    secret.map_err(|e| match e {
        otpkit::Error::SecretTooShort { .. } => {
            Failure::Usage(format!("{e}; pass --allow-short-secret to accept it"))
        }
        e => e.into(),
    })
}

/// The parsed URI when `input` is an otpauth:// URI.
pub fn parse_uri_if_uri(input: &str, allow_short: bool) -> Result<Option<OtpAuthUri>, Failure> {
    let is_uri = input
        .get(..10)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("otpauth://"));
    if !is_uri {
        return Ok(None);
    }
    let uri = if allow_short {
        OtpAuthUri::parse_allow_short_secret(input)
    } else {
        input.parse()
    };
    uri.map(Some).map_err(|e| match e {
        otpkit::Error::SecretTooShort { .. } => {
            Failure::Usage(format!("{e}; pass --allow-short-secret to accept it"))
        }
        e => e.into(),
    })
}

/// An issuer or account name for a label: not empty.
pub fn label_part(value: &str, flag: &str) -> Result<String, Failure> {
    if value.trim().is_empty() {
        return Err(Failure::Usage(format!("{flag} must not be empty")));
    }
    Ok(value.to_owned())
}
