//! Writing fixed files without ever losing a byte: to the real path found by discovery (never
//! a name re-parsed from what is displayed), through symbolic links to their target, and only
//! over a file that is still exactly what was read.
//!
//! A file with one link is replaced atomically: a temporary file in the same folder gets the
//! text, the permissions, owner and group, is synced, the original is checked once more (size,
//! modification time and content) immediately before the rename, and renamed over it. A file
//! with several hard links is written in place after the same check, so that every link sees
//! the fix. A read-only file is refused, and so is anything that is not a regular file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum WriteError {
    #[error("cannot write: {0}")]
    Io(#[from] std::io::Error),
    #[error("changed while unblock was running; not written")]
    Changed,
    #[error("the file is read-only; not written")]
    ReadOnly,
    #[error("not a regular file; not written")]
    NotRegular,
}

/// Writes `fixed` over `path` if the file still holds `original`.
pub fn write_atomic(path: &Path, original: &[u8], fixed: &[u8]) -> Result<(), WriteError> {
    write_checked(path, original, fixed, || {})
}

/// What identifies the state of a file cheaply: its size and modification time.
#[derive(Debug, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
}

fn stamp(path: &Path) -> Result<Stamp, WriteError> {
    let meta = std::fs::metadata(path)?;
    Ok(Stamp {
        len: meta.len(),
        modified: meta.modified().ok(),
    })
}

/// Whether the file at `target` is still what was read (stamp and content).
fn unchanged(target: &Path, original: &[u8], first: &Stamp) -> Result<bool, WriteError> {
    Ok(stamp(target)? == *first && std::fs::read(target)? == original)
}

/// [`write_atomic`], with `before_rename` called just before the final check (tests use it to
/// change the file at the worst moment).
fn write_checked(
    path: &Path,
    original: &[u8],
    fixed: &[u8],
    before_rename: impl FnOnce(),
) -> Result<(), WriteError> {
    let target: PathBuf = std::fs::canonicalize(path)?;
    let meta = std::fs::metadata(&target)?;
    if !meta.is_file() {
        return Err(WriteError::NotRegular);
    }
    if meta.permissions().readonly() {
        return Err(WriteError::ReadOnly);
    }
    let first = stamp(&target)?;
    if std::fs::read(&target)? != original {
        return Err(WriteError::Changed);
    }
    if links(&meta) > 1 {
        before_rename();
        return write_in_place(&target, original, fixed, &first);
    }
    let dir = target.parent().unwrap_or_else(|| Path::new("."));
    let mut temp = tempfile::Builder::new()
        .prefix(".unblock-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    temp.write_all(fixed)?;
    std::fs::set_permissions(temp.path(), meta.permissions())?;
    if !same_owner(temp.path(), &meta) {
        // The new file cannot be given the old one's owner: writing in place keeps it.
        drop(temp);
        before_rename();
        return write_in_place(&target, original, fixed, &first);
    }
    temp.as_file().sync_all()?;
    before_rename();
    if !unchanged(&target, original, &first)? {
        return Err(WriteError::Changed);
    }
    temp.persist(&target).map_err(|e| WriteError::Io(e.error))?;
    Ok(())
}

fn write_in_place(
    target: &Path,
    original: &[u8],
    fixed: &[u8],
    first: &Stamp,
) -> Result<(), WriteError> {
    if !unchanged(target, original, first)? {
        return Err(WriteError::Changed);
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(target)?;
    file.write_all(fixed)?;
    file.sync_all()?;
    Ok(())
}

#[cfg(unix)]
fn links(meta: &std::fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    meta.nlink()
}

#[cfg(not(unix))]
fn links(_meta: &std::fs::Metadata) -> u64 {
    1
}

/// Gives `temp` the owner and group of the original; whether they now match.
#[cfg(unix)]
fn same_owner(temp: &Path, meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(now) = std::fs::metadata(temp) else {
        return false;
    };
    if now.uid() == meta.uid() && now.gid() == meta.gid() {
        return true;
    }
    std::os::unix::fs::chown(temp, Some(meta.uid()), Some(meta.gid())).is_ok()
}

#[cfg(not(unix))]
fn same_owner(_temp: &Path, _meta: &std::fs::Metadata) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_keeps_permissions() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("a.py");
        std::fs::write(&path, b"old").expect("write");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o750)).expect("chmod");
        }
        write_atomic(&path, b"old", b"new").expect("written");
        assert_eq!(std::fs::read(&path).expect("read"), b"new");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o750);
        }
    }

    #[test]
    fn refuses_a_file_changed_since_read() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("a.py");
        std::fs::write(&path, b"changed").expect("write");
        assert!(matches!(
            write_atomic(&path, b"old", b"new"),
            Err(WriteError::Changed)
        ));
        assert_eq!(std::fs::read(&path).expect("read"), b"changed");
    }

    #[test]
    fn an_edit_racing_the_rename_is_kept() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("a.py");
        std::fs::write(&path, b"old").expect("write");
        let result = write_checked(&path, b"old", b"new", || {
            std::fs::write(&path, b"saved by an editor").expect("editor save");
        });
        assert!(matches!(result, Err(WriteError::Changed)));
        assert_eq!(std::fs::read(&path).expect("read"), b"saved by an editor");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .expect("dir")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(".unblock-"))
            .collect();
        assert!(leftovers.is_empty(), "the temporary file is removed");
    }

    #[cfg(unix)]
    #[test]
    fn a_read_only_file_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("a.py");
        std::fs::write(&path, b"old").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).expect("chmod");
        assert!(matches!(
            write_atomic(&path, b"old", b"new"),
            Err(WriteError::ReadOnly)
        ));
        assert_eq!(std::fs::read(&path).expect("read"), b"old");
    }

    #[cfg(unix)]
    #[test]
    fn hard_links_stay_linked() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("a.py");
        let other = dir.path().join("b.py");
        std::fs::write(&path, b"old").expect("write");
        std::fs::hard_link(&path, &other).expect("link");
        write_atomic(&path, b"old", b"new").expect("written");
        assert_eq!(std::fs::read(&other).expect("read"), b"new");
        assert_eq!(links(&std::fs::metadata(&path).expect("meta")), 2);
    }

    #[cfg(unix)]
    #[test]
    fn owner_and_group_are_kept() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("a.py");
        std::fs::write(&path, b"old").expect("write");
        // As root (CI, developers here), the file goes to another user first, so that a
        // rename of a root-owned temporary would show; otherwise nothing can change owners.
        let root = std::fs::metadata(dir.path()).expect("meta").uid() == 0;
        if root {
            std::os::unix::fs::chown(&path, Some(12345), Some(12345)).expect("root chowns");
        }
        let before = std::fs::metadata(&path).expect("meta");
        assert!(!root || before.uid() == 12345);
        write_atomic(&path, b"old", b"new").expect("written");
        let after = std::fs::metadata(&path).expect("meta");
        assert_eq!((after.uid(), after.gid()), (before.uid(), before.gid()));
        assert_eq!(std::fs::read(&path).expect("read"), b"new");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_not_written() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("pipe.py");
        let made = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .is_ok_and(|s| s.success());
        assert!(made, "mkfifo is part of coreutils");
        assert!(matches!(
            write_atomic(&path, b"", b"new"),
            Err(WriteError::NotRegular)
        ));
    }
}
