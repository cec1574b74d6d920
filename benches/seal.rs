//! Sealing at rest: what sealing and opening a stored record cost, beside
//! what the request they serve costs anyway (a TOTP verify, and the JSON of
//! an unsealed record).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use otpkit::record::EnrollmentOptions;
use otpkit::seal::SealingKey;
use otpkit::{Keyring, StoredTotpRecord, TotpRecord};

fn seal(c: &mut Criterion) {
    let keyring = Keyring::new(SealingKey::generate());
    let (record, _) = TotpRecord::create(
        "ACME",
        "alice",
        &EnrollmentOptions::default(),
        1_700_000_000,
    )
    .unwrap();
    let secret = record.totp().secret().clone();
    let sealed = keyring.seal(&secret, b"totp-record:id").unwrap();
    let sealed_json = serde_json::to_vec(&record.seal(&keyring).unwrap()).unwrap();
    let plain_json = serde_json::to_vec(&record.unsealed_for_storage()).unwrap();
    let code = record
        .totp()
        .generate_at(1_700_000_000)
        .unwrap()
        .to_string();

    let mut group = c.benchmark_group("seal");
    group.bench_function("seal secret", |b| {
        b.iter(|| keyring.seal(black_box(&secret), b"totp-record:id").unwrap())
    });
    group.bench_function("open secret", |b| {
        b.iter(|| keyring.open(black_box(&sealed), b"totp-record:id").unwrap())
    });
    group.bench_function("record: seal + to json", |b| {
        b.iter(|| serde_json::to_vec(&black_box(&record).seal(&keyring).unwrap()).unwrap())
    });
    group.bench_function("record: from json + open", |b| {
        b.iter(|| {
            let stored: StoredTotpRecord = serde_json::from_slice(black_box(&sealed_json)).unwrap();
            stored.open(&keyring).unwrap()
        })
    });
    group.bench_function("record unsealed: from json + open", |b| {
        b.iter(|| {
            let stored: StoredTotpRecord = serde_json::from_slice(black_box(&plain_json)).unwrap();
            stored.open_unsealed().unwrap()
        })
    });
    group.bench_function("totp verify (for scale)", |b| {
        b.iter(|| {
            record
                .totp()
                .verify_at(black_box(&code), 1_700_000_000, None)
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, seal);
criterion_main!(benches);
