//! The other side of the QR: Steam URIs, Google Authenticator exports
//! (`otpkit export`, and `code` / `inspect` of one), and `code --qr` on an
//! image. (Against steam-totp, Python's protobuf, qrencode and zbarimg: in
//! the interop package.)

use crate::support::{SECRET, err, out, run, run_stdin, temp_dir};

fn alice() -> String {
    format!("otpauth://totp/ACME:alice?secret={SECRET}&issuer=ACME")
}

fn bob_hotp() -> String {
    "otpauth://hotp/bob?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&counter=5".to_owned()
}

#[test]
fn steam_uris_give_steam_codes_and_other_encoders_are_refused() {
    let steam = format!("otpauth://totp/Steam:gabe?secret={SECRET}&issuer=Steam");
    let o = run(&["code", "--at", "1700000000", &steam]);
    assert_eq!(out(&o).trim(), "R87JJ", "{}", err(&o));
    let o = run(&["verify", "--at", "1700000030", &steam, "r87jj"]);
    assert!(o.status.success(), "{}", err(&o));
    let o = run(&["code", "--counter", "3", &steam]);
    assert!(
        err(&o).contains("--counter does not apply to a steam"),
        "{}",
        err(&o)
    );
    let o = run(&[
        "code",
        &format!("otpauth://totp/x?secret={SECRET}&encoder=yandex"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("encoder otpkit does not know"),
        "{}",
        err(&o)
    );
    let o = run(&["inspect", &steam]);
    let fields: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(
        (fields["type"].as_str(), fields["digits"].as_u64()),
        (Some("steam"), Some(5))
    );
}

#[test]
fn an_export_round_trips_through_code_and_inspect() {
    let o = run_stdin(
        &["export", "-"],
        &format!("{}\n\n{}\n", alice(), bob_hotp()),
    );
    assert!(o.status.success(), "{}", err(&o));
    let export = out(&o).trim().to_owned();
    assert!(
        export.starts_with("otpauth-migration://offline?data="),
        "{export}"
    );
    assert_eq!(export.lines().count(), 1);

    let o = run(&["code", "--at", "59", &export]);
    assert_eq!(
        out(&o),
        "alice\tACME\t287082\nbob\t-\t523004\n",
        "{}",
        err(&o)
    );
    let o = run_stdin(&["code", "--at", "59", "-"], &export);
    assert_eq!(out(&o).lines().count(), 2, "{}", err(&o));
    let o = run(&["code", "--digits", "8", &export]);
    assert!(
        err(&o).contains("--digits conflicts with the settings of the export"),
        "{}",
        err(&o)
    );

    let o = run(&["inspect", &export]);
    let json: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(json["batch_size"], 1);
    assert_eq!(json["accounts"][0]["issuer"], "ACME");
    assert_eq!(json["accounts"][1]["counter"], 5);
    assert_eq!(json["accounts"][1]["code"], "523004");

    // Malformed exports are usage errors naming what is wrong.
    let o = run(&["code", "otpauth-migration://offline?data=CjEK"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("a field is truncated"), "{}", err(&o));
    // Accounts the format cannot hold are refused before anything is written.
    let steam = format!("otpauth://totp/Steam:gabe?secret={SECRET}&issuer=Steam");
    let o = run(&["export", &alice(), &steam]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("no Steam codes") && out(&o).is_empty(),
        "{}",
        err(&o)
    );
}

#[test]
fn exports_as_qr_codes_read_back_with_code_qr() {
    let dir = temp_dir();
    let png = dir.path().join("export.png");
    let png_arg = png.to_str().unwrap();
    let o = run(&["export", "--qr", png_arg, &alice(), &bob_hotp()]);
    assert!(o.status.success(), "{}", err(&o));
    let o = run(&["code", "--at", "59", "--qr", png_arg]);
    assert_eq!(
        out(&o),
        "alice\tACME\t287082\nbob\t-\t523004\n",
        "{}",
        err(&o)
    );
    // An existing file is refused unless --force.
    let o = run(&["export", "--qr", png_arg, &alice()]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(
        run(&["export", "--force", "--qr", png_arg, &alice()])
            .status
            .success()
    );

    // Eleven accounts: two batches, two numbered images, one id.
    let many: Vec<String> = (0..11)
        .map(|n| format!("otpauth://totp/ACME:user{n}?secret={SECRET}&issuer=ACME"))
        .collect();
    let mut args = vec![
        "export",
        "--qr",
        dir.path()
            .join("many.png")
            .to_str()
            .unwrap()
            .to_owned()
            .leak(),
    ];
    args.extend(many.iter().map(String::as_str));
    let o = run(&args);
    assert!(o.status.success(), "{}", err(&o));
    let first = run(&[
        "code",
        "--at",
        "59",
        "--qr",
        dir.path().join("many-1.png").to_str().unwrap(),
    ]);
    let second = run(&[
        "code",
        "--at",
        "59",
        "--qr",
        dir.path().join("many-2.png").to_str().unwrap(),
    ]);
    assert_eq!(
        (out(&first).lines().count(), out(&second).lines().count()),
        (10, 1)
    );

    // An otpauth:// URI in a QR code: its code.
    let single = dir.path().join("single.png");
    assert!(
        run(&[
            "qr",
            "--format",
            "png",
            "-o",
            single.to_str().unwrap(),
            &alice()
        ])
        .status
        .success()
    );
    let o = run(&["code", "--at", "59", "--qr", single.to_str().unwrap()]);
    assert_eq!(out(&o).trim(), "287082", "{}", err(&o));

    // Not an image, no QR code in it, no such file: the file's errors (exit 3).
    let text = dir.path().join("not.png");
    std::fs::write(&text, "hello").unwrap();
    let o = run(&["code", "--qr", text.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3));
    assert!(err(&o).contains("not a PNG image"), "{}", err(&o));
    let blank = dir.path().join("blank.png");
    let mut encoded = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut encoded, 64, 64);
        encoder.set_color(png::ColorType::Grayscale);
        encoder
            .write_header()
            .unwrap()
            .write_image_data(&[255; 64 * 64])
            .unwrap();
    }
    std::fs::write(&blank, &encoded).unwrap();
    let o = run(&["code", "--qr", blank.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3));
    assert!(err(&o).contains("no QR code found"), "{}", err(&o));
    let o = run(&[
        "code",
        "--qr",
        dir.path().join("missing.png").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3));
    let o = run(&["code", "--qr", single.to_str().unwrap(), SECRET]);
    assert_eq!(o.status.code(), Some(2));
    // A small file claiming a huge image is refused before its pixels are
    // allocated.
    let huge = dir.path().join("huge.png");
    std::fs::write(&huge, huge_png_header(50_000, 50_000)).unwrap();
    let o = run(&["code", "--qr", huge.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{}", err(&o));
    assert!(
        err(&o).contains("more than a screenshot's 40 million"),
        "{}",
        err(&o)
    );
}

/// A PNG's signature, IHDR (RGBA, 8 bits) claiming `width`×`height`, and
/// the start of an IDAT: what a decoder reads before any pixel.
fn huge_png_header(width: u32, height: u32) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    let chunk = |kind: &[u8], data: &[u8]| {
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        let typed: Vec<u8> = kind.iter().chain(data).copied().collect();
        out.extend(&typed);
        out.extend(crc32(&typed).to_be_bytes());
        out
    };
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 6, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(chunk(b"IHDR", &ihdr));
    png.extend(chunk(
        b"IDAT",
        &[0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01],
    ));
    png.extend(chunk(b"IEND", &[]));
    png
}
