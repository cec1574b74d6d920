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

/// What a web request does: load the stored key, build, verify once, for
/// each hash, with the right code (the current step) and a wrong one.
fn construct_and_verify(c: &mut Criterion) {
    for algorithm in [Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512] {
        let stored = key(algorithm);
        let build = |stored: &[u8]| {
            Totp::builder(Secret::from_bytes(stored).unwrap())
                .algorithm(algorithm)
                .build()
                .unwrap()
        };
        let right = build(&stored).generate_at(NOW).unwrap().to_string();
        let wrong = wrong_code(&build(&stored));
        for (case, code) in [("right code", right), ("wrong code", wrong)] {
            let mut group = c.benchmark_group(format!("construct + verify {case}/{algorithm}"));
            group.bench_function("otpkit", |b| {
                b.iter(|| {
                    build(black_box(&stored))
                        .verify_at(black_box(&code), NOW, None)
                        .unwrap()
                })
            });
            group.bench_function("totp-rs", |b| {
                b.iter(|| {
                    let totp = totp_rs::Builder::new()
                        .with_algorithm(theirs_algorithm(algorithm))
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
}

/// Building a `Totp` (keying the HMAC) against its floor: the two
/// compression-function calls that hash the key's inner and outer pads.
fn construct(c: &mut Criterion) {
    for algorithm in [Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512] {
        let stored = key(algorithm);
        let mut group = c.benchmark_group(format!("construct/{algorithm}"));
        group.bench_function("otpkit", |b| {
            b.iter(|| {
                Totp::builder(Secret::from_bytes(black_box(&stored)).unwrap())
                    .algorithm(algorithm)
                    .build()
                    .unwrap()
            })
        });
        group.bench_function("two compressions", |b| {
            b.iter(|| match algorithm {
                Algorithm::Sha512 => {
                    let mut state = [0u64; 8];
                    let block = [black_box(0x36u8); 128];
                    sha2::block_api::compress512(&mut state, core::slice::from_ref(&block));
                    sha2::block_api::compress512(&mut state, core::slice::from_ref(&block));
                    state[0]
                }
                Algorithm::Sha256 => {
                    let mut state = [0u32; 8];
                    let block = [black_box(0x36u8); 64];
                    sha2::block_api::compress256(&mut state, core::slice::from_ref(&block));
                    sha2::block_api::compress256(&mut state, core::slice::from_ref(&block));
                    u64::from(state[0])
                }
                _ => {
                    let mut state = [0u32; 5];
                    let block = [black_box(0x36u8); 64];
                    sha1::block_api::compress(&mut state, core::slice::from_ref(&block));
                    sha1::block_api::compress(&mut state, core::slice::from_ref(&block));
                    u64::from(state[0])
                }
            })
        });
        group.finish();
    }
}

/// One HOTP code from a keyed state: otpkit's own HMAC (`engine/mac.rs`:
/// the pads' states copied, two compressions) against RustCrypto's `hmac`
/// keyed once and cloned per code, then truncated the same way.
fn mac(c: &mut Criterion) {
    use hmac::{Hmac, KeyInit, Mac};
    let stored = key(Algorithm::Sha1);
    let ours = otpkit::Hotp::new(Secret::from_bytes(&stored).unwrap());
    let keyed = <Hmac<sha1::Sha1> as KeyInit>::new_from_slice(&stored).unwrap();
    let hmac_code = |counter: u64| {
        let mut mac = keyed.clone();
        mac.update(&counter.to_be_bytes());
        let out = mac.finalize().into_bytes();
        let offset = usize::from(out[19] & 0x0f);
        let bin = u32::from_be_bytes([
            out[offset],
            out[offset + 1],
            out[offset + 2],
            out[offset + 3],
        ]);
        (bin & 0x7fff_ffff) % 1_000_000
    };
    assert_eq!(
        ours.generate(NOW / 30).to_string(),
        format!("{:06}", hmac_code(NOW / 30))
    );
    let mut group = c.benchmark_group("hotp code/SHA1");
    group.bench_function("otpkit mac", |b| {
        b.iter(|| ours.generate(black_box(NOW / 30)))
    });
    group.bench_function("hmac crate, cloned", |b| {
        b.iter(|| hmac_code(black_box(NOW / 30)))
    });
    group.finish();
}

criterion_group!(
    benches,
    mac,
    generate,
    verify_wrong,
    construct_and_verify,
    construct
);
criterion_main!(benches);
