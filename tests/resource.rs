//! The TOTP resource and record: Clerk's wire shape, what never leaks, and
//! the whole enrollment journey.
#![cfg(all(feature = "std", feature = "serde"))]

use otpkit::backup::BackupCodeOptions;
use otpkit::record::{CodeType, Enrollment, EnrollmentOptions, Lockout};
use otpkit::{Error, StoredTotpRecord, TotpOutcome, TotpRecord, TotpResource};
use serde_json::{Value, json};

const T: u64 = 1_700_000_000;

/// The JSON's skeleton: keys and value kinds, not values.
fn shape(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), shape(v))).collect())
        }
        Value::Array(items) => Value::Array(items.first().map(shape).into_iter().collect()),
        Value::String(_) => json!("string"),
        Value::Number(_) => json!("number"),
        Value::Bool(_) => json!("bool"),
        Value::Null => json!("null"),
    }
}

fn golden(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/clerk/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn enroll() -> (TotpRecord, Enrollment) {
    TotpRecord::create(
        "ACME Co",
        "alice@example.com",
        &EnrollmentOptions::default(),
        T,
    )
    .unwrap()
}

/// The response to an accepted code: the record's view, with the backup
/// codes the outcome issued (if any).
fn accept(record: &TotpRecord, outcome: TotpOutcome) -> (TotpResource, CodeType) {
    match outcome {
        TotpOutcome::Valid {
            code_type,
            backup_codes,
        } => {
            let resource = record.resource();
            let resource = resource.with_backup_codes(backup_codes);
            (resource, code_type)
        }
        other => panic!("expected acceptance, got {other:?}"),
    }
}

#[test]
fn json_matches_the_documented_shape_key_for_key() {
    let (record, created) = enroll();
    let created_json = serde_json::to_value(created.resource()).unwrap();
    assert_eq!(shape(&created_json), shape(&golden("totp-created")));
    assert_eq!(created_json["created_at"], json!(T * 1000));

    let code = record.totp().generate_at(T + 20).unwrap().to_string();
    let (record, outcome) = record.verify(&code, &otpkit::Pepper::NONE, T + 20).unwrap();
    let (verified, _) = accept(&record, outcome);
    let verified_json = serde_json::to_value(&verified).unwrap();
    assert_eq!(
        shape(&verified_json),
        shape(&golden("totp-verified-with-backup-codes"))
    );
    assert_eq!(verified_json["backup_codes"].as_array().unwrap().len(), 10);

    let read = serde_json::to_value(record.resource()).unwrap();
    assert_eq!(shape(&read), shape(&golden("totp-read")));
    assert_eq!(read["updated_at"], json!((T + 20) * 1000));

    // Each round-trips.
    for value in [created_json, verified_json, read] {
        let parsed: TotpResource = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(serde_json::to_value(&parsed).unwrap(), value);
    }
}

#[test]
fn resource_json_is_checked() {
    let (_, created) = enroll();
    let good = serde_json::to_value(created.resource()).unwrap();
    for (field, value, message) in [
        (
            "object",
            json!("phone_number"),
            "unknown variant `phone_number`",
        ),
        (
            "secret",
            json!("not base32!"),
            "secret: invalid base32 character",
        ),
        (
            "uri",
            json!("https://example.com"),
            "uri: invalid otpauth uri: bad scheme",
        ),
        (
            "secret",
            json!("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
            "secret and uri carry different keys",
        ),
        ("verified", json!("yes"), "invalid type"),
    ] {
        let mut bad = good.clone();
        bad[field] = value;
        let err = serde_json::from_value::<TotpResource>(bad)
            .unwrap_err()
            .to_string();
        assert!(err.contains(message), "{field}: {err}");
    }
}

#[test]
fn the_secret_never_leaks_after_creation() {
    let (record, created) = enroll();
    let secret = created.secret().to_base32().to_string();
    let uri = created.uri().to_string();
    let code = record.totp().generate_at(T).unwrap().to_string();
    let (record, outcome) = record.verify(&code, &otpkit::Pepper::NONE, T).unwrap();
    let (verified, _) = accept(&record, outcome);
    let codes = verified
        .backup_codes()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    let texts = [
        serde_json::to_string(&record.resource()).unwrap(),
        serde_json::to_string(&verified)
            .unwrap()
            .replace(&codes.join("\",\""), ""),
        format!("{record:?}"),
        format!("{created:?}"),
        format!("{:?}", created.resource()),
        format!("{verified:?}"),
        format!(
            "{:?}",
            record.verify("12a456", &otpkit::Pepper::NONE, T).unwrap().1
        ),
        format!(
            "{:?}",
            record.verify("000", &otpkit::Pepper::NONE, T).unwrap().1
        ),
    ];
    for text in texts {
        assert!(!text.contains(&secret) && !text.contains(&uri), "{text}");
        for code in &codes {
            assert!(!text.contains(code.as_str()), "{text}");
        }
    }
}

#[test]
fn a_wrong_first_code_leaves_the_record_unverified() {
    let (record, _) = enroll();
    let right = record.totp().generate_at(T).unwrap().to_string();
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let (record, outcome) = record.verify(wrong, &otpkit::Pepper::NONE, T).unwrap();
    assert_eq!(
        outcome,
        TotpOutcome::Invalid {
            code_type: CodeType::Totp,
            failures: 1,
            locked_until: None
        }
    );
    assert!(!record.is_verified() && record.backup_codes().is_none());
    // Backup codes are not accepted before enrollment is verified.
    assert!(matches!(
        record
            .verify("k7mq-x2pf-9c", &otpkit::Pepper::NONE, T)
            .unwrap()
            .1,
        TotpOutcome::Malformed(_)
    ));
}

#[test]
fn lockout_backs_off_exponentially_and_resets() {
    let options = EnrollmentOptions::default().lockout(Lockout::new(2, 10).unwrap());
    let (mut record, _) = TotpRecord::create("ACME", "bob", &options, T).unwrap();
    let right = record.totp().generate_at(T + 500).unwrap().to_string();
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let mut now = T;
    let mut locks = Vec::new();
    for _ in 0..5 {
        let (next, outcome) = record.verify(wrong, &otpkit::Pepper::NONE, now).unwrap();
        let TotpOutcome::Invalid { locked_until, .. } = outcome else {
            panic!("{outcome:?}")
        };
        locks.push(locked_until.map(|until| until - now));
        // While locked, even the right code is not checked.
        if let Some(until) = locked_until {
            assert_eq!(
                next.verify(&right, &otpkit::Pepper::NONE, until - 1)
                    .unwrap()
                    .1,
                TotpOutcome::Locked {
                    code_type: CodeType::Totp,
                    until
                }
            );
            now = until;
        }
        record = next;
    }
    assert_eq!(locks, [None, None, Some(10), Some(20), Some(40)]);
    let code = record.totp().generate_at(now).unwrap().to_string();
    let (record, outcome) = record.verify(&code, &otpkit::Pepper::NONE, now).unwrap();
    accept(&record, outcome);
    assert_eq!((record.failures(), record.locked_until()), (0, None));
}

#[test]
fn records_round_trip_and_reject_corruption() {
    let (record, _) = enroll();
    let code = record.totp().generate_at(T).unwrap().to_string();
    let (record, _) = record.verify(&code, &otpkit::Pepper::NONE, T).unwrap();
    let json = serde_json::to_value(record.unsealed_for_storage()).unwrap();
    let loaded: StoredTotpRecord = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(loaded.open_unsealed().unwrap(), record);
    for (field, value, message) in [
        ("version", json!(9), "unsupported record version"),
        ("secret", json!("SHORT"), "secret too short"),
        ("digits", json!(4), "digits out of range"),
        ("period", json!(0), "period must be at least 1 second"),
        ("algorithm", json!("MD5"), "unknown algorithm"),
        ("updated_at", json!(0), "updated_at is before created_at"),
        (
            "verified",
            json!(false),
            "an unverified record has a used step or backup codes",
        ),
    ] {
        let mut bad = json.clone();
        bad[field] = value;
        let err = serde_json::from_value::<StoredTotpRecord>(bad)
            .unwrap_err()
            .to_string();
        assert!(err.contains(message), "{field}: {err}");
    }
}

#[test]
fn regenerate_and_disable() {
    let (record, _) = enroll();
    let code = record.totp().generate_at(T).unwrap().to_string();
    let (record, outcome) = record.verify(&code, &otpkit::Pepper::NONE, T).unwrap();
    let old = accept(&record, outcome)
        .0
        .backup_codes()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    let (record, fresh) = record
        .regenerate_backup_codes(
            &BackupCodeOptions::default().count(5),
            &otpkit::Pepper::NONE,
            T + 1,
        )
        .unwrap();
    assert_eq!(fresh.len(), 5);
    let (record, outcome) = record
        .verify(&old[0], &otpkit::Pepper::NONE, T + 2)
        .unwrap();
    assert!(
        matches!(outcome, TotpOutcome::Invalid { .. }),
        "old codes no longer work"
    );
    let new = fresh.iter().next().unwrap().to_owned();
    let (record, outcome) = record.verify(&new, &otpkit::Pepper::NONE, T + 3).unwrap();
    assert_eq!(accept(&record, outcome).1, CodeType::BackupCode);
    let deleted = serde_json::to_value(record.disable()).unwrap();
    assert_eq!(
        shape(&deleted),
        json!({"object": "string", "id": "string", "deleted": "bool"})
    );
    assert_eq!(deleted["deleted"], json!(true));
}

#[test]
fn pepper_is_needed_for_peppered_backup_codes() {
    let pepper = otpkit::Pepper::new(&[3; 32]).unwrap();
    let (record, _) = enroll();
    let code = record.totp().generate_at(T).unwrap().to_string();
    let (record, outcome) = record.verify(&code, &pepper, T).unwrap();
    let backup = accept(&record, outcome)
        .0
        .backup_codes()
        .unwrap()
        .iter()
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(
        record
            .verify(&backup, &otpkit::Pepper::NONE, T + 1)
            .unwrap_err(),
        Error::PepperRequired
    );
    assert_eq!(
        accept(&record, record.verify(&backup, &pepper, T + 1).unwrap().1).1,
        CodeType::BackupCode
    );
}

/// The whole journey: create → scan the QR code → type a code from the
/// scanned URI → verified, backup codes issued once → sign in with TOTP →
/// replay refused → sign in with a backup code → its reuse refused.
#[cfg(feature = "png")]
#[test]
fn full_enrollment_journey() {
    use otpkit::Qr;
    use otpkit::qr::QrStyle;

    let (record, created) = enroll();
    // The front end shows the QR code; the phone scans it.
    let png = Qr::new(&created.uri().to_string())
        .unwrap()
        .to_png(&QrStyle::default());
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    let width = info.width as usize;
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(width, info.height as usize, |x, y| {
            pixels[y * width + x]
        });
    let scanned = image.detect_grids()[0].decode().unwrap().1;
    let app = scanned
        .parse::<otpkit::OtpAuthUri>()
        .unwrap()
        .to_totp()
        .unwrap();

    // First code: verified, backup codes shown once.
    let now = T + 45;
    let (record, outcome) = record
        .verify(
            &app.generate_at(now).unwrap().to_string(),
            &otpkit::Pepper::NONE,
            now,
        )
        .unwrap();
    let (resource, code_type) = accept(&record, outcome);
    assert!(resource.verified() && code_type == CodeType::Totp);
    let backup_codes = resource
        .backup_codes()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    assert_eq!(backup_codes.len(), 10);

    // Sign in later with TOTP; the same code again is a replay.
    let later = now + 300;
    let code = app.generate_at(later).unwrap().to_string();
    let (record, outcome) = record.verify(&code, &otpkit::Pepper::NONE, later).unwrap();
    let (resource, _) = accept(&record, outcome);
    assert!(
        resource.backup_codes().is_none(),
        "backup codes are issued once"
    );
    let (record, outcome) = record
        .verify(&code, &otpkit::Pepper::NONE, later + 5)
        .unwrap();
    assert_eq!(
        outcome,
        TotpOutcome::Replayed {
            code_type: CodeType::Totp
        }
    );

    // Phone lost: a backup code, once.
    let (record, outcome) = record
        .verify(&backup_codes[3], &otpkit::Pepper::NONE, later + 60)
        .unwrap();
    assert_eq!(accept(&record, outcome).1, CodeType::BackupCode);
    let (record, outcome) = record
        .verify(&backup_codes[3], &otpkit::Pepper::NONE, later + 61)
        .unwrap();
    assert_eq!(
        outcome,
        TotpOutcome::Replayed {
            code_type: CodeType::BackupCode
        }
    );
    assert_eq!(record.backup_codes().unwrap().remaining(), 9);
}
