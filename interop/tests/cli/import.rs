//! Moving an application's 2FA data to otpkit from a shell: backup-code
//! sets hashed by other tools (made here by the real Python libraries), and
//! existing enrollments with their last used step.

use std::process::Command;

use crate::cli_support::{BIN, err, out, run};
use crate::support::python;

#[test]
fn backup_import_of_every_format_then_use() {
    let dir = tempfile::tempdir().unwrap();
    let codes = ["a1b2c3d4e5f60718", "0f1e2d3c4b5a6978"];
    let formats = [
        (
            "bcrypt",
            "import sys, bcrypt\nfor c in sys.argv[1:]: print(bcrypt.hashpw(c.encode(), bcrypt.gensalt(rounds=4)).decode())",
        ),
        (
            "pbkdf2-sha512",
            "import sys\nfrom passlib.hash import pbkdf2_sha512\nfor c in sys.argv[1:]: print(pbkdf2_sha512.using(rounds=20000).hash(c))",
        ),
        (
            "sha512",
            "import sys, hashlib, base64\nfor c in sys.argv[1:]: print(base64.b64encode(hashlib.sha512(c.upper().encode()).digest()).decode())",
        ),
        ("plain", "import sys\nfor c in sys.argv[1:]: print(c)"),
    ];
    for (format, script) in formats {
        let file = dir.path().join(format!("{format}.txt"));
        std::fs::write(&file, format!("\n{}\n", python(script, &codes))).unwrap();
        let set = dir.path().join(format!("{format}.json"));
        let set_arg = set.to_str().unwrap();
        let o = run(&[
            "backup",
            "import",
            "--format",
            format,
            file.to_str().unwrap(),
            "-o",
            set_arg,
        ]);
        assert!(o.status.success(), "{format}: {}", err(&o));
        assert_eq!(out(&o), format!("imported: 2 codes to {set_arg}\n"));
        assert_eq!(
            format == "plain",
            err(&o).contains("without a pepper"),
            "{format}: {}",
            err(&o)
        );
        let stored = std::fs::read_to_string(&set).unwrap();
        assert!(!stored.contains(codes[0]) && !stored.contains(&codes[0].to_uppercase()));
        let status = out(&run(&["backup", "status", set_arg]));
        if format != "plain" {
            assert!(
                status.contains(&format!("scheme: imported {format}")),
                "{status}"
            );
        }
        let o = run(&["backup", "use", set_arg, codes[1]]);
        assert_eq!(
            out(&o),
            "valid: backup code, 1 remaining\n",
            "{format}: {}",
            err(&o)
        );
        let o = run(&["backup", "use", set_arg, codes[1]]);
        assert!(err(&o).contains("replayed"), "{format}: {}", err(&o));
    }
    // A bad line is named, and the set is not written.
    let bad = dir.path().join("bad.txt");
    std::fs::write(
        &bad,
        "$2b$04$csVnYUwVVr8lV5naB3c8S.2vQXdpa4bPMGTJwC9u/VK5y1Qq6VxSG\nnot-a-hash\n",
    )
    .unwrap();
    let target = dir.path().join("bad.json");
    let o = run(&[
        "backup",
        "import",
        "--format",
        "bcrypt",
        bad.to_str().unwrap(),
        "-o",
        target.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        err(&o).contains("invalid imported backup code 1: not a bcrypt hash"),
        "{}",
        err(&o)
    );
    assert!(!target.exists());
}

#[test]
fn enroll_import_carries_the_last_step_and_legacy_keys_need_an_opt_in() {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("r.json");
    let record_arg = record.to_str().unwrap();
    let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let step = now / 30;
    let o = run(&[
        "enroll",
        "--issuer",
        "ACME",
        "--account",
        "alice",
        "--record",
        record_arg,
        "--unsealed",
        "--import",
        secret,
        "--last-step",
        &step.to_string(),
    ]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        out(&o).starts_with("imported: a verified record saved to"),
        "{}",
        out(&o)
    );
    let used_there = out(&run(&["code", "--at", &(step * 30).to_string(), secret]))
        .trim()
        .to_owned();
    let o = run(&["verify", "--record", record_arg, &used_there]);
    assert!(
        err(&o).contains("replayed"),
        "a code used before the move: {}",
        err(&o)
    );
    let next = out(&run(&[
        "code",
        "--at",
        &((step + 1) * 30).to_string(),
        secret,
    ]))
    .trim()
    .to_owned();
    let o = run(&["verify", "--record", record_arg, &next]);
    assert!(o.status.success(), "{}", err(&o));

    // An 80-bit key: refused unless asked, then flagged; codes match oathtool.
    let legacy = dir.path().join("legacy.json");
    let legacy_arg = legacy.to_str().unwrap();
    let args = [
        "enroll",
        "--issuer",
        "ACME",
        "--account",
        "bob",
        "--record",
        legacy_arg,
        "--unsealed",
        "--import",
        "JBSWY3DPEHPK3PXP",
    ];
    let o = run(&args);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("--allow-short-secret"), "{}", err(&o));
    let mut with_flag = args.to_vec();
    with_flag.push("--allow-short-secret");
    let o = run(&with_flag);
    assert!(
        out(&o).contains("legacy key shorter than 128 bits"),
        "{}",
        err(&o)
    );
    let code = Command::new("oathtool")
        .args(["--totp", "-b", "JBSWY3DPEHPK3PXP"])
        .output()
        .expect("oathtool");
    let o = run(&["verify", "--record", legacy_arg, out(&code).trim()]);
    assert!(o.status.success(), "{}", err(&o));

    // A hex key (django-otp) with a Keycloak set attached, sealed.
    let hashes = python(
        "import sys, hashlib, base64\nfor c in sys.argv[1:]: print(base64.b64encode(hashlib.sha512(c.encode()).digest()).decode())",
        &["ABCD2345EFGH"],
    );
    let file = dir.path().join("keycloak.txt");
    std::fs::write(&file, hashes).unwrap();
    let set = dir.path().join("set.json");
    assert!(
        run(&[
            "backup",
            "import",
            "--format",
            "sha512",
            file.to_str().unwrap(),
            "-o",
            set.to_str().unwrap()
        ])
        .status
        .success()
    );
    let sealed = dir.path().join("sealed.json");
    let key = format!("otpkit-key:v1:k1:{}", "ab".repeat(32));
    let o = Command::new(BIN)
        .args([
            "enroll",
            "--issuer",
            "ACME",
            "--account",
            "carol",
            "--record",
            sealed.to_str().unwrap(),
            "--key-env",
            "KEY",
            "--import",
            "3132333435363738393031323334353637383930",
            "--secret-format",
            "hex",
            "--backup-set",
            set.to_str().unwrap(),
        ])
        .env("KEY", &key)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", err(&o));
    let o = Command::new(BIN)
        .args([
            "verify",
            "--record",
            sealed.to_str().unwrap(),
            "--key-env",
            "KEY",
            "abcd-2345-efgh",
        ])
        .env("KEY", &key)
        .output()
        .unwrap();
    assert_eq!(out(&o), "valid: backup code, 0 remaining\n", "{}", err(&o));
    // --import is for existing enrollments: no QR code options with it.
    let o = run(&[
        "enroll",
        "--issuer",
        "A",
        "--account",
        "b",
        "--record",
        record_arg,
        "--import",
        secret,
        "--qr",
        "svg",
    ]);
    assert_eq!(o.status.code(), Some(2));
}
