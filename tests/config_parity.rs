//! Suppression and configuration that behave as in ruff: file-level exemptions,
//! `required-version`, `exclude` replacing the built-in skipped folders, TOML errors with
//! their place, `--stdin-filename` alone, and a missing path that is not summed up as clean.

mod common;

use common::{BLOCKING, CLEAN, read, run, stderr, stdout, tree, unblock};

#[test]
fn file_level_exemptions() {
    let body = "import time\nimport os\n\n\nasync def main(p):\n    time.sleep(1)\n    return os.path.exists(p)\n";
    let dir = tree(&[
        ("skip.py", &format!("# unblock: skip-file\n{body}")),
        (
            "ruff_all.py",
            &format!("#!/usr/bin/env python\n# ruff: noqa\n{body}"),
        ),
        ("ruff_sleep.py", &format!("# ruff: noqa: ASYNC251\n{body}")),
        ("flake8.py", &format!("# flake8: noqa\n{body}")),
        // Not file-level: a trailing comment, and one inside a string.
        ("trailing.py", &format!("x = 1  # ruff: noqa\n{body}")),
        (
            "string.py",
            &format!("DOC = \"\"\"\n# unblock: skip-file\n\"\"\"\n{body}"),
        ),
    ]);
    let out = run(dir.path(), &["check"]);
    let text = stdout(&out);
    for exempt in ["skip.py", "ruff_all.py", "flake8.py"] {
        assert!(!text.contains(&format!("{exempt}:")), "{exempt}: {text}");
    }
    assert!(
        !text.contains("ruff_sleep.py:7:5: UNB100") && text.contains("ruff_sleep.py:8:12: UNB120"),
        "only the aliased rule is exempt: {text}"
    );
    assert!(text.contains("trailing.py:7:5: UNB100"), "{text}");
    assert!(text.contains("string.py:9:5: UNB100"), "{text}");

    // `fix` leaves an exempt file alone.
    let out = run(dir.path(), &["fix", "skip.py", "ruff_sleep.py"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        read(dir.path(), "skip.py"),
        format!("# unblock: skip-file\n{body}")
    );
    let fixed = read(dir.path(), "ruff_sleep.py");
    assert!(
        fixed.contains("    time.sleep(1)\n")
            && fixed.contains("await asyncio.to_thread(os.path.exists, p)"),
        "{fixed}"
    );
}

#[test]
fn required_version() {
    let version = env!("CARGO_PKG_VERSION");
    let dir = tree(&[("a.py", CLEAN)]);
    let with = |required: &str| {
        std::fs::write(
            dir.path().join("pyproject.toml"),
            format!("[tool.unblock]\nrequired-version = \"{required}\"\n"),
        )
        .expect("write");
        run(dir.path(), &["check"])
    };
    for ok in [
        version.to_string(),
        format!(">={version}"),
        format!("=={version}"),
    ] {
        let out = with(&ok);
        assert_eq!(out.status.code(), Some(0), "{ok}: {}", stderr(&out));
    }
    let out = with(">=999");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(&format!(
            "pyproject.toml: invalid configuration: `required-version = \">=999\"` does not match the running unblock {version}"
        )),
        "{}",
        stderr(&out)
    );
    assert_eq!(with("999.0").status.code(), Some(2));
    let out = with("latest");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is not a version or specifier"));
}

#[test]
fn exclude_replaces_the_built_in_skipped_folders() {
    let dir = tree(&[
        ("build/gen.py", BLOCKING),
        ("pkg/a.py", BLOCKING),
        ("venv/lib.py", BLOCKING),
    ]);
    let text = stdout(&run(dir.path(), &["check"]));
    assert!(
        text.contains("pkg/a.py") && !text.contains("build/") && !text.contains("venv/"),
        "{text}"
    );
    // `exclude = []` brings them back (a package that is named `build`).
    std::fs::write(
        dir.path().join("pyproject.toml"),
        "[tool.unblock]\nexclude = []\n",
    )
    .expect("write");
    let text = stdout(&run(dir.path(), &["check"]));
    assert!(
        text.contains("build/gen.py:6:5") && text.contains("venv/lib.py:6:5"),
        "{text}"
    );
    // `extend-exclude` adds to the built-in list, which stays.
    std::fs::write(
        dir.path().join("pyproject.toml"),
        "[tool.unblock]\nextend-exclude = [\"pkg\"]\n",
    )
    .expect("write");
    let text = stdout(&run(dir.path(), &["check"]));
    assert!(
        text.contains("No blocking calls found (0 files checked)."),
        "{text}"
    );
    // On the command line: `--exclude` replaces (the file's `extend-exclude` still adds),
    // `--extend-exclude` adds.
    let text = stdout(&run(dir.path(), &["check", "--exclude", "venv"]));
    assert!(
        text.contains("build/gen.py") && !text.contains("pkg/") && !text.contains("venv/"),
        "{text}"
    );
    let text = stdout(&run(
        dir.path(),
        &["check", "--isolated", "--extend-exclude", "build"],
    ));
    assert!(
        text.contains("pkg/a.py") && !text.contains("build/") && !text.contains("venv/"),
        "{text}"
    );
}

