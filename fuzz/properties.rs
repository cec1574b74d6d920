//! The properties the fuzz targets check, shared with `tests/fuzz_corpus.rs`,
//! which replays the checked-in corpus through them on stable Rust in CI.
//! Each takes raw bytes, panics only when a property fails, and says
//! whether the input reached the property's own check (parsed, opened,
//! verified) rather than stopping at the parser: the replay test counts
//! those, so a corpus whose seeds stop early is noticed.

#![allow(dead_code)] // each fuzz target uses one of these

use otpkit::backup::{BackupHashScheme, BackupOutcome, ImportFormat};
use otpkit::clerk::{PhoneNumber, Verification};
use otpkit::seal::SealingKey;
use otpkit::uri::MigrationPayload;
use otpkit::{
    BackupCodeSet, Code, Error, Keyring, OtpAuthUri, OtpChallenge, Pepper, Secret,
    StoredTotpRecord, TimeStep, Totp, TotpRecord, TotpResource,
};
use serde::{Serialize, de::DeserializeOwned};

/// Base32 secrets: whatever parses re-encodes canonically and parses back to
/// the same key, and `Debug` never shows it.
pub fn secret(data: &[u8]) -> bool {
    let text = String::from_utf8_lossy(data);
    let parsed = Secret::from_base32_allow_short(&text);
    let reached = parsed.is_ok();
    if let Ok(secret) = parsed {
        let canonical = secret.to_base32();
        assert_eq!(
            Secret::from_base32_allow_short(&canonical).as_ref(),
            Ok(&secret)
        );
        // Short keys can spell part of "Secret([REDACTED])" ("REDA" did).
        if canonical.len() >= 16 {
            assert!(!format!("{secret:?}").contains(canonical.as_str()));
        }
    }
    reached
}

