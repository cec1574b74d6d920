//! Base32 secrets: never a panic; whatever parses re-encodes canonically
//! and parses back to the same key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use otpkit::Secret;

fuzz_target!(|text: &str| {
    if let Ok(secret) = Secret::from_base32_allow_short(text) {
        let canonical = secret.to_base32();
        assert_eq!(Secret::from_base32_allow_short(&canonical).as_ref(), Ok(&secret));
        // Short keys can spell part of "Secret([REDACTED])" ("REDA" did).
        if canonical.len() >= 16 {
            assert!(!format!("{secret:?}").contains(canonical.as_str()));
        }
    }
});
