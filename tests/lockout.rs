//! The lockout policy: what a stranger who knows a user id can and cannot
//! do. Replays are not guesses, a locked TOTP leaves backup codes working,
//! locks are capped and forgotten after a quiet period, and a backup code
//! is hashed at most `free failures + 1` times per lock however many
//! requests race (each attempt is reserved in the record before hashing).

#![cfg(all(feature = "std", feature = "serde"))]

use otpkit::backup::{BackupCodeOptions, BackupCodes, BackupHashScheme};
use otpkit::record::{CodeType, EnrollmentOptions, Lockout, TotpOutcome, TotpRecord, Verification};

const T: u64 = 1_700_000_000;

/// The pepper the fast (HMAC) backup codes here are hashed with: without
/// one, short HMAC codes are below otpkit's floor for new sets.
fn pepper() -> otpkit::Pepper {
    otpkit::Pepper::new(b"a test pepper of sixteen bytes").unwrap()
}

/// A verified record (cheap backup hashes) and its backup codes.
fn verified() -> (TotpRecord, BackupCodes) {
    let options = EnrollmentOptions::default().backup_codes(Some(
        BackupCodeOptions::default().scheme(BackupHashScheme::HmacSha256),
    ));
    let (record, _) = TotpRecord::create("ACME", "bob", &options, T).unwrap();
    let code = record.totp().generate_at(T).unwrap().to_string();
    let (record, outcome) = record.verify(&code, &pepper(), T).unwrap();
    let TotpOutcome::Valid {
        backup_codes: codes,
        ..
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    (record, codes)
}

fn wrong_totp(record: &TotpRecord, now: u64) -> &'static str {
    let right = record.totp().generate_at(now).unwrap().to_string();
    if right == "000000" {
        "111111"
    } else {
        "000000"
    }
}

#[test]
fn a_replay_is_refused_but_never_counted() {
    let (record, codes) = verified();
    let code = record.totp().generate_at(T).unwrap().to_string();
    let mut record = record;
    for i in 0..10 {
        let (next, outcome) = record.verify(&code, &pepper(), T + i).unwrap();
        assert_eq!(
            outcome,
            TotpOutcome::Replayed {
                code_type: CodeType::Totp
            }
        );
        assert_eq!(next, record, "a replay changes nothing");
        record = next;
    }
    let backup = codes.iter().next().unwrap();
    let (record, outcome) = record.verify(backup, &pepper(), T + 20).unwrap();
    assert!(outcome.is_valid());
    for i in 0..10 {
        let (next, outcome) = record.verify(backup, &pepper(), T + 21 + i).unwrap();
        assert_eq!(
            outcome,
            TotpOutcome::Replayed {
                code_type: CodeType::BackupCode
            }
        );
        assert_eq!((next.failures(), next.backup_failures()), (0, 0));
    }
}

#[test]
fn a_locked_totp_leaves_backup_codes_working() {
    let (mut record, codes) = verified();
    let mut now = T + 1;
    for _ in 0..8 {
        let (next, outcome) = record
            .verify(wrong_totp(&record, now), &pepper(), now)
            .unwrap();
        assert!(matches!(
            outcome,
            TotpOutcome::Invalid {
                code_type: CodeType::Totp,
                ..
            } | TotpOutcome::Locked { .. }
        ));
        record = next;
        now += 1;
    }
    assert!(
        record.locked_until().is_some_and(|until| until > now),
        "the TOTP is locked"
    );
    let right = record.totp().generate_at(now + 10).unwrap().to_string();
    assert!(matches!(
        record.verify(&right, &pepper(), now + 10).unwrap().1,
        TotpOutcome::Locked {
            code_type: CodeType::Totp,
            ..
        }
    ));
    let (record, outcome) = record
        .verify(codes.iter().next().unwrap(), &pepper(), now)
        .unwrap();
    assert!(matches!(
        outcome,
        TotpOutcome::Valid {
            code_type: CodeType::BackupCode,
            ..
        }
    ));
    assert_eq!(
        (record.failures(), record.locked_until()),
        (0, None),
        "a right code resets both"
    );
}

