//! Backup-code sets: generating ten codes, and checking a wrong code
//! against a full set, for each scheme.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use otpkit::backup::{BackupCodeOptions, BackupHashScheme};
use otpkit::{BackupCodeSet, Pepper};

fn backup(c: &mut Criterion) {
    let pepper = Pepper::new(&[7; 32]).unwrap();
    // (Fast hashes without a pepper need codes of 23 symbols: the floor.)
    for (name, scheme, length, pepper) in [
        (
            "hmac-sha256+pepper",
            BackupHashScheme::HmacSha256,
            10,
            &pepper,
        ),
        (
            "hmac-sha256, 23 symbols",
            BackupHashScheme::HmacSha256,
            23,
            &Pepper::NONE,
        ),
        (
            "pbkdf2-sha256 100000",
            BackupHashScheme::PBKDF2,
            10,
            &otpkit::Pepper::NONE,
        ),
    ] {
        let mut group = c.benchmark_group(format!("backup/{name}"));
        if name.starts_with("pbkdf2") {
            group.sample_size(10);
        }
        let options = BackupCodeOptions::default().scheme(scheme).length(length);
        group.bench_function("generate 10", |b| {
            b.iter(|| BackupCodeSet::generate(black_box(&options), pepper, 0).unwrap())
        });
        let (_, mut set) = BackupCodeSet::generate(&options, pepper, 0).unwrap();
        group.bench_function("verify wrong code", |b| {
            b.iter(|| {
                set.verify_and_consume(black_box(&"23456789ab".repeat(3)[..length]), pepper, 0)
                    .unwrap()
            })
        });
        group.finish();
    }
}

criterion_group!(benches, backup);
criterion_main!(benches);
