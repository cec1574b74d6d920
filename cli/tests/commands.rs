//! Every command, end to end.

use std::process::Command;

use crate::support::{
    SECRET, err as stderr, key_text, out as stdout, run as otpkit, run_stdin as otpkit_with_stdin,
    run_with as otpkit_with, temp_dir,
};

#[test]
fn code_prints_the_rfc_vector() {
    let out = otpkit(&["code", "--digits", "8", "--at", "1111111109", SECRET]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "07081804\n");
}

#[test]
fn code_reads_the_secret_from_stdin() {
    let out = otpkit_with_stdin(
        &["code", "--digits", "8", "--at", "59", "-"],
        "gezd gnbv gy3t qojq gezd gnbv gy3t qojq\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "94287082\n");
}

#[test]
fn code_with_sha256_and_hotp() {
    let secret256 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA";
    let out = otpkit(&[
        "code",
        "--algorithm",
        "sha256",
        "--digits",
        "8",
        "--at",
        "1111111109",
        secret256,
    ]);
    assert_eq!(stdout(&out), "68084774\n");
    let out = otpkit(&["code", "--hotp", "--counter", "9", SECRET]);
    assert_eq!(stdout(&out), "520489\n");
}

#[test]
fn verify_reports_step_and_offset() {
    let out = otpkit(&[
        "verify",
        "--digits",
        "8",
        "--at",
        "1111111139",
        SECRET,
        "0708 1804",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "valid: step 37037036 offset -1\n");
}

#[test]
fn verify_failures_exit_1_with_one_line() {
    let cases = [
        (
            vec!["--at", "1111111109", "--last-step", "37037036"],
            "07081804",
            "replayed",
        ),
        (vec!["--at", "1111111109"], "07081805", "invalid"),
        (vec!["--at", "1111111109"], "0708180", "malformed"),
        (vec!["--at", "1111111109"], "07O81804", "malformed"),
    ];
    for (options, code, reason) in cases {
        let mut args = vec!["verify", "--digits", "8"];
        args.extend(options);
        args.extend([SECRET, code]);
        let out = otpkit(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = stderr(&out);
        assert!(err.starts_with(&format!("otpkit: {reason}")), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(stdout(&out).is_empty());
    }
}

#[test]
fn verify_hotp_look_ahead() {
    let out = otpkit(&[
        "verify",
        "--hotp",
        "--counter",
        "1",
        "--window",
        "5",
        SECRET,
        "969429",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "valid: counter 3 next 4\n");
}

#[test]
fn usage_errors_exit_2_without_echoing_the_secret() {
    for args in [
        vec!["code", "NOT-BASE32!"],
        vec!["code", "--digits", "11", SECRET],
        vec!["code", "--algorithm", "md5", SECRET],
        vec!["code", "--period", "0", SECRET],
        vec!["code", "JBSWY3DPEHPK3PXP"],
        vec!["code", "--hotp", SECRET],
        vec!["verify", SECRET],
        vec!["bogus"],
    ] {
        let out = otpkit(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains("NOT-BASE32"), "{args:?}");
    }
}

#[test]
fn uri_then_inspect_then_code() {
    let out = otpkit(&[
        "uri",
        "--issuer",
        "ACME Co",
        "--account",
        "alice@example.com",
        "--secret",
        SECRET,
        "--digits",
        "8",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let uri = stdout(&out);
    assert_eq!(
        uri,
        format!(
            "otpauth://totp/ACME%20Co:alice%40example.com?secret={SECRET}&issuer=ACME%20Co&digits=8\n"
        )
    );
    let out = otpkit(&["inspect", uri.trim()]);
    let fields: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        fields,
        serde_json::json!({"type": "totp", "issuer": "ACME Co", "account": "alice@example.com",
            "secret": SECRET, "algorithm": "SHA1", "digits": 8, "period": 30})
    );
    // A URI works in place of the secret, with its own settings.
    let out = otpkit_with_stdin(&["code", "--at", "59", "-"], &uri);
    assert_eq!(stdout(&out), "94287082\n");
    let out = otpkit(&["verify", "--at", "59", uri.trim(), "94287082"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn uri_makes_a_fresh_secret_and_hotp_uris() {
    let a = stdout(&otpkit(&["uri", "--issuer", "I", "--account", "a"]));
    let b = stdout(&otpkit(&["uri", "--issuer", "I", "--account", "a"]));
    assert_ne!(a, b);
    let out = otpkit(&[
        "uri",
        "--issuer",
        "I",
        "--account",
        "a",
        "--secret",
        SECRET,
        "--hotp",
        "--counter",
        "3",
    ]);
    let hotp = stdout(&out);
    assert!(
        hotp.starts_with("otpauth://hotp/I:a?") && hotp.contains("&counter=3"),
        "{hotp}"
    );
    let out = otpkit(&["code", hotp.trim()]);
    assert_eq!(stdout(&out), "969429\n");
    let fields: serde_json::Value =
        serde_json::from_slice(&otpkit(&["inspect", hotp.trim()]).stdout).unwrap();
    assert_eq!(fields["counter"], 3);
    // A parameter that clashes with a field is kept under "extra", not lost.
    let clash = format!("{}&type=x&period=60", hotp.trim());
    let fields: serde_json::Value =
        serde_json::from_slice(&otpkit(&["inspect", &clash]).stdout).unwrap();
    assert_eq!(fields["extra"], serde_json::json!({"type": "x"}));
    assert_eq!(fields["type"], "hotp");
    assert_eq!(fields["period"], "60"); // not an hotp setting: an extra parameter
}

#[test]
fn inspect_rejects_bad_uris_as_usage_errors() {
    for bad in [
        "otpauth://totp/a",
        "http://x",
        "otpauth://totp/A:a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY&issuer=B",
    ] {
        let out = otpkit(&["inspect", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert_eq!(stderr(&out).lines().count(), 1);
    }
}

#[test]
fn qr_formats() {
    let uri = format!("otpauth://totp/ACME:bob?secret={SECRET}&issuer=ACME");
    let terminal = stdout(&otpkit(&["qr", &uri]));
    assert!(terminal.contains('▀') && terminal.contains("\x1b[30;107m"));
    let svg = stdout(&otpkit(&["qr", "--format", "svg", &uri]));
    assert!(svg.starts_with("<svg "));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("code.png");
    let out = otpkit(&["qr", "--format", "png", "-o", path.to_str().unwrap(), &uri]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(std::fs::read(&path).unwrap().starts_with(b"\x89PNG"));
    let data = stdout(&otpkit(&["qr", "--format", "data-url", &uri]));
    assert!(data.starts_with("data:image/svg+xml,"));
}

#[test]
fn backup_new_use_status() {
    let tmp = temp_dir();
    let dir = tmp.path();
    let set = dir.join("set.json");
    let set_arg = set.to_str().unwrap();
    let out = otpkit(&["backup", "new", "--count", "3", "-o", set_arg]);
    assert!(out.status.success(), "{}", stderr(&out));
    let codes: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    assert_eq!(codes.len(), 3);
    let stored = std::fs::read_to_string(&set).unwrap();
    for code in &codes {
        assert!(!stored.contains(code.as_str()) && !stored.contains(&code.replace('-', "")));
    }
    // No surprise overwrite.
    let out = otpkit(&["backup", "new", "-o", set_arg]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--force"));
    assert_eq!(std::fs::read_to_string(&set).unwrap(), stored);

    let out = otpkit(&["backup", "use", set_arg, &codes[1].to_uppercase()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "valid: backup code, 2 remaining\n");
    for (code, reason) in [
        (codes[1].as_str(), "replayed"),
        ("2345-6789-ab", "invalid"),
        ("2345", "malformed"),
    ] {
        let out = otpkit(&["backup", "use", set_arg, code]);
        assert_eq!(out.status.code(), Some(1), "{code}");
        assert!(
            stderr(&out).starts_with(&format!("otpkit: {reason}")),
            "{}",
            stderr(&out)
        );
    }
    let status = stdout(&otpkit(&["backup", "status", set_arg]));
    assert!(
        status.starts_with(
            "total: 3\nremaining: 2\nscheme: pbkdf2-sha256 (100000 iterations)\ncreated: "
        ),
        "{status}"
    );
    // No temporary files are left behind.
    assert_eq!(std::fs::read_dir(dir).unwrap().count(), 1);
}

#[test]
fn backup_with_a_pepper_and_pbkdf2() {
    let tmp = temp_dir();
    let dir = tmp.path();
    let set = dir.join("set.json");
    let set_arg = set.to_str().unwrap();
    let run = |args: &[&str], pepper: Option<&str>| {
        let mut command = Command::new(crate::support::BIN);
        command.args(args).env_remove("OTPKIT_PEPPER");
        if let Some(pepper) = pepper {
            command.env("OTPKIT_PEPPER", pepper);
        }
        command.output().unwrap()
    };
    let pepper = Some("a pepper of at least sixteen bytes");
    let out = run(
        &[
            "backup",
            "new",
            "--scheme",
            "pbkdf2-sha256",
            "--iterations",
            "10000",
            "--pepper-env",
            "OTPKIT_PEPPER",
            "-o",
            set_arg,
        ],
        pepper,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let code = stdout(&out).lines().next().unwrap().to_owned();
    // Without the pepper: a usage error, and the set is untouched.
    let out = run(&["backup", "use", set_arg, &code], None);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = run(
        &[
            "backup",
            "use",
            "--pepper-env",
            "OTPKIT_PEPPER",
            set_arg,
            &code,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("OTPKIT_PEPPER is not set"));
    let out = run(
        &[
            "backup",
            "use",
            "--pepper-env",
            "OTPKIT_PEPPER",
            set_arg,
            &code,
        ],
        pepper,
    );
    assert_eq!(
        stdout(&out),
        "valid: backup code, 9 remaining\n",
        "{}",
        stderr(&out)
    );
    let status = stdout(&run(&["backup", "status", set_arg], None));
    assert!(
        status.contains("scheme: pbkdf2-sha256 (10000 iterations), peppered"),
        "{status}"
    );
    // A corrupt file is a clear file error (exit 3), naming the file.
    std::fs::write(&set, "{\"version\": 1}").unwrap();
    let out = run(&["backup", "status", set_arg], None);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains(set_arg), "{}", stderr(&out));
    assert!(stderr(&out).contains("missing field"), "{}", stderr(&out));
}

#[test]
fn enroll_shows_a_qr_code_and_the_key() {
    let tmp = temp_dir();
    let dir = tmp.path();
    let record = dir.join("record.json");
    let out = otpkit(&[
        "enroll",
        "--issuer",
        "Demo",
        "--account",
        "demo@example.com",
        "--record",
        record.to_str().unwrap(),
        "--unsealed",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains('▀') && text.contains("Or enter this key by hand: "),
        "{text}"
    );
    assert!(text.contains("otpkit verify --record"));
    let stored = std::fs::read_to_string(&record).unwrap();
    assert!(stored.contains("\"verified\": false"));
    // Neither a key nor --unsealed: refused before any QR code is shown.
    let other = dir.join("other.json");
    let refused = otpkit(&[
        "enroll",
        "--issuer",
        "Demo",
        "--account",
        "x",
        "--record",
        other.to_str().unwrap(),
    ]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(refused.stdout.is_empty() && !other.exists());
    assert!(
        stderr(&refused).contains("--key-env"),
        "{}",
        stderr(&refused)
    );
    // Refuses to replace the record without --force.
    let again = otpkit(&[
        "enroll",
        "--issuer",
        "Demo",
        "--account",
        "x",
        "--record",
        record.to_str().unwrap(),
        "--unsealed",
    ]);
    assert_eq!(again.status.code(), Some(2));
}

#[test]
fn enroll_json_then_verify_against_the_record() {
    let tmp = temp_dir();
    let dir = tmp.path();
    let record = dir.join("record.json");
    let record_arg = record.to_str().unwrap();
    let key = key_text("k1", 0x11);
    let env = [("OTPKIT_KEY", key.as_str())];
    let otpkit = |args: &[&str]| otpkit_with(args, "", &env);
    let out = otpkit(&[
        "enroll",
        "--issuer",
        "Demo",
        "--account",
        "demo",
        "--json",
        "--record",
        record_arg,
        "--key-env",
        "OTPKIT_KEY",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Clerk's field order, as written.
    let raw = stdout(&out);
    let mut at = 0;
    for key in [
        "object",
        "id",
        "secret",
        "uri",
        "verified",
        "backup_codes",
        "created_at",
        "updated_at",
    ] {
        at += raw[at..]
            .find(&format!("\"{key}\":"))
            .unwrap_or_else(|| panic!("{key} out of order: {raw}"));
    }
    assert_eq!(created.as_object().unwrap().len(), 8);
    let uri = created["uri"].as_str().unwrap();
    assert!(
        !std::fs::read_to_string(&record)
            .unwrap()
            .contains("backup_codes\": [")
    );

    let code = stdout(&otpkit(&["code", uri])).trim().to_owned();
    let k = ["--key-env", "OTPKIT_KEY"];
    let out = otpkit(&["verify", "--record", record_arg, &code, k[0], k[1]]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("valid: totp step "), "{text}");
    let backup: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("  "))
        .map(str::trim)
        .collect();
    assert_eq!(backup.len(), 10, "{text}");
    // Only hashes are stored.
    let stored = std::fs::read_to_string(&record).unwrap();
    assert!(backup.iter().all(|c| !stored.contains(c)));

    let replay = otpkit(&["verify", "--record", record_arg, &code, k[0], k[1]]);
    assert_eq!(replay.status.code(), Some(1));
    assert!(stderr(&replay).starts_with("otpkit: replayed"));
    let out = otpkit(&["verify", "--record", record_arg, backup[2], k[0], k[1]]);
    assert_eq!(stdout(&out), "valid: backup code, 9 remaining\n");
    let reuse = otpkit(&["verify", "--record", record_arg, backup[2], k[0], k[1]]);
    assert_eq!(reuse.status.code(), Some(1));
    let both = otpkit(&["verify", "--record", record_arg, SECRET, &code]);
    assert_eq!(both.status.code(), Some(2));
}

#[test]
fn records_are_sealed_and_keys_rotate() {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("record.json");
    let record_arg = record.to_str().unwrap();
    let (a, b) = (key_text("a", 0xaa), key_text("b", 0xbb));
    let with = |keys: &str, args: &[&str]| otpkit_with(args, "", &[("KEYS", keys)]);

    let fresh = otpkit(&["key", "new"]);
    let fresh = stdout(&fresh);
    assert!(
        fresh.starts_with("otpkit-key:v1:") && fresh.trim().len() == 14 + 8 + 1 + 64,
        "{fresh}"
    );

    let out = with(
        &a,
        &[
            "enroll",
            "--issuer",
            "I",
            "--account",
            "u",
            "--json",
            "--record",
            record_arg,
            "--key-env",
            "KEYS",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let secret = created["secret"].as_str().unwrap();
    let stored = std::fs::read_to_string(&record).unwrap();
    assert!(!stored.contains(secret) && !stored.contains(&secret.to_lowercase()));
    assert!(
        stored.contains("\"$otpkit-xchacha20poly1305$v=1,k=a$"),
        "{stored}"
    );

    let code = |at: u64| {
        stdout(&otpkit(&["code", "--at", &at.to_string(), secret]))
            .trim()
            .to_owned()
    };
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    let verify = |keys: &str, code: &str| {
        with(
            keys,
            &["verify", "--record", record_arg, code, "--key-env", "KEYS"],
        )
    };

    // Without the key, or with another, it is refused and names the key needed.
    let none = otpkit(&["verify", "--record", record_arg, "123456"]);
    assert_eq!(none.status.code(), Some(2));
    assert!(
        stderr(&none).contains("sealed with key \"a\""),
        "{}",
        stderr(&none)
    );
    let other = verify(&b, "123456");
    assert_eq!(other.status.code(), Some(2));
    assert!(stderr(&other).contains("key \"a\""), "{}", stderr(&other));
    // Another key of the same id: the record does not open, the file's
    // problem (exit 3).
    let impostor = verify(&key_text("a", 0xab), "123456");
    assert_eq!(impostor.status.code(), Some(3), "{}", stderr(&impostor));
    assert!(
        stderr(&impostor).contains("does not open"),
        "{}",
        stderr(&impostor)
    );

    // Rotation: "b,a" opens and re-seals with b; rekey moves the record to b.
    let out = verify(&format!("{b},{a}"), &code(now()));
    assert!(out.status.success(), "{}", stderr(&out));
    let rekeyed = with(
        &format!("{b},{a}"),
        &["rekey", "--record", record_arg, "--key-env", "KEYS"],
    );
    assert!(rekeyed.status.success(), "{}", stderr(&rekeyed));
    assert_eq!(stdout(&rekeyed), "resealed: key b -> key b\n");
    let out = verify(&b, &code(now() + 30));
    assert!(out.status.success(), "b alone opens it: {}", stderr(&out));
    assert_eq!(
        verify(&a, "123456").status.code(),
        Some(2),
        "a alone no longer does"
    );

    // A plaintext record: refused with a key, sealed by rekey.
    let plain = dir.path().join("plain.json");
    let plain_arg = plain.to_str().unwrap();
    let out = otpkit(&[
        "enroll",
        "--issuer",
        "I",
        "--account",
        "u",
        "--json",
        "--record",
        plain_arg,
        "--unsealed",
    ]);
    assert!(out.status.success());
    let refused = with(
        &a,
        &[
            "verify",
            "--record",
            plain_arg,
            "123456",
            "--key-env",
            "KEYS",
        ],
    );
    assert!(
        stderr(&refused).contains("otpkit rekey"),
        "{}",
        stderr(&refused)
    );
    let sealed = with(&a, &["rekey", "--record", plain_arg, "--key-env", "KEYS"]);
    assert_eq!(stdout(&sealed), "sealed: plaintext -> key a\n");
    assert!(
        std::fs::read_to_string(&plain)
            .unwrap()
            .contains("$otpkit-xchacha20poly1305$")
    );
}

/// A file far larger than any record is refused after reading 1 MiB of it,
/// with a message naming it, instead of filling the memory (`/dev/zero`
/// never ends).
#[cfg(unix)]
#[test]
fn endless_or_huge_files_are_refused_not_read_to_the_end() {
    let dir = temp_dir();
    let output = dir.path().join("set.json");
    let output = output.to_str().unwrap();
    for args in [
        vec!["backup", "status", "/dev/zero"],
        vec![
            "backup",
            "import",
            "--format",
            "plain",
            "--output",
            output,
            "/dev/zero",
        ],
    ] {
        let out = otpkit(&args);
        assert_eq!(out.status.code(), Some(3), "{args:?}");
        let message = stderr(&out);
        assert!(
            message.contains("/dev/zero") && message.contains("larger than 1 MiB"),
            "{args:?}: {message}"
        );
    }
}
