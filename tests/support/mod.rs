//! What several test modules use, once. The interop package includes this
//! module too (`#[path]`), for the helpers its tests share with these; so
//! nothing here depends on the library's optional features.
#![allow(dead_code)]

use otpkit::{OtpAuthUri, Secret, Totp};

/// Enrollment URIs of every size a QR test should decode: short, Unicode,
/// and long with an image and explicit defaults.
pub fn enrollment_uris() -> Vec<String> {
    let totp = Totp::new(Secret::from_bytes(&[0x5a; 20]).expect("a 160-bit key"));
    vec![
        OtpAuthUri::for_totp(&totp, "alice@example.com")
            .with_issuer("ACME Co")
            .to_string(),
        OtpAuthUri::for_totp(&totp, "ユーザー 🔐")
            .with_issuer("Zürich Bank")
            .to_string(),
        OtpAuthUri::for_totp(
            &totp,
            format!("{}@example.com", "long.account.name".repeat(6)),
        )
        .with_issuer("A Very Long Issuer Name Incorporated International".repeat(2))
        .with_image("https://cdn.example.com/static/images/logos/issuer-logo-512x512.png")
        .with_explicit_defaults(true)
        .to_string(),
    ]
}

/// Labels that break naive encoders.
pub const TRICKY_LABELS: &[&str] = &[
    "ACME Co",
    "Zürich Bank",
    "銀行",
    "🔐 Vault",
    "a:b",
    "x@y.z",
    "a&b=c",
    "100% sure",
    "1+1",
    "a/b",
    "#hash",
    "what?",
    "tab\there",
    "  spaced  ",
];
