//! The CLI's QR codes against decoders and encoders not ours: `otpkit
//! export --qr` images read by zbarimg, and `otpkit code --qr` reading
//! images qrencode made (an enrollment's URI, an export).

use std::process::Command;

use crate::cli_support::{SECRET, err, out, run};
use crate::support::tool;

fn uri(n: usize) -> String {
    format!("otpauth://totp/ACME:user{n}?secret={SECRET}&issuer=ACME&digits=8")
}

#[test]
fn code_qr_reads_what_qrencode_draws() {
    let dir = tempfile::tempdir().unwrap();
    let export = out(&run(&["export", &uri(1), &uri(2)])).trim().to_owned();
    for (n, text) in [uri(1), export.clone()].iter().enumerate() {
        // Small modules and a thin margin, as a screenshot crops it; and
        // qrencode's defaults.
        for (size, margin) in [("3", "2"), ("8", "4")] {
            let png = dir.path().join(format!("qrencode-{n}-{size}.png"));
            tool(
                "qrencode",
                &["-s", size, "-m", margin, "-o", png.to_str().unwrap(), text],
            );
            let scanned = run(&["code", "--at", "59", "--qr", png.to_str().unwrap()]);
            let direct = run(&["code", "--at", "59", text]);
            assert!(scanned.status.success(), "{}", err(&scanned));
            assert_eq!(out(&scanned), out(&direct));
        }
    }
}

#[test]
fn zbarimg_reads_otpkits_export_images() {
    let dir = tempfile::tempdir().unwrap();
    let uris: Vec<String> = (0..12).map(uri).collect();
    let png = dir.path().join("export.png");
    let mut args = vec![
        "export".to_owned(),
        "--qr".to_owned(),
        png.to_str().unwrap().to_owned(),
    ];
    args.extend(uris.iter().cloned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = run(&args);
    assert!(o.status.success(), "{}", err(&o));
    let mut lines = Vec::new();
    for i in 1..=2 {
        let image = dir.path().join(format!("export-{i}.png"));
        let output = Command::new("zbarimg")
            .args(["--quiet", "--raw", image.to_str().unwrap()])
            .output()
            .expect("zbarimg (`bash .ci/test` installs zbar-tools)");
        assert!(
            output.status.success(),
            "zbarimg found no code in {}",
            image.display()
        );
        let text = String::from_utf8(output.stdout).unwrap().trim().to_owned();
        assert!(
            text.starts_with("otpauth-migration://offline?data="),
            "{text}"
        );
        let codes = run(&["code", "--at", "59", &text]);
        assert!(codes.status.success(), "{}", err(&codes));
        lines.extend(out(&codes).lines().map(str::to_owned));
    }
    assert_eq!(lines.len(), 12);
    for (n, line) in lines.iter().enumerate() {
        assert_eq!(line, &format!("user{n}\tACME\t94287082"));
    }
}
