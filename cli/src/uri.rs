//! `otpkit uri` and `otpkit inspect`.

use std::io::Write;

use clap::Args;
use otpkit::{OtpAuthUri, Secret};

use crate::input::{Settings, label_part, parse_uri_if_uri, read_argument, read_secret};
use crate::{Failure, Outcome};

/// Arguments of `otpkit uri`.
#[derive(Debug, Args)]
pub struct UriArgs {
    /// The service name shown in the app (not empty).
    #[arg(long)]
    issuer: String,
    /// The user's account name (not empty).
    #[arg(long)]
    account: String,
    /// Base32 secret, or `-` for the first line of standard input; a fresh
    /// one when omitted.
    #[arg(long)]
    secret: Option<String>,
    /// Accept a --secret shorter than 128 bits (80-bit keys of older apps).
    #[arg(long, requires = "secret")]
    allow_short_secret: bool,
    #[command(flatten)]
    settings: Settings,
    /// An HOTP URI instead of TOTP; needs --counter.
    #[arg(long, requires = "counter")]
    hotp: bool,
    /// HOTP counter of the next code.
    #[arg(long, requires = "hotp")]
    counter: Option<u64>,
    /// Logo URL (FreeOTP/2FAS `image` parameter).
    #[arg(long)]
    image: Option<String>,
    /// Write algorithm, digits and period even at their defaults.
    #[arg(long)]
    explicit: bool,
}

/// Arguments of `otpkit inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The otpauth:// URI, or `-` for the first line of standard input.
    uri: String,
    /// Accept a secret shorter than 128 bits (80-bit keys of older apps).
    #[arg(long)]
    allow_short_secret: bool,
}

impl UriArgs {
    fn build(&self) -> Result<OtpAuthUri, Failure> {
        let secret = match &self.secret {
            Some(arg) => read_secret(arg, self.allow_short_secret)?,
            None => Secret::generate_for(self.settings.algorithm()?),
        };
        let account = label_part(&self.account, "--account")?;
        let issuer = label_part(&self.issuer, "--issuer")?;
        let uri = match self.counter {
            Some(counter) => OtpAuthUri::for_hotp(&self.settings.hotp(secret)?, counter, account),
            None => OtpAuthUri::for_totp(&self.settings.totp(secret, 0, 1)?, account),
        };
        let uri = uri
            .with_issuer(issuer)
            .with_explicit_defaults(self.explicit);
        Ok(match &self.image {
            Some(image) => uri.with_image(image.clone()),
            None => uri,
        })
    }
}

pub fn uri(args: &UriArgs, out: &mut dyn Write) -> Outcome {
    writeln!(out, "{}", args.build()?)?;
    Ok(())
}

pub fn inspect(args: &InspectArgs, out: &mut dyn Write) -> Outcome {
    let input = read_argument(&args.uri)?;
    if crate::migration::is_migration(&input) {
        return crate::migration::inspect(&input, out);
    }
    // An invalid URI is a usage error (exit 2), as in every command.
    let uri = parse_uri_if_uri(&input, args.allow_short_secret)?
        .ok_or_else(|| Failure::Usage("invalid otpauth uri: bad scheme".into()))?;
    let mut fields = crate::fields::fields(&uri);
    let written = crate::files::to_json(&fields).and_then(|json| Ok(out.write_all(&json)?));
    // The JSON value holds a plain copy of the secret: wipe it.
    if let Some(serde_json::Value::String(secret)) = fields.get_mut("secret") {
        zeroize::Zeroize::zeroize(secret);
    }
    written
}
