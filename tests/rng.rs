//! The `*_with_rng` functions draw from the generator they are given and
//! from nothing else: the same seed gives the same secret, codes, record,
//! challenge and sealed text; another seed gives others. These run without
//! `std` too, as firmware or WebAssembly would call them.

use otpkit::backup::BackupCodeOptions;
use otpkit::challenge::{ChallengePolicy, RetryOutcome, Strategy};
use otpkit::record::TotpOutcome;
use otpkit::{Algorithm, BackupCodeSet, OtpChallenge, Secret, TotpRecord};
use rand::SeedableRng;
use rand::rngs::StdRng;

const NOW: u64 = 1_700_000_000;

fn seeded(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

#[test]
fn a_secret_is_the_seed_s_bytes() {
    let a = Secret::generate_with_rng(Algorithm::Sha512, &mut seeded(1));
    let b = Secret::generate_with_rng(Algorithm::Sha512, &mut seeded(1));
    let c = Secret::generate_with_rng(Algorithm::Sha512, &mut seeded(2));
    assert_eq!(a.len(), 64);
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn backup_codes_and_their_salt_come_from_the_generator() {
    let options = BackupCodeOptions::default();
    let (codes_a, set_a) =
        BackupCodeSet::generate_with_rng(&options, &otpkit::Pepper::NONE, NOW, &mut seeded(3))
            .unwrap();
    let (codes_b, set_b) =
        BackupCodeSet::generate_with_rng(&options, &otpkit::Pepper::NONE, NOW, &mut seeded(3))
            .unwrap();
    let (codes_c, _) =
        BackupCodeSet::generate_with_rng(&options, &otpkit::Pepper::NONE, NOW, &mut seeded(4))
            .unwrap();
    assert_eq!(codes_a, codes_b);
    assert_ne!(codes_a, codes_c);
    assert_eq!(set_a.remaining(), 10);
    // The same salt and hashes too: the stored forms are equal.
    #[cfg(feature = "serde")]
    assert_eq!(
        serde_json::to_string(&set_a).unwrap(),
        serde_json::to_string(&set_b).unwrap()
    );
    #[cfg(not(feature = "serde"))]
    let _ = set_b;
}

#[test]
fn a_record_its_id_and_its_first_backup_codes_come_from_the_generator() {
    let create = |seed| {
        TotpRecord::create_with_rng("ACME", "alice", &Default::default(), NOW, &mut seeded(seed))
            .unwrap()
    };
    let ((a, created_a), (b, _), (c, _)) = (create(5), create(5), create(6));
    assert_eq!(a, b);
    assert_eq!(created_a.resource().id(), b.resource().id());
    assert_ne!(a.resource().id(), c.resource().id());
    assert_ne!(a.totp().secret(), c.totp().secret());

    let code = a.totp().generate_at(NOW).unwrap().to_string();
    let first = |record: &TotpRecord, seed| match record
        .verify_with_rng(&code, &otpkit::Pepper::NONE, NOW, &mut seeded(seed))
        .unwrap()
        .1
    {
        TotpOutcome::Valid {
            backup_codes: codes,
            ..
        } => codes,
        other => panic!("the first right code issues backup codes, got {other:?}"),
    };
    assert_eq!(first(&a, 7), first(&b, 7));
    assert_ne!(first(&a, 7), first(&b, 8));
}

#[test]
fn a_challenge_s_code_and_its_resend_come_from_the_generator() {
    let policy = ChallengePolicy::default();
    let create = |seed| {
        OtpChallenge::create_with_rng(
            Strategy::PhoneCode,
            &policy,
            &otpkit::Pepper::NONE,
            NOW,
            &mut seeded(seed),
        )
        .unwrap()
    };
    let ((code_a, a), (code_b, b)) = (create(9), create(9));
    assert_eq!((code_a.to_string(), &a), (code_b.to_string(), &b));
    // Ten different seeds cannot all draw the same 6-digit code by chance
    // (a chance of 10^-54).
    let others: Vec<String> = (10..20).map(|seed| create(seed).0.to_string()).collect();
    assert!(others.iter().any(|code| *code != code_a.to_string()));

    let resend = |seed| match a
        .retry_with_rng(&otpkit::Pepper::NONE, NOW + 30, &mut seeded(seed))
        .unwrap()
        .1
    {
        RetryOutcome::Sent { code, .. } => code.to_string(),
        other => panic!("a retry after the cool-down sends, got {other:?}"),
    };
    assert_eq!(resend(21), resend(21));
}

#[cfg(feature = "seal")]
#[test]
fn sealing_keys_and_nonces_come_from_the_generator() {
    use otpkit::Keyring;
    use otpkit::seal::SealingKey;
    let key = SealingKey::generate_with_rng(&mut seeded(22));
    assert_eq!(
        key.id(),
        SealingKey::generate_with_rng(&mut seeded(22)).id()
    );
    let ring = Keyring::new(key);
    let secret = Secret::generate_with_rng(Algorithm::Sha1, &mut seeded(23));
    let seal = |seed| {
        ring.seal_with_rng(&secret, b"ctx", &mut seeded(seed))
            .unwrap()
            .to_string()
    };
    assert_eq!(seal(24), seal(24), "the nonce is the generator's");
    assert_ne!(seal(24), seal(25));
    assert_eq!(
        ring.open(&seal(24).parse().unwrap(), b"ctx").unwrap(),
        secret
    );
}

#[cfg(all(feature = "serde", feature = "seal"))]
#[test]
fn a_sealed_record_and_its_rekeying_come_from_the_generator() {
    use otpkit::Keyring;
    use otpkit::seal::SealingKey;
    let (record, _) =
        TotpRecord::create_with_rng("ACME", "bob", &Default::default(), NOW, &mut seeded(26))
            .unwrap();
    let (old, new) = (
        SealingKey::generate_with_rng(&mut seeded(27)),
        SealingKey::generate_with_rng(&mut seeded(28)),
    );
    let ring = Keyring::new(old.clone());
    let stored = record.seal_with_rng(&ring, &mut seeded(29)).unwrap();
    assert_eq!(
        stored,
        record.seal_with_rng(&ring, &mut seeded(29)).unwrap()
    );
    let rotated = Keyring::new(new.clone()).with_old_key(old).unwrap();
    let rekeyed = stored.rekey_with_rng(&rotated, &mut seeded(30)).unwrap();
    assert_eq!(
        rekeyed,
        stored.rekey_with_rng(&rotated, &mut seeded(30)).unwrap()
    );
    assert_eq!(rekeyed.key_id(), Some(new.id()));
    assert_eq!(rekeyed.open(&Keyring::new(new)).unwrap(), record);
}
