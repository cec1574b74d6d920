//! Backup-code sets from other applications: plaintext lists hashed on
//! import, and malformed imports refused with the line named, never echoed.
//! (Sets hashed by the real libraries those applications use are checked in
//! the interop package.)
#![cfg(all(feature = "std", feature = "serde", feature = "import"))]

use otpkit::BackupCodeSet;
use otpkit::Error;
use otpkit::backup::{BackupHashScheme, BackupOutcome, CodeCase, ImportFormat};

#[test]
fn plaintext_lists_are_hashed_on_import() {
    // django-otp static tokens, Vaultwarden's recovery code, Kanidm's codes.
    let codes = ["k3mw7q2p", "VW2RECOVERYCODE4567A", "abcd-efgh-1234"];
    let fast = BackupHashScheme::Pbkdf2Sha256 { iterations: 1_000 };
    let mut set =
        BackupCodeSet::import_plain(&codes, CodeCase::Lower, fast, &otpkit::Pepper::NONE, 0)
            .unwrap();
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
        set.verify_and_consume("vw2recoverycode4567a", &otpkit::Pepper::NONE, 1),
        Ok(BackupOutcome::Valid { remaining: 2 })
    );
    assert_eq!(
        set.verify_and_consume("ABCDEFGH1234", &otpkit::Pepper::NONE, 2),
        Ok(BackupOutcome::Valid { remaining: 1 })
    );
    assert_eq!(
        set.verify_and_consume("abcdefgh1234", &otpkit::Pepper::NONE, 3),
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
        &otpkit::Pepper::NONE,
        0,
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::InvalidImportedHash { position: 1, .. }),
        "{err:?}"
    );
}

/// A TOTP-shaped wrong code costs no slow hash against imported codes of
/// another length (kept from a plaintext list, or declared for hashes);
/// against codes of unknown length it may be one, and is hashed.
#[test]
fn imported_codes_of_a_known_length_cost_no_hash_for_a_totp_code() {
    use otpkit::TotpRecord;
    use otpkit::backup::BackupCodeOptions;
    use otpkit::record::{EnrollmentOptions, Verification};
    let t = 1_700_000_000;
    let fast = BackupHashScheme::Pbkdf2Sha256 { iterations: 1_000 };
    let (record, _) =
        TotpRecord::create("ACME", "carol", &EnrollmentOptions::default(), t).unwrap();
    let code = record.totp().generate_at(t).unwrap().to_string();
    let (record, _) = record.verify(&code, &otpkit::Pepper::NONE, t).unwrap();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let hashes_for = |set: BackupCodeSet| {
        let record = record
            .clone()
            .with_new_backup_codes(set, BackupCodeOptions::default(), t)
            .unwrap();
        matches!(
            record.begin_verify(wrong, t + 60).unwrap(),
            Verification::CheckBackupCode(..)
        )
    };
    // Plaintext codes of 8 characters: their length is kept.
    let eight = BackupCodeSet::import_plain(
        &["k3mw7q2p", "a9x4t6zr"],
        CodeCase::Lower,
        fast,
        &otpkit::Pepper::NONE,
        t,
    )
    .unwrap();
    assert_eq!(eight.code_length(), 8);
    assert!(
        !hashes_for(eight.clone()),
        "a 6-digit code is no 8-character code"
    );
    // Their JSON keeps it.
    let json = serde_json::to_string(&eight).unwrap();
    assert_eq!(serde_json::from_str::<BackupCodeSet>(&json).unwrap(), eight);
    // Mixed lengths: unknown, so a 6-character input may be one.
    let mixed = BackupCodeSet::import_plain(
        &["k3mw7q", "a9x4t6zr"],
        CodeCase::Lower,
        fast,
        &otpkit::Pepper::NONE,
        t,
    )
    .unwrap();
    assert_eq!(mixed.code_length(), 0);
    assert!(hashes_for(mixed));
    // Foreign hashes: unknown until declared.
    let stored = [
        "yOleJy9kYv7KmL5oE/yeR0Cb1H1vS8olIMc0hQftpqFOjkMQffEpu0CD2M3Pbubuq5mfyw0HYxR9dW2kkYZdYg==",
    ];
    let keycloak =
        BackupCodeSet::import_hashes(ImportFormat::Sha512, &stored, CodeCase::Upper, t).unwrap();
    assert!(hashes_for(keycloak.clone()));
    let declared = keycloak.with_code_length(12).unwrap();
    assert!(!hashes_for(declared.clone()));
    assert_eq!(
        BackupCodeSet::generate(&BackupCodeOptions::default(), &otpkit::Pepper::NONE, t)
            .unwrap()
            .1
            .with_code_length(12),
        Err(Error::InvalidBackupRecord {
            reason: "only an imported set takes a declared code length"
        })
    );
    let _ = declared;
}
