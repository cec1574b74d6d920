//! Clerk's verification and phone-number objects (golden tests from the
//! examples in Clerk's Backend API documentation, converted to the API's
//! snake_case wire form: `tests/fixtures/clerk/`), and the one-time code
//! challenge lifecycle.
#![cfg(all(feature = "std", feature = "serde"))]

use otpkit::OtpChallenge;
use otpkit::challenge::{ChallengePolicy, CheckOutcome, RetryOutcome};
use otpkit::clerk::{
    AdminVerification, IdentificationLink, OtpVerification, PhoneNumber, Strategy, Verification,
    VerificationStatus,
};
use proptest::prelude::{Just, prop, prop_assert, prop_assert_eq, prop_oneof, proptest};
use proptest::strategy::Strategy as _;
use serde_json::{Value, json};

fn otp(status: VerificationStatus, attempts: u64, expire_at: i64) -> Verification {
    Verification::Otp(OtpVerification {
        status,
        strategy: Strategy::PhoneCode,
        attempts: Some(attempts),
        expire_at: Some(expire_at),
        verified_at_client: None,
    })
}

#[test]
fn clerk_otp_example() {
    let golden = include_str!("fixtures/clerk/otp-verification.json");
    let v: Verification = serde_json::from_str(golden).unwrap();
    assert_eq!(v, otp(VerificationStatus::Failed, 919_483, 714_242));
    // Written back with its discriminator, and otherwise key for key.
    let mut expected: Value = serde_json::from_str(golden).unwrap();
    expected["object"] = json!("verification_otp");
    assert_eq!(serde_json::to_value(&v).unwrap(), expected);
}

#[test]
fn clerk_phone_number_example() {
    let golden = include_str!("fixtures/clerk/phone-number.json");
    let phone: PhoneNumber = serde_json::from_str(golden).unwrap();
    assert_eq!(
        phone,
        PhoneNumber {
            id: None,
            phone_number: "749-570-5537 x9671".into(),
            reserved_for_second_factor: None,
            default_second_factor: None,
            reserved: false,
            verification: Some(otp(VerificationStatus::Unverified, 113_519, 242_200)),
            linked_to: vec![IdentificationLink {
                link_type: "<value>".into(),
                id: "<id>".into()
            }],
            backup_codes: None,
            created_at: 255_568,
            updated_at: 956_779,
        }
    );
    let mut expected: Value = serde_json::from_str(golden).unwrap();
    expected["verification"]["object"] = json!("verification_otp");
    assert_eq!(serde_json::to_value(&phone).unwrap(), expected);
}

#[test]
fn phone_number_with_every_field_round_trips_exactly() {
    let full = json!({
        "id": "idn_2x", "object": "phone_number", "phone_number": "+15550100",
        "reserved_for_second_factor": true, "default_second_factor": true, "reserved": false,
        "verification": {"object": "verification_admin", "status": "verified", "strategy": "admin",
                         "attempts": null, "expire_at": null, "verified_at_client": "client_1"},
        "linked_to": [], "backup_codes": null, "created_at": 1, "updated_at": 2
    });
    let phone: PhoneNumber = serde_json::from_value(full.clone()).unwrap();
    assert_eq!(phone.backup_codes, Some(None));
    assert!(matches!(
        phone.verification,
        Some(Verification::Admin(AdminVerification { .. }))
    ));
    assert_eq!(serde_json::to_value(&phone).unwrap(), full);
    let mut with_codes = full;
    with_codes["backup_codes"] = json!(["a", "b"]);
    let phone: PhoneNumber = serde_json::from_value(with_codes.clone()).unwrap();
    assert_eq!(serde_json::to_value(&phone).unwrap(), with_codes);
}

#[test]
fn unknown_strategies_are_kept() {
    let json = json!({"object": "verification_otp", "status": "unverified", "strategy": "passkey",
                      "attempts": 0, "expire_at": null});
    let v: Verification = serde_json::from_value(json.clone()).unwrap();
    let Verification::Otp(inner) = &v else {
        panic!()
    };
    assert_eq!(inner.strategy, Strategy::Other("passkey".into()));
    assert_eq!(serde_json::to_value(&v).unwrap(), json);
}

