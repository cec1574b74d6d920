// The README is the crate's front page, its examples compiled as doctests;
// they use QR codes and serde, so without those features a short page
// stands in.
#![cfg_attr(all(feature = "qr", feature = "serde"), doc = include_str!("../README.md"))]
#![cfg_attr(
    not(all(feature = "qr", feature = "serde")),
    doc = "Two-factor authentication for Rust services: RFC 4226 HOTP and RFC 6238 TOTP, \
           otpauth:// URIs, backup codes, enrollment records and one-time code challenges. \
           The full front page, with examples, is built with the default features."
)]
#![cfg_attr(docsrs, feature(doc_cfg))]
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

// The base: keys, hashes, errors.
mod algorithm;
mod error;
mod secret;
// The engine: HOTP and TOTP (re-exported here).
mod engine;
// Helpers for the formats: hex, and text built without leaving copies.
mod hex;
mod wiping;

pub mod backup;
pub mod challenge;
pub mod clerk;
#[cfg(feature = "qr")]
#[cfg_attr(docsrs, doc(cfg(feature = "qr")))]
pub mod qr;
pub mod record;
pub mod seal;
pub mod uri;

pub use algorithm::Algorithm;
pub use engine::{Code, Hotp, HotpVerdict, Match, TimeStep, Totp, TotpBuilder, Verdict};
pub use error::Error;
pub use secret::Secret;

// The types most programs use, from their modules.
pub use backup::{BackupCodeSet, Pepper};
pub use challenge::OtpChallenge;
#[cfg(feature = "qr")]
#[cfg_attr(docsrs, doc(cfg(feature = "qr")))]
pub use qr::Qr;
#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
pub use record::StoredTotpRecord;
pub use record::{TotpOutcome, TotpRecord, TotpResource};
pub use seal::Keyring;
pub use uri::OtpAuthUri;

/// The largest verification window, in steps on each side (TOTP) or steps
/// ahead (HOTP). Each step in the window adds one code an attacker may guess,
/// so windows this wide are for resynchronization, not everyday use.
///
/// ```
/// assert_eq!(otpkit::MAX_WINDOW, 100);
/// ```
pub const MAX_WINDOW: u64 = 100;
