//! Enrollments made by other applications, brought over without a flag
//! day: their secrets (Base32, hex, raw; 80-bit legacy keys flagged), their
//! last used step (so replay protection carries over), their backup codes,
//! and the first-code fallback for apps that ignore `algorithm`.
#![cfg(all(feature = "std", feature = "serde", feature = "seal"))]

use otpkit::backup::{BackupCodeSet, CodeCase};
use otpkit::record::{CodeType, EnrollmentOptions, TotpOutcome, TotpRecord};
use otpkit::seal::SealingKey;
use otpkit::{Algorithm, Keyring, Secret, StoredTotpRecord, TimeStep, Totp};
use serde_json::Value;

const NOW: u64 = 1_700_000_000;

#[test]
fn an_80_bit_legacy_key_is_flagged_and_loads_only_with_its_flag() {
    let legacy = Secret::from_base32_allow_short("JBSWY3DPEHPK3PXP").unwrap();
    assert!(
        Secret::from_base32("JBSWY3DPEHPK3PXP").is_err(),
        "never by default"
    );
    let record = TotpRecord::import(
        "ACME",
        "bob",
        legacy,
        &EnrollmentOptions::default(),
        None,
        NOW,
    )
    .unwrap();
    assert!(record.is_legacy_secret() && record.is_verified());

    // Sealed and plaintext, it round-trips with its flag.
    let keyring = Keyring::new(SealingKey::generate());
    let sealed: StoredTotpRecord =
        serde_json::from_value(serde_json::to_value(record.seal(&keyring).unwrap()).unwrap())
            .unwrap();
    assert_eq!(sealed.open(&keyring).unwrap(), record);
    let mut plain = serde_json::to_value(record.unsealed_for_storage()).unwrap();
    assert_eq!(plain["legacy_short_secret"], Value::Bool(true));
    // Without the flag, a short key does not load: no stored value can
    // weaken a record.
    plain.as_object_mut().unwrap().remove("legacy_short_secret");
    let err = serde_json::from_value::<StoredTotpRecord>(plain)
        .unwrap_err()
        .to_string();
    assert!(err.contains("secret too short: 80 bits"), "{err}");
}

#[test]
fn the_last_used_step_carries_over_so_a_code_used_before_the_move_is_refused() {
    // Vaultwarden keeps the key in Base32 and `last_used` as a step.
    let key = Secret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap();
    let step = Totp::new(key.clone()).step_at(NOW).unwrap();
    let record = TotpRecord::import(
        "ACME",
        "carol",
        key,
        &EnrollmentOptions::default(),
        Some(step),
        NOW,
    )
    .unwrap();
    let code = record.totp().generate_step(step).to_string();
    let (record, replay) = record
        .verify(&code, &otpkit::Pepper::NONE, NOW + 5)
        .unwrap();
    assert_eq!(
        replay,
        TotpOutcome::Replayed {
            code_type: CodeType::Totp
        }
    );
    let next = record
        .totp()
        .generate_step(TimeStep::new(step.value() + 1))
        .to_string();
    assert!(
        record
            .verify(&next, &otpkit::Pepper::NONE, NOW + 30)
            .unwrap()
            .1
            .is_valid()
    );
}

#[test]
fn hex_keys_and_imported_backup_codes_work_together() {
    // django-otp: hex key; its static tokens are plaintext, hashed on import.
    let key = Secret::from_hex("3132333435363738393031323334353637383930").unwrap();
    assert!(Secret::from_hex("31323").is_err() && Secret::from_hex("zz").is_err());
    let fast = otpkit::backup::BackupHashScheme::Pbkdf2Sha256 { iterations: 1_000 };
    let tokens = BackupCodeSet::import_plain(
        &["k3mw7q2p"],
        CodeCase::Lower,
        fast,
        &otpkit::Pepper::NONE,
        0,
    )
    .unwrap();
    let record = TotpRecord::import("ACME", "dan", key, &EnrollmentOptions::default(), None, 0)
        .unwrap()
        .with_backup_codes(tokens)
        .unwrap();
    let (record, outcome) = record
        .verify("K3MW 7Q2P", &otpkit::Pepper::NONE, 10)
        .unwrap();
    assert!(matches!(
        outcome,
        TotpOutcome::Valid {
            code_type: CodeType::BackupCode,
            ..
        }
    ));
    let (_, again) = record
        .verify("k3mw7q2p", &otpkit::Pepper::NONE, 11)
        .unwrap();
    assert_eq!(
        again,
        TotpOutcome::Replayed {
            code_type: CodeType::BackupCode
        }
    );
}

