//! Property tests of the engine: round trips, windows, replays, and no panic
//! on arbitrary input.

use otpkit::{Algorithm, Code, Hotp, HotpVerdict, Secret, TimeStep, Totp, Verdict};
use proptest::prelude::*;

fn algorithm() -> impl Strategy<Value = Algorithm> {
    prop_oneof![
        Just(Algorithm::Sha1),
        Just(Algorithm::Sha256),
        Just(Algorithm::Sha512)
    ]
}

/// Base32 as a person might type it: any case, separators, optional padding.
fn messy_base32(canonical: &str, lower: &[bool], separators: &[u8], pad: bool) -> String {
    let mut out = String::new();
    for ((c, &lower), &sep) in canonical
        .chars()
        .zip(lower.iter().cycle())
        .zip(separators.iter().cycle())
    {
        out.push(if lower { c.to_ascii_lowercase() } else { c });
        match sep % 8 {
            0 => out.push(' '),
            1 => out.push('-'),
            _ => {}
        }
    }
    if pad {
        let padding = (8 - canonical.len() % 8) % 8;
        out.extend(std::iter::repeat_n('=', padding));
    }
    out
}

proptest! {
    #[test]
    fn base32_round_trips(
        key in prop::collection::vec(any::<u8>(), 16..80),
        lower in prop::collection::vec(any::<bool>(), 1..8),
        separators in prop::collection::vec(any::<u8>(), 1..8),
        pad in any::<bool>(),
    ) {
        let secret = Secret::from_bytes(&key).unwrap();
        let canonical = secret.to_base32();
        prop_assert!(canonical.chars().all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c)));
        prop_assert_eq!(&Secret::from_base32(&canonical).unwrap(), &secret);
        let messy = messy_base32(&canonical, &lower, &separators, pad);
        let parsed = Secret::from_base32(&messy).unwrap();
        prop_assert_eq!(parsed.expose_secret(), &key[..]);
    }

    #[test]
    fn generated_codes_verify_across_the_window(
        key in prop::collection::vec(any::<u8>(), 16..65),
        algorithm in algorithm(),
        digits in 6u8..=10,
        period in 1u64..=300,
        t0 in 0u64..=1_000_000,
        since_t0 in 0u64..=1 << 40,
        behind in 0u64..=3,
        ahead in 0u64..=3,
        pick in any::<u64>(),
    ) {
        let totp = Totp::builder(Secret::from_bytes(&key).unwrap())
            .algorithm(algorithm).digits(digits).period(period).t0(t0)
            .window_behind(behind).window_ahead(ahead)
            .build().unwrap();
        let now = t0 + since_t0;
        let current = totp.step_at(now).unwrap().value();
        let lowest = current.saturating_sub(behind);
        let step = lowest + pick % (current + ahead - lowest + 1);
        let code = totp.generate_step(TimeStep::new(step)).to_string();
        prop_assert_eq!(code.len(), usize::from(digits));

        let Verdict::Valid(m) = totp.verify_at(&code, now, None).unwrap() else {
            return Err(TestCaseError::fail("a generated code must verify"));
        };
        // Another step of the window may share the code (odds 1 in 10^digits);
        // whichever matched, its code is the one entered and its offset is right.
        prop_assert_eq!(totp.generate_step(m.step()).to_string(), code.clone());
        prop_assert_eq!(m.offset(), m.step().value() as i64 - current as i64);

        // Replay: with the matched step persisted, the code is never accepted
        // for that step or an earlier one.
        match totp.verify_at(&code, now, Some(m.step())).unwrap() {
            Verdict::Valid(again) => prop_assert!(again.step() > m.step()),
            Verdict::Replayed(again) => prop_assert!(again.step() <= m.step()),
            other => return Err(TestCaseError::fail(format!("a replay is not {other:?}"))),
        }
    }

    #[test]
    fn hotp_look_ahead_returns_the_next_counter(
        key in prop::collection::vec(any::<u8>(), 16..65),
        algorithm in algorithm(),
        counter in any::<u64>(),
        look_ahead in 0u64..=10,
        pick in any::<u64>(),
    ) {
        let hotp = Hotp::with(Secret::from_bytes(&key).unwrap(), algorithm, 6).unwrap();
        let counter = counter.min(u64::MAX - 20);
        let target = counter + pick % (look_ahead + 1);
        let code = hotp.generate(target).to_string();
        let HotpVerdict::Valid { next_counter: next } = hotp.verify(&code, counter, look_ahead).unwrap() else {
            return Err(TestCaseError::fail("a generated code verifies"));
        };
        prop_assert!(next > counter && next <= target + 1);
        prop_assert_eq!(hotp.generate(next - 1).to_string(), code);
    }

    #[test]
    fn arbitrary_strings_never_panic(input in any::<String>(), digits in any::<u8>()) {
        let _ = Secret::from_base32(&input);
        let _ = Secret::from_base32_allow_short(&input);
        let _ = input.parse::<Algorithm>();
        if let Ok(code) = Code::parse(&input, digits) {
            prop_assert_eq!(code.to_string().len(), usize::from(digits));
        }
        let totp = Totp::new(Secret::from_bytes(&[7; 20]).unwrap());
        let _ = totp.verify_at(&input, 1_700_000_000, Some(TimeStep::new(u64::MAX)));
        let _ = Hotp::new(Secret::from_bytes(&[7; 20]).unwrap()).verify(&input, u64::MAX, 100);
    }

    #[test]
    fn codes_of_digits_and_one_separator_parse(
        digits in prop::collection::vec(0u8..10, 6..=10),
        split in any::<prop::sample::Index>(),
        sep in prop_oneof![Just(""), Just(" "), Just("-")],
    ) {
        let plain: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
        let at = 1 + split.index(plain.len() - 1);
        let typed = format!(" {}{sep}{} ", &plain[..at], &plain[at..]);
        let code = Code::parse(&typed, digits.len() as u8).unwrap();
        prop_assert_eq!(code.to_string(), plain);
    }
}