#[test]
fn schema_violations_are_clear_errors() {
    let base = json!({"object": "verification_otp", "status": "unverified", "strategy": "email_code",
                      "attempts": 1, "expire_at": 5});
    for (field, message) in [
        ("status", "missing field `status`"),
        ("strategy", "missing field `strategy`"),
        ("attempts", "missing field `attempts`"),
        ("expire_at", "missing field `expire_at`"),
    ] {
        let mut json = base.clone();
        json.as_object_mut().unwrap().remove(field);
        let err = serde_json::from_value::<Verification>(json)
            .unwrap_err()
            .to_string();
        assert!(err.contains(message), "{err}");
    }
    let cases = [
        (
            json!({"object": "verification_sms"}),
            "unknown variant `verification_sms`",
        ),
        (json!({"status": "pending"}), "unknown variant `pending`"),
        (json!({"attempts": -1}), "invalid value"),
        (json!({"extra": 1}), "unknown field `extra`"),
        (
            json!({"object": "verification_admin", "status": "unverified", "strategy": "admin"}),
            "must have status \"verified\"",
        ),
    ];
    for (patch, message) in cases {
        let mut json = base.clone();
        for (k, v) in patch.as_object().unwrap() {
            json[k] = v.clone();
        }
        let err = serde_json::from_value::<Verification>(json)
            .unwrap_err()
            .to_string();
        assert!(err.contains(message), "{err}");
    }
    let phone = json!({"object": "email_address", "phone_number": "1", "reserved": false,
                       "verification": null, "linked_to": [], "created_at": 1, "updated_at": 1});
    assert!(serde_json::from_value::<PhoneNumber>(phone).is_err());
    let no_verification = json!({"object": "phone_number", "phone_number": "1", "reserved": false,
                                 "linked_to": [], "created_at": 1, "updated_at": 1});
    let err = serde_json::from_value::<PhoneNumber>(no_verification)
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing field `verification`"), "{err}");
}

// ---- the challenge lifecycle ----

const T: u64 = 1_700_000_000;

fn create(policy: ChallengePolicy) -> (String, OtpChallenge) {
    let (code, challenge) =
        OtpChallenge::create(Strategy::PhoneCode, &policy, &otpkit::Pepper::NONE, T).unwrap();
    (code.to_string(), challenge)
}

fn wrong(code: &str) -> String {
    let first = (code.as_bytes()[0] - b'0' + 1) % 10;
    format!("{first}{}", &code[1..])
}

#[test]
fn codes_keep_leading_zeros_and_have_the_policy_length() {
    for digits in 6..=10 {
        let (code, _) = create(ChallengePolicy::default().digits(digits));
        assert_eq!(code.len(), usize::from(digits));
        assert!(code.bytes().all(|b| b.is_ascii_digit()));
    }
}

#[test]
fn attempts_run_out_and_the_challenge_fails() {
    let (code, mut c) = create(ChallengePolicy::default().max_attempts(3));
    for left in [2, 1] {
        let (next, outcome) = c
            .check(&wrong(&code), &otpkit::Pepper::NONE, T + 1)
            .unwrap();
        assert_eq!(
            outcome,
            CheckOutcome::Invalid {
                attempts_left: left
            }
        );
        c = next;
    }
    let (c, outcome) = c
        .check(&wrong(&code), &otpkit::Pepper::NONE, T + 2)
        .unwrap();
    assert_eq!(outcome, CheckOutcome::Locked);
    assert_eq!(c.status_at(T + 2), VerificationStatus::Failed);
    // Even the right code no longer works.
    let (c, outcome) = c.check(&code, &otpkit::Pepper::NONE, T + 3).unwrap();
    assert_eq!(outcome, CheckOutcome::Locked);
    assert_eq!(
        c.retry(&otpkit::Pepper::NONE, T + 100).unwrap().1,
        RetryOutcome::Locked
    );
    let Verification::Otp(v) = c.verification(T + 3) else {
        panic!()
    };
    assert_eq!(
        (v.status, v.attempts),
        (VerificationStatus::Failed, Some(3))
    );
}

#[test]
fn malformed_answers_do_not_count() {
    let (_, c) = create(ChallengePolicy::default());
    for typo in ["12a456", "", "12345"] {
        let (next, outcome) = c.check(typo, &otpkit::Pepper::NONE, T).unwrap();
        assert!(matches!(outcome, CheckOutcome::Malformed(_)), "{typo:?}");
        assert_eq!(next, c);
    }
    assert_eq!(c.attempts(), 0);
}

#[test]
fn expiry_is_exclusive_at_the_boundary() {
    let (code, c) = create(ChallengePolicy::default().ttl(60));
    assert_eq!(
        c.check(&code, &otpkit::Pepper::NONE, T + 59).unwrap().1,
        CheckOutcome::Valid
    );
    let (expired, outcome) = c.check(&code, &otpkit::Pepper::NONE, T + 60).unwrap();
    assert_eq!(outcome, CheckOutcome::Expired);
    assert_eq!(expired.status_at(T), VerificationStatus::Expired); // stored, not recomputed
    assert_eq!(
        expired.retry(&otpkit::Pepper::NONE, T + 61).unwrap().1,
        RetryOutcome::Expired
    );
    let Verification::Otp(v) = c.verification(T + 60) else {
        panic!()
    };
    assert_eq!(
        (v.status, v.expire_at),
        (VerificationStatus::Expired, Some((T as i64 + 60) * 1000))
    );
}

