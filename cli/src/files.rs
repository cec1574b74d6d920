//! Files the CLI reads and writes: never half-written, never readable by
//! others, never a surprise overwrite, and never a lost update.
//!
//! - Every file is written through a temp file beside it (random name,
//!   created exclusively, mode 0600), synced, renamed over the target, and
//!   the directory synced. A target's existing mode is only ever tightened
//!   (to at most 0600), never loosened. A symlinked target is followed: the
//!   file it points to is updated and the link stays.
//! - A read-modify-write ([`update_json`]) holds an exclusive lock on the
//!   file from load to save, so concurrent runs take turns: one code is
//!   accepted once, every failure is counted.
//! - Buffers that hold a secret are wiped on drop, and on every growth.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::{Failure, Outcome};

/// Whether an existing file may be replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    Replace,
    Refuse,
}

/// A file error that names the file.
fn failed(path: &Path, doing: &str, err: &io::Error) -> Failure {
    Failure::File(format!("cannot {doing} {}: {err}", path.display()))
}

/// Checks, before any work is shown to the user, that `path` can be
/// written: not an existing file unless replacing is allowed, and in a
/// directory where a file can be created.
pub fn check_destination(path: &Path, existing: Existing) -> Outcome {
    let target = resolve(path)?;
    if existing == Existing::Refuse && std::fs::symlink_metadata(&target).is_ok() {
        return Err(refused(path));
    }
    let dir = directory_of(&target);
    tempfile::tempfile_in(dir)
        .map(drop)
        .map_err(|e| failed(dir, "create a file in", &e))
}

fn refused(path: &Path) -> Failure {
    Failure::Usage(format!(
        "{} exists: pass --force to replace it",
        path.display()
    ))
}

fn directory_of(target: &Path) -> &Path {
    target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// The file a write to `path` lands in: `path` itself, or what a symlink at
/// `path` points to (which must exist).
fn resolve(path: &Path) -> Result<PathBuf, Failure> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => std::fs::canonicalize(path).map_err(|e| {
            Failure::Usage(format!(
                "{} is a symlink to a file that cannot be reached: {e}",
                path.display()
            ))
        }),
        _ => Ok(path.to_owned()),
    }
}

/// Writes `bytes` to `path` atomically with mode 0600 (or tighter, if the
/// file exists with a tighter mode). With [`Existing::Refuse`], an existing
/// target is an error and is left alone.
pub fn write_atomically(path: &Path, bytes: &[u8], existing: Existing) -> Outcome {
    let target = resolve(path)?;
    let dir = directory_of(&target);
    if target.file_name().is_none() {
        return Err(Failure::Usage(format!(
            "{} is not a file name",
            path.display()
        )));
    }
    let mut temp = tempfile::Builder::new()
        .prefix(".otpkit-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| failed(path, "write a temporary file beside", &e))?;
    restrict(temp.as_file(), &target).map_err(|e| failed(path, "set the mode of", &e))?;
    temp.write_all(bytes)
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|e| failed(path, "write", &e))?;
    let persisted = match existing {
        Existing::Replace => temp.persist(&target),
        Existing::Refuse => temp.persist_noclobber(&target),
    };
    if let Err(err) = persisted {
        // Dropping `err.file` removes the temp file.
        return Err(if err.error.kind() == io::ErrorKind::AlreadyExists {
            refused(path)
        } else {
            failed(path, "write", &err.error)
        });
    }
    sync_dir(dir).map_err(|e| failed(dir, "sync the directory", &e))
}

