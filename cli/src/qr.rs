//! `otpkit qr`, and rendering QR codes for `enroll`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use otpkit::Qr;
use otpkit::qr::QrStyle;

use crate::files::{Existing, check_destination, write_atomically};
use crate::input::read_argument;
use crate::{Failure, Outcome};

/// Output formats of `otpkit qr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QrFormat {
    /// Unicode half blocks for a terminal.
    Terminal,
    /// SVG text.
    Svg,
    /// PNG bytes (to a file or a pipe, never a terminal).
    Png,
    /// A data: URL of the SVG, for an <img> tag.
    DataUrl,
}

/// Arguments of `otpkit qr`.
#[derive(Debug, Args)]
pub struct QrArgs {
    /// The text to encode (an otpauth:// URI), or `-` for the first line of
    /// standard input.
    uri: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = QrFormat::Terminal)]
    format: QrFormat,
    /// Write to this file (0600: it encodes the secret) instead of standard
    /// output.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Replace an existing file.
    #[arg(long, requires = "output")]
    force: bool,
}

/// Renders `text` in `format`.
pub fn render(text: &str, format: QrFormat) -> Result<Vec<u8>, Failure> {
    let qr = Qr::new(text)?;
    let style = QrStyle::default();
    Ok(match format {
        QrFormat::Terminal => qr.to_terminal(&style).into_bytes(),
        QrFormat::Svg => qr.to_svg(&style).into_bytes(),
        QrFormat::Png => qr.to_png(&style),
        QrFormat::DataUrl => (qr.to_data_url(&style) + "\n").into_bytes(),
    })
}

/// Warns on standard error when a terminal QR code is wider than the
/// terminal: wrapped lines make it unscannable.
pub fn warn_if_too_wide(rendered: &[u8]) {
    let stdout = std::io::stdout();
    if !stdout.is_terminal() {
        return;
    }
    let Some((terminal_size::Width(columns), _)) = terminal_size::terminal_size_of(&stdout) else {
        return;
    };
    let width = String::from_utf8_lossy(rendered)
        .lines()
        .map(|line| {
            line.chars()
                .filter(|c| !c.is_ascii_control() && *c != '[')
                .count()
        })
        .max()
        .unwrap_or(0);
    if width > usize::from(columns) {
        eprintln!(
            "otpkit: warning: the QR code is {width} columns wide and the terminal {columns}: \
             widen the window, or write an image with --qr svg -o FILE"
        );
    }
}

pub fn qr(args: &QrArgs, out: &mut dyn Write) -> Outcome {
    let existing = if args.force {
        Existing::Replace
    } else {
        Existing::Refuse
    };
    match &args.output {
        Some(path) => check_destination(path, existing)?,
        None if args.format == QrFormat::Png && std::io::stdout().is_terminal() => {
            return Err(Failure::Usage(
                "a PNG is binary: write it with -o FILE, or pipe it".into(),
            ));
        }
        None => {}
    }
    let text = read_argument(&args.uri)?;
    let bytes = render(&text, args.format)?;
    match &args.output {
        Some(path) => write_atomically(path, &bytes, existing),
        None => {
            if args.format == QrFormat::Terminal {
                warn_if_too_wide(&bytes);
            }
            Ok(out.write_all(&bytes)?)
        }
    }
}
