//! No `Debug`, `Display` or error message prints a secret or a plaintext
//! code, and every type holding one is wiped on drop.
#![cfg(all(feature = "std", feature = "serde", feature = "seal"))]

use otpkit::backup::{BackupCodeOptions, BackupCodes};
use otpkit::challenge::ChallengePolicy;
use otpkit::clerk::Strategy;
use otpkit::record::EnrollmentOptions;
use otpkit::{
    BackupCodeSet, Code, Error, Hotp, OtpAuthUri, OtpChallenge, Pepper, Secret, Totp, TotpRecord,
};
use zeroize::ZeroizeOnDrop;

const B32: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

/// The forms a 20-byte key could take in text.
fn forms(secret: &Secret) -> Vec<String> {
    let bytes = secret.expose_secret();
    vec![
        secret.to_base32().to_string(),
        secret.to_base32().to_lowercase(),
        bytes.iter().map(|b| format!("{b:02x}")).collect(),
        format!("{bytes:?}"),
        String::from_utf8_lossy(bytes).into_owned(),
    ]
}

fn assert_clean(text: &str, needles: &[String]) {
    for needle in needles {
        assert!(
            !text.contains(needle.as_str()),
            "{needle:?} leaked in {text}"
        );
    }
}

#[test]
fn debug_of_every_secret_holding_type_is_clean() {
    let secret = Secret::from_base32(B32).unwrap();
    let needles = forms(&secret);
    let totp = Totp::new(secret.clone());
    let hotp = Hotp::new(secret.clone());
    let uri = OtpAuthUri::for_totp(&totp, "alice").with_issuer("ACME");
    let (record, created) =
        TotpRecord::create("ACME", "alice", &EnrollmentOptions::default(), 0).unwrap();
    let created_needles = forms(created.secret());
    let pepper = Pepper::new(b"pepper pepper pepper").unwrap();
    let texts = [
        format!("{secret:?}"),
        format!("{totp:?}"),
        format!("{hotp:?}"),
        format!("{uri:?}"),
        format!("{pepper:?}"),
    ];
    for text in &texts {
        assert_clean(text, &needles);
        assert!(!text.contains("pepper pepper"), "{text}");
    }
    for text in [
        format!("{record:?}"),
        format!("{created:?}"),
        format!("{:?}", record.totp()),
    ] {
        assert_clean(&text, &created_needles);
    }
}

#[test]
fn plaintext_codes_stay_out_of_debug() {
    let (codes, set): (BackupCodes, BackupCodeSet) =
        BackupCodeSet::generate(&BackupCodeOptions::default(), &otpkit::Pepper::NONE, 0).unwrap();
    let plain: Vec<String> = codes
        .iter()
        .flat_map(|c| [c.to_owned(), c.replace('-', "")])
        .collect();
    assert_clean(&format!("{codes:?} {set:?}"), &plain);

    let (code, challenge) = OtpChallenge::create(
        Strategy::PhoneCode,
        &ChallengePolicy::default(),
        &otpkit::Pepper::NONE,
        0,
    )
    .unwrap();
    let text = format!("{code:?} {challenge:?} {:?}", challenge.verification(0));
    assert_clean(&text, &[code.to_string()]);

    let totp_code = Totp::new(Secret::from_base32(B32).unwrap())
        .generate_at(59)
        .unwrap();
    assert_eq!(format!("{totp_code:?}"), "Code { digits: 6, .. }");
}