#[test]
fn backup_codes_have_their_own_looser_budget() {
    let (mut record, codes) = verified();
    for i in 0..10 {
        let (next, outcome) = record.verify("2345-6789-ab", &pepper(), T + 1 + i).unwrap();
        assert_eq!(
            outcome,
            TotpOutcome::Invalid {
                code_type: CodeType::BackupCode,
                failures: u32::try_from(i + 1).unwrap(),
                locked_until: None
            }
        );
        record = next;
    }
    let (record, outcome) = record.verify("2345-6789-ab", &pepper(), T + 20).unwrap();
    assert_eq!(
        outcome,
        TotpOutcome::Invalid {
            code_type: CodeType::BackupCode,
            failures: 11,
            locked_until: Some(T + 80)
        }
    );
    assert_eq!(record.failures(), 0, "the TOTP budget is untouched");
    // Locked: even a right backup code waits; a TOTP code does not.
    assert_eq!(
        record
            .verify(codes.iter().next().unwrap(), &pepper(), T + 21)
            .unwrap()
            .1,
        TotpOutcome::Locked {
            code_type: CodeType::BackupCode,
            until: T + 80
        }
    );
    let totp = record.totp().generate_at(T + 60).unwrap().to_string();
    assert!(
        record
            .verify(&totp, &pepper(), T + 60)
            .unwrap()
            .1
            .is_valid()
    );
}

#[test]
fn locks_are_capped_and_failures_fade_after_a_quiet_period() {
    let (mut record, _) = verified();
    let mut now = T + 1;
    let mut longest = 0;
    for _ in 0..40 {
        let (next, outcome) = record
            .verify(wrong_totp(&record, now), &pepper(), now)
            .unwrap();
        if let TotpOutcome::Invalid {
            locked_until: Some(until),
            ..
        } = outcome
        {
            longest = longest.max(until - now);
            now = until; // wait the lock out
        } else {
            now += 1;
        }
        record = next;
    }
    assert_eq!(longest, Lockout::default().max_lock(), "15 minutes at most");
    // Failures fade one per quiet period, never all at once: the last lock
    // waited out (one quiet period, 15 minutes) and an hour more take five
    // of them back, and the next wrong code still locks.
    let held = record.failures();
    let quiet = Lockout::default().quiet_period();
    now += 4 * quiet;
    let (next, outcome) = record
        .verify(wrong_totp(&record, now), &pepper(), now)
        .unwrap();
    assert!(
        matches!(outcome, TotpOutcome::Invalid { failures, locked_until: Some(_), .. } if failures == held - 5 + 1),
        "{outcome:?}"
    );
    record = next;
    // Quiet long enough for every one of them: a first again.
    now += u64::from(record.failures()) * quiet;
    let (_, outcome) = record
        .verify(wrong_totp(&record, now), &pepper(), now)
        .unwrap();
    assert_eq!(
        outcome,
        TotpOutcome::Invalid {
            code_type: CodeType::Totp,
            failures: 1,
            locked_until: None
        }
    );
}

/// 64 requests race with wrong backup codes at one record, each running
/// load → `begin_verify` → compare-and-set, again on a lost race; only a
/// request whose reservation was saved hashes.
#[test]
fn racing_requests_hash_at_most_free_failures_plus_one_times() {
    let (record, _) = verified();
    let free = Lockout::for_backup_codes().free_failures();
    let mut stored = (0u64, record);
    // Every request loads the same version first: the worst interleaving.
    let mut pending: Vec<(u64, TotpRecord)> = (0..64).map(|_| stored.clone()).collect();
    let mut checks = Vec::new();
    let mut refused_unhashed = 0;
    while let Some((version, loaded)) = pending.pop() {
        match loaded.begin_verify("2345-6789-ab", T + 5).unwrap() {
            Verification::CheckBackupCode(reserved, check) => {
                if version == stored.0 {
                    stored = (version + 1, reserved);
                    checks.push(check);
                } else {
                    pending.push(stored.clone()); // lost: reload, again
                }
            }
            Verification::Decided(_, outcome) => {
                assert!(matches!(
                    outcome,
                    TotpOutcome::Locked {
                        code_type: CodeType::BackupCode,
                        ..
                    }
                ));
                refused_unhashed += 1;
            }
            Verification::IssueBackupCodes(_) => panic!("a verified record issues none"),
        }
    }
    assert_eq!(checks.len(), usize::try_from(free + 1).unwrap());
    assert_eq!(refused_unhashed, 64 - checks.len());
    for check in &checks {
        let checked = check.run(&pepper()).unwrap();
        let (after, outcome) = stored.1.finish_verify(&checked, T + 5);
        assert!(matches!(
            outcome,
            TotpOutcome::Invalid {
                code_type: CodeType::BackupCode,
                ..
            }
        ));
        assert_eq!(after, stored.1, "the failure was counted when reserved");
    }
}

