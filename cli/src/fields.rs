//! The fields of an otpauth:// URI as the JSON `otpkit inspect` prints,
//! for a URI and for each account of an export.

use otpkit::OtpAuthUri;
use otpkit::uri::OtpType;
use serde_json::{Map, Value, json};

/// The fields of a URI as the JSON `otpkit inspect` prints.
pub fn fields(uri: &OtpAuthUri) -> Value {
    let mut fields = Map::new();
    let (kind, key, number) = match uri.otp_type() {
        OtpType::Totp { period } => ("totp", "period", period),
        OtpType::Hotp { counter } => ("hotp", "counter", counter),
        OtpType::Steam => ("steam", "period", 30),
        _ => ("unknown", "unknown", 0),
    };
    fields.insert("type".into(), json!(kind));
    fields.insert("issuer".into(), json!(uri.issuer()));
    fields.insert("account".into(), json!(uri.account()));
    fields.insert("secret".into(), json!(uri.secret().to_base32().as_str()));
    fields.insert("algorithm".into(), json!(uri.algorithm().as_str()));
    fields.insert("digits".into(), json!(uri.digits()));
    fields.insert(key.into(), json!(number));
    if let Some(image) = uri.image() {
        fields.insert("image".into(), json!(image));
    }
    // Extra parameters sit beside the known fields; one whose name is taken
    // (a `period` on an hotp URI, say) goes under "extra" rather than be lost.
    let mut clashing = Map::new();
    for (name, value) in uri.extra_parameters() {
        if fields.contains_key(name) || name == "extra" {
            clashing.insert(name.clone(), json!(value));
        } else {
            fields.insert(name.clone(), json!(value));
        }
    }
    if !clashing.is_empty() {
        fields.insert("extra".into(), Value::Object(clashing));
    }
    Value::Object(fields)
}
