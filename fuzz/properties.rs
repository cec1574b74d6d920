//! The properties the fuzz targets check, shared with `tests/fuzz_corpus.rs`,
//! which replays the checked-in corpus through them on stable Rust in CI.
//! Each takes raw bytes and panics only when a property fails.

#![allow(dead_code)] // each fuzz target uses one of these

use otpkit::backup::{BackupHashScheme, BackupOutcome};
use otpkit::clerk::{PhoneNumber, Verification};
use otpkit::seal::SealingKey;
use otpkit::{
    BackupCodeSet, Code, Error, Keyring, OtpAuthUri, OtpChallenge, Secret, StoredTotpRecord,
    TimeStep, Totp, TotpRecord, TotpResource,
};
use serde::{Serialize, de::DeserializeOwned};

/// Base32 secrets: whatever parses re-encodes canonically and parses back to
/// the same key, and `Debug` never shows it.
pub fn secret(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(secret) = Secret::from_base32_allow_short(&text) {
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
}

/// Entered codes: parsing and verification never panic, and a code that
/// verifies is the generator's code for the matched step, after the last
/// used one. Input: 8 bytes of time, 1 flag + 8 bytes of last step, 1 byte
/// of digits, then the typed text.
pub fn code(data: &[u8]) {
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
    if let Ok(verdict) = totp.verify_at(&typed, now, last.map(TimeStep::new))
        && let Some(m) = verdict.matched()
    {
        assert_eq!(
            Code::parse(&typed, 6).expect("it verified"),
            totp.generate_step(m.step())
        );
        assert!(last.is_none_or(|l| m.step().value() > l));
    }
}

/// otpauth:// URIs: anything that parses rebuilds to a URI that parses to
/// the same fields, and rebuilding again gives the same text.
pub fn uri(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(uri) = OtpAuthUri::parse_allow_short_secret(&text) {
        let rebuilt = uri.to_string();
        let again = OtpAuthUri::parse_allow_short_secret(&rebuilt).expect("a built URI parses");
        assert_eq!(again, uri);
        assert_eq!(again.to_string(), rebuilt);
    }
}

/// Stored backup-code sets: a set that loads saves back to JSON that loads to
/// the same set; checking any input never changes the set unless it accepts,
/// and then uses up exactly one code. Input: the record, a NUL byte, the
/// entered code.
pub fn backup(data: &[u8]) {
    let mut parts = data.splitn(2, |&b| b == 0);
    let record = parts.next().unwrap_or_default();
    let code = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let Some(mut set) = round_trip::<BackupCodeSet>(record) else {
        return;
    };
    if slow(&set) {
        return;
    }
    let before = set.clone();
    match set.verify_and_consume(&code, None, 1_700_000_000) {
        Ok(BackupOutcome::Valid { remaining }) => assert_eq!(remaining + 1, before.remaining()),
        _ => assert_eq!(set, before),
    }
}

/// Records may ask for up to 10 million PBKDF2 iterations; checking those is
/// slow by design, not a bug, so the properties skip it.
fn slow(set: &BackupCodeSet) -> bool {
    matches!(set.scheme(), BackupHashScheme::Pbkdf2Sha256 { iterations } if iterations > 20_000)
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
/// a check never lowers a challenge's attempt count.
pub fn records(data: &[u8]) {
    round_trip::<TotpResource>(data);
    round_trip::<Verification>(data);
    round_trip::<PhoneNumber>(data);
    if let Some(stored) = round_trip::<StoredTotpRecord>(data)
        && let Ok(record) = stored.open_unsealed()
    {
        check_record(&record);
    }
    if let Some(challenge) = round_trip::<OtpChallenge>(data) {
        if let Ok((next, _)) = challenge.check("123456", None, 1_700_000_000) {
            assert!(next.attempts() >= challenge.attempts());
        }
        let _ = challenge.retry(None, 1_700_000_000);
    }
}

fn check_record(record: &TotpRecord) {
    if !record.backup_codes().is_some_and(slow) {
        let _ = record.verify("123456", None, 1_700_000_000);
        let _ = record.verify("k7mq-x2pf-9c", None, 1_700_000_000);
    }
}

/// The key the `sealed` corpus was sealed with: id `fuzz`, 32 bytes of 7.
pub fn fuzz_keyring() -> Keyring {
    Keyring::new(SealingKey::new("fuzz", [7; 32]).expect("a valid id"))
}

/// Sealed stored records: what loads and opens with the right key re-seals
/// to a record that opens to the same; it never opens as plaintext, nor
/// with another key (under the same id, a wrong key is refused by the AEAD;
/// under another id, for want of the key).
pub fn sealed(data: &[u8]) {
    let Some(stored) = round_trip::<StoredTotpRecord>(data) else {
        return;
    };
    let right = fuzz_keyring();
    let Ok(record) = stored.open(&right) else {
        return;
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
    check_record(&record);
}
