//! The front door: an enrollment's names are refused at creation unless
//! they make a URI the parser reads back, and a stored row's damage is a
//! typed error naming the field.
#![cfg(all(feature = "std", feature = "serde", feature = "seal", feature = "qr"))]

use otpkit::record::EnrollmentOptions;
use otpkit::seal::SealingKey;
use otpkit::{Error, Keyring, OtpAuthUri, Pepper, StoredTotpRecord, TotpOutcome, TotpRecord};
use proptest::prelude::*;
use serde_json::{Value, json};

const NOW: u64 = 1_700_000_000;

fn create(issuer: &str, account: &str) -> Result<TotpRecord, Error> {
    TotpRecord::create(issuer, account, &EnrollmentOptions::default(), NOW).map(|(r, _)| r)
}

fn refused(issuer: &str, account: &str) -> (&'static str, &'static str) {
    match create(issuer, account) {
        Err(Error::InvalidLabel { field, reason }) => (field, reason),
        other => panic!("{issuer:?} / {account:?} was not refused: {other:?}"),
    }
}

#[test]
fn names_no_app_can_show_are_refused_at_creation_and_import() {
    assert_eq!(refused("", "bob"), ("issuer", "is empty"));
    assert_eq!(refused("  ", "bob"), ("issuer", "is empty"));
    assert_eq!(refused("ACME", ""), ("account", "is empty"));
    assert_eq!(
        refused("ACME:EU", "bob"),
        ("issuer", "contains ':', the label's separator")
    );
    assert_eq!(
        refused("ACME", " bob"),
        ("account", "starts with a space, which parsers drop")
    );
    assert_eq!(
        refused("ACME\n", "bob"),
        ("issuer", "contains a control character")
    );
    assert_eq!(
        refused("ACME", "bob\u{7}"),
        ("account", "contains a control character")
    );
    for posing in [
        "bob\u{202E}moc.evil",
        "b\u{200B}ob",
        "bob\u{2028}",
        "\u{FEFF}bob",
    ] {
        assert_eq!(
            refused("ACME", posing).1,
            "contains an invisible format or separator character (bidi, zero-width)",
            "{posing:?}"
        );
    }
    assert_eq!(refused("AC\u{2066}ME", "bob").0, "issuer");
    assert_eq!(
        refused(&"a".repeat(101), "bob"),
        ("issuer", "is longer than 100 bytes")
    );
    assert_eq!(
        refused("ACME", &"é".repeat(128)),
        ("account", "is longer than 254 bytes")
    );
    // At the bounds, with every byte percent-encoded, the QR code still fits.
    let (_, enrollment) = TotpRecord::create(
        &"ü".repeat(50),
        &"ü".repeat(127),
        &EnrollmentOptions::default().algorithm(otpkit::Algorithm::Sha512),
        NOW,
    )
    .unwrap();
    assert!(enrollment.qr().width() > 0);
    // Import refuses the same names, with the same error.
    let import = TotpRecord::import(
        "ACME:EU",
        "bob",
        otpkit::Secret::generate(),
        &Default::default(),
        None,
        NOW,
    );
    assert!(matches!(
        import,
        Err(Error::InvalidLabel {
            field: "issuer",
            ..
        })
    ));
    // The message says what to change.
    assert_eq!(
        create("ACME", "").unwrap_err().to_string(),
        "invalid account: is empty"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever the names, creation either refuses them or makes a URI the
    /// parser reads back to the same issuer, account and secret.
    #[test]
    fn every_created_uri_parses_back(issuer in ".{0,40}", account in ".{0,60}") {
        if let Ok((record, enrollment)) =
            TotpRecord::create(&issuer, &account, &EnrollmentOptions::default(), NOW)
        {
            let parsed: OtpAuthUri = enrollment.uri().to_string().parse().unwrap();
            prop_assert_eq!(parsed.issuer(), Some(issuer.as_str()));
            prop_assert_eq!(parsed.account(), account.as_str());
            prop_assert_eq!(parsed.secret(), record.totp().secret());
        }
    }
}

/// A plaintext row as JSON, to edit as a database writer would.
fn plaintext_row() -> Value {
    let (record, _) =
        TotpRecord::create("ACME", "bob", &EnrollmentOptions::default(), NOW).unwrap();
    serde_json::from_str(&record.unsealed_for_storage().to_json()).unwrap()
}

fn load(row: &Value) -> Result<TotpRecord, Error> {
    StoredTotpRecord::from_json(&row.to_string())?.open_unsealed()
}

#[test]
fn a_damaged_row_names_its_field_and_never_its_value() {
    let damage = |field: &str, value: Value| {
        let mut row = plaintext_row();
        row[field] = value;
        load(&row).unwrap_err()
    };
    let named = |reason| Error::InvalidTotpRecord { reason };
    assert_eq!(
        damage("lockout", json!({"free_failures": "many", "cooldown": 30})),
        named("the field `lockout` is damaged")
    );
    assert_eq!(
        damage("lockout", json!("5 then 30 s")),
        named("the field `lockout` is damaged")
    );
    assert_eq!(
        damage("failures", json!(-1)),
        named("the field `failures` is damaged")
    );
    assert_eq!(
        damage("backup_codes", json!({"hashes": "JBSWY3DPEHPK3PXP"})),
        named("the field `backup_codes` is damaged")
    );
    let secret_like = damage("digits", json!("JBSWY3DPEHPK3PXP"));
    assert_eq!(secret_like, named("the field `digits` is damaged"));
    assert!(!secret_like.to_string().contains("JBSWY3DP"));

    let mut missing = plaintext_row();
    missing.as_object_mut().unwrap().remove("updated_at");
    assert_eq!(
        load(&missing).unwrap_err(),
        named("the field `updated_at` is missing")
    );
    let mut unknown = plaintext_row();
    unknown["window_override"] = json!(50);
    assert_eq!(
        load(&unknown).unwrap_err(),
        named("a field otpkit does not write")
    );
    assert_eq!(
        StoredTotpRecord::from_json("[1, 2]").unwrap_err(),
        named("not a JSON object")
    );
    assert_eq!(
        StoredTotpRecord::from_json("{\"version\":").unwrap_err(),
        named("not a JSON object")
    );
}

#[test]
fn a_plaintext_row_is_held_to_the_bounds_creation_enforces() {
    let edit = |field: &str, value: Value| {
        let mut row = plaintext_row();
        row[field] = value;
        load(&row)
    };
    // Within the bounds a plaintext row is whatever its writer made it (the
    // README says so); past them it does not load.
    assert_eq!(
        edit("window", json!(100)).unwrap().totp().window(),
        (100, 100)
    );
    assert!(matches!(
        edit("window", json!(101)),
        Err(Error::WindowTooLarge { steps: 101, .. })
    ));
    assert!(matches!(
        edit("digits", json!(11)),
        Err(Error::DigitsOutOfRange { digits: 11 })
    ));
    assert_eq!(edit("period", json!(0)).unwrap_err(), Error::ZeroPeriod);
    for lockout in [
        json!({"free_failures": 21, "cooldown": 30}),
        json!({"free_failures": 5, "cooldown": 0}),
        json!({"free_failures": 5, "cooldown": 30, "max_lock": 86_401}),
    ] {
        assert!(
            matches!(
                edit("lockout", lockout.clone()),
                Err(Error::InvalidTotpRecord {
                    reason: "the field `lockout` is damaged"
                })
            ),
            "{lockout}"
        );
    }
    assert!(matches!(
        edit("failures", json!(9)),
        Err(Error::InvalidTotpRecord { .. })
    ));
    assert!(matches!(
        edit("drift", json!(21)),
        Err(Error::InvalidTotpRecord { .. })
    ));
    // A sealed row edited the same way does not open at all.
    let keyring = Keyring::new(SealingKey::generate());
    let (record, _) =
        TotpRecord::create("ACME", "bob", &EnrollmentOptions::default(), NOW).unwrap();
    let mut sealed: Value =
        serde_json::from_str(&record.seal(&keyring).unwrap().to_json()).unwrap();
    sealed["window"] = json!(50);
    let opened = StoredTotpRecord::from_json(&sealed.to_string())
        .unwrap()
        .open(&keyring);
    assert_eq!(opened.unwrap_err(), Error::SealedSecretBroken);
}

#[test]
fn the_readme_flow_with_the_clock_and_a_named_pepper() {
    let (record, enrollment) =
        TotpRecord::create_now("ACME", "alice@example.com", &Default::default()).unwrap();
    assert_eq!(enrollment.secret(), record.totp().secret());
    let typed = record.totp().generate_now().unwrap().to_string();
    let (record, outcome) = record.verify_now(&typed, &Pepper::NONE).unwrap();
    let TotpOutcome::Valid { backup_codes, .. } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(backup_codes.len(), 10);
    assert!(!record.backup_codes().unwrap().is_peppered());
    // Codes hashed with a pepper need it: Pepper::NONE is refused, typed.
    let pepper = Pepper::new(&[7; 32]).unwrap();
    let (record, _) = TotpRecord::create_now("ACME", "bob", &Default::default()).unwrap();
    let typed = record.totp().generate_now().unwrap().to_string();
    let (record, outcome) = record.verify_now(&typed, &pepper).unwrap();
    let TotpOutcome::Valid { backup_codes, .. } = outcome else {
        panic!("{outcome:?}")
    };
    let first = backup_codes.iter().next().unwrap();
    assert_eq!(
        record.verify_now(first, &Pepper::NONE).unwrap_err(),
        Error::PepperRequired
    );
    assert!(record.verify_now(first, &pepper).unwrap().1.is_valid());
    // Later right codes issue nothing: a plain, empty value.
    let (_, later) = record.verify_now("000000", &pepper).unwrap();
    assert!(!later.is_valid());
    assert_eq!(format!("{:?}", Pepper::NONE), "Pepper::NONE");
}
