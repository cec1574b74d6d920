//! No freed heap block holds a copy of a secret: a test allocator scans
//! every block as it is freed for the secret's bytes and its Base32 text
//! (any 10 bytes in a row of either), across parsing, code generation and
//! verification, URIs, and the JSON of records and resources, accepted or
//! refused. It also scans for a backup code while it is checked and shown.
//!
//! This binary has one test so that no other thread allocates while the
//! scan is on.
#![cfg(all(feature = "std", feature = "serde", feature = "seal"))]
// A global allocator is an `unsafe` trait: this test file alone opts in.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use otpkit::backup::BackupCodeOptions;
use otpkit::record::EnrollmentOptions;
use otpkit::seal::SealingKey;
use otpkit::{
    BackupCodeSet, Keyring, OtpAuthUri, Secret, StoredTotpRecord, Totp, TotpOutcome, TotpRecord,
};
use zeroize::Zeroizing;

/// How many bytes in a row of a pattern count as a copy.
const WINDOW: usize = 10;

struct Scanning;

static ON: AtomicBool = AtomicBool::new(false);
static HITS: AtomicUsize = AtomicUsize::new(0);
static SCANNED: AtomicUsize = AtomicUsize::new(0);
/// Sizes of the first blocks that held a copy, to tell where they came from.
static HIT_SIZES: [AtomicUsize; 8] = [const { AtomicUsize::new(0) }; 8];
/// The patterns, stored in fixed arrays so the allocator never allocates.
static PATTERNS: Mutex<[([u8; 128], usize); 4]> = Mutex::new([([0; 128], 0); 4]);

fn holds_a_copy(block: &[u8], pattern: &[u8]) -> bool {
    pattern
        .windows(WINDOW)
        .any(|needle| block.windows(WINDOW).any(|w| w == needle))
}

unsafe impl GlobalAlloc for Scanning {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ON.load(Ordering::SeqCst) {
            // SAFETY: the block is live until handed to System below, and
            // `layout.size()` bytes of it were allocated.
            let block = unsafe { std::slice::from_raw_parts(ptr, layout.size()) };
            if let Ok(patterns) = PATTERNS.try_lock() {
                SCANNED.fetch_add(1, Ordering::SeqCst);
                for (bytes, len) in patterns.iter() {
                    if *len >= WINDOW && holds_a_copy(block, &bytes[..*len]) {
                        let n = HITS.fetch_add(1, Ordering::SeqCst);
                        if let Some(size) = HIT_SIZES.get(n) {
                            size.store(layout.size(), Ordering::SeqCst);
                        }
                    }
                }
            }
        }
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Scanning = Scanning;

fn watch(slot: usize, pattern: &[u8]) {
    assert!(!pattern.is_empty());
    let mut patterns = PATTERNS.lock().unwrap();
    patterns[slot].0[..pattern.len()].copy_from_slice(pattern);
    patterns[slot].1 = pattern.len();
}

/// `text` with every `from` replaced by `to`, built in one buffer (the
/// test's own copies must not leak either).
fn replaced(text: &str, from: &str, to: &str) -> Zeroizing<String> {
    assert!(!from.is_empty());
    let mut out = Zeroizing::new(String::with_capacity(text.len() * 2 + to.len()));
    let mut rest = text;
    while let Some(at) = rest.find(from) {
        out.push_str(&rest[..at]);
        out.push_str(to);
        rest = &rest[at + from.len()..];
    }
    out.push_str(rest);
    out
}

/// Runs `work` with the scan on and returns the blocks that held a copy.
fn scan(work: impl FnOnce()) -> (usize, usize) {
    HITS.store(0, Ordering::SeqCst);
    SCANNED.store(0, Ordering::SeqCst);
    ON.store(true, Ordering::SeqCst);
    work();
    ON.store(false, Ordering::SeqCst);
    let hits = HITS.load(Ordering::SeqCst);
    for size in HIT_SIZES.iter().take(hits) {
        eprintln!(
            "  a freed block of {} bytes held a copy",
            size.load(Ordering::SeqCst)
        );
    }
    (hits, SCANNED.load(Ordering::SeqCst))
}

#[test]
fn no_freed_block_holds_a_secret() {
    let secret = Secret::generate();
    let base32 = secret.to_base32();
    watch(0, secret.expose_secret());
    watch(1, base32.as_bytes());
    let lower = Zeroizing::new(base32.to_ascii_lowercase());
    watch(2, lower.as_bytes());

    // The control: a plain String holding the key, dropped unwiped, is seen.
    let (control, _) = scan(|| {
        let mut plain = String::new();
        plain.push_str(&base32);
        drop(plain);
    });
    assert_eq!(control, 1, "the scan sees an unwiped copy");

    let mut report = Vec::new();
    let mut run = |name: &'static str, work: &mut dyn FnMut()| {
        let (hits, scanned) = scan(work);
        report.push((name, hits, scanned));
    };

