//! Entered codes: parsing and verification never panic, and a code that
//! verifies is one the generator produces for the matched step.
#![no_main]

use libfuzzer_sys::fuzz_target;
use otpkit::{Code, Secret, TimeStep, Totp};

fuzz_target!(|input: (&str, u64, Option<u64>, u8)| {
    let (typed, now, last, digits) = input;
    if let Ok(code) = Code::parse(typed, digits) {
        assert_eq!(code.to_string().len(), usize::from(digits));
    }
    let totp = Totp::new(Secret::from_bytes(b"12345678901234567890").unwrap());
    if let Ok(verdict) = totp.verify_at(typed, now, last.map(TimeStep::new)) {
        if let Some(m) = verdict.matched() {
            assert_eq!(Code::parse(typed, 6).unwrap(), totp.generate_step(m.step()));
            assert!(last.is_none_or(|l| m.step().value() > l));
        }
    }
});
