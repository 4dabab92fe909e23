//! Writing a file that holds a secret (a key, a refresh token, an export,
//! a saved attachment), the one way the whole workspace does it:
//!
//! - owner-only (0600) from the moment the file exists, never chmod-ed
//!   afterwards, so there is no window in which others can read it;
//! - written to a temporary file in the same directory, flushed to disk,
//!   then moved into place in one step, so a crash leaves either the old
//!   contents or the new, never half of either;
//! - with [`Existing::Keep`], an existing file is an error and stays as it
//!   was (a backup never overwrites another by accident).
//!
//! On Windows there are no file modes: files live under the user's own
//! profile, which only they can read.

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// What to do when the target already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Replace it, atomically.
    Replace,
    /// Refuse with [`io::ErrorKind::AlreadyExists`] and leave it alone.
    Keep,
}

/// Writes `bytes` to `path` as described in the crate docs. The parent
/// directory must exist.
pub fn write(path: &Path, bytes: &[u8], existing: Existing) -> io::Result<()> {
    write_with(path, existing, |file| file.write_all(bytes))
}

/// Like [`write`], for contents too large to hold in memory: `fill` writes
/// them to the (temporary) file.
pub fn write_with(
    path: &Path,
    existing: Existing,
    fill: impl FnOnce(&mut File) -> io::Result<()>,
) -> io::Result<()> {
    let tmp = temp_path(path)?;
    let result = write_temp(&tmp, fill).and_then(|()| match existing {
        Existing::Replace => std::fs::rename(&tmp, path),
        // A hard link fails if the name is taken, atomically, where a
        // check followed by a rename would race with another writer.
        Existing::Keep => std::fs::hard_link(&tmp, path),
    });
    // After a rename the temporary name is gone already; after a link or
    // a failure it must not stay behind.
    let _ = std::fs::remove_file(&tmp);
    result?;
    sync_dir(path);
    Ok(())
}

/// A name no other writer uses, next to the target (a rename is only
/// atomic within one file system), hidden and clearly temporary.
fn temp_path(path: &Path) -> io::Result<PathBuf> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
    let mut tmp = OsString::from(".");
    tmp.push(name);
    tmp.push(format!(".{:016x}.tmp", rand::random::<u64>()));
    Ok(path.with_file_name(tmp))
}

fn write_temp(tmp: &Path, fill: impl FnOnce(&mut File) -> io::Result<()>) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(tmp)?;
    fill(&mut file)?;
    file.sync_all()
}

/// Makes the rename itself durable. Best effort: the data is on disk
/// already, and not every file system lets a directory be opened.
#[cfg(unix)]
fn sync_dir(path: &Path) {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
}

#[cfg(not(unix))]
fn sync_dir(_path: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    fn leftovers(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect()
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_new_file_is_owner_only_and_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        write(&path, b"secret", Existing::Keep).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"secret");
        #[cfg(unix)]
        assert_eq!(mode(&path), 0o600);
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn replace_swaps_contents_and_tightens_a_loose_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, b"old and longer than the new").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        write(&path, b"new", Existing::Replace).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        #[cfg(unix)]
        assert_eq!(mode(&path), 0o600);
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn keep_refuses_an_existing_file_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("backup.gkx");
        std::fs::write(&path, b"the other backup").unwrap();
        let err = write(&path, b"this one", Existing::Keep).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).unwrap(), b"the other backup");
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn a_failed_write_leaves_the_old_contents_and_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should go: the final rename fails
        // after the temporary file was written in full.
        let path = dir.path().join("token");
        std::fs::create_dir(&path).unwrap();
        std::fs::write(path.join("inside"), b"kept").unwrap();
        assert!(write(&path, b"new", Existing::Replace).is_err());
        assert_eq!(std::fs::read(path.join("inside")).unwrap(), b"kept");
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn a_missing_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent").join("token");
        let err = write(&path, b"x", Existing::Replace).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn a_path_without_a_file_name_is_refused() {
        let err = write(Path::new("/"), b"x", Existing::Replace).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn writers_racing_for_one_name_each_leave_a_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        let contents: Vec<Vec<u8>> = (0..8u8).map(|i| vec![i; 64 * 1024]).collect();
        std::thread::scope(|s| {
            for c in &contents {
                let path = &path;
                s.spawn(move || write(path, c, Existing::Replace).unwrap());
            }
        });
        let found = std::fs::read(&path).unwrap();
        assert!(
            contents.contains(&found),
            "a torn file: {} bytes",
            found.len()
        );
        assert!(leftovers(dir.path()).is_empty());
    }
}
