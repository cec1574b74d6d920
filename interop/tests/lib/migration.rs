//! Google Authenticator exports against Python's `protobuf` (6.33.1) over
//! the public `MigrationPayload` schema, both ways: otpkit's exports
//! (several batches) parsed by it, and payloads it serializes (several
//! batches, every kind of account) parsed by otpkit.

use otpkit::uri::{MigrationPayload, OtpType};
use otpkit::{Algorithm, Hotp, OtpAuthUri, Secret, Totp};

use crate::support::python;

/// The schema, built at run time from its descriptor (no protoc).
const SCHEMA: &str = r#"
# Google Authenticator's MigrationPayload, built from its public schema at
# run time (no protoc): descriptor_pb2 + message_factory.
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

def payload_class():
    f = descriptor_pb2.FileDescriptorProto()
    f.name = "google_auth.proto"
    f.package = "googleauth"
    f.syntax = "proto3"
    m = f.message_type.add(); m.name = "MigrationPayload"
    for name, values in [("Algorithm", ["ALGORITHM_UNSPECIFIED", "SHA1", "SHA256", "SHA512", "MD5"]),
                         ("DigitCount", ["DIGIT_COUNT_UNSPECIFIED", "SIX", "EIGHT"]),
                         ("OtpType", ["OTP_TYPE_UNSPECIFIED", "HOTP", "TOTP"])]:
        e = m.enum_type.add(); e.name = name
        for i, v in enumerate(values):
            ev = e.value.add(); ev.name = v; ev.number = i
    p = m.nested_type.add(); p.name = "OtpParameters"
    T = descriptor_pb2.FieldDescriptorProto
    def field(msg, name, number, kind, type_name=None, label=T.LABEL_OPTIONAL):
        fd = msg.field.add(); fd.name = name; fd.number = number; fd.type = kind; fd.label = label
        if type_name: fd.type_name = type_name
    field(p, "secret", 1, T.TYPE_BYTES)
    field(p, "name", 2, T.TYPE_STRING)
    field(p, "issuer", 3, T.TYPE_STRING)
    field(p, "algorithm", 4, T.TYPE_ENUM, ".googleauth.MigrationPayload.Algorithm")
    field(p, "digits", 5, T.TYPE_ENUM, ".googleauth.MigrationPayload.DigitCount")
    field(p, "type", 6, T.TYPE_ENUM, ".googleauth.MigrationPayload.OtpType")
    field(p, "counter", 7, T.TYPE_INT64)
    field(m, "otp_parameters", 1, T.TYPE_MESSAGE, ".googleauth.MigrationPayload.OtpParameters", T.LABEL_REPEATED)
    field(m, "version", 2, T.TYPE_INT32)
    field(m, "batch_size", 3, T.TYPE_INT32)
    field(m, "batch_index", 4, T.TYPE_INT32)
    field(m, "batch_id", 5, T.TYPE_INT32)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(f)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("googleauth.MigrationPayload"))

"#;

fn base32(secret: &Secret) -> String {
    secret.to_base32().to_string()
}

/// Thirteen accounts of every kind the format holds.
fn accounts() -> Vec<OtpAuthUri> {
    let mut accounts = vec![
        OtpAuthUri::for_totp(&Totp::new(Secret::generate()), "alice@example.com")
            .with_issuer("ACME Co"),
        OtpAuthUri::for_totp(
            &Totp::builder(Secret::generate_for(Algorithm::Sha256))
                .algorithm(Algorithm::Sha256)
                .digits(8)
                .build()
                .unwrap(),
            "bob",
        ),
        OtpAuthUri::for_hotp(
            &Hotp::with(Secret::generate(), Algorithm::Sha512, 8).unwrap(),
            1 << 40,
            "carol",
        )
        .with_issuer("Ünïcödé: Ltd"),
        OtpAuthUri::for_totp(
            &Totp::new(Secret::from_bytes_allow_short(b"0123456789").unwrap()),
            "80-bit",
        ),
    ];
    for n in 0..9 {
        accounts.push(
            OtpAuthUri::for_totp(&Totp::new(Secret::generate()), format!("user{n}"))
                .with_issuer("Batch"),
        );
    }
    accounts
}