    run(
        "secret from messy base32, totp, generate, verify",
        &mut || {
            let mut spaced = Zeroizing::new(String::with_capacity(64));
            spaced.push_str(&lower[..16]);
            spaced.push_str(" - ");
            spaced.push_str(&lower[16..]);
            let parsed: Secret = spaced.parse().unwrap();
            let totp = Totp::new(parsed);
            let code = totp.generate_at(1_700_000_000).unwrap();
            assert!(
                totp.verify_at(&code.to_string(), 1_700_000_000, None)
                    .unwrap()
                    .is_valid()
            );
        },
    );
    run(
        "otpauth uri: build, text, parse (with + and %)",
        &mut || {
            let totp = Totp::new(secret.clone());
            let uri = OtpAuthUri::for_totp(&totp, "alice@example.com").with_issuer("ACME Co");
            let text = uri.to_zeroizing_string();
            let plus = replaced(&text, "%20", "+");
            let parsed: OtpAuthUri = plus.parse().unwrap();
            assert_eq!(parsed.secret(), &secret);
            let escaped = replaced(&text, "secret=", "secret=%47%45");
            let wrong_key: OtpAuthUri = escaped.parse().unwrap_or(parsed);
            assert_ne!(wrong_key.secret().len(), 0);
        },
    );

    let key = SealingKey::generate();
    let keyring = Keyring::new(key.clone());
    // A record with this very secret, through JSON both ways.
    let (record, _) = TotpRecord::create(
        "ACME",
        "alice",
        &EnrollmentOptions::default(),
        1_700_000_000,
    )
    .unwrap();
    // Built in wiped buffers only: a block freed unwiped before the scan
    // could be handed out again during it, stale bytes and all.
    let mut own = Zeroizing::new(Vec::with_capacity(8192));
    serde_json::to_writer(&mut *own, &record.unsealed_for_storage()).unwrap();
    let own = Zeroizing::new(String::from_utf8(own.to_vec()).unwrap());
    let record_json = replaced(&own, &record.totp().secret().to_base32(), &base32);
    drop(own);
    run(
        "record json: load, verify, seal, save, open, refused loads",
        &mut || {
            let stored: StoredTotpRecord = serde_json::from_str(&record_json).unwrap();
            let record = stored.open_unsealed().unwrap();
            let code = record
                .totp()
                .generate_at(1_700_000_000)
                .unwrap()
                .to_string();
            let (next, _) = record
                .verify(&code, &otpkit::Pepper::NONE, 1_700_000_000)
                .unwrap();
            let mut out = Zeroizing::new(Vec::with_capacity(8192));
            serde_json::to_writer(&mut *out, &next.seal(&keyring).unwrap()).unwrap();
            let sealed: StoredTotpRecord = serde_json::from_slice(&out).unwrap();
            assert_eq!(sealed.open(&keyring).unwrap(), next);
            out.clear();
            serde_json::to_writer(&mut *out, &next.unsealed_for_storage()).unwrap();
            for broken in ["\"version\":2", "\"digits\":6", "\"lockout\":{"] {
                let worse = match broken {
                    "\"version\":2" => "\"version\":9",
                    "\"digits\":6" => "\"digits\":4",
                    _ => "\"lockout\":{\"x\":1,",
                };
                let bad = replaced(&record_json, broken, worse);
                assert!(serde_json::from_str::<StoredTotpRecord>(&bad).is_err());
            }
        },
    );
    run(
        "record json by to_json and from_json, damaged rows named",
        &mut || {
            let record = StoredTotpRecord::from_json(&record_json)
                .unwrap()
                .open_unsealed()
                .unwrap();
            let json = Zeroizing::new(record.unsealed_for_storage().to_json());
            let back = StoredTotpRecord::from_json(&json).unwrap();
            assert_eq!(back.open_unsealed().unwrap(), record);
            for (broken, worse) in [
                ("\"digits\":6", "\"digits\":\"six\""),
                ("\"lockout\":{", "\"lockout\":{\"x\":1,"),
                ("\"updated_at\":", "\"updated\":"),
            ] {
                let bad = replaced(&record_json, broken, worse);
                assert!(matches!(
                    StoredTotpRecord::from_json(&bad),
                    Err(otpkit::Error::InvalidTotpRecord { .. })
                ));
            }
        },
    );
    run("creation response json", &mut || {
        let (_, created) =
            TotpRecord::create("ACME", "alice", &EnrollmentOptions::default(), 0).unwrap();
        let secret_text = created.secret().to_base32();
        watch(3, secret_text.as_bytes());
        let mut out = Zeroizing::new(Vec::with_capacity(8192));
        serde_json::to_writer(&mut *out, created.resource()).unwrap();
        let back: otpkit::TotpResource = serde_json::from_slice(&out).unwrap();
        assert_eq!(back.secret(), Some(created.secret()));
    });

