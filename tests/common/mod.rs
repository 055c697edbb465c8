//! Helpers shared by the CLI test files: a temporary tree of files, and the built binary run
//! in it (colour off, output captured).

#![allow(dead_code)]

use std::path::Path;

use assert_cmd::Command;
use tempfile::TempDir;

/// Blocking calls with fixes: `time.sleep` (native) on line 6, `os.path.exists` (thread) on
/// line 7.
pub const BLOCKING: &str = "import time\nimport os\n\n\nasync def main(p):\n    time.sleep(1)\n    return os.path.exists(p)\n";
/// A sqlite3 connection used across an `await`: no rewrite is safe, so it stays `manual`.
pub const MANUAL: &str = "import sqlite3\n\n\nasync def main(db, sink):\n    conn = sqlite3.connect(db)\n    await sink(conn.execute(\"select 1\").fetchone())\n";
pub const CLEAN: &str = "import asyncio\n\n\nasync def main():\n    await asyncio.sleep(1)\n";

/// The built binary, run in `dir`, with colour and the output-format variable unset.
pub fn unblock(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("unblock").expect("binary");
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("FORCE_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("UNBLOCK_OUTPUT_FORMAT");
    cmd
}

/// A temporary folder holding these files (folders made as needed).
pub fn tree(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        let path = dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(path, text).expect("write");
    }
    dir
}

/// Runs `unblock` with these arguments in `dir`.
pub fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    unblock(dir).args(args).output().expect("runs")
}

pub fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).expect("read")
}
