//! Backup-code sets: generating ten codes, and checking a wrong code
//! against a full set, for each scheme.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use otpkit::backup::{BackupCodeOptions, BackupHashScheme};
use otpkit::{BackupCodeSet, Pepper};

fn backup(c: &mut Criterion) {
    let pepper = Pepper::new(&[7; 32]).unwrap();
    for (name, scheme, pepper) in [
        (
            "hmac-sha256+pepper",
            BackupHashScheme::HmacSha256,
            Some(&pepper),
        ),
        ("hmac-sha256", BackupHashScheme::HmacSha256, None),
        ("pbkdf2-sha256 100000", BackupHashScheme::PBKDF2, None),
    ] {
        let mut group = c.benchmark_group(format!("backup/{name}"));
        if name.starts_with("pbkdf2") {
            group.sample_size(10);
        }
        let options = BackupCodeOptions::default().scheme(scheme);
        group.bench_function("generate 10", |b| {
            b.iter(|| BackupCodeSet::generate(black_box(&options), pepper, 0).unwrap())
        });
        let (_, mut set) = BackupCodeSet::generate(&options, pepper, 0).unwrap();
        group.bench_function("verify wrong code", |b| {
            b.iter(|| {
                set.verify_and_consume(black_box("2345-6789-ab"), pepper, 0)
                    .unwrap()
            })
        });
        group.finish();
    }
}

criterion_group!(benches, backup);
criterion_main!(benches);