#[test]
fn toml_errors_keep_their_line_and_column() {
    let dir = tree(&[("a.py", CLEAN)]);
    let error = |pyproject: &str| {
        std::fs::write(dir.path().join("pyproject.toml"), pyproject).expect("write");
        let out = run(dir.path(), &["check"]);
        assert_eq!(out.status.code(), Some(2));
        stderr(&out)
    };
    let e = error(
        "[project]\nname = \"x\"\n\n[tool.unblock]\nselect = [\"UNB100\"]\nstrategy = \"fast\"\n",
    );
    assert!(
        e.contains("pyproject.toml:6:12: invalid configuration: unknown variant `fast`"),
        "{e}"
    );
    let e = error("[tool.unblock]\n  not-an-option = 1\n");
    assert!(
        e.contains("pyproject.toml:2:3: invalid configuration: unknown field `not-an-option`"),
        "{e}"
    );
    let e = error("[tool.unblock]\nselect = [\"UNB100\"\n");
    assert!(e.contains("pyproject.toml:2:"), "{e}");
    // A standalone file given with --config too.
    std::fs::write(dir.path().join("pyproject.toml"), "").expect("write");
    std::fs::write(
        dir.path().join("u.toml"),
        "ignore = [\"UNB100\"]\nunsafe-fixes = \"yes\"\n",
    )
    .expect("write");
    let out = run(dir.path(), &["check", "--config", "u.toml"]);
    assert!(
        stderr(&out).contains("u.toml:2:16: invalid configuration"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn stdin_filename_alone_reads_standard_input() {
    let dir = tree(&[("other.py", BLOCKING)]);
    let out = unblock(dir.path())
        .args(["check", "--stdin-filename", "pkg/mod.py"])
        .write_stdin(BLOCKING)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("pkg/mod.py:6:5: UNB100"), "{text}");
    assert!(
        !text.contains("other.py"),
        "the folder is not walked: {text}"
    );
    let out = unblock(dir.path())
        .args(["fix", "--stdin-filename", "pkg/mod.py"])
        .write_stdin(BLOCKING)
        .output()
        .expect("runs");
    assert!(stdout(&out).contains("await asyncio.sleep(1)"));
    assert_eq!(read(dir.path(), "other.py"), BLOCKING);
    // With another path, it is an error rather than a silent choice.
    let out = unblock(dir.path())
        .args(["check", "--stdin-filename", "x.py", "other.py"])
        .write_stdin(BLOCKING)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--stdin-filename"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_missing_path_is_not_summed_up_as_clean() {
    let dir = tree(&[("a.py", CLEAN)]);
    let out = run(dir.path(), &["check", "nope.py"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stdout(&out), "", "no summary when nothing could be checked");
    assert!(stderr(&out).contains("error: nope.py:"), "{}", stderr(&out));
    let out = run(dir.path(), &["check", "nope.py", "a.py"]);
    assert_eq!(
        stdout(&out),
        "No blocking calls found in the 1 file checked; 1 file could not be checked.\n"
    );
    let dirty = tree(&[("a.py", BLOCKING)]);
    let out = run(dirty.path(), &["check", "nope.py", "a.py"]);
    assert!(
        stdout(&out).ends_with("1 manual; 1 file could not be checked\n")
            || stdout(&out).contains("; 1 file could not be checked\n"),
        "{}",
        stdout(&out)
    );
    let out = run(dir.path(), &["fix", "nope.py"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!stderr(&out).contains("remain"), "{}", stderr(&out));
}
