//! Steam Guard codes: known answers (from steam-totp 2.1.2, the npm
//! package Steam bots use; `interop/` checks many more against it live),
//! the engine's rules for them, and the URI conventions that name them.
#![cfg(feature = "std")]

use otpkit::uri::OtpType;
use otpkit::{Code, Error, OtpAuthUri, Secret, Totp, Typo, Verdict};

fn rfc_key() -> Secret {
    Secret::from_bytes(b"12345678901234567890").unwrap()
}

#[test]
fn known_answers_from_steam_totp() {
    let steam = Totp::steam(rfc_key());
    for (time, expected) in [
        (0, "GG5F5"),
        (59, "PV9M4"),
        (1_111_111_109, "PY4YB"),
        (1_700_000_000, "R87JJ"),
        (2_000_000_000, "9N776"),
    ] {
        let code = steam.generate_at(time).unwrap();
        assert_eq!(code.to_string(), expected, "at {time}");
        assert!(code.is_steam());
    }
}

#[test]
fn steam_codes_follow_the_engines_rules() {
    let steam = Totp::steam(rfc_key());
    let now = 1_700_000_000;
    let code = steam.generate_at(now).unwrap().to_string();
    let Verdict::Valid(m) = steam.verify_at(&code, now, None).unwrap() else {
        panic!("the current code verifies")
    };
    // Either case; the window of one step; replays refused; typos named.
    assert!(
        steam
            .verify_at(&code.to_lowercase(), now + 30, None)
            .unwrap()
            .is_valid()
    );
    assert!(!steam.verify_at(&code, now + 90, None).unwrap().is_valid());
    assert!(matches!(
        steam.verify_at(&code, now, Some(m.step())).unwrap(),
        Verdict::Replayed(_)
    ));
    assert_eq!(
        steam.verify_at("R87J", now, None).unwrap(),
        Verdict::Malformed(Typo::WrongCodeLength {
            expected: 5,
            found: 4
        })
    );
    assert_eq!(
        steam.verify_at("R87JA", now, None).unwrap(),
        Verdict::Malformed(Typo::InvalidCodeChar { position: 4 })
    );
    // A numeric code is never a Steam code, nor the reverse.
    let numeric = Totp::new(rfc_key());
    assert!(matches!(
        steam
            .verify_at(&numeric.generate_at(now).unwrap().to_string(), now, None)
            .unwrap(),
        Verdict::Malformed(_)
    ));
    assert!(matches!(
        numeric.verify_at(&code, now, None).unwrap(),
        Verdict::Malformed(_)
    ));
    assert_ne!(
        Code::parse_steam(&code).unwrap(),
        numeric.generate_at(now).unwrap()
    );
    // Steam is SHA-1, 30 s, 5 characters: the builder refuses the rest.
    assert_eq!(
        Totp::builder(rfc_key())
            .steam()
            .period(60)
            .build()
            .unwrap_err(),
        Error::SteamSettings
    );
    assert_eq!(
        Totp::builder(rfc_key())
            .steam()
            .digits(6)
            .build()
            .unwrap_err(),
        Error::SteamSettings
    );
    assert!(
        Totp::builder(rfc_key()).digits(5).build().is_err(),
        "5 digits alone is no Steam"
    );
}

