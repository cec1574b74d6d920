//! Files the CLI writes: never half-written, never a surprise overwrite.

use std::io::Write;
use std::path::Path;

use crate::{Failure, Outcome};

/// Whether an existing file may be replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    Replace,
    Refuse,
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, synced,
/// then renamed over the target (or, when replacing is refused, linked to
/// it, which fails if the target exists), so no reader ever sees half a
/// file and no file is overwritten by surprise.
pub fn write_atomically(path: &Path, bytes: &[u8], existing: Existing) -> Outcome {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| Failure::Usage(format!("{} is not a file name", path.display())))?;
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".{}.tmp", std::process::id()));
    let temp = dir.join(temp_name);
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        match existing {
            Existing::Replace => std::fs::rename(&temp, path),
            Existing::Refuse => std::fs::hard_link(&temp, path),
        }
    })();
    let _ = std::fs::remove_file(&temp);
    match result {
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Err(Failure::Usage(
            format!("{} exists: pass --force to replace it", path.display()),
        )),
        result => Ok(result?),
    }
}

/// Reads a JSON record; a missing, unreadable or invalid file is a usage
/// error naming the file.
pub fn load_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))
}

/// Writes a JSON record atomically, pretty-printed with a final newline.
pub fn save_json<T: serde::Serialize>(path: &Path, value: &T, existing: Existing) -> Outcome {
    let mut json =
        serde_json::to_vec_pretty(value).map_err(|e| Failure::Io(std::io::Error::other(e)))?;
    json.push(b'\n');
    write_atomically(path, &json, existing)
}
