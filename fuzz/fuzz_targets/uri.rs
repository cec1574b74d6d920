//! otpauth:// URIs: never a panic; anything that parses rebuilds to a URI
//! that parses to the same fields.
#![no_main]

use libfuzzer_sys::fuzz_target;
use otpkit::OtpAuthUri;

fuzz_target!(|text: &str| {
    if let Ok(uri) = OtpAuthUri::parse_allow_short_secret(text) {
        let rebuilt = uri.to_string();
        let again = OtpAuthUri::parse_allow_short_secret(&rebuilt).expect("a built URI parses");
        assert_eq!(again, uri);
        assert_eq!(again.to_string(), rebuilt);
    }
});
