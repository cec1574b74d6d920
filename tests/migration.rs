//! Google Authenticator's export, `otpauth-migration://offline?data=…`:
//! round trips of every kind of account, batches, and every malformed
//! payload a typed error (`interop/` checks both ways against Python's
//! protobuf).
#![cfg(feature = "std")]

use otpkit::uri::{MigrationPayload, OtpType};
use otpkit::{Algorithm, Error, Hotp, OtpAuthUri, Secret, Totp};
use proptest::prelude::*;

fn reason(result: Result<MigrationPayload, Error>) -> &'static str {
    match result {
        Err(Error::Migration { reason }) => reason,
        other => panic!("not refused as a migration: {other:?}"),
    }
}

/// A protobuf varint.
fn varint(mut n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
    out
}

fn field(number: u64, bytes: &[u8]) -> Vec<u8> {
    let mut out = varint(number << 3 | 2);
    out.extend(varint(bytes.len() as u64));
    out.extend_from_slice(bytes);
    out
}

fn number(number: u64, value: u64) -> Vec<u8> {
    let mut out = varint(number << 3);
    out.extend(varint(value));
    out
}

/// One `OtpParameters` with a 20-byte key, a name, SHA1, six digits, TOTP,
/// then `extra` fields.
fn account(extra: &[Vec<u8>]) -> Vec<u8> {
    let mut out = field(1, b"12345678901234567890");
    out.extend(field(2, b"alice"));
    out.extend(number(4, 1));
    out.extend(number(5, 1));
    out.extend(number(6, 2));
    for e in extra {
        out.extend_from_slice(e);
    }
    out
}

#[test]
fn every_kind_of_account_round_trips() {
    let key = || Secret::generate();
    let accounts = vec![
        OtpAuthUri::for_totp(&Totp::new(key()), "alice@example.com").with_issuer("ACME Co"),
        OtpAuthUri::for_totp(
            &Totp::builder(Secret::generate_for(Algorithm::Sha512))
                .algorithm(Algorithm::Sha512)
                .digits(8)
                .build()
                .unwrap(),
            "bob",
        ),
        OtpAuthUri::for_hotp(
            &Hotp::with(key(), Algorithm::Sha256, 6).unwrap(),
            u64::MAX >> 1,
            "carol: the admin",
        )
        .with_issuer("Ünïcödé"),
        OtpAuthUri::for_totp(
            &Totp::new(Secret::from_bytes_allow_short(b"0123456789").unwrap()),
            "legacy",
        ),
    ];
    let export = MigrationPayload::export(&accounts).unwrap();
    assert_eq!(export.len(), 1);
    let batch = MigrationPayload::parse(&export[0]).unwrap();
    assert_eq!(batch.accounts(), accounts.as_slice());
    assert_eq!(
        (batch.version(), batch.batch_index(), batch.batch_size()),
        (1, 0, 1)
    );
    assert!(!format!("{batch:?}").contains(&accounts[0].secret().to_base32().to_string()));
}

#[test]
fn exports_split_into_batches_that_share_an_id() {
    let accounts: Vec<OtpAuthUri> = (0..21)
        .map(|n| OtpAuthUri::for_totp(&Totp::new(Secret::generate()), format!("user{n}")))
        .collect();
    let export = MigrationPayload::export(&accounts).unwrap();
    assert_eq!(export.len(), 3);
    let batches: Vec<MigrationPayload> = export.iter().map(|uri| uri.parse().unwrap()).collect();
    let read: Vec<OtpAuthUri> = batches.iter().flat_map(|b| b.accounts().to_vec()).collect();
    assert_eq!(read, accounts);
    for (i, batch) in batches.iter().enumerate() {
        assert_eq!((batch.batch_index() as usize, batch.batch_size()), (i, 3));
        assert_eq!(batch.batch_id(), batches[0].batch_id());
    }
    assert_eq!(
        (batches[0].accounts().len(), batches[2].accounts().len()),
        (MigrationPayload::ACCOUNTS_PER_BATCH, 1)
    );
    // Each batch fits a QR code a phone reads.
    for uri in &export {
        assert!(
            otpkit::Qr::new(uri).is_ok() && uri.len() < 1200,
            "{}",
            uri.len()
        );
    }
    assert!(MigrationPayload::export(&[]).unwrap().is_empty());
}

#[test]
fn accounts_the_format_cannot_hold_are_refused() {
    let steam = OtpAuthUri::for_totp(&Totp::steam(Secret::generate()), "gabe");
    let minute = OtpAuthUri::for_totp(
        &Totp::builder(Secret::generate())
            .period(60)
            .build()
            .unwrap(),
        "m",
    );
    let seven = OtpAuthUri::for_totp(
        &Totp::builder(Secret::generate()).digits(7).build().unwrap(),
        "s",
    );
    for (account, why) in [
        (steam, "the format has no Steam codes"),
        (minute, "the format has no period but 30 s"),
        (seven, "the format has no digit count but 6 and 8"),
    ] {
        assert_eq!(
            MigrationPayload::export(&[account]).unwrap_err(),
            Error::Migration { reason: why }
        );
    }
}

