//! A database URL: which file a SQLite URL names, the URL as it may be
//! printed (without its password), and a new SQLite file created private.

use std::path::{Path, PathBuf};

/// The file a SQLite URL names (`sqlite://FILE`, `sqlite:FILE`, with or
/// without `?options`); `None` for an in-memory database or another
/// scheme.
///
/// ```
/// use otpkit_server::store::url::sqlite_file;
/// assert_eq!(sqlite_file("sqlite://data/otpkit.db?mode=rwc").unwrap().to_str(), Some("data/otpkit.db"));
/// assert_eq!(sqlite_file("sqlite://my%20data/otpkit.db").unwrap().to_str(), Some("my data/otpkit.db"));
/// assert_eq!(sqlite_file("sqlite::memory:"), None);
/// assert_eq!(sqlite_file("postgres://db/otpkit"), None);
/// ```
#[must_use]
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .map(|rest| rest.split('?').next().unwrap_or(rest))
        .filter(|file| !file.is_empty() && !file.starts_with(':'))
        .map(|file| PathBuf::from(percent_decoded(file)))
}

/// `text` with its `%XX` escapes decoded, as sqlx reads a SQLite URL's
/// path (an escape that is not one is kept as it is).
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(u8::try_from(high * 16 + low).unwrap_or(b'%'));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `url` as it may be printed: a password in it replaced by `***`. The
/// user information ends at the last `@` (a password may hold `/`, `?`
/// or `#` unencoded); when in doubt more is hidden, never less.
///
/// ```
/// use otpkit_server::store::url::redacted;
/// assert_eq!(redacted("postgres://otpkit:s3cret@db:5432/otpkit"), "postgres://otpkit:***@db:5432/otpkit");
/// assert_eq!(redacted("postgres://u:pa/ss@db/otpkit"), "postgres://u:***@db/otpkit");
/// assert_eq!(redacted("postgres://u:pa?ss@db/otpkit"), "postgres://u:***@db/otpkit");
/// assert_eq!(redacted("postgres://db/otpkit?password=s3cret&sslmode=require"), "postgres://db/otpkit?password=***&sslmode=require");
/// assert_eq!(redacted("sqlite://otpkit.db"), "sqlite://otpkit.db");
/// ```
#[must_use]
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (user, rest) = match rest.rfind('@') {
        Some(at) => {
            let user_info = &rest[..at];
            let user = match user_info.split_once(':') {
                Some((user, _)) => format!("{user}:***@"),
                None => format!("{user_info}@"),
            };
            (user, &rest[at + 1..])
        }
        None => (String::new(), rest),
    };
    let rest = match rest.split_once('?') {
        Some((base, query)) => {
            let pairs: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("password") => {
                        format!("{key}=***")
                    }
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{base}?{}", pairs.join("&"))
        }
        None => rest.to_owned(),
    };
    format!("{scheme}://{user}{rest}")
}

/// Creates `file` empty, readable and writable by its owner only (0600),
/// unless it exists. SQLite creates the database's `-wal` and `-shm`
/// files with the database file's permissions, so they are private from
/// their creation too.
///
/// # Errors
/// The file cannot be created (a missing directory, no permission).
pub fn create_private(file: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(file) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(error),
    }
}