/// A set of foreign hashes (Keycloak's) is brought the same way, and only
/// onto a verified record.
#[cfg(feature = "import")]
#[test]
fn foreign_hashes_need_a_verified_record() {
    use otpkit::backup::ImportFormat;
    let keycloak = BackupCodeSet::import_hashes(
        ImportFormat::Sha512,
        &["yOleJy9kYv7KmL5oE/yeR0Cb1H1vS8olIMc0hQftpqFOjkMQffEpu0CD2M3Pbubuq5mfyw0HYxR9dW2kkYZdYg=="],
        CodeCase::Upper,
        0,
    )
    .unwrap();
    let unverified = TotpRecord::create("ACME", "eve", &EnrollmentOptions::default(), 0)
        .unwrap()
        .0;
    assert!(unverified.with_backup_codes(keycloak).is_err());
}

#[test]
fn a_first_code_made_with_sha1_is_reported_only_when_asked_and_only_then() {
    for algorithm in [Algorithm::Sha256, Algorithm::Sha512] {
        let options = EnrollmentOptions::default().algorithm(algorithm);
        let (record, created) = TotpRecord::create("ACME", "frank", &options, NOW).unwrap();
        let ignoring_app = Totp::new(created.secret().clone()); // SHA-1
        let code = ignoring_app.generate_at(NOW).unwrap().to_string();
        // The right code under the configured hash needs no fallback.
        let right = record.totp().generate_at(NOW).unwrap().to_string();
        assert!(
            record
                .verify(&right, &otpkit::Pepper::NONE, NOW)
                .unwrap()
                .1
                .is_valid()
        );
        // The SHA-1 code: wrong as configured, found by the opt-in check.
        let (_, outcome) = record.verify(&code, &otpkit::Pepper::NONE, NOW).unwrap();
        assert!(!outcome.is_valid());
        let switched = record.fall_back_to_sha1(&code, NOW).unwrap().unwrap();
        assert_eq!(switched.totp().algorithm(), Algorithm::Sha1);
        let (verified, outcome) = switched.verify(&code, &otpkit::Pepper::NONE, NOW).unwrap();
        assert!(outcome.is_valid());
        // A wrong code, or a verified record, is never switched.
        let wrong = if code == "000000" { "111111" } else { "000000" };
        assert!(record.fall_back_to_sha1(wrong, NOW).unwrap().is_none());
        assert!(verified.fall_back_to_sha1(&code, NOW).unwrap().is_none());
    }
}

#[test]
fn drift_is_carried_over_learned_from_codes_and_bounded() {
    let key = Secret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap();
    let phone = Totp::new(key.clone());
    // The old application learned that this phone runs 3 steps behind.
    let record = TotpRecord::import("ACME", "gus", key, &EnrollmentOptions::default(), None, NOW)
        .unwrap()
        .with_drift(-3)
        .unwrap();
    let behind = phone.generate_at(NOW - 90).unwrap().to_string();
    let (record, outcome) = record.verify(&behind, &otpkit::Pepper::NONE, NOW).unwrap();
    assert!(
        outcome.is_valid(),
        "a window of ±1 would refuse a code 3 steps old without the drift"
    );
    assert_eq!(record.drift(), -3);
    // The phone's clock is fixed: its code is now 3 steps ahead of the
    // drifted window; one that is 2 steps behind again moves the drift.
    let current = phone.generate_at(NOW + 30).unwrap().to_string();
    let (record, outcome) = record
        .verify(&current, &otpkit::Pepper::NONE, NOW + 30)
        .unwrap();
    assert!(!outcome.is_valid());
    let late = phone.generate_at(NOW + 30 - 60).unwrap().to_string();
    let (record, outcome) = record
        .verify(&late, &otpkit::Pepper::NONE, NOW + 30)
        .unwrap();
    assert!(outcome.is_valid());
    assert_eq!(record.drift(), -2);
    // Stored, it loads; beyond the bound, it does not.
    let mut json = serde_json::to_value(record.unsealed_for_storage()).unwrap();
    assert_eq!(json["drift"], Value::from(-2));
    json["drift"] = Value::from(50);
    let err = serde_json::from_value::<StoredTotpRecord>(json)
        .unwrap_err()
        .to_string();
    assert!(err.contains("drift"), "{err}");
}
