//! Backup-code sets: stored records from earlier versions keep working, a
//! used code never works again (also across a save and load), and corrupt
//! or tampered records give clear errors — never a panic, never an
//! accepted code.
#![cfg(all(feature = "std", feature = "serde"))]

use otpkit::backup::{BackupCodeOptions, BackupHashScheme, BackupOutcome};
use otpkit::{BackupCodeSet, Error, Pepper, Typo};
use proptest::prelude::*;
use serde_json::Value;

const HMAC_FIXTURE: &str = include_str!("fixtures/backup-set-v1-hmac.json");
const PBKDF2_FIXTURE: &str = include_str!("fixtures/backup-set-v1-pbkdf2.json");
/// The codes behind the fixtures, printed when they were made; the last of
/// each was used then.
const HMAC_CODES: [&str; 4] = [
    "c3md-gh57-vu",
    "ws6d-kg7x-bf",
    "sfbp-f927-sj",
    "uhda-3e7d-2u",
];
const PBKDF2_CODES: [&str; 4] = [
    "pn7x-99jj-74",
    "wp6y-85ge-sb",
    "hjcy-j4wt-3g",
    "5g2g-8vaw-36",
];

fn pepper() -> Pepper {
    Pepper::new(b"fixture pepper: not a real secret").unwrap()
}

#[test]
fn sets_saved_by_version_1_load_and_verify() {
    for (fixture, codes, pepper, scheme) in [
        (
            HMAC_FIXTURE,
            HMAC_CODES,
            Some(pepper()),
            BackupHashScheme::HmacSha256,
        ),
        (
            PBKDF2_FIXTURE,
            PBKDF2_CODES,
            None,
            BackupHashScheme::Pbkdf2Sha256 { iterations: 1000 },
        ),
    ] {
        let mut set: BackupCodeSet = serde_json::from_str(fixture).unwrap();
        assert_eq!((set.scheme(), set.total(), set.remaining()), (scheme, 4, 3));
        assert_eq!(
            (set.created_at(), set.updated_at()),
            (1_700_000_000, 1_700_000_600)
        );
        // Saving again reproduces the file byte for byte: the format is stable.
        assert_eq!(serde_json::to_string_pretty(&set).unwrap() + "\n", fixture);
        let pepper = pepper.as_ref().unwrap_or(&otpkit::Pepper::NONE);
        assert_eq!(
            set.verify_and_consume(codes[3], pepper, 1_800_000_000),
            Ok(BackupOutcome::Replayed)
        );
        assert_eq!(
            set.verify_and_consume(
                &codes[0].to_uppercase().replace('-', " "),
                pepper,
                1_800_000_000
            ),
            Ok(BackupOutcome::Valid { remaining: 2 })
        );
        assert_eq!(set.updated_at(), 1_800_000_000);
    }
}

#[test]
fn a_used_code_stays_used_across_save_and_load() {
    let (codes, mut set) =
        BackupCodeSet::generate(&BackupCodeOptions::default(), &otpkit::Pepper::NONE, 0).unwrap();
    let code = codes.iter().nth(4).unwrap().to_owned();
    assert_eq!(
        set.verify_and_consume(&code, &otpkit::Pepper::NONE, 1),
        Ok(BackupOutcome::Valid { remaining: 9 })
    );
    let mut loaded: BackupCodeSet =
        serde_json::from_str(&serde_json::to_string(&set).unwrap()).unwrap();
    assert_eq!(loaded, set);
    assert_eq!(
        loaded.verify_and_consume(&code, &otpkit::Pepper::NONE, 2),
        Ok(BackupOutcome::Replayed)
    );
    assert_eq!(loaded.remaining(), 9);
}

#[test]
fn regenerating_replaces_every_code() {
    let (old_codes, _) =
        BackupCodeSet::generate(&BackupCodeOptions::default(), &otpkit::Pepper::NONE, 0).unwrap();
    let (_, mut new_set) =
        BackupCodeSet::generate(&BackupCodeOptions::default(), &otpkit::Pepper::NONE, 1).unwrap();
    for code in old_codes.iter() {
        assert_eq!(
            new_set.verify_and_consume(code, &otpkit::Pepper::NONE, 2),
            Ok(BackupOutcome::Invalid)
        );
    }
}

#[test]
fn tampered_hashes_never_accept() {
    let mut record: Value = serde_json::from_str(PBKDF2_FIXTURE).unwrap();
    let hash = record["codes"][0]["hash"].as_str().unwrap().to_owned();
    let flipped = if hash.starts_with('0') { "1" } else { "0" };
    record["codes"][0]["hash"] = Value::from(format!("{flipped}{}", &hash[1..]));
    let mut set: BackupCodeSet = serde_json::from_value(record.clone()).unwrap();
    assert_eq!(
        set.verify_and_consume(PBKDF2_CODES[0], &otpkit::Pepper::NONE, 0),
        Ok(BackupOutcome::Invalid)
    );
    // Marking a used slot unused only restores what the database owner could
    // always do; turning off the pepper flag makes every code wrong.
    let mut record: Value = serde_json::from_str(HMAC_FIXTURE).unwrap();
    let hasher = record["hasher"].as_str().unwrap().replace("p=1", "p=0");
    record["hasher"] = Value::from(hasher);
    let mut set: BackupCodeSet = serde_json::from_value(record).unwrap();
    for code in HMAC_CODES {
        assert_eq!(
            set.verify_and_consume(code, &otpkit::Pepper::NONE, 0),
            Ok(BackupOutcome::Invalid)
        );
    }
}

