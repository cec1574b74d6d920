//! Stored backup-code sets: deserializing any bytes never panics; a set
//! that loads saves back to JSON that loads to the same set; checking any
//! input never changes the set unless it accepts, and then uses up exactly
//! one code. Input: the record, a NUL byte, the entered code.
#![no_main]

use libfuzzer_sys::fuzz_target;
use otpkit::{BackupCodeSet, BackupHashScheme, BackupOutcome};

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(2, |&b| b == 0);
    let record = parts.next().unwrap_or_default();
    let code = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let Ok(mut set) = serde_json::from_slice::<BackupCodeSet>(record) else {
        return;
    };
    let saved = serde_json::to_string(&set).expect("a loaded set serializes");
    let reloaded: BackupCodeSet = serde_json::from_str(&saved).expect("a saved set loads");
    assert_eq!(reloaded, set);
    // Records may ask for up to 10 million PBKDF2 iterations; checking those
    // is slow by design, not a bug, so the fuzzer skips it.
    if matches!(set.scheme(), BackupHashScheme::Pbkdf2Sha256 { iterations } if iterations > 20_000) {
        return;
    }
    let before = set.clone();
    match set.verify_and_consume(&code, None, 1_700_000_000) {
        Ok(BackupOutcome::Accepted { remaining }) => assert_eq!(remaining + 1, before.remaining()),
        _ => assert_eq!(set, before),
    }
});
