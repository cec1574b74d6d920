//! The engine: keyed HMAC state, HOTP and TOTP codes, windows and replay
//! checks. Its types are re-exported at the crate root.

mod builder;
mod code;
mod hotp;
mod mac;
mod totp;
mod typo;

pub(crate) use hotp::check_digits;

pub use builder::TotpBuilder;
pub use code::Code;
pub use hotp::{Hotp, HotpVerdict};
pub use totp::{Match, TimeStep, Totp, Verdict};
pub use typo::Typo;

/// The largest verification window, in steps on each side (TOTP) or steps
/// ahead (HOTP). Each step in the window adds one code an attacker may guess,
/// so windows this wide are for resynchronization, not everyday use.
///
/// ```
/// assert_eq!(otpkit::MAX_WINDOW, 100);
/// ```
pub const MAX_WINDOW: u64 = 100;
