//! Rendering a typical enrollment URI as a QR code.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use otpkit::qr::QrStyle;
use otpkit::{OtpAuthUri, Qr, Secret, Totp};

fn render(c: &mut Criterion) {
    let totp = Totp::new(Secret::from_bytes(&[0x5a; 20]).unwrap());
    let uri = OtpAuthUri::for_totp(&totp, "alice@example.com")
        .with_issuer("ACME Co")
        .to_string();
    let style = QrStyle::default();
    let mut group = c.benchmark_group("qr enrollment uri");
    group.bench_function("encode", |b| b.iter(|| Qr::new(black_box(&uri)).unwrap()));
    let qr = Qr::new(&uri).unwrap();
    group.bench_function("svg", |b| b.iter(|| qr.to_svg(black_box(&style))));
    group.bench_function("png", |b| b.iter(|| qr.to_png(black_box(&style))));
    group.bench_function("terminal", |b| b.iter(|| qr.to_terminal(black_box(&style))));
    group.finish();
}

criterion_group!(benches, render);
criterion_main!(benches);
