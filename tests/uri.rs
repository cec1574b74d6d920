//! otpauth:// URIs: build → parse round trips, and interop with pyotp in
//! both directions.

use otpkit::uri::OtpType;
use otpkit::{Algorithm, Hotp, OtpAuthUri, Secret, Totp};
use proptest::prelude::*;

use crate::support::TRICKY_LABELS as TRICKY;

fn secret() -> Secret {
    Secret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap()
}

fn label_text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(TRICKY).prop_map(str::to_owned),
        "[ -~]{1,30}",
        any::<String>().prop_filter("non-empty", |s| !s.is_empty()),
    ]
}

proptest! {
    #[test]
    fn build_then_parse_gives_the_same_fields(
        issuer in label_text(),
        account in label_text().prop_filter("no leading space", |a| !a.starts_with(' ')),
        algorithm in prop_oneof![Just(Algorithm::Sha1), Just(Algorithm::Sha256), Just(Algorithm::Sha512)],
        digits in 6u8..=10,
        period in 1u64..=1000,
        counter in any::<u64>(),
        hotp in any::<bool>(),
        image in proptest::option::of(label_text()),
        explicit in any::<bool>(),
    ) {
        let mut uri = if hotp {
            OtpAuthUri::for_hotp(&Hotp::with(secret(), algorithm, digits).unwrap(), counter, account.clone())
        } else {
            let totp = Totp::builder(secret()).algorithm(algorithm).digits(digits).period(period).build().unwrap();
            OtpAuthUri::for_totp(&totp, account.clone())
        };
        uri = uri.with_issuer(issuer.clone()).with_explicit_defaults(explicit);
        if let Some(image) = &image {
            uri = uri.with_image(image.clone());
        }
        let text = uri.to_string();
        prop_assert!(text.is_ascii());
        let parsed: OtpAuthUri = text.parse().unwrap();
        prop_assert_eq!(parsed.issuer(), Some(issuer.as_str()));
        prop_assert_eq!(parsed.account(), account.as_str());
        prop_assert_eq!(parsed.secret(), &secret());
        prop_assert_eq!(parsed.algorithm(), algorithm);
        prop_assert_eq!(parsed.digits(), digits);
        prop_assert_eq!(parsed.image(), image.as_deref());
        prop_assert_eq!(parsed.otp_type(), if hotp { OtpType::Hotp { counter } } else { OtpType::Totp { period } });
        // And building again is stable.
        prop_assert_eq!(parsed.with_explicit_defaults(explicit).to_string(), text);
    }

    #[test]
    fn parsing_never_panics(input in any::<String>(), tail in "[a-zA-Z0-9%:&=?+ ]{0,40}") {
        let _ = input.parse::<OtpAuthUri>();
        let _ = format!("otpauth://totp/{tail}").parse::<OtpAuthUri>();
        let _ = format!("otpauth://totp/a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY&{tail}").parse::<OtpAuthUri>();
    }
}

#[test]
fn unknown_parameters_survive_a_round_trip() {
    let text = "otpauth://totp/ACME:bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME&color=%23ff0000&lock=true";
    let uri: OtpAuthUri = text.parse().unwrap();
    assert_eq!(uri.to_string(), text);
}