/// Mode 0600, or the target's current mode if that is tighter.
#[cfg(unix)]
fn restrict(file: &File, target: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = match std::fs::metadata(target) {
        Ok(meta) => meta.permissions().mode() & 0o600,
        Err(_) => 0o600,
    };
    file.set_permissions(std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn restrict(_: &File, _: &Path) -> io::Result<()> {
    Ok(())
}

/// Makes a rename in `dir` durable.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_: &Path) -> io::Result<()> {
    Ok(())
}

/// Reads a JSON record; a missing, unreadable or invalid file is a usage
/// error naming the file.
pub fn load_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, Failure> {
    let mut file = File::open(path).map_err(|e| failed(path, "read", &e))?;
    parse_json(path, &mut file)
}

fn parse_json<T: serde::de::DeserializeOwned>(path: &Path, file: &mut File) -> Result<T, Failure> {
    let text = read_wiped(file).map_err(|e| failed(path, "read", &e))?;
    serde_json::from_slice(&text).map_err(|e| Failure::File(format!("{}: {e}", path.display())))
}

/// Reads a text file (it may hold secrets) into a buffer wiped on drop.
pub fn read_text(path: &Path) -> Result<Zeroizing<Vec<u8>>, Failure> {
    let mut file = File::open(path).map_err(|e| failed(path, "read", &e))?;
    read_wiped(&mut file).map_err(|e| failed(path, "read", &e))
}

/// Writes a JSON record atomically, pretty-printed with a final newline.
pub fn save_json<T: serde::Serialize>(path: &Path, value: &T, existing: Existing) -> Outcome {
    write_atomically(path, &to_json(value)?, existing)
}

/// `value` as pretty JSON with a final newline, in a wiped buffer.
pub fn to_json<T: serde::Serialize>(value: &T) -> Result<Zeroizing<Vec<u8>>, Failure> {
    let mut out = WipingBuffer::default();
    serde_json::to_writer_pretty(&mut out, value)
        .map_err(|e| Failure::File(format!("cannot serialize: {e}")))?;
    out.write_all(b"\n")?;
    Ok(out.0)
}

/// Loads the JSON record at `path`, lets `change` decide on it, and saves
/// what it returns, all under an exclusive lock on the file: a concurrent
/// run waits, then sees this one's result. `change` returns the record to
/// save (`None` to leave the file as it is) and the command's outcome.
pub fn update_json<T, R>(
    path: &Path,
    change: impl FnOnce(T) -> Result<(Option<T>, R), Failure>,
) -> Result<R, Failure>
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    let target = resolve(path)?;
    let mut file = lock(&target).map_err(|e| failed(path, "lock", &e))?;
    let record = parse_json(path, &mut file)?;
    let (next, outcome) = change(record)?;
    if let Some(next) = next {
        save_json(&target, &next, Existing::Replace)?;
    }
    // The lock goes with `file`, after the new file is in place.
    drop(file);
    Ok(outcome)
}

/// Opens `path` and takes an exclusive lock on it. The file is replaced by
/// rename on every save, so the lock taken may be on a file that another
/// run has just replaced: then the lock is dropped and taken again on the
/// file now at `path`.
fn lock(path: &Path) -> io::Result<File> {
    loop {
        let file = File::open(path)?;
        file.lock()?;
        if same_file(&file, path)? {
            return Ok(file);
        }
    }
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let (held, current) = (file.metadata()?, std::fs::metadata(path)?);
    Ok(held.dev() == current.dev() && held.ino() == current.ino())
}

#[cfg(not(unix))]
fn same_file(_: &File, _: &Path) -> io::Result<bool> {
    Ok(true)
}

/// Reads all of `file` into a buffer that is wiped on drop and whenever it
/// grows.
/// The largest file the CLI reads: records, sets and imports are a few
/// kilobytes; anything near this is not one (`/dev/zero` would otherwise
/// fill the memory).
pub const MAX_FILE: usize = 1 << 20;

fn read_wiped(file: &mut File) -> io::Result<Zeroizing<Vec<u8>>> {
    let size = file.metadata().map_or(0, |m| m.len());
    let capacity = usize::try_from(size).unwrap_or(MAX_FILE).min(MAX_FILE);
    let mut out = WipingBuffer::with_capacity(capacity.saturating_add(1));
    let mut chunk = Zeroizing::new([0u8; 8192]);
    loop {
        match file.read(&mut *chunk) {
            Ok(0) => return Ok(out.0),
            Ok(n) if out.0.len().saturating_add(n) > MAX_FILE => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "larger than 1 MiB, so not a record, set or import file",
                ));
            }
            Ok(n) => out.write_all(chunk.get(..n).unwrap_or_default())?,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// A byte buffer for secrets: wiped on drop, and each buffer it outgrows is
/// wiped before it is freed (a `Vec` would free it as it is).
#[derive(Default)]
pub struct WipingBuffer(Zeroizing<Vec<u8>>);

impl WipingBuffer {
    pub fn with_capacity(capacity: usize) -> Self {
        Self(Zeroizing::new(Vec::with_capacity(capacity)))
    }

    /// The bytes, still wiped on drop.
    pub fn into_inner(self) -> Zeroizing<Vec<u8>> {
        self.0
    }
}

impl Write for WipingBuffer {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let needed = self.0.len().saturating_add(bytes.len());
        if needed > self.0.capacity() {
            let mut bigger =
                Vec::with_capacity(needed.max(self.0.capacity().saturating_mul(2)).max(256));
            bigger.extend_from_slice(&self.0);
            // The old buffer is wiped as `Zeroizing` drops it.
            self.0 = Zeroizing::new(bigger);
        }
        self.0.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
