//! The CLI's promises to a person at a shell: it fails before showing a QR
//! code that could not be saved, it never overwrites by surprise, it never
//! echoes a secret, and its help and errors say what to do. (Runs on a real
//! pseudo-terminal are in the interop package.)

use std::os::unix::fs::PermissionsExt;

use crate::support::{SECRET, enroll_args, err, out, run, run_with};

#[test]
fn enroll_fails_before_the_qr_code_when_it_cannot_save() {
    let dir = tempfile::tempdir().unwrap();
    let existing = dir.path().join("taken.json");
    std::fs::write(&existing, "keep me").unwrap();
    let o = run(&enroll_args(existing.to_str().unwrap()));
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(out(&o).is_empty(), "no QR code: {}", out(&o));
    assert!(err(&o).contains("--force"));
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "keep me");

    let nowhere = dir.path().join("missing/dir/r.json");
    let o = run(&enroll_args(nowhere.to_str().unwrap()));
    assert_eq!(o.status.code(), Some(3), "{}", err(&o));
    assert!(out(&o).is_empty());
    assert!(
        err(&o).contains("missing/dir"),
        "names the place: {}",
        err(&o)
    );

    // The same for the QR image.
    let image = dir.path().join("qr.svg");
    std::fs::write(&image, "old").unwrap();
    let o = run(&[
        "enroll",
        "--issuer",
        "D",
        "--account",
        "d",
        "--qr",
        "svg",
        "-o",
        image.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(out(&o).is_empty());
    assert_eq!(std::fs::read_to_string(&image).unwrap(), "old");
}

#[test]
fn json_with_an_image_writes_the_image() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("j.svg");
    let o = run(&[
        "enroll",
        "--issuer",
        "D",
        "--account",
        "d",
        "--json",
        "--qr",
        "svg",
        "-o",
        image.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", err(&o));
    let created: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(created["object"], "totp");
    assert!(std::fs::read_to_string(&image).unwrap().starts_with("<svg"));
    assert_eq!(
        std::fs::metadata(&image).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn one_overwrite_rule_for_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let uri = format!("otpauth://totp/ACME:bob?secret={SECRET}");
    let file = dir.path().join("qr.svg");
    std::fs::write(&file, "old").unwrap();
    let file_arg = file.to_str().unwrap();
    let o = run(&["qr", &uri, "--format", "svg", "-o", file_arg]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "old");
    let o = run(&["qr", &uri, "--format", "svg", "-o", file_arg, "--force"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(std::fs::read_to_string(&file).unwrap().starts_with("<svg"));
}

#[test]
fn empty_labels_are_refused() {
    for (issuer, account) in [("", "a"), ("A", ""), ("A", "  ")] {
        for command in ["uri", "enroll"] {
            let o = run(&[command, "--issuer", issuer, "--account", account]);
            assert_eq!(o.status.code(), Some(2), "{command} {issuer:?} {account:?}");
            assert!(err(&o).contains("must not be empty"), "{}", err(&o));
        }
    }
}

#[test]
fn standard_input_gives_its_first_line_only() {
    let o = run_with(
        &["code", "--digits", "8", "--at", "59", "-"],
        &format!("{SECRET}\nEXTRA\n"),
        &[],
    );
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o), "94287082\n");
}

#[test]
fn conflicting_flags_are_usage_errors() {
    let uri = format!("otpauth://totp/a?secret={SECRET}&digits=8");
    let o = run(&["code", "--digits", "6", &uri]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("--digits conflicts with the settings of the otpauth:// URI"),
        "{}",
        err(&o)
    );
    let o = run(&["verify", "--record", "r.json", "--digits", "8", "123456"]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(&[
        "backup",
        "new",
        "--scheme",
        "hmac-sha256",
        "--iterations",
        "5000",
        "-o",
        "x.json",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("--iterations is for --scheme pbkdf2-sha256"));
}

#[test]
fn help_shows_one_exit_code_table_and_the_real_usage() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for command in [
        vec!["--help"],
        vec!["verify", "--help"],
        vec!["enroll", "--help"],
    ] {
        let help = out(&run(&command));
        assert!(help.contains("Exit codes:"), "{command:?}");
        for code in 0..=3 {
            assert!(
                help.contains(&format!("  {code}  ")),
                "{command:?} lacks {code}"
            );
            assert!(
                readme.contains(&format!("| {code} |")),
                "README lacks {code}"
            );
        }
    }
    let verify = out(&run(&["verify", "--help"]));
    assert!(
        verify.contains("otpkit verify [OPTIONS] <SECRET> <CODE>"),
        "{verify}"
    );
    assert!(verify.contains("otpkit verify --record <FILE>"), "{verify}");
    assert!(!verify.contains("[CODE]..."), "{verify}");
    let backup = out(&run(&["backup", "new", "--help"]));
    for range in ["1 to 100", "8 to 24", "10000 to 10000000"] {
        assert!(backup.contains(range), "{range} missing from {backup}");
    }
}

#[test]
fn lockouts_are_told_in_human_time() {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("r.json");
    let record_arg = record.to_str().unwrap();
    let o = run(&[
        "enroll",
        "--issuer",
        "D",
        "--account",
        "d",
        "--json",
        "--record",
        record_arg,
        "--unsealed",
    ]);
    assert!(o.status.success(), "{}", err(&o));
    let secret = serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let right = out(&run(&["code", &secret])).trim().to_owned();
    let wrong: String = right
        .bytes()
        .map(|b| char::from(b'0' + (b - b'0' + 5) % 10))
        .collect();
    let mut last = String::new();
    for _ in 0..6 {
        last = err(&run(&["verify", "--record", record_arg, &wrong]));
    }
    assert!(
        last.contains(
            "invalid: the code does not match (6 wrong TOTP codes in a row); now locked for 30 s, until 20"
        ),
        "{last}"
    );
    assert!(last.trim_end().ends_with('Z'), "{last}");
    let locked = err(&run(&["verify", "--record", record_arg, &right]));
    assert!(
        locked.starts_with("otpkit: locked: too many wrong TOTP codes; locked for "),
        "{locked}"
    );
}

#[test]
fn backup_sets_are_peppered_when_a_pepper_is_configured_and_warn_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.json");
    let o = run(&["backup", "new", "-o", plain.to_str().unwrap()]);
    assert!(o.status.success());
    assert!(
        err(&o).contains("warning: backup codes hashed without a pepper"),
        "{}",
        err(&o)
    );

    let peppered = dir.path().join("peppered.json");
    let env = [("OTPKIT_PEPPER", "a pepper of at least sixteen bytes")];
    let o = run_with(
        &["backup", "new", "-o", peppered.to_str().unwrap()],
        "",
        &env,
    );
    assert!(o.status.success() && err(&o).is_empty(), "{}", err(&o));
    let codes: Vec<String> = out(&o).lines().map(str::to_owned).collect();
    let status = out(&run(&["backup", "status", peppered.to_str().unwrap()]));
    assert!(status.contains("peppered"), "{status}");
    let o = run_with(
        &["backup", "use", peppered.to_str().unwrap(), &codes[0]],
        "",
        &env,
    );
    assert_eq!(out(&o), "valid: backup code, 9 remaining\n", "{}", err(&o));
    let o = run(&["backup", "use", peppered.to_str().unwrap(), &codes[1]]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "the pepper is needed: {}",
        err(&o)
    );

    // Backup-code errors speak of letters and digits, not digits.
    let o = run(&["backup", "use", plain.to_str().unwrap(), "2345"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("expected 10 letters and digits, found 4"),
        "{}",
        err(&o)
    );
}

#[test]
fn argument_errors_never_echo_a_secret() {
    for args in [
        vec!["code", "--digits", SECRET],
        vec!["code", SECRET, SECRET],
        vec!["verify", "--window", SECRET, SECRET, "123456"],
        vec!["qr", "--format", SECRET, "x"],
        vec![SECRET],
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(
            !err(&o).contains(&SECRET[..12]),
            "{args:?} echoed: {}",
            err(&o)
        );
        assert!(!err(&o).is_empty());
    }
}

#[test]
fn file_errors_name_the_file_and_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no/such/set.json");
    let o = run(&["backup", "new", "-o", missing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3));
    assert!(err(&o).contains("no/such"), "{}", err(&o));
    let o = run(&["backup", "status", missing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3));
    assert!(err(&o).contains("no/such/set.json"), "{}", err(&o));
}
