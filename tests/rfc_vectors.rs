//! The published test vectors: RFC 4226 Appendix D and RFC 6238 Appendix B.

use otpkit::{Algorithm, Hotp, HotpVerdict, Secret, TimeStep, Totp, Verdict};

const SEED_SHA1: &[u8] = b"12345678901234567890";
const SEED_SHA256: &[u8] = b"12345678901234567890123456789012";
const SEED_SHA512: &[u8] = b"1234567890123456789012345678901234567890123456789012345678901234";

#[test]
fn rfc4226_appendix_d() {
    let expected = [
        "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871",
        "520489",
    ];
    let hotp = Hotp::new(Secret::from_bytes(SEED_SHA1).unwrap());
    for (counter, code) in (0u64..).zip(expected) {
        assert_eq!(
            hotp.generate(counter).to_string(),
            code,
            "counter {counter}"
        );
        assert_eq!(
            hotp.verify(code, counter, 0),
            Ok(HotpVerdict::Valid {
                next_counter: counter + 1
            })
        );
    }
}

#[test]
fn rfc6238_appendix_b() {
    // (time, SHA-1, SHA-256, SHA-512), 8 digits, 30 s steps, T0 = 0.
    let table = [
        (59, "94287082", "46119246", "90693936"),
        (1_111_111_109, "07081804", "68084774", "25091201"),
        (1_111_111_111, "14050471", "67062674", "99943326"),
        (1_234_567_890, "89005924", "91819424", "93441116"),
        (2_000_000_000, "69279037", "90698825", "38618901"),
        (20_000_000_000, "65353130", "77737706", "47863826"),
    ];
    let totp = |seed: &[u8], algorithm| {
        Totp::builder(Secret::from_bytes(seed).unwrap())
            .algorithm(algorithm)
            .digits(8)
            .build()
            .unwrap()
    };
    let engines = [
        totp(SEED_SHA1, Algorithm::Sha1),
        totp(SEED_SHA256, Algorithm::Sha256),
        totp(SEED_SHA512, Algorithm::Sha512),
    ];
    for (time, sha1, sha256, sha512) in table {
        for (engine, code) in engines.iter().zip([sha1, sha256, sha512]) {
            assert_eq!(
                engine.generate_at(time).unwrap().to_string(),
                code,
                "{:?} at {time}",
                engine.algorithm()
            );
            let verdict = engine.verify_at(code, time, None).unwrap();
            assert_eq!(verdict.matched().map(|m| m.offset()), Some(0));
        }
    }
}

#[test]
fn rfc6238_steps() {
    // The T column of Appendix B.
    let totp = Totp::new(Secret::from_bytes(SEED_SHA1).unwrap());
    for (time, step) in [
        (59, 0x1),
        (1_111_111_109, 0x23523EC),
        (1_111_111_111, 0x23523ED),
        (1_234_567_890, 0x273EF07),
        (2_000_000_000, 0x3F940AA),
        (20_000_000_000, 0x27BC86AA),
    ] {
        assert_eq!(totp.step_at(time).unwrap().value(), step);
    }
}

/// With the RFC 4226 key, steps 153567 and 153569 share a 6-digit code. A
/// verifier at step 153568 (window ±1) sees the code match twice; it must
/// persist the newer step, or the code would be accepted a second time.
#[test]
fn a_code_matching_two_steps_of_the_window_is_accepted_once() {
    let totp = Totp::new(Secret::from_bytes(SEED_SHA1).unwrap());
    let (older, newer) = (TimeStep::new(153_567), TimeStep::new(153_569));
    let code = totp.generate_step(older);
    assert_eq!(code, totp.generate_step(newer), "the RFC key's collision");
    let now = 153_568 * 30;
    let first = totp.verify_at(&code.to_string(), now, None).unwrap();
    let Verdict::Valid(m) = first else {
        panic!("{first:?}")
    };
    assert_eq!((m.step(), m.offset()), (newer, 1));
    // Persisting the match: every later check of the same code is a replay.
    for later in [now, now + 29] {
        assert!(matches!(
            totp.verify_at(&code.to_string(), later, Some(m.step()))
                .unwrap(),
            Verdict::Replayed(_)
        ));
    }
    // The HOTP equivalent: the counter to persist lies past the newer match.
    let hotp = Hotp::new(Secret::from_bytes(SEED_SHA1).unwrap());
    let next = hotp.verify(&code.to_string(), 153_567, 2).unwrap();
    assert_eq!(
        next,
        HotpVerdict::Valid {
            next_counter: 153_570
        }
    );
    assert_eq!(
        hotp.verify(&code.to_string(), 153_570, 2).unwrap(),
        HotpVerdict::Invalid
    );
}
