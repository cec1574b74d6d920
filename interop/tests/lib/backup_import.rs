//! Backup-code sets from other applications, with hashes made by the real
//! libraries those applications use (Python's `bcrypt`, passlib's
//! `pbkdf2_sha512` as GitLab writes it, `hashlib` for Keycloak's SHA-512),
//! never by this crate: imported, verified in place, used once, stored and
//! loaded back.

use otpkit::BackupCodeSet;
use otpkit::backup::{BackupOutcome, CodeCase, ImportFormat};

/// Runs Python and returns one line per hash.
fn python(script: &str, codes: &[&str]) -> Vec<String> {
    crate::support::python(script, codes)
        .lines()
        .map(str::to_owned)
        .collect()
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
    check_import(ImportFormat::Bcrypt, CodeCase::Lower, &codes, &hashes);
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
    check_import(ImportFormat::Pbkdf2Sha512, CodeCase::Lower, &codes, &hashes);
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
    check_import(ImportFormat::Sha512, CodeCase::Upper, &codes, &hashes);
}

/// Imports `hashes`, then checks: each code as typed in another case and
/// grouped with a dash works once; a wrong code is invalid; the set stores
/// and loads back equal.
fn check_import(format: ImportFormat, case: CodeCase, codes: &[&str], hashes: &[String]) {
    let refs: Vec<&str> = hashes.iter().map(String::as_str).collect();
    let mut set = BackupCodeSet::import_hashes(format, &refs, case, 100).unwrap();
    assert_eq!(set.import_format(), Some(format));
    let json = serde_json::to_string(&set).unwrap();
    let loaded: BackupCodeSet = serde_json::from_str(&json).unwrap();
    assert_eq!(loaded, set, "{json}");

    assert_eq!(
        set.verify_and_consume("zzzz9999", &otpkit::Pepper::NONE, 101),
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
            set.verify_and_consume(&typed, &otpkit::Pepper::NONE, 102),
            Ok(BackupOutcome::Valid {
                remaining: codes.len() - i - 1
            }),
            "{format:?} code {i}"
        );
        assert_eq!(
            set.verify_and_consume(code, &otpkit::Pepper::NONE, 103),
            Ok(BackupOutcome::Replayed)
        );
    }
    let saved: BackupCodeSet = serde_json::from_str(&serde_json::to_string(&set).unwrap()).unwrap();
    assert_eq!(saved.remaining(), 0);
}