#[test]
fn corrupt_records_give_clear_errors() {
    let edits: [(&str, Value, &str); 12] = [
        ("version", Value::from(2), "unsupported record version"),
        (
            "hasher",
            Value::from("$otpkit-md5$v=1,p=0$00"),
            "unknown hasher",
        ),
        (
            "hasher",
            Value::from("otpkit-hmac-sha256"),
            "hasher is not $id$params$salt",
        ),
        (
            "hasher",
            Value::from("$otpkit-hmac-sha256$v=2,p=0$bea368cc11afa319465a5fa634ca8f8f"),
            "unsupported hasher version",
        ),
        (
            "hasher",
            Value::from("$otpkit-pbkdf2-sha256$v=1,i=1,p=0$bea368cc11afa319465a5fa634ca8f8f"),
            "pbkdf2 iterations missing or out of range",
        ),
        (
            "hasher",
            Value::from(
                "$otpkit-pbkdf2-sha256$v=1,i=4294967295,p=0$bea368cc11afa319465a5fa634ca8f8f",
            ),
            "pbkdf2 iterations missing or out of range",
        ),
        (
            "hasher",
            Value::from("$otpkit-hmac-sha256$v=1,p=0$bea3"),
            "salt is not 16 bytes of hex",
        ),
        (
            "hasher",
            Value::from("$otpkit-hmac-sha256$v=1,p=0,p=1$bea368cc11afa319465a5fa634ca8f8f"),
            "hasher parameter given twice",
        ),
        ("length", Value::from(3), "code length out of range"),
        (
            "codes",
            Value::Array(vec![]),
            "number of codes out of range",
        ),
        (
            "codes",
            serde_json::json!([{"hash": "zz", "used": false}]),
            "code hash is not 32 bytes of hex",
        ),
        (
            "updated_at",
            Value::from(5),
            "updated_at is before created_at",
        ),
    ];
    for (field, value, reason) in edits {
        let mut record: Value = serde_json::from_str(PBKDF2_FIXTURE).unwrap();
        record[field] = value;
        let err = serde_json::from_value::<BackupCodeSet>(record)
            .unwrap_err()
            .to_string();
        assert!(err.contains(reason), "{field}: {err}");
    }
    let mut record: Value = serde_json::from_str(PBKDF2_FIXTURE).unwrap();
    record.as_object_mut().unwrap().remove("codes");
    assert!(
        serde_json::from_value::<BackupCodeSet>(record)
            .unwrap_err()
            .to_string()
            .contains("codes")
    );
    assert!(serde_json::from_str::<BackupCodeSet>("{\"version\": 1,").is_err());
}

#[test]
fn malformed_input_is_an_outcome_not_a_wrong_code_nor_an_error() {
    let mut set: BackupCodeSet = serde_json::from_str(PBKDF2_FIXTURE).unwrap();
    let malformed = |e| Ok(BackupOutcome::Malformed(e));
    assert_eq!(
        set.verify_and_consume("", &otpkit::Pepper::NONE, 0),
        malformed(Typo::EmptyCode)
    );
    assert_eq!(
        set.verify_and_consume("pn7x-99jj-7", &otpkit::Pepper::NONE, 0),
        malformed(Typo::WrongBackupCodeLength {
            expected: 10,
            found: 9
        })
    );
    assert_eq!(
        set.verify_and_consume("pn7x-99jj-7O", &otpkit::Pepper::NONE, 0),
        malformed(Typo::InvalidCodeChar { position: 11 })
    );
    assert_eq!(set.remaining(), 3);
    let message = Error::WrongBackupCodeLength {
        expected: 10,
        found: 9,
    }
    .to_string();
    assert!(message.contains("letters and digits"), "{message}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_records_and_inputs_never_panic(json in any::<String>(), input in any::<String>()) {
        let _ = serde_json::from_str::<BackupCodeSet>(&json);
        let mut set: BackupCodeSet = serde_json::from_str(HMAC_FIXTURE).unwrap();
        let before = set.remaining();
        let outcome = set.verify_and_consume(&input, &pepper(), 0);
        // Random input is never one of the set's codes.
        let accepted = matches!(outcome, Ok(BackupOutcome::Valid { .. }));
        prop_assert!(!accepted);
        prop_assert_eq!(set.remaining(), before);
    }
}
