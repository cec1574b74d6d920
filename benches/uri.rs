//! Parsing otpauth:// URIs at the parser's bound: a URI of
//! `otpkit::uri::MAX_URI_LEN` bytes (thousands of parameters, the worst a
//! QR code or a paste can hand it) beside a typical one, and the refusal
//! of one byte more. The duplicate check is a set, so the long one costs
//! about its length in typical ones, not its square.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use otpkit::OtpAuthUri;
use otpkit::uri::MAX_URI_LEN;

fn uri(c: &mut Criterion) {
    let typical = "otpauth://totp/ACME:alice@example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=ACME&period=30";
    // Distinct short parameters up to the bound: the most a URI can hold.
    let mut longest = String::from(typical);
    let mut n = 0;
    while longest.len() + 12 <= MAX_URI_LEN {
        longest.push_str(&format!("&p{n}=1"));
        n += 1;
    }
    let over = format!("{longest}{}", "x".repeat(MAX_URI_LEN + 1 - longest.len()));
    assert!(longest.parse::<OtpAuthUri>().is_ok());
    assert!(over.parse::<OtpAuthUri>().is_err());

    let mut group = c.benchmark_group("uri");
    group.bench_function("typical (~100 bytes)", |b| {
        b.iter(|| black_box(typical).parse::<OtpAuthUri>().unwrap())
    });
    group.bench_function(
        format!("at the bound ({} bytes, {n} parameters)", longest.len()),
        |b| b.iter(|| black_box(&longest).parse::<OtpAuthUri>().unwrap()),
    );
    group.bench_function("one byte over: refused", |b| {
        b.iter(|| black_box(&over).parse::<OtpAuthUri>().unwrap_err())
    });
    group.finish();
}

criterion_group!(benches, uri);
criterion_main!(benches);
