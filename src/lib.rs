// The README is the crate's front page, its examples compiled as doctests;
// they use QR codes and serde, so without those features a short page
// stands in.
#![cfg_attr(all(feature = "qr", feature = "serde", feature = "seal"), doc = include_str!("../README.md"))]
#![cfg_attr(
    not(all(feature = "qr", feature = "serde", feature = "seal")),
    doc = "Two-factor authentication for Rust services: RFC 4226 HOTP and RFC 6238 TOTP, \
           otpauth:// URIs, backup codes, enrollment records and one-time code challenges. \
           The full front page, with examples, is built with the default features."
)]
#![cfg_attr(docsrs, feature(doc_cfg))]
// `no_std` always, with `std` linked in only by its feature: the library
// needs `alloc`, and the operating system only for its RNG and clock.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects,
    clippy::missing_errors_doc
)]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic,
        clippy::arithmetic_side_effects
    )
)]

extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

// The base: keys, hashes, errors, time, and the private text encodings.
mod algorithm;
mod encoding;
mod error;
mod pepper;
mod random;
mod secret;
mod time;
// The engine: HOTP and TOTP (re-exported here).
mod engine;

// The formats, the state machines, and Clerk's wire objects on top.
pub mod backup;
pub mod challenge;
pub mod clerk;
#[cfg(feature = "qr")]
#[cfg_attr(docsrs, doc(cfg(feature = "qr")))]
pub mod qr;
pub mod record;
#[cfg(feature = "seal")]
#[cfg_attr(docsrs, doc(cfg(feature = "seal")))]
pub mod seal;
pub mod uri;

pub use algorithm::Algorithm;
pub use engine::{
    Code, Hotp, HotpVerdict, MAX_WINDOW, Match, TimeStep, Totp, TotpBuilder, Typo, Verdict,
};
pub use error::Error;
pub use pepper::Pepper;
/// The random number generator traits of the `*_with_rng` functions
/// ([`rand_core::CryptoRng`]), from the version this crate uses.
pub use rand::rand_core;
pub use secret::Secret;

// The types most programs use, from their modules.
pub use backup::BackupCodeSet;
pub use challenge::OtpChallenge;
#[cfg(feature = "qr")]
#[cfg_attr(docsrs, doc(cfg(feature = "qr")))]
pub use qr::Qr;
#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
pub use record::StoredTotpRecord;
pub use record::{TotpOutcome, TotpRecord, TotpResource};
#[cfg(feature = "seal")]
#[cfg_attr(docsrs, doc(cfg(feature = "seal")))]
pub use seal::Keyring;
pub use uri::OtpAuthUri;
