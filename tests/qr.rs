//! QR output decoded by rqrr (pure Rust) and compared with the input
//! exactly: PNG at every error-correction level and terminal output. The
//! interop package decodes PNG, SVG and data URLs with zbarimg as well.
#![cfg(feature = "png")]

use otpkit::Qr;
use otpkit::qr::{ErrorCorrection, QrStyle};

use crate::support::enrollment_uris as uris;

/// Decodes a greyscale image with rqrr.
fn rqrr_decode(width: usize, height: usize, pixel: impl Fn(usize, usize) -> u8) -> Vec<String> {
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, pixel);
    image
        .detect_grids()
        .into_iter()
        .map(|grid| grid.decode().expect("a detected grid decodes").1)
        .collect()
}

fn decode_png(png: &[u8]) -> Vec<String> {
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Grayscale);
    let width = info.width as usize;
    rqrr_decode(width, info.height as usize, |x, y| buf[y * width + x])
}

#[test]
fn png_decodes_to_the_input() {
    for uri in uris() {
        for level in [
            ErrorCorrection::Low,
            ErrorCorrection::Medium,
            ErrorCorrection::High,
        ] {
            let png = Qr::with_error_correction(&uri, level)
                .unwrap()
                .to_png(&QrStyle::default());
            assert_eq!(decode_png(&png), std::slice::from_ref(&uri));
        }
    }
}

#[test]
fn terminal_output_decodes_to_the_input() {
    for uri in uris() {
        let text = Qr::new(&uri).unwrap().to_terminal(&QrStyle::default());
        // Read the half blocks back into modules, scale them up, and decode.
        let rows: Vec<Vec<char>> = text
            .lines()
            .map(|line| {
                let line = line
                    .strip_prefix("\x1b[30;107m")
                    .unwrap()
                    .strip_suffix("\x1b[0m")
                    .unwrap();
                line.chars().collect()
            })
            .collect();
        let side = rows[0].len();
        let dark = |x: usize, y: usize| {
            let c = rows
                .get(y / 2)
                .and_then(|r| r.get(x))
                .copied()
                .unwrap_or(' ');
            matches!((c, y % 2), ('█', _) | ('▀', 0) | ('▄', 1))
        };
        let scale = 6;
        let decoded = rqrr_decode(side * scale, side * scale, |x, y| {
            if dark(x / scale, y / scale) { 0 } else { 255 }
        });
        assert_eq!(decoded, [uri]);
    }
}

#[test]
fn too_long_is_an_error() {
    assert_eq!(Qr::new(&"x".repeat(5000)), Err(otpkit::Error::QrTooLong));
}
