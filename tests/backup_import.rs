//! Backup-code sets from other applications, with hashes made by the real
//! libraries those applications use (Python's `bcrypt`, passlib's
//! `pbkdf2_sha512` as GitLab writes it, `hashlib` for Keycloak's SHA-512),
//! never by this crate: imported, verified in place, used once, stored and
//! loaded back.
#![cfg(feature = "serde")]

use std::process::Command;

use otpkit::BackupCodeSet;
use otpkit::Error;
use otpkit::backup::{BackupHashScheme, BackupOutcome, CodeCase, ImportFormat};

/// Runs Python and returns one line per hash.
fn python(script: &str, codes: &[&str]) -> Vec<String> {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(codes)
        .output()
        .expect("python3 with bcrypt and passlib (.ci/run installs them)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Imports `hashes`, then checks: each code as typed in another case and
/// grouped with a dash works once; a wrong code is invalid; the set stores
/// and loads back equal.
fn check(format: ImportFormat, case: CodeCase, codes: &[&str], hashes: &[String]) {
    let refs: Vec<&str> = hashes.iter().map(String::as_str).collect();
    let mut set = BackupCodeSet::import_hashes(format, &refs, case, 100).unwrap();
    assert_eq!(set.import_format(), Some(format));
    let json = serde_json::to_string(&set).unwrap();
    let loaded: BackupCodeSet = serde_json::from_str(&json).unwrap();
    assert_eq!(loaded, set, "{json}");

    assert_eq!(
        set.verify_and_consume("zzzz9999", None, 101),
        Ok(BackupOutcome::Invalid)
    );
    for (i, code) in codes.iter().enumerate() {
        let typed = match case {
            CodeCase::Lower => code.to_uppercase(),
            CodeCase::Upper => code.to_lowercase(),
            _ => (*code).to_owned(),
        };
        let (head, tail) = typed.split_at(4);
        let typed = format!(" {head}-{tail} ");
        assert_eq!(
            set.verify_and_consume(&typed, None, 102),
            Ok(BackupOutcome::Valid {
                remaining: codes.len() - i - 1
            }),
            "{format:?} code {i}"
        );
        assert_eq!(
            set.verify_and_consume(code, None, 103),
            Ok(BackupOutcome::Replayed)
        );
    }
    let saved: BackupCodeSet = serde_json::from_str(&serde_json::to_string(&set).unwrap()).unwrap();
    assert_eq!(saved.remaining(), 0);
}

#[test]
fn bcrypt_from_python_bcrypt_as_devise_and_clerk_store_it() {
    let codes = ["3f9a1c0b7e2d4a65", "b0c4e1f9a2d37c88", "5e6f7a8b9c0d1e2f"];
    let hashes = python(
        r#"
import sys, bcrypt
for i, code in enumerate(sys.argv[1:]):
    h = bcrypt.hashpw(code.encode(), bcrypt.gensalt(rounds=4 if i else 10, prefix=b"2a" if i == 1 else b"2b")).decode()
    print(h.replace("$2b$", "$2y$", 1) if i == 2 else h)
"#,
        &codes,
    );
    assert!(
        hashes[0].starts_with("$2b$10$")
            && hashes[1].starts_with("$2a$04$")
            && hashes[2].starts_with("$2y$04$")
    );
    check(ImportFormat::Bcrypt, CodeCase::Lower, &codes, &hashes);
}

#[test]
fn pbkdf2_sha512_from_passlib_as_gitlab_stores_it() {
    let codes = ["a1b2c3d4e5f60718", "0f1e2d3c4b5a6978"];
    let hashes = python(
        r#"
import sys
from passlib.hash import pbkdf2_sha512
for code in sys.argv[1:]:
    print(pbkdf2_sha512.using(rounds=20000, salt_size=16).hash(code))
"#,
        &codes,
    );
    assert!(
        hashes[0].starts_with("$pbkdf2-sha512$20000$"),
        "{}",
        hashes[0]
    );
    check(ImportFormat::Pbkdf2Sha512, CodeCase::Lower, &codes, &hashes);
}

#[test]
fn sha512_from_hashlib_as_keycloak_stores_it() {
    let codes = ["ABCD2345EFGH", "K7MQX2PF9CRT", "ZZZZ1111YYYY"];
    let hashes = python(
        r#"
import sys, hashlib, base64
for code in sys.argv[1:]:
    print(base64.b64encode(hashlib.sha512(code.encode()).digest()).decode())
"#,
        &codes,
    );
    check(ImportFormat::Sha512, CodeCase::Upper, &codes, &hashes);
}

#[test]
fn plaintext_lists_are_hashed_on_import() {
    // django-otp static tokens, Vaultwarden's recovery code, Kanidm's codes.
    let codes = ["k3mw7q2p", "VW2RECOVERYCODE4567A", "abcd-efgh-1234"];
    let fast = BackupHashScheme::Pbkdf2Sha256 { iterations: 1_000 };
    let mut set = BackupCodeSet::import_plain(&codes, CodeCase::Lower, fast, None, 0).unwrap();
    let json = serde_json::to_string(&set).unwrap();
    for code in codes {
        assert!(
            !json
                .to_lowercase()
                .contains(&code.to_lowercase().replace('-', "")),
            "{json}"
        );
    }
    assert!(json.contains("c=lower"), "{json}");
    let loaded: BackupCodeSet = serde_json::from_str(&json).unwrap();
    assert_eq!(loaded, set);
    assert_eq!(
        set.verify_and_consume("vw2recoverycode4567a", None, 1),
        Ok(BackupOutcome::Valid { remaining: 2 })
    );
    assert_eq!(
        set.verify_and_consume("ABCDEFGH1234", None, 2),
        Ok(BackupOutcome::Valid { remaining: 1 })
    );
    assert_eq!(
        set.verify_and_consume("abcdefgh1234", None, 3),
        Ok(BackupOutcome::Replayed)
    );
}

#[test]
fn malformed_imports_name_the_line_and_never_echo_it() {
    let good =
        "yOleJy9kYv7KmL5oE/yeR0Cb1H1vS8olIMc0hQftpqFOjkMQffEpu0CD2M3Pbubuq5mfyw0HYxR9dW2kkYZdYg==";
    let cases: [(ImportFormat, &str, &str); 6] = [
        (ImportFormat::Sha512, "c2hvcnQ=", "not 64 bytes of base64"),
        (ImportFormat::Bcrypt, "$2b$10$tooshort", "not a bcrypt hash"),
        (
            ImportFormat::Bcrypt,
            "$2b$31$csVnYUwVVr8lV5naB3c8S.2vQXdpa4bPMGTJwC9u/VK5y1Qq6VxSG",
            "bcrypt cost",
        ),
        (
            ImportFormat::Pbkdf2Sha512,
            "$pbkdf2-sha512$1$AAAA$AAAA",
            "rounds must be",
        ),
        (
            ImportFormat::Pbkdf2Sha512,
            "$pbkdf2-sha256$20000$AAAA$AAAA",
            "not $pbkdf2-sha512$",
        ),
        (
            ImportFormat::Pbkdf2Sha512,
            "$pbkdf2-sha512$20000$AAAA$AAAA",
            "checksum is not 64 bytes",
        ),
    ];
    for (format, bad, reason) in cases {
        // A good hash first where one is at hand: the error names line 1.
        let (list, at) = match format {
            ImportFormat::Sha512 => (vec![good, bad], 1),
            _ => (vec![bad], 0),
        };
        let err = BackupCodeSet::import_hashes(format, &list, CodeCase::Upper, 0).unwrap_err();
        assert!(
            matches!(err, Error::InvalidImportedHash { position, .. } if position == at),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(text.contains(reason) && !text.contains(bad), "{text}");
    }
    assert!(BackupCodeSet::import_hashes(ImportFormat::Sha512, &[], CodeCase::Upper, 0).is_err());
    let err = BackupCodeSet::import_plain(
        &["ok-code-1", "no!"],
        CodeCase::Lower,
        BackupHashScheme::PBKDF2,
        None,
        0,
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::InvalidImportedHash { position: 1, .. }),
        "{err:?}"
    );
}
