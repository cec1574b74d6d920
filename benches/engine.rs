//! The engine against totp-rs, side by side in one run.
//!
//! `cargo bench --bench engine` prints each pair.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use otpkit::{Algorithm, Secret, Totp};

const NOW: u64 = 1_700_000_000;

fn key(algorithm: Algorithm) -> Vec<u8> {
    (0..algorithm.key_len()).map(|i| i as u8 ^ 0x5a).collect()
}

fn ours(algorithm: Algorithm) -> Totp {
    Totp::builder(Secret::from_bytes(&key(algorithm)).unwrap())
        .algorithm(algorithm)
        .window(1)
        .build()
        .unwrap()
}

fn theirs_algorithm(algorithm: Algorithm) -> totp_rs::Algorithm {
    match algorithm {
        Algorithm::Sha256 => totp_rs::Algorithm::SHA256,
        Algorithm::Sha512 => totp_rs::Algorithm::SHA512,
        _ => totp_rs::Algorithm::SHA1,
    }
}

fn theirs(algorithm: Algorithm) -> totp_rs::Totp {
    totp_rs::Builder::new()
        .with_algorithm(theirs_algorithm(algorithm))
        .with_skew(1)
        .with_secret(key(algorithm))
        .build()
        .unwrap()
}

/// A well-formed code that matches no step of the window.
fn wrong_code(totp: &Totp) -> String {
    (0..1_000_000u32)
        .map(|n| format!("{n:06}"))
        .find(|c| !totp.verify_at(c, NOW, None).unwrap().is_valid())
        .unwrap()
}

fn generate(c: &mut Criterion) {
    let mut group = c.benchmark_group("generate/SHA1");
    let (ours, theirs) = (ours(Algorithm::Sha1), theirs(Algorithm::Sha1));
    assert_eq!(
        ours.generate_at(NOW).unwrap().to_string(),
        theirs.generate(NOW).to_string()
    );
    group.bench_function("otpkit", |b| b.iter(|| ours.generate_at(black_box(NOW))));
    group.bench_function("totp-rs", |b| b.iter(|| theirs.generate(black_box(NOW))));
    group.finish();
}

fn verify_wrong(c: &mut Criterion) {
    for algorithm in [Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512] {
        let mut group = c.benchmark_group(format!("verify wrong code ±1/{algorithm}"));
        let (ours, theirs) = (ours(algorithm), theirs(algorithm));
        let code = wrong_code(&ours);
        assert_eq!(theirs.check(&code, NOW), None);
        group.bench_function("otpkit", |b| {
            b.iter(|| ours.verify_at(black_box(&code), black_box(NOW), None))
        });
        group.bench_function("totp-rs", |b| {
            b.iter(|| theirs.check(black_box(&code), black_box(NOW)))
        });
        group.finish();
    }
}

/// What a web request does: load the stored key, build, verify once. With
/// the right code (current step), totp-rs stops at the first match (two of
/// three steps); otpkit always scans the whole window in constant time.
/// With a wrong code both compute all three steps.
fn construct_and_verify(c: &mut Criterion) {
    let stored = key(Algorithm::Sha1);
    let right = ours(Algorithm::Sha1).generate_at(NOW).unwrap().to_string();
    let wrong = wrong_code(&ours(Algorithm::Sha1));
    for (case, code) in [("right code", right), ("wrong code", wrong)] {
        let mut group = c.benchmark_group(format!("construct + verify {case}/SHA1"));
        group.bench_function("otpkit", |b| {
            b.iter(|| {
                let totp = Totp::new(Secret::from_bytes(black_box(&stored)).unwrap());
                totp.verify_at(black_box(&code), NOW, None).unwrap()
            })
        });
        group.bench_function("totp-rs", |b| {
            b.iter(|| {
                let totp = totp_rs::Builder::new()
                    .with_skew(1)
                    .with_secret(black_box(&stored).clone())
                    .build()
                    .unwrap();
                totp.check(black_box(&code), NOW)
            })
        });
        group.finish();
    }
}

criterion_group!(benches, generate, verify_wrong, construct_and_verify);
criterion_main!(benches);
