//! otpauth:// URIs against pyotp (Python) in both directions: URIs pyotp
//! writes parse here to the same fields, and ours parse there to the same
//! secret, settings and codes.

use otpkit::uri::OtpType;
use otpkit::{Algorithm, Hotp, OtpAuthUri, Secret, Totp};
use serde_json::{Value, json};

use crate::lib_support::TRICKY_LABELS as TRICKY;
use crate::support::python;

#[test]
fn uris_from_pyotp_parse_to_the_same_fields() {
    let script = r#"
import hashlib, json, sys, pyotp
out = []
for c in json.loads(sys.argv[1]):
    digest = getattr(hashlib, c["algorithm"].lower())
    if c["hotp"]:
        otp = pyotp.HOTP(c["secret"], digits=c["digits"], digest=digest)
        uri = otp.provisioning_uri(name=c["account"], issuer_name=c["issuer"], initial_count=c["counter"])
    else:
        otp = pyotp.TOTP(c["secret"], digits=c["digits"], digest=digest, interval=c["period"])
        uri = otp.provisioning_uri(name=c["account"], issuer_name=c["issuer"], image="https://example.com/a b.png")
    out.append(uri)
print(json.dumps(out))
"#;
    let mut cases = Vec::new();
    for (i, label) in TRICKY.iter().enumerate() {
        let algorithm = ["SHA1", "SHA256", "SHA512"][i % 3];
        cases.push(json!({
            "secret": Secret::generate().to_base32().as_str(),
            "issuer": label, "account": format!("user {label}"),
            "algorithm": algorithm, "digits": 6 + i % 5, "period": 15 + i,
            "hotp": i % 4 == 0, "counter": i * 1000,
        }));
    }
    let uris: Value =
        serde_json::from_str(&python(script, &[&Value::from(cases.clone()).to_string()])).unwrap();
    for (case, uri) in cases.iter().zip(uris.as_array().unwrap()) {
        let uri = uri.as_str().unwrap();
        let parsed: OtpAuthUri = uri.parse().unwrap_or_else(|e| panic!("{uri}: {e}"));
        assert_eq!(parsed.issuer(), case["issuer"].as_str(), "{uri}");
        assert_eq!(parsed.account(), case["account"].as_str().unwrap(), "{uri}");
        assert_eq!(
            parsed.secret().to_base32().as_str(),
            case["secret"].as_str().unwrap()
        );
        assert_eq!(
            parsed.algorithm().as_str(),
            case["algorithm"].as_str().unwrap()
        );
        assert_eq!(u64::from(parsed.digits()), case["digits"].as_u64().unwrap());
        if case["hotp"].as_bool().unwrap() {
            assert_eq!(
                parsed.otp_type(),
                OtpType::Hotp {
                    counter: case["counter"].as_u64().unwrap()
                }
            );
        } else {
            assert_eq!(
                parsed.otp_type(),
                OtpType::Totp {
                    period: case["period"].as_u64().unwrap()
                }
            );
            assert_eq!(parsed.image(), Some("https://example.com/a b.png"));
        }
    }
}

#[test]
fn our_uris_parse_with_pyotp() {
    let script = r#"
import json, sys, pyotp
out = []
for uri in json.loads(sys.argv[1]):
    otp = pyotp.parse_uri(uri)
    out.append({
        "secret": otp.secret, "issuer": otp.issuer, "account": otp.name,
        "digits": otp.digits, "algorithm": otp.digest().name.upper(),
        "period": getattr(otp, "interval", None), "code": otp.at(1_700_000_000) if isinstance(otp, pyotp.TOTP) else otp.at(0),  # HOTP.at counts from the URI's counter
    })
print(json.dumps(out))
"#;
    let mut ours = Vec::new();
    for (i, label) in TRICKY.iter().enumerate() {
        let algorithm = [Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512][i % 3];
        let digits = 6 + (i % 3) as u8; // pyotp's parse_uri accepts 6 to 8
        let secret = Secret::generate_for(algorithm);
        let (uri, code) = if i % 4 == 0 {
            let hotp = Hotp::with(secret, algorithm, digits).unwrap();
            (
                OtpAuthUri::for_hotp(&hotp, 7, format!("user {label}")),
                hotp.generate(7).to_string(),
            )
        } else {
            let totp = Totp::builder(secret)
                .algorithm(algorithm)
                .digits(digits)
                .period(15 + i as u64)
                .build()
                .unwrap();
            let code = totp.generate_at(1_700_000_000).unwrap().to_string();
            (OtpAuthUri::for_totp(&totp, format!("user {label}")), code)
        };
        ours.push((uri.with_issuer(*label), code));
    }
    let texts: Vec<String> = ours.iter().map(|(u, _)| u.to_string()).collect();
    let theirs: Value =
        serde_json::from_str(&python(script, &[&json!(texts).to_string()])).unwrap();
    for ((uri, code), parsed) in ours.iter().zip(theirs.as_array().unwrap()) {
        assert_eq!(parsed["issuer"].as_str(), uri.issuer(), "{uri}");
        assert_eq!(parsed["account"].as_str(), Some(uri.account()), "{uri}");
        assert_eq!(
            parsed["secret"].as_str(),
            Some(uri.secret().to_base32().as_str())
        );
        assert_eq!(parsed["algorithm"].as_str(), Some(uri.algorithm().as_str()));
        assert_eq!(parsed["digits"].as_u64(), Some(u64::from(uri.digits())));
        assert_eq!(parsed["code"].as_str(), Some(code.as_str()), "{uri}");
    }
}
