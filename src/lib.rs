#![doc = include_str!("../README.md")]
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

mod algorithm;
mod backup;
mod challenge;
mod code;
mod error;
mod hex;
mod hotp;
mod mac;
#[cfg(feature = "qr")]
mod qr;
mod resource;
pub mod seal;
mod secret;
mod totp;
mod uri;
mod verification;
mod wiping;

pub use algorithm::Algorithm;
pub use backup::{
    BackupCodeOptions, BackupCodeSet, BackupCodes, BackupHashScheme, BackupOutcome, Pepper,
};
pub use challenge::{ChallengePolicy, CheckOutcome, OtpChallenge, RetryOutcome};
pub use code::Code;
pub use error::Error;
pub use hotp::Hotp;
#[cfg(feature = "qr")]
#[cfg_attr(docsrs, doc(cfg(feature = "qr")))]
pub use qr::{ErrorCorrection, Qr, QrStyle};
#[cfg(feature = "serde")]
pub use resource::StoredTotpRecord;
pub use resource::{
    CodeType, DeletedTotp, EnrollmentOptions, Lockout, Timestamp, TotpOutcome, TotpRecord,
    TotpResource,
};
pub use seal::{Keyring, SealedSecret, SealingKey};
pub use secret::Secret;
pub use totp::{Match, TimeStep, Totp, TotpBuilder, Verdict};
pub use uri::{OtpAuthUri, OtpType};
pub use verification::{
    AdminVerification, IdentificationLink, OtpVerification, PhoneNumber, Strategy, Verification,
    VerificationStatus,
};

/// The largest verification window, in steps on each side (TOTP) or steps
/// ahead (HOTP). Each step in the window adds one code an attacker may guess,
/// so windows this wide are for resynchronization, not everyday use.
///
/// ```
/// assert_eq!(otpkit::MAX_WINDOW, 100);
/// ```
pub const MAX_WINDOW: u64 = 100;
