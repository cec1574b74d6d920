//! QR output decoded by zbarimg (ZBar, C): PNG as rendered, SVG rasterized
//! by rsvg-convert (librsvg), and the data URL's SVG. The pure-Rust rqrr
//! decodes every format in the library's own tests.

use std::process::Command;

use otpkit::Qr;
use otpkit::qr::QrStyle;

use crate::lib_support::enrollment_uris;

fn zbarimg(png: &[u8]) -> String {
    // Removed with the directory when `dir` drops, whatever happens.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("code.png");
    std::fs::write(&path, png).unwrap();
    let out = Command::new("zbarimg")
        .args(["--raw", "-q", "-Sbinary"])
        .arg(&path)
        .output()
        .expect("zbarimg (.ci/test installs zbar-tools)");
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
        .expect("rsvg-convert (.ci/test installs librsvg2-bin)");
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
fn svg_decodes_to_the_input() {
    for uri in enrollment_uris() {
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
    let uri = &enrollment_uris()[1];
    let url = Qr::new(uri).unwrap().to_data_url(&QrStyle::default());
    let encoded = url.strip_prefix("data:image/svg+xml,").unwrap();
    let svg = percent_encoding::percent_decode_str(encoded)
        .decode_utf8()
        .unwrap();
    assert_eq!(&zbarimg(&rasterize(&svg)), uri);
}

#[test]
fn png_decodes_with_zbar() {
    for uri in enrollment_uris() {
        let png = Qr::new(&uri).unwrap().to_png(&QrStyle::default());
        assert_eq!(zbarimg(&png), uri);
    }
}
