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
/// assert_eq!(sqlite_file("sqlite::memory:"), None);
/// assert_eq!(sqlite_file("postgres://db/otpkit"), None);
/// ```
#[must_use]
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .map(|rest| rest.split('?').next().unwrap_or(rest))
        .filter(|file| !file.is_empty() && !file.starts_with(':'))
        .map(PathBuf::from)
}

/// `url` as it may be printed: a password in it replaced by `***`.
///
/// ```
/// use otpkit_server::store::url::redacted;
/// assert_eq!(redacted("postgres://otpkit:s3cret@db:5432/otpkit"), "postgres://otpkit:***@db:5432/otpkit");
/// assert_eq!(redacted("postgres://db/otpkit?password=s3cret&sslmode=require"), "postgres://db/otpkit?password=***&sslmode=require");
/// assert_eq!(redacted("sqlite://otpkit.db"), "sqlite://otpkit.db");
/// ```
#[must_use]
pub fn redacted(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut out = match base.split_once("://") {
        Some((scheme, rest)) => {
            // The authority ends at the first `/`; its user info at the
            // last `@` within it.
            let authority_end = rest.find('/').unwrap_or(rest.len());
            let (authority, path) = rest.split_at(authority_end);
            match authority.rsplit_once('@') {
                Some((user_info, host)) => {
                    let user = user_info
                        .split_once(':')
                        .map_or(user_info, |(user, _)| user);
                    let hidden = if user_info.contains(':') { ":***" } else { "" };
                    format!("{scheme}://{user}{hidden}@{host}{path}")
                }
                None => base.to_owned(),
            }
        }
        None => base.to_owned(),
    };
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                _ => pair.to_owned(),
            })
            .collect();
        out = format!("{out}?{}", pairs.join("&"));
    }
    out
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
