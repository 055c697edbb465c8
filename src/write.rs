//! Writing fixed files: atomically (a temporary file in the same folder, then a rename),
//! keeping permissions, through symbolic links to their target, and never over a file that
//! changed since it was read.

use std::io::Write;
use std::path::{Path, PathBuf};

use thiserror::Error;

#[derive(Debug, Error)]
pub enum WriteError {
    #[error("cannot write: {0}")]
    Io(#[from] std::io::Error),
    #[error("changed while unblock was running; not written")]
    Changed,
}

pub fn write_atomic(path: &Path, original: &[u8], fixed: &[u8]) -> Result<(), WriteError> {
    let target: PathBuf = std::fs::canonicalize(path)?;
    let current = std::fs::read(&target)?;
    if current != original {
        return Err(WriteError::Changed);
    }
    let permissions = std::fs::metadata(&target)?.permissions();
    let dir = target.parent().unwrap_or_else(|| Path::new("."));
    let mut temp = tempfile::Builder::new()
        .prefix(".unblock-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    temp.write_all(fixed)?;
    temp.as_file().sync_all()?;
    std::fs::set_permissions(temp.path(), permissions)?;
    temp.persist(&target).map_err(|e| WriteError::Io(e.error))?;
    Ok(())
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
}
