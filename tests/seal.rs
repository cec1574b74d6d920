//! Secrets sealed at rest: what a stored record holds, what opens it, what
//! does not, key rotation, and the same ciphertext opened by libsodium.
#![cfg(all(feature = "std", feature = "serde", feature = "seal"))]

use otpkit::record::EnrollmentOptions;
use otpkit::seal::{SealedSecret, SealingKey};
use otpkit::{Error, Keyring, StoredTotpRecord, TotpRecord};
use serde_json::{Value, json};

fn key(id: &str, byte: u8) -> SealingKey {
    SealingKey::new(id, [byte; 32]).unwrap()
}

fn record() -> TotpRecord {
    TotpRecord::create(
        "ACME",
        "alice",
        &EnrollmentOptions::default(),
        1_700_000_000,
    )
    .unwrap()
    .0
}

fn stored_json(record: &TotpRecord, keyring: &Keyring) -> Value {
    serde_json::to_value(record.seal(keyring).unwrap()).unwrap()
}

/// Loads stored JSON (which must load) and opens it.
fn open(json: Value, keyring: &Keyring) -> Result<TotpRecord, Error> {
    let stored: StoredTotpRecord = serde_json::from_value(json).expect("a well-formed record");
    stored.open(keyring)
}

/// Every text form the key's bytes could take.
fn encodings(bytes: &[u8]) -> Vec<String> {
    let b32 = base32_upper(bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    vec![
        b32.clone(),
        b32.to_lowercase(),
        hex.clone(),
        hex.to_uppercase(),
        base64(
            bytes,
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        ),
        base64(
            bytes,
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
        ),
        format!("{bytes:?}").replace(' ', ""),
        String::from_utf8_lossy(bytes).into_owned(),
    ]
}

fn base32_upper(bytes: &[u8]) -> String {
    let secret = otpkit::Secret::from_bytes(bytes).unwrap();
    secret.to_base32().to_string()
}

fn base64(bytes: &[u8], alphabet: &[u8; 64]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |n, &b| n << 8 | u32::from(b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(char::from(alphabet[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

#[test]
fn a_sealed_record_holds_the_secret_in_no_encoding() {
    let record = record();
    let text = serde_json::to_string(&record.seal(&Keyring::new(key("k1", 1))).unwrap()).unwrap();
    let secret = record.totp().secret().expose_secret();
    for form in encodings(secret) {
        // Windows of 12 characters: no part of any form is there either.
        let chars: Vec<char> = form.chars().collect();
        for window in chars.windows(12) {
            let piece: String = window.iter().collect();
            assert!(!text.contains(&piece), "{piece:?} of {form:?} is in {text}");
        }
    }
    assert!(
        text.contains("\"secret\":\"$otpkit-xchacha20poly1305$v=1,k=k1$"),
        "{text}"
    );
}

#[test]
fn round_trip() {
    let keyring = Keyring::new(key("k1", 1));
    let record = record();
    let code = record
        .totp()
        .generate_at(1_700_000_000)
        .unwrap()
        .to_string();
    let (record, _) = record
        .verify(&code, &otpkit::Pepper::NONE, 1_700_000_000)
        .unwrap();
    assert_eq!(
        open(stored_json(&record, &keyring), &keyring).unwrap(),
        record
    );
}

#[test]
fn each_way_of_not_opening_has_its_error() {
    let keyring = Keyring::new(key("k1", 1));
    let json = stored_json(&record(), &keyring);

    // A different key under the same id.
    assert_eq!(
        open(json.clone(), &Keyring::new(key("k1", 2))),
        Err(Error::SealedSecretBroken)
    );
    // A key id the keyring does not hold.
    assert_eq!(
        open(json.clone(), &Keyring::new(key("k2", 1))),
        Err(Error::KeyNotInKeyring {
            key_id: "k1".into()
        })
    );
    // A tampered ciphertext: one hex digit changed.
    let mut tampered = json.clone();
    let secret = tampered["secret"].as_str().unwrap().to_owned();
    let last = secret.chars().last().unwrap();
    let flipped = if last == '0' { '1' } else { '0' };
    tampered["secret"] = json!(format!("{}{flipped}", &secret[..secret.len() - 1]));
    assert_eq!(open(tampered, &keyring), Err(Error::SealedSecretBroken));
    // A truncated ciphertext: refused on load, as malformed.
    let mut truncated = json.clone();
    truncated["secret"] = json!(&secret[..secret.len() - 40]);
    let err = serde_json::from_value::<StoredTotpRecord>(truncated).unwrap_err();
    assert!(
        err.to_string()
            .contains("invalid sealed secret: ciphertext"),
        "{err}"
    );
    let mut odd = json.clone();
    odd["secret"] = json!(&secret[..secret.len() - 1]);
    assert!(serde_json::from_value::<StoredTotpRecord>(odd).is_err());
    // The record's id swapped: the secret is bound to the old one.
    let mut moved = json.clone();
    moved["id"] = json!("totp_someoneelse");
    assert_eq!(open(moved, &keyring), Err(Error::SealedSecretBroken));
    // Another record's sealed secret pasted in.
    let mut swapped = json.clone();
    swapped["secret"] = stored_json(&record(), &keyring)["secret"].clone();
    assert_eq!(open(swapped, &keyring), Err(Error::SealedSecretBroken));
    // Nothing falls back to plaintext, either way.
    let stored: StoredTotpRecord = serde_json::from_value(json).unwrap();
    assert_eq!(
        stored.open_unsealed(),
        Err(Error::SealedRecord {
            key_id: "k1".into()
        })
    );
    assert_eq!(
        record().unsealed_for_storage().open(&keyring),
        Err(Error::PlaintextRecord)
    );
    // Malformed stored forms never panic.
    for bad in [
        "$otpkit-xchacha20poly1305$v=2,k=k1$00$00",
        "$x$v=1,k=k1$00$00",
        "$$$$",
        "$",
    ] {
        assert!(bad.parse::<SealedSecret>().is_err(), "{bad}");
    }
}

#[test]
fn rotation_a_then_b_a_then_rekey_then_b_alone() {
    let (a, b) = (key("a", 0xa), key("b", 0xb));
    let record = record();
    let sealed_a = record.seal(&Keyring::new(a.clone())).unwrap();
    let rotating: Keyring = format!("{},{}", *b.to_text(), *a.to_text())
        .parse()
        .unwrap();
    // During the rotation old records open, and new seals use b.
    assert_eq!(sealed_a.open(&rotating).unwrap(), record);
    assert_eq!(record.seal(&rotating).unwrap().key_id(), Some("b"));
    let rekeyed = sealed_a.rekey(&rotating).unwrap();
    assert_eq!(rekeyed.key_id(), Some("b"));
    // b alone opens the re-sealed record, and no longer the old one.
    let b_alone = Keyring::new(b);
    assert_eq!(rekeyed.open(&b_alone).unwrap(), record);
    assert_eq!(
        sealed_a.open(&b_alone),
        Err(Error::KeyNotInKeyring { key_id: "a".into() })
    );
    // Keyrings refuse two keys of one id and an empty list.
    assert!(
        format!("{},{}", *a.to_text(), *a.to_text())
            .parse::<Keyring>()
            .is_err()
    );
    assert!(" , ".parse::<Keyring>().is_err());
}

/// The sealed secret binds every other field: a writer without the keys
/// who weakens the lockout, resets the counts, renames the account or
/// marks a backup code unused gets a record that no longer opens.
#[test]
fn every_field_of_a_sealed_record_is_bound() {
    let keyring = Keyring::new(key("k1", 1));
    let now = 1_700_000_000;
    let (record, _) =
        TotpRecord::create("ACME", "alice", &EnrollmentOptions::default(), now).unwrap();
    let code = record.totp().generate_at(now).unwrap().to_string();
    let (record, _) = record.verify(&code, &otpkit::Pepper::NONE, now).unwrap();
    let (record, _) = record
        .verify("000000", &otpkit::Pepper::NONE, now + 1)
        .unwrap();
    let json = stored_json(&record, &keyring);
    assert_eq!(open(json.clone(), &keyring).unwrap(), record);
    let mut changes: Vec<(&str, Value)> = vec![
        ("account", json!("mallory")),
        ("issuer", json!("Evil")),
        (
            "lockout",
            json!({"free_failures": 20, "cooldown": 1, "max_lock": 1, "quiet_period": 2}),
        ),
        (
            "backup_lockout",
            json!({"free_failures": 20, "cooldown": 1, "max_lock": 1, "quiet_period": 2}),
        ),
        ("failures", json!(0)),
        ("last_used_step", Value::Null),
        ("updated_at", json!(now + 5)),
        ("drift", json!(3)),
        ("window", json!(2)),
    ];
    let mut unused = json["backup_codes"].clone();
    unused["codes"][0]["used"] = json!(!unused["codes"][0]["used"].as_bool().unwrap());
    changes.push(("backup_codes", unused));
    for (field, value) in changes {
        let mut changed = json.clone();
        changed[field] = value;
        assert_eq!(
            open(changed, &keyring),
            Err(Error::SealedSecretBroken),
            "{field}"
        );
    }
}

/// otpkit 0.1 bound a sealed secret to the record's id only: such a record
/// is refused by `open` (its other fields are not authenticated), opened by
/// `open_legacy` for migration, and `rekey` stores it bound.
#[test]
fn records_sealed_by_0_1_are_migrated_not_served() {
    let keyring = Keyring::new(key("k1", 1));
    let record = record();
    let mut json = stored_json(&record, &keyring);
    // The 0.1 form: version 1, the secret bound to `totp-record:<id>`.
    let id = json["id"].as_str().unwrap().to_owned();
    let sealed = keyring
        .seal(
            record.totp().secret(),
            format!("totp-record:{id}").as_bytes(),
        )
        .unwrap();
    json["version"] = json!(1);
    json["secret"] = json!(sealed.to_string());
    json.as_object_mut().unwrap().remove("backup_lockout"); // not in 0.1

    let stored: StoredTotpRecord = serde_json::from_value(json).unwrap();
    assert_eq!(stored.open(&keyring), Err(Error::LegacyRecord));
    assert_eq!(stored.open_legacy(&keyring).unwrap(), record);
    assert!(stored.needs_rekey(&keyring));
    let migrated = stored.rekey(&keyring).unwrap();
    assert!(!migrated.needs_rekey(&keyring));
    assert_eq!(
        serde_json::to_value(&migrated).unwrap()["version"],
        json!(2)
    );
    assert_eq!(migrated.open(&keyring).unwrap(), record);
}
