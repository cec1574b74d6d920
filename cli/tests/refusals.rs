//! What the second review asked the CLI to refuse: standard input past
//! its bound, backup sets below the floors, legacy keys under 80 bits, a
//! value where a variable's name belongs (never echoed), and a flag that
//! does not apply beside a URI (never dropped).

use std::process::Command;

use crate::support::{SECRET, err as stderr, out as stdout, run as otpkit, temp_dir};

/// 200 MB of zeros on standard input: refused once the line passes its
/// bound, having read only about that much (bounded memory), exit 2.
#[test]
fn a_huge_standard_input_is_refused_in_bounded_memory() {
    use std::io::Write as _;
    use std::process::Stdio;
    let mut child = Command::new(crate::support::BIN)
        .args(["code", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let chunk = vec![b'0'; 1 << 20];
        let mut written = 0usize;
        while written < 200 << 20 {
            match stdin.write(&chunk) {
                Ok(n) => written += n,
                Err(_) => break, // the reader is gone
            }
        }
        written
    });
    let out = child.wait_with_output().unwrap();
    let written = writer.join().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("longer than"), "{}", stderr(&out));
    // What the pipe and the reader's buffer took before the refusal.
    assert!(written < 4 << 20, "read {written} bytes before refusing");
}

/// The floors of a new set: PBKDF2 at 10 000 iterations or more; fast
/// HMAC hashes without a pepper only over codes of 112 bits (23 symbols).
#[test]
fn backup_sets_below_the_floors_are_refused() {
    let dir = temp_dir();
    let set = dir.path().join("set.json");
    let set_arg = set.to_str().unwrap();
    for args in [
        &["backup", "new", "--iterations", "1000", "-o", set_arg][..],
        &[
            "backup",
            "new",
            "--scheme",
            "hmac-sha256",
            "--length",
            "8",
            "-o",
            set_arg,
        ],
    ] {
        let out = otpkit(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("too weak"), "{}", stderr(&out));
        assert!(!set.exists());
    }
    let out = otpkit(&[
        "backup",
        "new",
        "--scheme",
        "hmac-sha256",
        "--length",
        "23",
        "-o",
        set_arg,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// `--allow-short-secret` takes the 80-bit keys older services issued,
/// nothing shorter.
#[test]
fn allow_short_secret_stops_at_80_bits() {
    // 80 bits: accepted.
    let out = otpkit(&["code", "--allow-short-secret", "JBSWY3DPEHPK3PXP"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // 8 bits (`AA`) and 40 bits: refused, exit 2.
    for secret in ["AA", "JBSWY3DP"] {
        let out = otpkit(&["code", "--allow-short-secret", secret]);
        assert_eq!(out.status.code(), Some(2), "{secret}: {}", stderr(&out));
        assert!(stderr(&out).contains("80 bits"), "{}", stderr(&out));
    }
}

/// A secret typed where `--pepper-env` / `--key-env` expect a variable's
/// name is refused without being shown.
#[test]
fn a_value_given_for_a_variable_name_is_never_echoed() {
    let dir = temp_dir();
    let set = dir.path().join("set.json");
    for (flag, value) in [
        ("--pepper-env", "s3cret-pepper-of-sixteen-bytes"),
        ("--pepper-env", "ABCDEFGHJKMNPQRSTUVWXYZ234567"),
        (
            "--key-env",
            "otpkit-key:v1:k:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
        ),
    ] {
        let record = dir.path().join("r.json");
        let record_arg = record.to_str().unwrap();
        if !record.exists() {
            let made = otpkit(&[
                "enroll",
                "--issuer",
                "Demo",
                "--account",
                "a",
                "--record",
                record_arg,
                "--unsealed",
            ]);
            assert!(made.status.success(), "{}", stderr(&made));
        }
        let args: Vec<&str> = if flag == "--pepper-env" {
            vec!["backup", "new", flag, value, "-o", set.to_str().unwrap()]
        } else {
            vec!["verify", "--record", record_arg, "123456", flag, value]
        };
        let out = otpkit(&args);
        assert_eq!(out.status.code(), Some(2), "{flag}: {}", stderr(&out));
        assert!(
            !stderr(&out).contains(value),
            "{flag} echoed: {}",
            stderr(&out)
        );
        assert!(
            stderr(&out).contains("name of an environment variable"),
            "{}",
            stderr(&out)
        );
    }
}

/// Beside an otpauth:// URI, a flag that does not apply to its type is
/// refused naming both (exit 2), never dropped.
#[test]
fn no_flag_is_dropped_beside_a_uri() {
    let totp = format!("otpauth://totp/a?secret={SECRET}");
    let hotp = format!("otpauth://hotp/a?secret={SECRET}&counter=0");
    for (args, flag, kind) in [
        (
            vec!["code", "--counter", "5", totp.as_str()],
            "--counter",
            "totp",
        ),
        (
            vec!["verify", "--last-step", "999999", hotp.as_str(), "755224"],
            "--last-step",
            "hotp",
        ),
        (vec!["code", "--at", "59", hotp.as_str()], "--at", "hotp"),
        (
            vec!["verify", "--at", "59", hotp.as_str(), "755224"],
            "--at",
            "hotp",
        ),
    ] {
        let out = otpkit(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(flag) && stderr(&out).contains(kind),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    // What does apply still works: an HOTP URI's counter moved on.
    let out = otpkit(&["code", "--counter", "1", &hotp]);
    assert_eq!(stdout(&out), "287082\n", "{}", stderr(&out));
}

/// An unknown flag is named, up to its `=`; a stray value is not (it may be
/// a secret typed in the wrong place).
#[test]
fn an_unknown_flag_is_named_and_a_stray_value_is_not() {
    let o = otpkit(&["code", "--frobnicate", SECRET]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unexpected argument '--frobnicate'"),
        "{}",
        stderr(&o)
    );
    let o = otpkit(&["code", "--key=JBSWY3DPEHPK3PXP", SECRET]);
    assert!(
        stderr(&o).contains("unexpected argument '--key'"),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("JBSWY3DP"), "{}", stderr(&o));
    // A secret run into its flag is not named either, in either case.
    for run_in in [
        "--importJBSWY3DPEHPK3PXPJBSWY3DP",
        "--importjbswy3dpehpk3pxp",
        "--importabcdefghijklmnopqrst",
    ] {
        let o = otpkit(&["enroll", run_in]);
        assert_eq!(o.status.code(), Some(2));
        assert!(stderr(&o).contains("may be a secret"), "{}", stderr(&o));
        assert!(
            !stderr(&o).to_lowercase().contains("jbswy3dp"),
            "{}",
            stderr(&o)
        );
    }
    let o = otpkit(&["code", SECRET, "JBSWY3DPEHPK3PXP"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("may be a secret"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("JBSWY3DP"), "{}", stderr(&o));
}

/// oathtool's short forms, where they do not clash: `-d`, `-s`
/// (`--time-step-size`), `-w`, `-c`, and `--totp` / `-b` (otpkit's
/// defaults) give what the long forms give; beside a URI, `-b` and an
/// HOTP URI's `--totp` are refused, never dropped.
#[test]
fn oathtool_short_forms_mean_the_long_ones() {
    let long = otpkit(&[
        "code",
        "--digits",
        "8",
        "--period",
        "60",
        "--at",
        "1700000000",
        SECRET,
    ]);
    assert!(long.status.success(), "{}", stderr(&long));
    for short in [
        &[
            "code",
            "--totp",
            "-b",
            "-d",
            "8",
            "-s",
            "60",
            "--at",
            "1700000000",
            SECRET,
        ][..],
        &[
            "code",
            "-d",
            "8",
            "--time-step-size",
            "60",
            "--at",
            "1700000000",
            SECRET,
        ][..],
    ] {
        assert_eq!(stdout(&otpkit(short)), stdout(&long), "{short:?}");
    }
    let hotp_long = otpkit(&["code", "--hotp", "--counter", "7", SECRET]);
    let hotp_short = otpkit(&["code", "--hotp", "-c", "7", "-b", SECRET]);
    assert_eq!(stdout(&hotp_short), stdout(&hotp_long));
    let code = stdout(&long).trim().to_owned();
    let later = otpkit(&[
        "verify",
        "-d",
        "8",
        "-s",
        "60",
        "-w",
        "2",
        "--at",
        "1700000100",
        SECRET,
        &code,
    ]);
    assert!(later.status.success(), "{}", stderr(&later));
    let narrow = otpkit(&[
        "verify",
        "-d",
        "8",
        "-s",
        "60",
        "-w",
        "0",
        "--at",
        "1700000100",
        SECRET,
        &code,
    ]);
    assert_eq!(narrow.status.code(), Some(1), "{}", stderr(&narrow));

    let uri = format!("otpauth://hotp/ACME:bob?secret={SECRET}&counter=3");
    let o = otpkit(&["code", "--totp", &uri]);
    assert!(
        stderr(&o).contains("--totp does not apply"),
        "{}",
        stderr(&o)
    );
    let o = otpkit(&["code", "-b", &uri]);
    assert!(stderr(&o).contains("--base32 conflicts"), "{}", stderr(&o));
}