#[test]
fn otpkits_exports_parse_in_pythons_protobuf() {
    let accounts = accounts();
    let export = MigrationPayload::export(&accounts).unwrap();
    assert_eq!(export.len(), 2);
    let script = format!(
        "{SCHEMA}\n{}",
        r#"
import base64, json, sys, urllib.parse
P = payload_class()
out = []
for uri in sys.argv[1:]:
    data = urllib.parse.parse_qs(urllib.parse.urlparse(uri).query)["data"][0]
    p = P(); p.ParseFromString(base64.b64decode(data))
    out.append({"version": p.version, "batch_size": p.batch_size, "batch_index": p.batch_index,
                "batch_id": p.batch_id, "accounts": [
        {"secret": base64.b32encode(a.secret).decode().rstrip("="), "name": a.name, "issuer": a.issuer,
         "algorithm": a.algorithm, "digits": a.digits, "type": a.type, "counter": a.counter}
        for a in p.otp_parameters]})
print(json.dumps(out))
"#
    );
    let args: Vec<&str> = export.iter().map(|uri| uri.as_str()).collect();
    let theirs: serde_json::Value = serde_json::from_str(&python(&script, &args)).unwrap();
    let mut read = Vec::new();
    for (i, batch) in theirs.as_array().unwrap().iter().enumerate() {
        assert_eq!(
            (batch["version"].as_i64(), batch["batch_size"].as_i64()),
            (Some(1), Some(2))
        );
        assert_eq!(batch["batch_index"].as_i64(), Some(i as i64));
        assert_eq!(batch["batch_id"], theirs[0]["batch_id"]);
        read.extend(batch["accounts"].as_array().unwrap().iter().cloned());
    }
    assert_eq!(read.len(), accounts.len());
    for (account, theirs) in accounts.iter().zip(&read) {
        assert_eq!(
            theirs["secret"].as_str().unwrap(),
            base32(account.secret()).trim_end_matches('=')
        );
        let label = match account.issuer() {
            Some(issuer) => format!("{issuer}:{}", account.account()),
            None => account.account().to_owned(),
        };
        assert_eq!(theirs["name"].as_str(), Some(label.as_str()));
        assert_eq!(
            theirs["issuer"].as_str(),
            Some(account.issuer().unwrap_or(""))
        );
        let algorithm = match account.algorithm() {
            Algorithm::Sha1 => 1,
            Algorithm::Sha256 => 2,
            Algorithm::Sha512 => 3,
            other => panic!("the export has no {other:?}"),
        };
        assert_eq!(theirs["algorithm"].as_i64(), Some(algorithm));
        assert_eq!(
            theirs["digits"].as_i64(),
            Some(if account.digits() == 8 { 2 } else { 1 })
        );
        match account.otp_type() {
            OtpType::Hotp { counter } => {
                assert_eq!(theirs["type"].as_i64(), Some(1));
                assert_eq!(theirs["counter"].as_u64(), Some(counter));
            }
            _ => assert_eq!(theirs["type"].as_i64(), Some(2)),
        }
    }
}

#[test]
fn pythons_payloads_parse_in_otpkit() {
    let script = format!(
        "{SCHEMA}\n{}",
        r#"
import base64, json, urllib.parse
P = payload_class()
accounts = [
    (b"12345678901234567890", "ACME:alice@example.com", "ACME", 1, 1, 2, 0),
    (b"12345678901234567890123456789012", "bob", "", 2, 2, 2, 0),
    (bytes(range(64)), "Issuer:carol", "", 3, 1, 1, 7),
    (b"0123456789", "dave", "Another", 0, 0, 2, 0),
    (b"abcdefghijabcdefghij", "eve", "", 1, 2, 1, 2**40),
]
uris, expected = [], []
for index, chunk in enumerate([accounts[:3], accounts[3:]]):
    p = P(); p.version = 1; p.batch_size = 2; p.batch_index = index; p.batch_id = -123456789
    for secret, name, issuer, algorithm, digits, kind, counter in chunk:
        a = p.otp_parameters.add()
        a.secret, a.name, a.issuer, a.algorithm, a.digits, a.type, a.counter = secret, name, issuer, algorithm, digits, kind, counter
        expected.append({"secret": base64.b32encode(secret).decode().rstrip("="), "name": name, "issuer": issuer,
                         "algorithm": algorithm, "digits": digits, "type": kind, "counter": counter})
    uris.append("otpauth-migration://offline?data=" + urllib.parse.quote(base64.b64encode(p.SerializeToString()).decode()))
print(json.dumps({"uris": uris, "expected": expected}))
"#
    );
    let made: serde_json::Value = serde_json::from_str(&python(&script, &[])).unwrap();
    let mut read = Vec::new();
    for (i, uri) in made["uris"].as_array().unwrap().iter().enumerate() {
        let batch = MigrationPayload::parse(uri.as_str().unwrap()).unwrap();
        assert_eq!(
            (batch.batch_index(), batch.batch_size(), batch.batch_id()),
            (i as u32, 2, -123_456_789)
        );
        read.extend(batch.accounts().to_vec());
    }
    let expected = made["expected"].as_array().unwrap();
    assert_eq!(read.len(), expected.len());
    for (ours, theirs) in read.iter().zip(expected) {
        assert_eq!(base32(ours.secret()), theirs["secret"].as_str().unwrap());
        let name = theirs["name"].as_str().unwrap();
        let issuer = theirs["issuer"].as_str().unwrap();
        // The label's prefix is the issuer's when the field is empty.
        let (want_issuer, want_account) = match (issuer, name.split_once(':')) {
            ("", Some((prefix, account))) => (Some(prefix), account),
            ("", None) => (None, name),
            (issuer, _) => (
                Some(issuer),
                name.strip_prefix(&format!("{issuer}:")).unwrap_or(name),
            ),
        };
        assert_eq!((ours.issuer(), ours.account()), (want_issuer, want_account));
        let algorithm = match theirs["algorithm"].as_i64().unwrap() {
            0 | 1 => Algorithm::Sha1,
            2 => Algorithm::Sha256,
            _ => Algorithm::Sha512,
        };
        assert_eq!(ours.algorithm(), algorithm);
        assert_eq!(ours.digits(), if theirs["digits"] == 2 { 8 } else { 6 });
        match theirs["type"].as_i64().unwrap() {
            1 => assert_eq!(
                ours.otp_type(),
                OtpType::Hotp {
                    counter: theirs["counter"].as_u64().unwrap()
                }
            ),
            _ => assert_eq!(ours.otp_type(), OtpType::Totp { period: 30 }),
        }
    }
}
