//! Stored state is checked as strictly as the transitions assume: a record
//! or challenge that loads can never accept a wrong code, accept a code
//! twice, grant an extra guess, or lower a failure or attempt count — and
//! every state a transition returns loads again.
#![cfg(all(feature = "std", feature = "serde", feature = "seal"))]

use otpkit::backup::{BackupCodeOptions, BackupHashScheme};
use otpkit::challenge::{ChallengePolicy, CheckOutcome, RetryOutcome};
use otpkit::clerk::{Strategy as Delivery, VerificationStatus};
use otpkit::record::{CodeType, EnrollmentOptions, Lockout};
use otpkit::seal::SealingKey;
use otpkit::{Keyring, OtpChallenge, StoredTotpRecord, TotpOutcome, TotpRecord};
use proptest::prelude::*;
use serde_json::{Value, json};

const T: u64 = 1_700_000_000;

/// The pepper the fast (HMAC) backup codes here are hashed with: without
/// one, short HMAC codes are below otpkit's floor for new sets.
fn pepper() -> otpkit::Pepper {
    otpkit::Pepper::new(b"a test pepper of sixteen bytes").unwrap()
}

fn keyring() -> Keyring {
    Keyring::new(SealingKey::new("test", [7; 32]).unwrap())
}

/// A record's stored JSON, sealed.
fn stored(record: &TotpRecord) -> Value {
    serde_json::to_value(record.seal(&keyring()).unwrap()).unwrap()
}

/// Loads stored JSON and opens it: what an app does.
fn load(json: Value) -> Result<TotpRecord, String> {
    let stored: StoredTotpRecord = serde_json::from_value(json).map_err(|e| e.to_string())?;
    stored.open(&keyring()).map_err(|e| e.to_string())
}

fn refusal<T: serde::de::DeserializeOwned + std::fmt::Debug>(json: Value) -> String {
    serde_json::from_value::<T>(json).unwrap_err().to_string()
}

