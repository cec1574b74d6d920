//! `--dev`'s keys: a demo's API key, sealing key and pepper, generated at
//! first start into a file of their own (mode 0600) beside the database,
//! never in it: a copy of the database alone opens no record. `--dev`
//! refuses production keys, so a demo never seals with them and a
//! production database is never served with the demo's pages.
//!
//! The file is text, one `name=value` a line (`api_key`, `sealing_keys`,
//! `pepper`), lines starting with `#` ignored. A file that others may read
//! is refused, as ssh refuses such a key.

use std::io::Write;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::error::StartError;

/// The three secrets a server needs, as text (wiped when dropped; no
/// `Debug`, so never logged).
#[derive(Clone, PartialEq, Eq)]
pub struct DevKeys {
    /// The API key.
    pub api_key: Zeroizing<String>,
    /// The sealing keys (`otpkit-key:v1:…`).
    pub sealing_keys: Zeroizing<String>,
    /// The pepper.
    pub pepper: Zeroizing<String>,
}

impl DevKeys {
    /// New random keys.
    #[must_use]
    pub fn generate() -> Self {
        let random = || {
            otpkit::Secret::generate_for(otpkit::Algorithm::Sha256)
                .to_base32()
                .to_ascii_lowercase()
        };
        Self {
            api_key: Zeroizing::new(format!("otpk_dev_{}", random())),
            sealing_keys: Zeroizing::new(
                otpkit::seal::SealingKey::generate().to_text().to_string(),
            ),
            pepper: Zeroizing::new(random()),
        }
    }

    /// The keys among `(name, value)` pairs (as an older server kept them
    /// in the database); `None` unless all three are there.
    #[must_use]
    pub fn from_pairs(pairs: Vec<(String, Zeroizing<String>)>) -> Option<Self> {
        let (mut api_key, mut sealing_keys, mut pepper) = (None, None, None);
        for (name, value) in pairs {
            match name.as_str() {
                "api_key" => api_key = Some(value),
                "sealing_keys" => sealing_keys = Some(value),
                "pepper" => pepper = Some(value),
                _ => {}
            }
        }
        Some(Self {
            api_key: api_key?,
            sealing_keys: sealing_keys?,
            pepper: pepper?,
        })
    }

    /// The file's text.
    fn to_text(&self) -> Zeroizing<String> {
        Zeroizing::new(format!(
            "# otpkit-server --dev keys: a demo's, never production's.\n\
             # They open this demo's database; delete the file with it.\n\
             api_key={}\nsealing_keys={}\npepper={}\n",
            *self.api_key, *self.sealing_keys, *self.pepper
        ))
    }

    /// Reads a file's text; `path` names it in errors.
    fn parse(text: &str, path: &Path) -> Result<Self, StartError> {
        let (mut api_key, mut sealing_keys, mut pepper) = (None, None, None);
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = || {
                StartError(format!(
                    "{}: line {} is not `api_key=…`, `sealing_keys=…` or `pepper=…`",
                    path.display(),
                    number + 1
                ))
            };
            let (name, value) = line.split_once('=').ok_or_else(bad)?;
            let slot = match name.trim() {
                "api_key" => &mut api_key,
                "sealing_keys" => &mut sealing_keys,
                "pepper" => &mut pepper,
                _ => return Err(bad()),
            };
            *slot = Some(Zeroizing::new(value.trim().to_owned()));
        }
        let missing = |name: &str| {
            StartError(format!(
                "{}: no {name}= line (delete the file with its database to start a new demo)",
                path.display()
            ))
        };
        Ok(Self {
            api_key: api_key.ok_or_else(|| missing("api_key"))?,
            sealing_keys: sealing_keys.ok_or_else(|| missing("sealing_keys"))?,
            pepper: pepper.ok_or_else(|| missing("pepper"))?,
        })
    }
}

