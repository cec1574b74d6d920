//! The engine: keyed HMAC state, HOTP and TOTP codes, windows and replay
//! checks. Its types are re-exported at the crate root.

mod code;
mod hotp;
mod mac;
mod totp;

pub(crate) use hotp::check_digits;

pub use code::Code;
pub use hotp::{Hotp, HotpVerdict};
pub use totp::{Match, TimeStep, Totp, TotpBuilder, Verdict};