/// A verified record whose lockout locks after two free failures, with its
/// backup codes.
fn verified_record() -> (TotpRecord, Vec<String>) {
    // Backup codes under the fast scheme: the properties are about state,
    // and 200 cases of PBKDF2 sets would only cost time.
    let fast = BackupCodeOptions::default().scheme(BackupHashScheme::HmacSha256);
    let options = EnrollmentOptions::default()
        .lockout(Lockout::new(2, 30).unwrap())
        .backup_codes(Some(fast));
    let (record, _) = TotpRecord::create("ACME", "alice", &options, T).unwrap();
    let code = record.totp().generate_at(T).unwrap().to_string();
    let (record, outcome) = record.verify(&code, &pepper(), T).unwrap();
    let TotpOutcome::Valid {
        backup_codes: codes,
        ..
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    let codes = codes.iter().map(str::to_owned);
    (record, codes.collect())
}

#[test]
fn records_that_would_switch_a_check_off_are_refused() {
    let (record, _) = verified_record();
    let json = stored(&record);
    let cases: [(&str, Value, &str); 9] = [
        (
            "lockout",
            json!({"free_failures": 2, "cooldown": 0}),
            "cooldown must be 1 to 86400 seconds",
        ),
        (
            "lockout",
            json!({"free_failures": 4_000_000_000u32, "cooldown": 30}),
            "at most 20 free failures",
        ),
        (
            "backup_settings",
            json!({"count": 0, "length": 10, "pbkdf2_iterations": 0}),
            "backup-code count out of range",
        ),
        (
            "backup_settings",
            json!({"count": 10, "length": 3, "pbkdf2_iterations": 0}),
            "backup-code length out of range",
        ),
        (
            "backup_settings",
            json!({"count": 10, "length": 10, "pbkdf2_iterations": 4_000_000_000u32}),
            "pbkdf2 iterations",
        ),
        ("failures", json!(3), "failures and locked_until disagree"),
        (
            "locked_until",
            json!(T + 60),
            "failures and locked_until disagree",
        ),
        ("id", json!(""), "id is empty"),
        ("window", json!(1000), "window too large"),
    ];
    for (field, value, message) in cases {
        let mut bad = json.clone();
        bad[field] = value;
        let err = refusal::<StoredTotpRecord>(bad);
        assert!(err.contains(message), "{field}: {err}");
    }
    let mut far_lock = json.clone();
    far_lock["failures"] = json!(3);
    far_lock["locked_until"] = json!(T + 10 * 86_400);
    let err = refusal::<StoredTotpRecord>(far_lock);
    assert!(err.contains("a lock ends more than a day"), "{err}");
    // The backup codes' budget is checked the same way.
    let mut backup = json.clone();
    backup["backup_failures"] = json!(11);
    let err = refusal::<StoredTotpRecord>(backup);
    assert!(
        err.contains("backup_failures and backup_locked_until disagree"),
        "{err}"
    );
    let mut backup = json.clone();
    backup["backup_lockout"] =
        json!({"free_failures": 3, "cooldown": 60, "max_lock": 30, "quiet_period": 3600});
    let err = refusal::<StoredTotpRecord>(backup);
    assert!(err.contains("longest lock"), "{err}");
    let mut future = json.clone();
    future["failures"] = json!(1);
    future["failed_at"] = json!(T + 86_400);
    let err = refusal::<StoredTotpRecord>(future);
    assert!(err.contains("dated after updated_at"), "{err}");
}

#[test]
fn a_challenge_with_no_attempts_left_gets_no_guess() {
    let (code, challenge) = OtpChallenge::create(
        Delivery::PhoneCode,
        &ChallengePolicy::default(),
        &otpkit::Pepper::NONE,
        T,
    )
    .unwrap();
    let mut json = serde_json::to_value(&challenge).unwrap();
    json["attempts"] = json!(5);
    let err = refusal::<OtpChallenge>(json.clone());
    assert!(err.contains("unverified with no attempts left"), "{err}");
    json["attempts"] = json!(0);
    json["status"] = json!("verified");
    json["verified_at"] = json!(T);
    let err = refusal::<OtpChallenge>(json);
    assert!(err.contains("verified without an attempt"), "{err}");
    // And the transition itself refuses before comparing, whatever it holds.
    let (_, outcome) = challenge
        .check(&code.to_string(), &otpkit::Pepper::NONE, T)
        .unwrap();
    assert_eq!(outcome, CheckOutcome::Valid);
}

/// A stored challenge is held to the bounds its builder enforces: no
/// stored policy grants more attempts, retries, lifetime or cool-down than
/// `ChallengePolicy` would let a new one have.
#[test]
fn a_stored_challenge_is_held_to_its_builders_bounds() {
    let (_, challenge) = OtpChallenge::create(
        Delivery::PhoneCode,
        &ChallengePolicy::default(),
        &otpkit::Pepper::NONE,
        T,
    )
    .unwrap();
    let json = serde_json::to_value(&challenge).unwrap();
    for (field, value, said) in [
        ("max_attempts", json!(1000), "max_attempts must be 1 to 10"),
        ("max_retries", json!(1000), "max_retries must be at most 10"),
        (
            "retry_cooldown",
            json!(1_000_000),
            "retry_cooldown must be at most 3600",
        ),
    ] {
        let mut edited = json.clone();
        edited[field] = value;
        let err = refusal::<OtpChallenge>(edited);
        assert!(err.contains(said), "{field}: {err}");
    }
    // A lifetime of years (its expiry moved along with it).
    let mut edited = json.clone();
    edited["ttl"] = json!(10 * 365 * 86_400u64);
    edited["expire_at"] = json!(T + 10 * 365 * 86_400);
    let err = refusal::<OtpChallenge>(edited);
    assert!(err.contains("ttl must be 1 to 86400"), "{err}");
    // And the builder refuses the same policies.
    for policy in [
        ChallengePolicy::default().max_attempts(11),
        ChallengePolicy::default().max_retries(11),
        ChallengePolicy::default().ttl(86_401),
        ChallengePolicy::default().retry_cooldown(3601),
    ] {
        assert!(
            OtpChallenge::create(Delivery::PhoneCode, &policy, &otpkit::Pepper::NONE, T).is_err()
        );
    }
}

// ---- properties over every state that loads ----

/// A JSON field and a value to put in it: edges and plausible values.
fn record_mutation() -> impl Strategy<Value = (&'static str, Value)> {
    let time = prop_oneof![
        Just(0u64),
        T - 100..T + 100,
        Just(T + 86_400),
        Just(u64::MAX)
    ];
    prop_oneof![
        (0u32..6).prop_map(|n| ("failures", json!(n))),
        proptest::option::of(time.clone()).prop_map(|t| ("locked_until", json!(t))),
        proptest::option::of((T / 30 - 3)..(T / 30 + 3)).prop_map(|s| ("last_used_step", json!(s))),
        any::<bool>().prop_map(|v| ("verified", json!(v))),
        time.clone().prop_map(|t| ("updated_at", json!(t))),
        time.clone().prop_map(|t| ("created_at", json!(t))),
        (0u32..25, 0u64..100)
            .prop_map(|(f, c)| ("lockout", json!({"free_failures": f, "cooldown": c}))),
        (0u32..12).prop_map(|n| ("backup_failures", json!(n))),
        proptest::option::of(time.clone()).prop_map(|t| ("backup_locked_until", json!(t))),
        proptest::option::of(time).prop_map(|t| ("failed_at", json!(t))),
        (0u32..25, 0u64..100, 0u64..2000).prop_map(|(f, c, m)| (
            "backup_lockout",
            json!({"free_failures": f, "cooldown": c, "max_lock": m, "quiet_period": 3600})
        )),
        (0u64..3).prop_map(|w| ("window", json!(w))),
        Just(("backup_codes", Value::Null)),
        (-25i64..25).prop_map(|d| ("drift", json!(d))),
    ]
}

#[derive(Debug, Clone)]
enum Try {
    RightTotp,
    WrongTotp,
    OldTotp,
    Backup(usize),
    WrongBackup,
    Wait(u64),
}

fn attempt() -> impl Strategy<Value = Try> {
    prop_oneof![
        2 => Just(Try::RightTotp),
        4 => Just(Try::WrongTotp),
        1 => Just(Try::OldTotp),
        2 => (0usize..3).prop_map(Try::Backup),
        2 => Just(Try::WrongBackup),
        2 => (0u64..200).prop_map(Try::Wait),
    ]
}

fn wrong_digits(right: &str) -> String {
    right
        .bytes()
        .map(|b| char::from(b'0' + (b - b'0' + 1) % 10))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// From any record that loads, no sequence of codes gets a wrong code
    /// accepted, a TOTP step or a backup code accepted twice, a code
    /// accepted while locked, or a failure count lowered but by an accept;
    /// past the free failures every wrong code locks; and every state a
    /// transition returns loads back equal.
    #[test]
    fn no_loaded_record_breaks_the_rules(
        mutations in prop::collection::vec(record_mutation(), 0..4),
        tries in prop::collection::vec(attempt(), 1..25),
    ) {
        let (record, backup) = verified_record();
        let mut json = stored(&record);
        for (field, value) in mutations {
            json[field] = value;
        }
        let Ok(mut record) = load(json) else {
            return Ok(()); // refused: nothing to run
        };
        let mut now = T + 30;
        let mut used_steps: Vec<u64> = record.last_used_step().map(|s| s.value()).into_iter().collect();
        let mut used_backup: Vec<usize> = Vec::new();
        let lockout_free = stored(&record)["lockout"]["free_failures"].as_u64().unwrap();
        let backup_free = stored(&record)["backup_lockout"]["free_failures"].as_u64().unwrap();
        for attempt in tries {
            let totp = record.totp().clone();
            let (input, right_step) = match attempt {
                Try::Wait(s) => { now += s; continue; }
                Try::RightTotp => (totp.generate_at(now).unwrap().to_string(), Some(totp.step_at(now).unwrap().value())),
                Try::WrongTotp => (wrong_digits(&totp.generate_at(now).unwrap().to_string()), None),
                Try::OldTotp => (totp.generate_at(now - 30).unwrap().to_string(), Some(totp.step_at(now - 30).unwrap().value())),
                Try::Backup(i) => (backup[i].clone(), None),
                Try::WrongBackup => ("2222-2222-22".to_owned(), None),
            };
            let totp_locked = record.locked_until().is_some_and(|until| now < until);
            let backup_locked = record.backup_locked_until().is_some_and(|until| now < until);
            let locked_for = |kind: CodeType| match kind {
                CodeType::Totp => totp_locked,
                CodeType::BackupCode => backup_locked,
            };
            let (before, before_backup) = (record.failures(), record.backup_failures());
            // What a user types never makes an `Err`.
            let (next, outcome) = record.verify(&input, &pepper(), now).unwrap();
            match &outcome {
                TotpOutcome::Valid { code_type, .. } => {
                    prop_assert!(!locked_for(*code_type), "accepted while locked");
                    match attempt {
                        Try::RightTotp | Try::OldTotp => {
                            let step = next.last_used_step().unwrap().value();
                            prop_assert!(right_step.is_some());
                            prop_assert!(used_steps.iter().all(|&u| step > u), "step {} reused", step);
                            used_steps.push(step);
                        }
                        Try::Backup(i) => {
                            prop_assert_eq!(*code_type, CodeType::BackupCode);
                            prop_assert!(!used_backup.contains(&i), "backup code {} reused", i);
                            used_backup.push(i);
                        }
                        _ => prop_assert!(false, "wrong code accepted: {:?}", attempt),
                    }
                    prop_assert_eq!((next.failures(), next.backup_failures()), (0, 0));
                }
                TotpOutcome::Locked { code_type, .. } => {
                    prop_assert!(locked_for(*code_type));
                    prop_assert_eq!(&next, &record);
                }
                TotpOutcome::Malformed(_) => {
                    // Only a backup code with no set to check it against.
                    let no_set = !record.is_verified() || record.backup_codes().is_none();
                    prop_assert!(no_set && matches!(attempt, Try::Backup(_) | Try::WrongBackup));
                    prop_assert_eq!(&next, &record);
                }
                TotpOutcome::Invalid { code_type, failures, locked_until } => {
                    prop_assert!(!locked_for(*code_type));
                    let (was, free) = match code_type {
                        CodeType::Totp => (before, lockout_free),
                        CodeType::BackupCode => (before_backup, backup_free),
                    };
                    // One more, or the first after a quiet period.
                    prop_assert!(*failures == was + 1 || *failures == 1, "{} after {}", failures, was);
                    prop_assert_eq!(locked_until.is_some(), u64::from(*failures) > free);
                    prop_assert!(locked_until.is_none_or(|u| u > now));
                    // The other budget is untouched.
                    match code_type {
                        CodeType::Totp => prop_assert_eq!(next.backup_failures(), before_backup),
                        CodeType::BackupCode => prop_assert_eq!(next.failures(), before),
                    }
                }
                TotpOutcome::Replayed { .. } => {
                    // Refused, and not counted.
                    prop_assert_eq!((next.failures(), next.backup_failures()), (before, before_backup));
                }
                other => prop_assert!(false, "unexpected {:?}", other),
            }
            let reloaded = load(stored(&next))
                .map_err(|e| TestCaseError::fail(format!("a transition wrote a state that does not load: {e}")))?;
            prop_assert_eq!(&reloaded, &next);
            record = next;
        }
    }
}

fn challenge_mutation() -> impl Strategy<Value = (&'static str, Value)> {
    prop_oneof![
        (0u32..8).prop_map(|n| ("attempts", json!(n))),
        (0u32..8).prop_map(|n| ("max_attempts", json!(n))),
        (0u32..5).prop_map(|n| ("retries", json!(n))),
        prop_oneof![
            Just("unverified"),
            Just("verified"),
            Just("failed"),
            Just("expired")
        ]
        .prop_map(|s| ("status", json!(s))),
        proptest::option::of(T..T + 700).prop_map(|t| ("verified_at", json!(t))),
        (T..T + 700).prop_map(|t| ("sent_at", json!(t))),
        (0u64..100).prop_map(|c| ("retry_cooldown", json!(c))),
    ]
}

#[derive(Debug, Clone)]
enum Answer {
    Right,
    Wrong,
    Retry,
    Wait(u64),
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// From any challenge that loads: wrong answers never verify, at most
    /// one answer verifies, attempts never go down, the wrong answers
    /// counted never exceed the attempts the loaded state had left, and
    /// every returned state loads back equal.
    #[test]
    fn no_loaded_challenge_breaks_the_rules(
        mutations in prop::collection::vec(challenge_mutation(), 0..4),
        answers in prop::collection::vec(prop_oneof![
            2 => Just(Answer::Right), 4 => Just(Answer::Wrong),
            1 => Just(Answer::Retry), 1 => (0u64..300).prop_map(Answer::Wait)
        ], 1..20),
    ) {
        let (code, challenge) = OtpChallenge::create(Delivery::PhoneCode, &ChallengePolicy::default(), &otpkit::Pepper::NONE, T).unwrap();
        let mut code = code.to_string();
        let mut json = serde_json::to_value(&challenge).unwrap();
        for (field, value) in mutations {
            json[field] = value;
        }
        let Ok(mut c) = serde_json::from_value::<OtpChallenge>(json) else {
            return Ok(());
        };
        let left_at_load = c.remaining_attempts();
        let mut now = T;
        let mut wrong_counted = 0u32;
        let mut valids = 0;
        for answer in answers {
            let before = c.clone();
            match answer {
                Answer::Wait(s) => { now += s; continue; }
                Answer::Retry => {
                    let (next, outcome) = c.retry(&otpkit::Pepper::NONE, now).unwrap();
                    if let RetryOutcome::Sent { code: new, .. } = outcome {
                        code = new.to_string();
                    }
                    c = next;
                }
                Answer::Right | Answer::Wrong => {
                    let input = if matches!(answer, Answer::Right) { code.clone() } else { wrong_digits(&code) };
                    let (next, outcome) = c.check(&input, &otpkit::Pepper::NONE, now).unwrap();
                    match outcome {
                        CheckOutcome::Valid => {
                            valids += 1;
                            prop_assert!(matches!(answer, Answer::Right), "a wrong answer verified");
                            prop_assert_eq!(before.status_at(now), VerificationStatus::Unverified);
                        }
                        CheckOutcome::Invalid { .. } => wrong_counted += 1,
                        CheckOutcome::Locked if next.attempts() > before.attempts() => wrong_counted += 1,
                        _ => prop_assert_eq!(next.attempts(), before.attempts()),
                    }
                    c = next;
                }
            }
            prop_assert!(valids <= 1, "verified twice");
            prop_assert!(c.attempts() >= before.attempts(), "attempts went down");
            prop_assert!(wrong_counted <= left_at_load, "more guesses than the stored state allowed");
            let reloaded: OtpChallenge = serde_json::from_value(serde_json::to_value(&c).unwrap())
                .map_err(|e| TestCaseError::fail(format!("a transition wrote a state that does not load: {e}")))?;
            prop_assert_eq!(&reloaded, &c);
        }
    }
}
