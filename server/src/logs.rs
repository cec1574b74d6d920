//! What the logs may say of a user: the id masked, so a log line can be
//! followed without the logs becoming a list of accounts (phone numbers
//! are masked by [`crate::sender::masked`]).

/// A user id masked for a log line: its first two and last two
/// characters around `…` (ids of eight characters or fewer keep only
/// their first).
///
/// ```
/// use otpkit_server::logs::masked_user;
/// assert_eq!(masked_user("alice@example.com"), "al…om");
/// assert_eq!(masked_user("bob"), "b…");
/// ```
#[must_use]
pub fn masked_user(user_id: &str) -> String {
    let chars: Vec<char> = user_id.chars().collect();
    if chars.len() <= 8 {
        return chars.first().map_or_else(String::new, |c| format!("{c}…"));
    }
    let head: String = chars[..2].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{head}…{tail}")
}