#[test]
fn names_issuers_and_defaults_as_the_apps_read_them() {
    // The name as a label `Issuer:account`, no issuer field; unspecified
    // algorithm and digits are SHA1 and 6 (as Aegis reads them); an
    // unknown field of a later schema is skipped.
    let mut bare = field(1, b"12345678901234567890");
    bare.extend(field(2, b"ACME: alice"));
    bare.extend(number(6, 2));
    bare.extend(number(9, 7));
    let batch = MigrationPayload::from_protobuf(&field(1, &bare)).unwrap();
    let uri = &batch.accounts()[0];
    assert_eq!((uri.issuer(), uri.account()), (Some("ACME"), "alice"));
    assert_eq!((uri.algorithm(), uri.digits()), (Algorithm::Sha1, 6));
    assert_eq!(uri.otp_type(), OtpType::Totp { period: 30 });
    // The issuer field wins over the label's prefix.
    let named =
        MigrationPayload::from_protobuf(&field(1, &account(&[field(3, b"Other")]))).unwrap();
    assert_eq!(named.accounts()[0].issuer(), Some("Other"));
}

#[test]
fn every_malformed_payload_is_a_typed_error() {
    let ok = field(1, &account(&[]));
    assert!(MigrationPayload::from_protobuf(&ok).is_ok());
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (ok[..ok.len() - 3].to_vec(), "a field is truncated"),
        (
            field(1, &account(&[]))[..2].to_vec(),
            "a field is truncated",
        ),
        // A length far past the end (a "gigabyte" field).
        (
            [vec![0x0a], varint(1 << 30), vec![1, 2, 3]].concat(),
            "a field is truncated",
        ),
        (
            [vec![0x0a], vec![0xff; 11]].concat(),
            "a varint overflows 64 bits",
        ),
        (
            vec![
                0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
            ],
            "a varint overflows 64 bits",
        ),
        (number(1, 5), "a field has the wrong wire type"),
        (field(2, b"x"), "a field has the wrong wire type"),
        (
            vec![0x0b],
            "a field has a wire type protobuf 3 does not use",
        ),
        (vec![0x00, 0x01], "a field has number 0"),
        (
            field(1, &account(&[number(1, 3)])),
            "an account field has the wrong wire type",
        ),
        (
            field(1, &account(&[number(4, 4)])),
            "an account uses MD5, which otpkit does not",
        ),
        (
            field(1, &account(&[number(4, 9)])),
            "an account's algorithm is not in the schema",
        ),
        (
            field(1, &account(&[number(5, 3)])),
            "an account's digit count is not in the schema",
        ),
        (
            field(1, &account(&[number(6, 0)])),
            "an account's type is unspecified",
        ),
        (
            field(1, &account(&[number(6, 3)])),
            "an account's type is not in the schema",
        ),
        (
            field(1, &account(&[number(6, 1), number(7, u64::MAX)])),
            "an HOTP counter is negative",
        ),
        (
            field(1, &account(&[field(2, b"")])),
            "an account has no name",
        ),
        (
            field(1, &account(&[field(2, b"ACME:")])),
            "an account has no name",
        ),
        (
            field(1, &account(&[field(2, &[0xff, 0xfe])])),
            "a name is not UTF-8",
        ),
        // A name that would fake a line of `otpkit code`, move the cursor
        // or pose as another.
        (
            field(1, &account(&[field(2, b"eve\t-\t123456\nbob")])),
            "a name holds a control or invisible character",
        ),
        (
            field(1, &account(&[field(3, b"\x1b[2J")])),
            "a name holds a control or invisible character",
        ),
        (
            field(1, &account(&[field(2, "bob\u{202e}moc".as_bytes())])),
            "a name holds a control or invisible character",
        ),
        (field(1, &field(2, b"alice")), "an account has no key"),
        (
            [ok.clone(), number(3, 2), number(4, 2)].concat(),
            "the batch index is not within the batch size",
        ),
        (
            [ok.clone(), number(3, 1u64 << 40)].concat(),
            "an int32 field is out of range",
        ),
    ];
    for (bytes, why) in cases {
        assert_eq!(
            reason(MigrationPayload::from_protobuf(&bytes)),
            why,
            "{bytes:02x?}"
        );
    }
    // A key under 80 bits is the key's own error.
    let short = field(1, &account(&[field(1, b"short")]));
    assert!(matches!(
        MigrationPayload::from_protobuf(&short),
        Err(Error::LegacySecretTooShort { .. })
    ));
    // The URI around it.
    for (uri, why) in [
        (
            "otpauth://offline?data=AA",
            "the scheme is not otpauth-migration://",
        ),
        (
            "otpauth-migration://online?data=AA",
            "the host is not offline",
        ),
        (
            "otpauth-migration://offline",
            "the data parameter is missing",
        ),
        (
            "otpauth-migration://offline?data=A&data=B",
            "data is given twice",
        ),
        (
            "otpauth-migration://offline?data=%ZZ",
            "data is not percent-encoded text",
        ),
        (
            "otpauth-migration://offline?data=Zm9v!",
            "data is not Base64",
        ),
    ] {
        assert_eq!(reason(MigrationPayload::parse(uri)), why, "{uri}");
    }
    let long = format!("otpauth-migration://offline?data={}", "A".repeat(9000));
    assert_eq!(
        reason(MigrationPayload::parse(&long)),
        "the URI is longer than 8192 bytes"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever the bytes, reading a payload answers, never panics.
    #[test]
    fn any_bytes_are_read_or_refused(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = MigrationPayload::from_protobuf(&bytes);
    }
}