/// Where `--dev` keeps its keys: `explicit` (`--dev-keys`), else beside a
/// SQLite database file (`FILE.dev-keys`). A database that is no file
/// (PostgreSQL, `sqlite::memory:`) needs `--dev-keys`.
///
/// # Errors
/// No file to put them beside.
pub fn path(database: &str, explicit: Option<&Path>) -> Result<PathBuf, StartError> {
    if let Some(path) = explicit {
        return Ok(path.to_owned());
    }
    match crate::store::url::sqlite_file(database) {
        Some(file) => {
            let mut name = file.into_os_string();
            name.push(".dev-keys");
            Ok(PathBuf::from(name))
        }
        None => Err(StartError(
            "--dev keeps its keys in a file beside a SQLite database file, and this database \
             is none: name a file with --dev-keys FILE"
                .to_owned(),
        )),
    }
}

/// The keys at `path`, or (when there is no file) `moved` — keys an older
/// server kept in the database — or new ones, written there first with
/// mode 0600. Returns them and whether the file was just written.
///
/// Two instances starting at once agree: the file is written under a
/// temporary name and linked into place, which fails if the other was
/// first (then its keys are read).
///
/// # Errors
/// A file others may read, one that does not parse, or one that cannot
/// be written.
pub fn load_or_create(path: &Path, moved: Option<DevKeys>) -> Result<(DevKeys, bool), StartError> {
    let io = |what: &str, e: std::io::Error| StartError(format!("{what} {}: {e}", path.display()));
    match read(path) {
        Ok(Some(keys)) => return Ok((keys, false)),
        Ok(None) => {}
        Err(error) => return Err(error),
    }
    let keys = moved.unwrap_or_else(DevKeys::generate);
    let temporary = path.with_extension(format!("new-{}", std::process::id()));
    let written = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temporary)?;
        file.write_all(keys.to_text().as_bytes())?;
        file.sync_all()
    })();
    if let Err(error) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(io("writing the --dev keys to", error));
    }
    let linked = std::fs::hard_link(&temporary, path);
    let _ = std::fs::remove_file(&temporary);
    match linked {
        Ok(()) => Ok((keys, true)),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => read(path)?
            .map(|keys| (keys, false))
            .ok_or_else(|| StartError(format!("{} vanished while starting", path.display()))),
        Err(error) => Err(io("writing the --dev keys to", error)),
    }
}

/// The file's keys, or `None` when there is no file.
fn read(path: &Path) -> Result<Option<DevKeys>, StartError> {
    let io = |e: std::io::Error| StartError(format!("reading {}: {e}", path.display()));
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(io(error)),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(StartError(format!(
                "{} holds keys but others may read it (mode {mode:03o}): chmod 600 {0}",
                path.display()
            )));
        }
    }
    let _ = metadata;
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(io)?);
    DevKeys::parse(&text, path).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_sits_beside_a_sqlite_database() {
        for (database, file) in [
            ("sqlite://otpkit.db", "otpkit.db.dev-keys"),
            (
                "sqlite:///var/lib/otp/a.db?mode=rwc",
                "/var/lib/otp/a.db.dev-keys",
            ),
            ("sqlite:demo.db", "demo.db.dev-keys"),
        ] {
            assert_eq!(path(database, None).unwrap(), PathBuf::from(file));
        }
        for database in ["postgres://u@h/db", "sqlite::memory:", "sqlite://"] {
            let error = path(database, None).err().unwrap().0;
            assert!(error.contains("--dev-keys"), "{error}");
        }
        let explicit = Path::new("/tmp/k");
        assert_eq!(path("postgres://h/db", Some(explicit)).unwrap(), explicit);
    }

    #[test]
    fn a_new_file_is_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("db.dev-keys");
        let (keys, created) = load_or_create(&file, None).unwrap();
        assert!(created);
        let (again, created) = load_or_create(&file, None).unwrap();
        assert!(!created);
        assert!(keys == again);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
            let error = load_or_create(&file, None).err().unwrap().0;
            assert!(error.contains("chmod 600"), "{error}");
        }
    }

    #[test]
    fn a_damaged_file_names_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("k");
        let write = |text: &str| {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            options
                .open(&file)
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        };
        write("api_key=a\nsecret\n");
        let error = load_or_create(&file, None).err().unwrap().0;
        assert!(error.contains("line 2"), "{error}");
        assert!(!error.contains("api_key=a"), "{error}");
        write("api_key=a\nsealing_keys=b\n");
        let error = load_or_create(&file, None).err().unwrap().0;
        assert!(error.contains("no pepper="), "{error}");
    }
}
