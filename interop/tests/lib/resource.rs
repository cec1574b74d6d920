//! The creation response against pyotp: the URI a user scans parses there
//! to the secret the record holds.

use otpkit::record::EnrollmentOptions;
use otpkit::{OtpAuthUri, TotpRecord};

use crate::support::python;

#[test]
fn the_creation_uri_parses_to_the_same_secret_here_and_in_pyotp() {
    let (_, created) = TotpRecord::create(
        "ACME Co",
        "alice@example.com",
        &EnrollmentOptions::default(),
        1_700_000_000,
    )
    .unwrap();
    let uri = created.uri().to_string();
    let ours: OtpAuthUri = uri.parse().unwrap();
    assert_eq!(ours.secret(), created.secret());
    let theirs = python(
        "import sys, pyotp; print(pyotp.parse_uri(sys.argv[1]).secret)",
        &[&uri],
    );
    assert_eq!(theirs, created.secret().to_base32().as_str());
}
