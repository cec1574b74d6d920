//! An imported 80-bit legacy key mints the codes oathtool computes for it.

use otpkit::Secret;
use otpkit::record::{EnrollmentOptions, TotpRecord};

use crate::support::tool;

#[test]
fn an_imported_80_bit_key_agrees_with_oathtool() {
    const NOW: u64 = 1_700_000_000;
    let legacy = Secret::from_base32_allow_short("JBSWY3DPEHPK3PXP").unwrap();
    let record = TotpRecord::import(
        "ACME",
        "bob",
        legacy,
        &EnrollmentOptions::default(),
        None,
        NOW,
    )
    .unwrap();
    let code = record.totp().generate_at(NOW).unwrap().to_string();
    let theirs = tool(
        "oathtool",
        &["--totp", "-b", &format!("--now=@{NOW}"), "JBSWY3DPEHPK3PXP"],
    );
    assert_eq!(theirs, code);
}