/// The first right code's backup codes are made before the transition
/// (`IssueBackupCodes`: nothing changed, nothing to save), so a server's
/// compare-and-set loop never hashes; two first verifications racing with
/// the same code issue one set, and the loser's is never used.
#[test]
fn the_first_right_codes_backup_codes_are_made_outside_the_transition() {
    let options = EnrollmentOptions::default().backup_codes(Some(
        BackupCodeOptions::default().scheme(BackupHashScheme::HmacSha256),
    ));
    let (record, _) = TotpRecord::create("ACME", "bob", &options, T).unwrap();
    let code = record.totp().generate_at(T).unwrap().to_string();
    let wrong = wrong_totp(&record, T);
    let Verification::Decided(after_wrong, outcome) = record.begin_verify(wrong, T).unwrap() else {
        panic!("a wrong code is decided at once")
    };
    assert!(matches!(outcome, TotpOutcome::Invalid { failures: 1, .. }));
    // Two requests load the same record and both ask for codes.
    let ask = |record: &TotpRecord| match record.begin_verify(&code, T).unwrap() {
        Verification::IssueBackupCodes(options) => options,
        other => panic!("{other:?}"),
    };
    let made = [ask(&after_wrong), ask(&after_wrong)]
        .map(|options| otpkit::BackupCodeSet::generate(&options, &pepper(), T).unwrap());
    // The first to save wins: verified, its failures reset, its codes issued.
    let Verification::Decided(stored, outcome) = after_wrong
        .begin_verify_issuing(&code, T, &made[0].0, &made[0].1)
        .unwrap()
    else {
        panic!()
    };
    let TotpOutcome::Valid {
        backup_codes: shown,
        ..
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    assert!(stored.is_verified());
    assert_eq!(stored.failures(), 0);
    assert_eq!(
        shown.iter().collect::<Vec<_>>(),
        made[0].0.iter().collect::<Vec<_>>()
    );
    // The loser reloads the saved record: a replay, its codes unused.
    let Verification::Decided(unchanged, outcome) = stored
        .begin_verify_issuing(&code, T + 1, &made[1].0, &made[1].1)
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(
        outcome,
        TotpOutcome::Replayed {
            code_type: CodeType::Totp
        }
    );
    assert_eq!(unchanged, stored);
    let loser = made[1].0.iter().next().unwrap();
    assert!(!stored.verify(loser, &pepper(), T + 2).unwrap().1.is_valid());
    let winner = made[0].0.iter().next().unwrap();
    assert!(
        stored
            .verify(winner, &pepper(), T + 3)
            .unwrap()
            .1
            .is_valid()
    );
}

#[test]
fn a_code_checked_against_a_replaced_set_is_refused() {
    let (record, codes) = verified();
    let Verification::CheckBackupCode(reserved, check) = record
        .begin_verify(codes.iter().next().unwrap(), T + 5)
        .unwrap()
    else {
        panic!()
    };
    let checked = check.run(&pepper()).unwrap();
    assert!(checked.matched());
    // Meanwhile the codes were regenerated.
    let (replaced, _) = reserved
        .regenerate_backup_codes(&BackupCodeOptions::default(), &pepper(), T + 6)
        .unwrap();
    let (_, outcome) = replaced.finish_verify(&checked, T + 7);
    assert!(matches!(
        outcome,
        TotpOutcome::Invalid {
            code_type: CodeType::BackupCode,
            ..
        }
    ));
    // On the record as reserved, it is accepted, once.
    let (used, outcome) = reserved.finish_verify(&checked, T + 7);
    assert!(outcome.is_valid());
    let (_, again) = used.finish_verify(&checked, T + 8);
    assert_eq!(
        again,
        TotpOutcome::Replayed {
            code_type: CodeType::BackupCode
        }
    );
}

#[test]
fn records_stored_before_the_budgets_load_with_their_defaults() {
    let (record, _) = verified();
    let mut json = serde_json::to_value(record.unsealed_for_storage()).unwrap();
    let object = json.as_object_mut().unwrap();
    object.remove("backup_lockout");
    object.insert(
        "lockout".into(),
        serde_json::json!({"free_failures": 5, "cooldown": 30}),
    );
    let stored: otpkit::StoredTotpRecord = serde_json::from_value(json).unwrap();
    let loaded = stored.open_unsealed().unwrap();
    assert_eq!(loaded, record);
}