#[test]
fn retries_cool_down_replace_the_code_and_run_out() {
    let policy = ChallengePolicy::default().max_retries(2).retry_cooldown(30);
    let (first, c) = create(policy);
    let (c, outcome) = c.retry(&otpkit::Pepper::NONE, T + 29).unwrap();
    assert_eq!(
        outcome,
        RetryOutcome::CoolingDown {
            next_retry_at: T + 30,
            remaining_retries: 2
        }
    );
    let (c, outcome) = c.retry(&otpkit::Pepper::NONE, T + 30).unwrap();
    let RetryOutcome::Sent {
        code: second,
        remaining_retries: 1,
        next_retry_at,
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    assert_eq!(next_retry_at, T + 60);
    let second = second.to_string();
    if second != first {
        let (after, outcome) = c.check(&first, &otpkit::Pepper::NONE, T + 31).unwrap();
        assert_eq!(
            outcome,
            CheckOutcome::Invalid { attempts_left: 4 },
            "the old code stopped working"
        );
        assert_eq!(after.attempts(), 1);
    }
    let (c, _) = c.retry(&otpkit::Pepper::NONE, T + 60).unwrap();
    assert_eq!(
        c.retry(&otpkit::Pepper::NONE, T + 100).unwrap().1,
        RetryOutcome::NoRetriesLeft
    );
    let (c, outcome) = c
        .check(&wrong(&first), &otpkit::Pepper::NONE, T + 61)
        .unwrap();
    assert!(matches!(outcome, CheckOutcome::Invalid { .. }));
    assert_eq!(c.expire_at(), T + 600, "retries do not extend the lifetime");
}

#[test]
fn challenge_state_round_trips_and_rejects_corruption() {
    let (code, c) = create(ChallengePolicy::default());
    let (c, _) = c
        .check(&wrong(&code), &otpkit::Pepper::NONE, T + 1)
        .unwrap();
    let json = serde_json::to_value(&c).unwrap();
    assert!(
        !json.to_string().contains(&code),
        "no plaintext code is stored"
    );
    let loaded: OtpChallenge = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(loaded, c);
    assert_eq!(
        loaded.check(&code, &otpkit::Pepper::NONE, T + 2).unwrap().1,
        CheckOutcome::Valid
    );
    for (field, value, message) in [
        ("version", json!(2), "unsupported record version"),
        (
            "attempts",
            json!(99),
            "more attempts or retries than the policy allows",
        ),
        ("expire_at", json!(T + 10_000), "inconsistent times"),
        (
            "status",
            json!("verified"),
            "verified_at must be set exactly when verified",
        ),
        (
            "status",
            json!("failed"),
            "failed before the attempts were spent",
        ),
        ("salt", json!("00"), "salt is not 16 bytes of hex"),
        ("code_hash", json!("zz"), "code_hash is not 32 bytes of hex"),
        ("digits", json!(4), "digits out of range"),
    ] {
        let mut broken = json.clone();
        broken[field] = value;
        let err = serde_json::from_value::<OtpChallenge>(broken)
            .unwrap_err()
            .to_string();
        assert!(err.contains(message), "{field}: {err}");
    }
}

#[derive(Debug, Clone)]
enum Step {
    Right,
    Wrong,
    Malformed,
    Retry,
    Wait(u64),
}

fn step() -> impl proptest::strategy::Strategy<Value = Step> {
    prop_oneof![
        2 => Just(Step::Right),
        4 => Just(Step::Wrong),
        1 => Just(Step::Malformed),
        2 => Just(Step::Retry),
        2 => (0u64..400).prop_map(Step::Wait),
    ]
}

proptest! {
    /// No sequence of calls verifies with a wrong code, verifies twice,
    /// lowers the attempt count, or brings a challenge back from a final state.
    #[test]
    fn no_sequence_breaks_the_rules(steps in prop::collection::vec(step(), 1..40)) {
        let (mut code, mut c) = create(ChallengePolicy::default());
        let mut now = T;
        let mut valids = 0;
        for step in steps {
            let before = c.clone();
            let status_before = c.status_at(now);
            match step {
                Step::Wait(s) => now += s,
                Step::Retry => {
                    let (next, outcome) = c.retry(&otpkit::Pepper::NONE, now).unwrap();
                    if let RetryOutcome::Sent { code: new, .. } = outcome {
                        code = new.to_string();
                    }
                    c = next;
                }
                Step::Malformed => {
                    // A final state answers first; a live challenge calls the input malformed.
                    let live = status_before == VerificationStatus::Unverified;
                    let (_, outcome) = c.check("x", &otpkit::Pepper::NONE, now).unwrap();
                    prop_assert_eq!(matches!(outcome, CheckOutcome::Malformed(_)), live);
                }
                Step::Right | Step::Wrong => {
                    let input = if matches!(step, Step::Right) { code.clone() } else { wrong(&code) };
                    let (next, outcome) = c.check(&input, &otpkit::Pepper::NONE, now).unwrap();
                    if outcome == CheckOutcome::Valid {
                        valids += 1;
                        prop_assert!(matches!(step, Step::Right), "a wrong code verified");
                        prop_assert_eq!(status_before, VerificationStatus::Unverified);
                    }
                    c = next;
                }
            }
            prop_assert!(valids <= 1, "verified twice");
            prop_assert!(c.attempts() >= before.attempts(), "attempts went down");
            if status_before != VerificationStatus::Unverified {
                prop_assert_eq!(c.status_at(now), status_before, "left a final state");
            }
        }
    }
}
