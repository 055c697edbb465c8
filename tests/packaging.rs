//! Packaging (README "Install"): `pip install <checkout>` into a fresh virtualenv under
//! `target/` builds the wheel through `pyproject.toml` (maturin, `bindings = "bin"`) with the
//! Rust toolchain that runs the tests, and gives a working `unblock` command; so does `pip
//! install` of the sdist that `maturin sdist` makes of the checkout.
//!
//! The release build goes to `target/pip-build` (kept between runs, so only the first run
//! compiles everything). The test is skipped, saying why, only when `python3 -m pip` is
//! missing or the package index cannot be reached (pip needs maturin from it); any other
//! failure fails the test.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BLOCKING: &str = "import time\n\n\nasync def main():\n    time.sleep(1)\n";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Whether pip's failure is that the index could not be reached (no network), as opposed to
/// a failing build.
fn index_unreachable(stderr: &str) -> bool {
    [
        "NewConnectionError",
        "Temporary failure in name resolution",
        "Network is unreachable",
        "ConnectTimeoutError",
        "ProxyError",
        "No matching distribution found for maturin",
    ]
    .iter()
    .any(|marker| stderr.contains(marker))
}

/// A fresh virtualenv at `dir` (the standard `venv`, or `virtualenv` where Debian split `venv`
/// out of python3).
fn make_venv(dir: &Path) -> PathBuf {
    let venv = Command::new("python3")
        .args(["-m", "venv", "--clear"])
        .arg(dir)
        .status()
        .is_ok_and(|s| s.success());
    if !venv {
        let _ = std::fs::remove_dir_all(dir);
        let made = Command::new("python3")
            .args(["-m", "virtualenv", "--quiet"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            made,
            "neither `python3 -m venv` nor `python3 -m virtualenv` works"
        );
    }
    if cfg!(windows) {
        dir.join("Scripts/python.exe")
    } else {
        dir.join("bin/python")
    }
}

/// `pip install <dir>` with the virtualenv's pip. Cargo's variables for the test process are
/// removed so that the nested build sees a plain environment.
fn pip_install(python: &Path, what: &Path) -> Output {
    let mut cmd = Command::new(python);
    cmd.args([
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "--no-cache-dir",
    ])
    .arg(what)
    .env("CARGO_TARGET_DIR", root().join("target/pip-build"));
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("CARGO_") && key != "CARGO_HOME" && key != "CARGO_TARGET_DIR" {
            cmd.env_remove(key.as_ref());
        }
    }
    cmd.output().expect("pip runs")
}

/// `maturin sdist` of the checkout (maturin installed from the index into `venv`), into `out`.
fn make_sdist(python: &Path, out: &Path) -> PathBuf {
    let installed = pip_install(python, Path::new("maturin>=1.5,<2"));
    assert!(
        installed.status.success(),
        "pip install maturin failed:\n{}",
        text(&installed.stderr)
    );
    let made =
        Command::new(python.with_file_name(format!("maturin{}", std::env::consts::EXE_SUFFIX)))
            .args(["sdist", "--out"])
            .arg(out)
            .current_dir(root())
            .output()
            .expect("maturin runs");
    assert!(
        made.status.success(),
        "maturin sdist failed:\n{}",
        text(&made.stderr)
    );
    std::fs::read_dir(out)
        .expect("sdist folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.to_string_lossy().ends_with(".tar.gz"))
        .expect("an sdist")
}

/// The installed command prints its version, finds a blocking call and fixes it.
fn assert_installed_unblock_works(python: &Path) {
    let unblock = python.with_file_name(format!("unblock{}", std::env::consts::EXE_SUFFIX));
    assert!(unblock.is_file(), "pip installed no `unblock` command");
    let version = Command::new(&unblock)
        .arg("--version")
        .output()
        .expect("unblock runs");
    assert!(version.status.success());
    assert_eq!(
        text(&version.stdout).trim(),
        format!("unblock {}", env!("CARGO_PKG_VERSION"))
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("app.py");
    std::fs::write(&file, BLOCKING).expect("write");
    let check = Command::new(&unblock)
        .args(["check", "--isolated", "app.py"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .output()
        .expect("unblock runs");
    assert_eq!(check.status.code(), Some(1), "{}", text(&check.stderr));
    assert!(
        text(&check.stdout).contains("app.py:5:5: UNB100 [blocking-sleep]"),
        "{}",
        text(&check.stdout)
    );
    let fix = Command::new(&unblock)
        .args(["fix", "--isolated", "app.py"])
        .current_dir(dir.path())
        .output()
        .expect("unblock runs");
    assert_eq!(fix.status.code(), Some(0), "{}", text(&fix.stderr));
    let fixed = std::fs::read_to_string(&file).expect("read");
    assert!(fixed.contains("await asyncio.sleep(1)"), "{fixed}");
}

/// The checkout, then its sdist (which must carry everything the build needs), each into a
/// fresh virtualenv; one after the other, as they share the build folder.
#[test]
fn pip_install_of_the_checkout_and_of_its_sdist_give_a_working_unblock() {
    let has_pip = Command::new("python3")
        .args(["-m", "pip", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_pip {
        eprintln!("skipped: `python3 -m pip` is not available");
        return;
    }
    let python = make_venv(&root().join("target/pip-venv"));
    let started = std::time::Instant::now();
    let out = pip_install(&python, &root());
    if !out.status.success() {
        let stderr = text(&out.stderr);
        if index_unreachable(&stderr) {
            eprintln!("skipped: the package index cannot be reached:\n{stderr}");
            return;
        }
        panic!(
            "pip install of the checkout failed:\n{}\n{stderr}",
            text(&out.stdout)
        );
    }
    eprintln!(
        "pip install of the checkout took {:.0} s",
        started.elapsed().as_secs_f64()
    );
    assert_installed_unblock_works(&python);

    let started = std::time::Instant::now();
    let python = make_venv(&root().join("target/pip-venv-sdist"));
    let dist = tempfile::tempdir().expect("tempdir");
    let sdist = make_sdist(&python, dist.path());
    let out = pip_install(&python, &sdist);
    assert!(
        out.status.success(),
        "pip install of the sdist failed:\n{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    eprintln!(
        "maturin sdist and pip install of it took {:.0} s",
        started.elapsed().as_secs_f64()
    );
    assert_installed_unblock_works(&python);
}
