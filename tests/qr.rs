//! Every QR output format, decoded by real decoders and compared with the
//! input exactly: rqrr (pure Rust) on PNG and terminal output, and zbarimg
//! on SVG rasterized by rsvg-convert. `.ci/run` installs zbar-tools and
//! librsvg2-bin.
#![cfg(feature = "png")]

use std::process::Command;

use otpkit::qr::{ErrorCorrection, QrStyle};
use otpkit::{OtpAuthUri, Qr, Secret, Totp};

fn uris() -> Vec<String> {
    let totp = Totp::new(Secret::generate());
    vec![
        OtpAuthUri::for_totp(&totp, "alice@example.com")
            .with_issuer("ACME Co")
            .to_string(),
        OtpAuthUri::for_totp(&totp, "ユーザー 🔐")
            .with_issuer("Zürich Bank")
            .to_string(),
        OtpAuthUri::for_totp(
            &totp,
            format!("{}@example.com", "long.account.name".repeat(6)),
        )
        .with_issuer("A Very Long Issuer Name Incorporated International".repeat(2))
        .with_image("https://cdn.example.com/static/images/logos/issuer-logo-512x512.png")
        .with_explicit_defaults(true)
        .to_string(),
    ]
}

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

fn zbarimg(png: &[u8]) -> String {
    // Removed with the directory when `dir` drops, whatever happens.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("code.png");
    std::fs::write(&path, png).unwrap();
    let out = Command::new("zbarimg")
        .args(["--raw", "-q", "-Sbinary"])
        .arg(&path)
        .output()
        .expect("zbarimg (.ci/run installs zbar-tools)");
    assert!(out.status.success(), "zbarimg found no code");
    String::from_utf8(out.stdout)
        .unwrap()
        .trim_end_matches('\n')
        .to_owned()
}

fn rasterize(svg: &str) -> Vec<u8> {
    use std::io::Write;
    let mut child = Command::new("rsvg-convert")
        .args(["--format", "png"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("rsvg-convert (.ci/run installs librsvg2-bin)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(svg.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    out.stdout
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
            assert_eq!(zbarimg(&png), uri);
        }
    }
}

#[test]
fn svg_decodes_to_the_input() {
    for uri in uris() {
        let style = QrStyle::default()
            .module_size(4)
            .colors("#102030", "#fafafa")
            .unwrap();
        let svg = Qr::new(&uri).unwrap().to_svg(&style);
        assert_eq!(zbarimg(&rasterize(&svg)), uri);
    }
}

#[test]
fn data_url_decodes_to_the_input() {
    let uri = &uris()[1];
    let url = Qr::new(uri).unwrap().to_data_url(&QrStyle::default());
    let encoded = url.strip_prefix("data:image/svg+xml,").unwrap();
    let svg = percent_encoding::percent_decode_str(encoded)
        .decode_utf8()
        .unwrap();
    assert_eq!(&zbarimg(&rasterize(&svg)), uri);
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