#[test]
fn steam_uris_in_every_convention_never_yield_a_numeric_code() {
    let key = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    let expected = Totp::steam(rfc_key()).generate_at(1_700_000_000).unwrap();
    for uri in [
        format!("otpauth://totp/Steam:bob?secret={key}&issuer=Steam&encoder=steam"),
        format!("otpauth://totp/bob?secret={key}&encoder=STEAM&digits=5"),
        format!(
            "otpauth://steam/Steam:bob?secret={key}&issuer=Steam&digits=5&algorithm=SHA1&period=30"
        ),
        format!("otpauth://STEAM/bob?secret={key}"),
        // steamguard-cli's convention: issuer Steam, nothing that says otherwise.
        format!("otpauth://totp/Steam:bob?secret={key}&issuer=Steam"),
        format!("otpauth://totp/steam:bob?secret={key}"),
    ] {
        let parsed: OtpAuthUri = uri.parse().unwrap_or_else(|e| panic!("{uri}: {e}"));
        assert_eq!(parsed.otp_type(), OtpType::Steam, "{uri}");
        let totp = Totp::from_uri(&uri).unwrap();
        assert_eq!(totp.generate_at(1_700_000_000).unwrap(), expected, "{uri}");
        // Written the way the parser reads it back.
        let written = parsed.to_string();
        assert!(written.contains("digits=5&encoder=steam"), "{written}");
        assert_eq!(written.parse::<OtpAuthUri>().unwrap(), parsed);
    }
    // A numeric TOTP whose issuer is Steam is written with its digits, so
    // it reads back numeric (an enrollment's QR code for a service named
    // Steam stays a 6-digit one).
    let numeric = OtpAuthUri::for_totp(&Totp::new(rfc_key()), "bob").with_issuer("Steam");
    let written = numeric.to_string();
    assert!(written.contains("&digits=6"), "{written}");
    assert!(!Totp::from_uri(&written).unwrap().is_steam());
    let (_, enrollment) =
        otpkit::TotpRecord::create("steam", "bob", &Default::default(), 0).unwrap();
    assert!(
        !Totp::from_uri(&enrollment.uri().to_string())
            .unwrap()
            .is_steam()
    );
    // `encoder=steam` on an HOTP URI would be a wrong code: refused.
    let hotp_steam = format!("otpauth://hotp/bob?secret={key}&counter=1&encoder=steam");
    assert_eq!(
        hotp_steam.parse::<OtpAuthUri>().unwrap_err(),
        Error::UnsupportedEncoder
    );
    // Explicit settings that are not Steam's keep an issuer-Steam URI numeric.
    let numeric = format!("otpauth://totp/Steam:bob?secret={key}&issuer=Steam&digits=6");
    assert!(!Totp::from_uri(&numeric).unwrap().is_steam());
    // A Steam URI with settings Steam does not have is refused, not guessed.
    for bad in [
        format!("otpauth://steam/bob?secret={key}&digits=6"),
        format!("otpauth://totp/bob?secret={key}&encoder=steam&algorithm=SHA256"),
        format!("otpauth://totp/bob?secret={key}&encoder=steam&period=60"),
    ] {
        assert!(bad.parse::<OtpAuthUri>().is_err(), "{bad}");
    }
    // Any other encoder would change the code: a typed error, never a code.
    let other = format!("otpauth://totp/bob?secret={key}&encoder=yandex");
    assert_eq!(
        other.parse::<OtpAuthUri>().unwrap_err(),
        Error::UnsupportedEncoder
    );
    // An HOTP URI never becomes Steam.
    let hotp = format!("otpauth://hotp/Steam:bob?secret={key}&issuer=Steam&counter=1");
    assert!(matches!(
        hotp.parse::<OtpAuthUri>().unwrap().otp_type(),
        OtpType::Hotp { counter: 1 }
    ));
}

#[test]
fn one_call_from_a_uri_to_a_generator() {
    let key = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    let totp = Totp::from_uri(&format!("otpauth://totp/ACME:bob?secret={key}&digits=8")).unwrap();
    assert_eq!(totp.generate_at(59).unwrap().to_string(), "94287082");
    assert!((1..=30).contains(&totp.seconds_remaining_now().unwrap()));
    let (hotp, counter) =
        otpkit::Hotp::from_uri(&format!("otpauth://hotp/bob?secret={key}&counter=1")).unwrap();
    assert_eq!(hotp.generate(counter).to_string(), "287082");
    assert_eq!(
        Totp::from_uri(&format!("otpauth://hotp/bob?secret={key}&counter=1")).unwrap_err(),
        Error::NotTotp
    );
    assert_eq!(
        otpkit::Hotp::from_uri(&format!("otpauth://steam/bob?secret={key}")).unwrap_err(),
        Error::NotHotp
    );
}