    let key_text = key.to_text();
    let key_hex = Zeroizing::new(key_text.rsplit(':').next().unwrap().to_owned());
    watch(3, key_hex.as_bytes());
    run("sealing key: text, parse, keyring, seal, open", &mut || {
        let parsed: SealingKey = key_text.parse().unwrap();
        let mut list = Zeroizing::new(String::with_capacity(512));
        list.push_str(&SealingKey::generate().to_text());
        list.push(',');
        list.push_str(&parsed.to_text());
        let ring: Keyring = list.parse().unwrap();
        let sealed = keyring.seal(&secret, b"ctx").unwrap();
        assert_eq!(ring.open(&sealed, b"ctx").unwrap(), secret);
        assert!(format!("{parsed:?}").contains(parsed.id()));
    });

    let (codes, set) =
        BackupCodeSet::generate(&BackupCodeOptions::default(), &otpkit::Pepper::NONE, 0).unwrap();
    let code = Zeroizing::new(codes.iter().next().unwrap().to_owned());
    watch(3, code.as_bytes());
    run("backup code: verify and consume", &mut || {
        let mut set = set.clone();
        let upper = Zeroizing::new(code.to_uppercase());
        assert!(matches!(
            set.verify_and_consume(&upper, &otpkit::Pepper::NONE, 1)
                .unwrap(),
            otpkit::backup::BackupOutcome::Valid { .. }
        ));
    });
    run("backup codes in a resource", &mut || {
        let (record, _) =
            TotpRecord::create("ACME", "bob", &EnrollmentOptions::default(), 0).unwrap();
        let first = record.totp().generate_at(0).unwrap().to_string();
        let (record, outcome) = record.verify(&first, &otpkit::Pepper::NONE, 0).unwrap();
        let TotpOutcome::Valid {
            backup_codes: codes,
            ..
        } = outcome
        else {
            panic!()
        };
        let resource = record.resource().with_backup_codes(codes);
        let mut out = Zeroizing::new(Vec::with_capacity(8192));
        serde_json::to_writer(&mut *out, &resource).unwrap();
    });

    let phone_json = Zeroizing::new(format!(
        r#"{{"object":"phone_number","phone_number":"+15550100","reserved":false,"verification":null,"linked_to":[],"backup_codes":["{}"],"created_at":1,"updated_at":2}}"#,
        &*code
    ));
    run(
        "clerk phone number's backup codes: parse, write, drop",
        &mut || {
            let phone: otpkit::clerk::PhoneNumber = serde_json::from_str(&phone_json).unwrap();
            let mut out = Zeroizing::new(Vec::with_capacity(8192));
            serde_json::to_writer(&mut *out, &phone).unwrap();
            let copy = phone.clone();
            assert_eq!(copy, phone);
        },
    );

    for (name, hits, scanned) in &report {
        eprintln!("{name}: {scanned} freed blocks scanned, {hits} held a copy");
    }
    assert!(
        report.iter().all(|(_, _, scanned)| *scanned > 0),
        "the scan ran"
    );
    let leaks: Vec<_> = report.iter().filter(|(_, hits, _)| *hits > 0).collect();
    assert!(leaks.is_empty(), "freed blocks held a secret: {leaks:?}");
}
