//! Sealed secrets opened by libsodium (PyNaCl): the construction is
//! standard XChaCha20-Poly1305 with the documented associated data.

use otpkit::record::EnrollmentOptions;
use otpkit::seal::SealingKey;
use otpkit::{Keyring, TotpRecord};

use crate::support::python;

/// libsodium's `crypto_aead_xchacha20poly1305_ietf_decrypt` (through
/// PyNaCl) opens the stored ciphertext with the documented associated data
/// (the format's label, then the caller's context: for a stored record, the
/// binding of its other fields): the construction is standard
/// XChaCha20-Poly1305, not our own.
#[test]
fn libsodium_opens_what_we_seal() {
    let (record, _) = TotpRecord::create(
        "ACME",
        "alice",
        &EnrollmentOptions::default(),
        1_700_000_000,
    )
    .unwrap();
    let keyring = Keyring::new(SealingKey::new("k1", [0x5a; 32]).unwrap());
    let id = "totp_0123";
    let sealed = keyring
        .seal(
            record.totp().secret(),
            format!("totp-record:{id}").as_bytes(),
        )
        .unwrap()
        .to_string();
    let sealed = sealed.as_str();
    let script = r#"
import sys, base64
from nacl.bindings import crypto_aead_xchacha20poly1305_ietf_decrypt as open_
sealed, record_id = sys.argv[1], sys.argv[2]
_, scheme, params, nonce, ciphertext = sealed.split("$")
aad = b"otpkit sealed secret v1\0" + b"totp-record:" + record_id.encode()
key = bytes([0x5a]) * 32
plain = open_(bytes.fromhex(ciphertext), aad, bytes.fromhex(nonce), key)
print(base64.b32encode(plain).decode().rstrip("="))
"#;
    let theirs = python(script, &[sealed, id]);
    assert_eq!(theirs, record.totp().secret().to_base32().as_str());
}
