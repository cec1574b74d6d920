//! The issuer and account a record is for: what an authenticator app shows
//! as its label, checked at creation and import so that the record's
//! otpauth:// URI is one every parser (otpkit's first) reads back to the
//! same two names, and shows what it is. (Stored records are not held to
//! these rules: one made before them must still load.)

use crate::error::Error;

/// The longest issuer, in bytes: a service's name.
pub(super) const MAX_ISSUER: usize = 100;
/// The longest account, in bytes: an e-mail address's limit (RFC 5321).
pub(super) const MAX_ACCOUNT: usize = 254;

/// Checks `issuer` and `account` at creation and at import. With
/// these bounds the URI fits a QR code even with every byte
/// percent-encoded, and reads back to the same names: the label's
/// separator is the first `:` (so the issuer has none), a parser drops
/// spaces after it (so the account starts with none), and a control
/// character is no text an app can show.
pub(super) fn check(issuer: &str, account: &str) -> Result<(), Error> {
    let refuse = |field, reason| Err(Error::InvalidLabel { field, reason });
    if issuer.trim().is_empty() {
        return refuse("issuer", "is empty");
    }
    if issuer.len() > MAX_ISSUER {
        return refuse("issuer", "is longer than 100 bytes");
    }
    if issuer.contains(':') {
        return refuse("issuer", "contains ':', the label's separator");
    }
    if account.trim().is_empty() {
        return refuse("account", "is empty");
    }
    if account.len() > MAX_ACCOUNT {
        return refuse("account", "is longer than 254 bytes");
    }
    if account.starts_with(' ') {
        return refuse("account", "starts with a space, which parsers drop");
    }
    for (field, text) in [("issuer", issuer), ("account", account)] {
        if text.chars().any(char::is_control) {
            return refuse(field, "contains a control character");
        }
        if text.chars().any(is_invisible) {
            return refuse(
                field,
                "contains an invisible format or separator character (bidi, zero-width)",
            );
        }
    }
    Ok(())
}

/// Unicode's format characters (bidi controls, zero-width ones, the byte
/// order mark, tags) and line and paragraph separators: text that shows
/// differently from what it is, so a chosen name could pose as another in
/// the authenticator app.
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{AD}'
            | '\u{61C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}
