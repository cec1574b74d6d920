//! The rows of `docs/rfc-compliance.md` that no other test covers, and the
//! check that every row of that matrix names a test that exists. Nothing
//! here needs `std`: the engine's requirements hold in every build.

use otpkit::record::{EnrollmentOptions, TotpOutcome, TotpRecord};
use otpkit::{Algorithm, Error, Hotp, MAX_WINDOW, OtpAuthUri, Secret, Totp};
use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;

/// RFC 4226 Appendix D's key.
fn rfc_key() -> Secret {
    Secret::from_bytes(b"12345678901234567890").unwrap()
}

/// RFC 4226 §4 R6 (at least 128 bits, 160 recommended) and RFC 6238 §5.1
/// (keys as long as the HMAC output); the Key Uri Format's secret is
/// Base32 without padding.
#[test]
fn keys_are_at_least_128_bits_and_generated_as_long_as_the_hash() {
    assert_eq!(
        Secret::from_bytes(&[7; 15]).unwrap_err(),
        Error::SecretTooShort { bits: 120 }
    );
    assert_eq!(Secret::from_bytes(&[7; 16]).unwrap().len(), 16);
    let rng = &mut UnwrapErr(SysRng);
    for (algorithm, len) in [
        (Algorithm::Sha1, 20),
        (Algorithm::Sha256, 32),
        (Algorithm::Sha512, 64),
    ] {
        let secret = Secret::generate_with_rng(algorithm, rng);
        assert_eq!(secret.len(), len);
        let uri = OtpAuthUri::for_totp(&Totp::new(secret), "alice").to_string();
        let encoded = uri
            .split("secret=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap();
        assert!(!encoded.contains('=') && !encoded.contains("%3D"), "{uri}");
        assert_eq!(encoded.len(), (len * 8).div_ceil(5));
    }
}

/// RFC 4226 §5.3: at least 6 digits, "possibly 7 and 8"; otpkit allows up
/// to 10 (all a 31-bit value has) and refuses the rest. Each length is the
/// truncated value of Appendix D (counter 0: 1284755224) modulo 10^digits.
#[test]
fn digits_from_six_to_ten_are_the_truncated_value_modulo_ten_to_the_digits() {
    let full: u64 = 1_284_755_224;
    for digits in 6..=10u8 {
        let hotp = Hotp::with(rfc_key(), Algorithm::Sha1, digits).unwrap();
        let expected = full % 10u64.pow(u32::from(digits));
        let code = hotp.generate(0).to_string();
        assert_eq!(code.len(), usize::from(digits));
        assert_eq!(code.parse::<u64>().unwrap(), expected, "{digits} digits");
        let totp = Totp::builder(rfc_key()).digits(digits).build().unwrap();
        assert_eq!(totp.digits(), digits);
    }
    for digits in [0, 1, 5, 11, 255] {
        assert_eq!(
            Hotp::with(rfc_key(), Algorithm::Sha1, digits).unwrap_err(),
            Error::DigitsOutOfRange {
                digits: u32::from(digits)
            }
        );
        assert!(Totp::builder(rfc_key()).digits(digits).build().is_err());
    }
}

/// RFC 4226 §7.4 (the look-ahead "should not be too large") and RFC 6238
/// §5.2 (few steps of network delay): windows are bounded by
/// [`MAX_WINDOW`], and a larger one is a typed error, not a slow check.
#[test]
fn windows_and_look_ahead_are_bounded() {
    let too_far = MAX_WINDOW + 1;
    let expected = Error::WindowTooLarge {
        steps: too_far,
        max: MAX_WINDOW,
    };
    let hotp = Hotp::new(rfc_key());
    assert_eq!(hotp.verify("755224", 0, too_far).unwrap_err(), expected);
    assert!(hotp.verify("755224", 0, MAX_WINDOW).unwrap().is_valid());
    let built = Totp::builder(rfc_key()).window(too_far).build();
    assert_eq!(built.unwrap_err(), expected);
    let behind = Totp::builder(rfc_key()).window_behind(too_far).build();
    assert!(behind.is_err());
}

/// RFC 6238 §4 and §5.2: T0 = 0, a 30-second step, one step of delay;
/// RFC 4226's 6 digits and HMAC-SHA-1, as the Key Uri Format's defaults.
#[test]
fn defaults_are_the_rfcs_sha1_six_digits_thirty_seconds_from_t0_zero() {
    let totp = Totp::new(rfc_key());
    assert_eq!(totp.algorithm(), Algorithm::Sha1);
    assert_eq!(totp.digits(), 6);
    assert_eq!(totp.period(), 30);
    assert_eq!(totp.t0(), 0);
    assert_eq!(totp.window(), (1, 1));
    // RFC 6238 Appendix B at T = 59, the last six of 94287082.
    assert_eq!(totp.generate_at(59).unwrap().to_string(), "287082");
}

/// RFC 6238 §6: the verifier records the drift of a prover's clock and
/// moves its window to it, so a clock that keeps slipping stays in.
#[test]
fn the_window_follows_a_clock_that_drifts() {
    let now = 1_700_000_000;
    let options = EnrollmentOptions::default();
    let rng = &mut UnwrapErr(SysRng);
    let record =
        TotpRecord::import_with_rng("ACME", "bob", rfc_key(), &options, None, now, rng).unwrap();
    let fresh = record.clone();
    // A clock one step behind: accepted (window ±1), drift learned.
    let late = record.totp().generate_at(now - 30).unwrap().to_string();
    let (record, outcome) = record
        .verify_with_rng(&late, &otpkit::Pepper::NONE, now, rng)
        .unwrap();
    assert!(outcome.is_valid());
    assert_eq!(record.drift(), -1);
    // Later the clock is two steps behind: outside a window around now,
    // inside the window around the learned drift.
    let later = now + 600;
    let two_behind = record.totp().generate_at(later - 60).unwrap().to_string();
    let (_, unmoved) = fresh
        .verify_with_rng(&two_behind, &otpkit::Pepper::NONE, later, rng)
        .unwrap();
    assert!(matches!(unmoved, TotpOutcome::Invalid { .. }));
    let (record, moved) = record
        .verify_with_rng(&two_behind, &otpkit::Pepper::NONE, later, rng)
        .unwrap();
    assert!(moved.is_valid());
    assert_eq!(record.drift(), -2);
}

/// Every row of the matrix names at least one test as `` `path::name` ``,
/// and each such test exists: a `fn name` (or `async fn name`) in that
/// file.
#[test]
fn every_row_of_the_compliance_matrix_names_a_test_that_exists() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let matrix = std::fs::read_to_string(root.join("docs/rfc-compliance.md")).unwrap();
    let mut rows = 0;
    for line in matrix
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| Requirement"))
    {
        rows += 1;
        let tests: Vec<&str> = line
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|span| span.contains(".rs::"))
            .collect();
        assert!(!tests.is_empty(), "a row names no test: {line}");
        for test in tests {
            let (path, name) = test.rsplit_once("::").unwrap();
            let source = std::fs::read_to_string(root.join(path))
                .unwrap_or_else(|e| panic!("{path} (named by the matrix): {e}"));
            let defines = |line: &str| {
                let line = line.trim_start();
                line.strip_prefix("async ")
                    .unwrap_or(line)
                    .strip_prefix("fn ")
                    .and_then(|rest| rest.strip_prefix(name))
                    .is_some_and(|rest| rest.starts_with('('))
            };
            assert!(
                source.lines().any(defines),
                "{path} has no test `{name}` (row: {line})"
            );
        }
    }
    assert!(rows >= 30, "the matrix has only {rows} rows");
}