#[test]
fn error_messages_never_repeat_their_input() {
    let secretish = "SECRETSECRETSECRETSECRET";
    let inputs = [
        format!("{secretish}!"),
        format!("{secretish}1"),
        format!("{secretish}A===="),
        format!("otpauth://totp/a?secret={secretish}1"),
        format!("otpauth://totp/a?secret={secretish}&digits=99"),
        format!("otpauth://hotp/{secretish}?secret={B32}"),
    ];
    let mut errors: Vec<Error> = Vec::new();
    for input in &inputs {
        errors.extend(Secret::from_base32(input).err());
        errors.extend(input.parse::<OtpAuthUri>().err());
        errors.extend(Code::parse(input, 6).err());
        let (_, mut set) =
            BackupCodeSet::generate(&BackupCodeOptions::default(), &otpkit::Pepper::NONE, 0)
                .unwrap();
        errors.extend(
            set.verify_and_consume(input, &otpkit::Pepper::NONE, 0)
                .err(),
        );
    }
    assert!(errors.len() >= 15, "{errors:?}");
    for error in errors {
        let text = format!("{error} {error:?}");
        assert!(!text.contains("SECRETSECRET"), "{text}");
    }
}

#[test]
fn secret_holders_are_wiped_on_drop() {
    fn wiped<T: ZeroizeOnDrop>() {}
    wiped::<Secret>();
    wiped::<Code>();
    // The others keep their secrets in these (or zeroize in `Drop`):
    // Totp and Hotp in a Secret and zeroizing HMAC pad states, Pepper in
    // Zeroizing<Vec<u8>>, BackupCodes in Zeroizing<String>s, TotpResource
    // in a Secret, an OtpAuthUri and BackupCodes; Qr zeroizes its modules.
    assert!(std::mem::needs_drop::<otpkit::TotpResource>());
    assert!(std::mem::needs_drop::<otpkit::Pepper>());
    assert!(std::mem::needs_drop::<Totp>());
}

#[test]
fn debug_of_codes_in_clerk_objects_and_of_qr_modules_is_redacted() {
    let json = r#"{"object":"phone_number","phone_number":"+15550100","reserved":false,
      "verification":null,"linked_to":[],"backup_codes":["k7mq-x2pf-9c","zz23-4567-ab"],
      "created_at":1,"updated_at":2}"#;
    let phone: otpkit::clerk::PhoneNumber = serde_json::from_str(json).unwrap();
    let text = format!("{phone:?}");
    assert_clean(&text, &["k7mq".into(), "zz23".into()]);
    assert!(
        text.contains("+15550100") && text.contains("Some(Some(2))"),
        "{text}"
    );

    #[cfg(feature = "qr")]
    {
        let uri = OtpAuthUri::for_totp(&Totp::new(Secret::from_base32(B32).unwrap()), "alice");
        let qr = otpkit::Qr::new(&uri.to_string()).unwrap();
        let text = format!("{qr:?}");
        assert!(!text.contains("true") && !text.contains("false"), "{text}");
        assert!(text.starts_with("Qr { width: "), "{text}");
    }
}

#[test]
fn sealing_keys_and_sealed_records_print_only_ids() {
    let key = otpkit::seal::SealingKey::new("k1", [0x5c; 32]).unwrap();
    let keyring = otpkit::Keyring::new(key.clone());
    let (record, _) =
        TotpRecord::create("ACME", "alice", &EnrollmentOptions::default(), 0).unwrap();
    let stored = record.seal(&keyring).unwrap();
    let sealed = keyring.seal(record.totp().secret(), b"ctx").unwrap();
    let key_hex = "5c".repeat(32);
    let mut needles = forms(record.totp().secret());
    needles.push(key_hex[..16].to_owned());
    needles.push(format!("{:?}", [0x5c_u8; 4]).replace(' ', ""));
    let sealed_text = sealed.to_string();
    needles.push(sealed_text[sealed_text.len() - 20..].to_owned());
    for text in [
        format!("{key:?}"),
        format!("{keyring:?}"),
        format!("{sealed:?}"),
        format!("{stored:?}"),
    ] {
        assert_clean(&text, &needles);
        assert!(text.contains("k1"), "the id is shown: {text}");
    }
    // The key's bytes live in a `Zeroizing` array, wiped on drop.
    assert!(std::mem::needs_drop::<otpkit::seal::SealingKey>());
}