/// Entered codes: parsing and verification never panic, and a code that
/// verifies is the generator's code for the matched step, after the last
/// used one. Input: 8 bytes of time, 1 flag + 8 bytes of last step, 1 byte
/// of digits, then the typed text.
pub fn code(data: &[u8]) -> bool {
    let word = |at: usize| {
        data.get(at..at + 8)
            .map_or(0, |b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
    };
    let now = word(0);
    let last = (data.get(8).copied().unwrap_or(0) & 1 == 1).then(|| word(9));
    let digits = data.get(17).copied().unwrap_or(6);
    let typed = String::from_utf8_lossy(data.get(18..).unwrap_or_default());
    if let Ok(code) = Code::parse(&typed, digits) {
        assert_eq!(code.to_string().len(), usize::from(digits));
    }
    let totp = Totp::new(Secret::from_bytes(b"12345678901234567890").expect("20 bytes"));
    let mut reached = false;
    if let Ok(verdict) = totp.verify_at(&typed, now, last.map(TimeStep::new))
        && let Some(m) = verdict.matched()
    {
        reached = true;
        assert_eq!(
            Code::parse(&typed, 6).expect("it verified"),
            totp.generate_step(m.step())
        );
        assert!(last.is_none_or(|l| m.step().value() > l));
    }
    reached
}

/// otpauth:// URIs: anything that parses rebuilds to a URI that parses to
/// the same fields, and rebuilding again gives the same text.
pub fn uri(data: &[u8]) -> bool {
    let text = String::from_utf8_lossy(data);
    let Ok(uri) = OtpAuthUri::parse_allow_short_secret(&text) else {
        return false;
    };
    let rebuilt = uri.to_string();
    let again = OtpAuthUri::parse_allow_short_secret(&rebuilt).expect("a built URI parses");
    assert_eq!(again, uri);
    assert_eq!(again.to_string(), rebuilt);
    true
}

/// Google Authenticator exports: whatever payload reads writes back (its
/// accounts are all ones the format holds) to batches that read to the
/// same accounts; the URI form never panics either.
pub fn migration(data: &[u8]) -> bool {
    let _ = MigrationPayload::parse(&String::from_utf8_lossy(data));
    let Ok(payload) = MigrationPayload::from_protobuf(data) else {
        return false;
    };
    let export = MigrationPayload::export(payload.accounts()).expect("read accounts write back");
    let read: Vec<OtpAuthUri> = export
        .iter()
        .flat_map(|uri| {
            MigrationPayload::parse(uri)
                .expect("a written export reads")
                .accounts()
                .to_vec()
        })
        .collect();
    assert_eq!(read, payload.accounts());
    true
}

/// The pepper peppered seeds were made with (32 bytes of 9).
pub fn fuzz_pepper() -> Pepper {
    Pepper::new(&[9; 32]).expect("32 bytes")
}

/// Stored backup-code sets: a set that loads saves back to JSON that loads to
/// the same set; checking any input never changes the set unless it accepts,
/// and then uses up exactly one code (a peppered set is checked with
/// [`fuzz_pepper`]). Input: the record, a NUL byte, the entered code.
/// Reached: the code was checked; `Some(true)` when it was accepted.
pub fn backup(data: &[u8]) -> Option<bool> {
    let mut parts = data.splitn(2, |&b| b == 0);
    let record = parts.next().unwrap_or_default();
    let code = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let mut set = round_trip::<BackupCodeSet>(record)?;
    if slow(&set, record) {
        return None;
    }
    let pepper = set.is_peppered().then(fuzz_pepper).unwrap_or(Pepper::NONE);
    let before = set.clone();
    match set.verify_and_consume(&code, &pepper, 1_700_000_000) {
        Ok(BackupOutcome::Valid { remaining }) => {
            assert_eq!(remaining + 1, before.remaining());
            Some(true)
        }
        _ => {
            assert_eq!(set, before);
            Some(false)
        }
    }
}

/// Whether checking a code against `set` costs more than a fuzzer should
/// wait for, judged from the hashes' real cost: ours at more than 20 000
/// PBKDF2 iterations, imported bcrypt above cost 6 or PBKDF2-SHA-512 above
/// 20 000 rounds (read from the stored hashes themselves, `json`).
fn slow(set: &BackupCodeSet, json: &[u8]) -> bool {
    let hashes = || -> Vec<String> {
        serde_json::from_slice::<serde_json::Value>(json)
            .ok()
            .and_then(|v| v["codes"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|code| code["hash"].as_str().map(str::to_owned))
            .collect()
    };
    match set.import_format() {
        None => {
            matches!(set.scheme(), BackupHashScheme::Pbkdf2Sha256 { iterations } if iterations > 20_000)
        }
        Some(ImportFormat::Sha512) => false,
        Some(ImportFormat::Bcrypt) => hashes().iter().any(|hash| {
            hash.get(4..6)
                .and_then(|cost| cost.parse::<u32>().ok())
                .is_none_or(|cost| cost > 6)
        }),
        Some(ImportFormat::Pbkdf2Sha512) => hashes().iter().any(|hash| {
            hash.split('$')
                .nth(2)
                .and_then(|rounds| rounds.parse::<u32>().ok())
                .is_none_or(|rounds| rounds > 20_000)
        }),
        Some(_) => true,
    }
}

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(
    data: &[u8],
) -> Option<T> {
    let value: T = serde_json::from_slice(data).ok()?;
    let saved = serde_json::to_string(&value).expect("a loaded value serializes");
    let again: T = serde_json::from_str(&saved).expect("a saved value loads");
    assert_eq!(again, value);
    Some(value)
}

/// The JSON records a service reads back: what loads saves to JSON that
/// loads to the same value, and a loaded record or challenge can be checked;
/// a check never lowers a challenge's attempt count. Reached: what loaded
/// and was checked — `"record"` (a record verified a code), `"challenge"`
/// (a challenge checked one), or the object that only round-tripped.
pub fn records(data: &[u8]) -> Option<&'static str> {
    let mut reached = None;
    if round_trip::<TotpResource>(data).is_some() {
        reached = Some("resource");
    }
    if round_trip::<Verification>(data).is_some() {
        reached = Some("verification");
    }
    if round_trip::<PhoneNumber>(data).is_some() {
        reached = Some("phone number");
    }
    if let Some(stored) = round_trip::<StoredTotpRecord>(data)
        && let Ok(record) = stored.open_unsealed()
        && check_record(&record)
    {
        reached = Some("record");
    }
    if let Some(challenge) = round_trip::<OtpChallenge>(data) {
        if let Ok((next, _)) = challenge.check("123456", &otpkit::Pepper::NONE, 1_700_000_000) {
            assert!(next.attempts() >= challenge.attempts());
            reached = Some("challenge");
        }
        let _ = challenge.retry(&otpkit::Pepper::NONE, 1_700_000_000);
    }
    reached
}

/// Checks a TOTP-shaped and a backup-shaped code against `record` (with
/// [`fuzz_pepper`] when its backup codes are peppered): whether it ran.
fn check_record(record: &TotpRecord) -> bool {
    let set = record.backup_codes();
    if set.is_some_and(|set| {
        set.import_format().is_some()
            || matches!(set.scheme(), BackupHashScheme::Pbkdf2Sha256 { iterations } if iterations > 20_000)
    }) {
        return false;
    }
    let pepper = set
        .is_some_and(BackupCodeSet::is_peppered)
        .then(fuzz_pepper)
        .unwrap_or(Pepper::NONE);
    let totp = record.verify("123456", &pepper, 1_700_000_000);
    let backup = record.verify("k7mq-x2pf-9c", &pepper, 1_700_000_000);
    totp.is_ok() && backup.is_ok()
}

/// The key the `sealed` corpus was sealed with: id `fuzz`, 32 bytes of 7.
pub fn fuzz_keyring() -> Keyring {
    Keyring::new(SealingKey::new("fuzz", [7; 32]).expect("a valid id"))
}

/// Sealed stored records: what loads and opens with the right key re-seals
/// to a record that opens to the same; it never opens as plaintext, nor
/// with another key (under the same id, a wrong key is refused by the AEAD;
/// under another id, for want of the key).
/// Reached: the record opened with the right key (and every check ran).
pub fn sealed(data: &[u8]) -> bool {
    let Some(stored) = round_trip::<StoredTotpRecord>(data) else {
        return false;
    };
    let right = fuzz_keyring();
    let Ok(record) = stored.open(&right) else {
        return false;
    };
    assert!(stored.is_sealed());
    assert!(matches!(
        stored.open_unsealed(),
        Err(Error::SealedRecord { .. })
    ));
    let impostor = Keyring::new(SealingKey::new("fuzz", [8; 32]).expect("a valid id"));
    assert_eq!(stored.open(&impostor), Err(Error::SealedSecretBroken));
    let resealed = record.seal(&right).expect("a record seals");
    assert_eq!(resealed.open(&right).as_ref(), Ok(&record));
    check_record(&record)
}
