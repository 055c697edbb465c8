//! Output polish: colour and the variables that steer it, coloured diffs, `diff`'s closing
//! line, files that could not be checked as diagnostics in JSON, SARIF and GitHub output,
//! and shell completions.

mod common;

use common::{BLOCKING, MANUAL, run, stderr, stdout, tree, unblock};

const BROKEN: &str = "async def main(:\n";

/// `check` with colour steered by these variables only (none of the test's own).
fn check_with_env(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = unblock(dir);
    cmd.env_remove("NO_COLOR")
        .env_remove("CLICOLOR")
        .arg("check")
        .args(args);
    for (key, value) in env {
        cmd.env(key, value);
    }
    stdout(&cmd.output().expect("runs"))
}

#[test]
fn colour_follows_the_flag_then_the_environment() {
    let dir = tree(&[("a.py", BLOCKING)]);
    let colored = |text: &str| text.contains("\x1b[1m\x1b[31mUNB100\x1b[0m");
    let plain = |text: &str| !text.contains('\x1b');
    // Not a terminal: no colour unless something asks for it.
    assert!(plain(&check_with_env(dir.path(), &[], &[])));
    assert!(colored(&check_with_env(
        dir.path(),
        &[],
        &[("FORCE_COLOR", "1")]
    )));
    assert!(plain(&check_with_env(
        dir.path(),
        &[],
        &[("FORCE_COLOR", "0")]
    )));
    assert!(colored(&check_with_env(
        dir.path(),
        &[],
        &[("CLICOLOR_FORCE", "1")]
    )));
    assert!(plain(&check_with_env(
        dir.path(),
        &[],
        &[("FORCE_COLOR", "1"), ("NO_COLOR", "1")]
    )));
    assert!(plain(&check_with_env(
        dir.path(),
        &["--color", "never"],
        &[("FORCE_COLOR", "1")]
    )));
    assert!(colored(&check_with_env(
        dir.path(),
        &["--color", "always"],
        &[("NO_COLOR", "1")]
    )));
    // A file gets no colour unless `--color always`.
    check_with_env(
        dir.path(),
        &["--output-file", "out.txt"],
        &[("FORCE_COLOR", "1")],
    );
    assert!(plain(&common::read(dir.path(), "out.txt")));
}

#[test]
fn diffs_are_coloured_when_colour_is_on_and_apply_when_it_is_off() {
    let dir = tree(&[("a.py", BLOCKING)]);
    let plain = stdout(&run(dir.path(), &["diff"]));
    let colored = stdout(&run(dir.path(), &["diff", "--color", "always"]));
    assert!(
        colored.contains("\x1b[1m--- a/a.py\x1b[0m\n"),
        "{colored:?}"
    );
    assert!(
        colored.contains("\x1b[31m-import time\x1b[0m\n"),
        "{colored:?}"
    );
    assert!(
        colored.contains("\x1b[32m+import asyncio\x1b[0m\n"),
        "{colored:?}"
    );
    assert!(colored.contains("\x1b[36m@@ "), "{colored:?}");
    let stripped = String::from_utf8(anstream::adapter::strip_bytes(colored.as_bytes()).into_vec())
        .expect("utf-8");
    assert_eq!(stripped, plain, "the colour is only added around the lines");
    assert!(!plain.contains('\x1b'));
}

#[test]
fn diff_ends_with_what_it_would_fix_and_what_remains() {
    let dir = tree(&[("a.py", BLOCKING), ("b.py", MANUAL)]);
    let out = run(dir.path(), &["diff"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "Would fix 2 blocking calls in 1 file; 3 manual findings remain.\n"
    );
    assert!(
        stdout(&out).starts_with("--- a/a.py\n"),
        "the patch is untouched"
    );
    assert!(!stdout(&out).contains("Would fix"));
    let quiet = run(dir.path(), &["diff", "-q"]);
    assert_eq!(stderr(&quiet), "");
    // `fix` says the same thing, done.
    let out = run(dir.path(), &["fix"]);
    assert!(
        stderr(&out).ends_with("Fixed 2 blocking calls in 1 file; 3 manual findings remain.\n"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn files_that_could_not_be_checked_are_diagnostics_in_machine_formats() {
    let dir = tree(&[("a.py", BLOCKING), ("bad.py", BROKEN)]);
    let out = run(dir.path(), &["check", "--output-format", "json", "."]);
    assert_eq!(out.status.code(), Some(2));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let error = rows
        .as_array()
        .expect("array")
        .iter()
        .find(|r| r.get("error").is_some())
        .expect("an error row");
    assert_eq!(error["path"], "bad.py");
    assert_eq!(error["line"], 1);
    assert_eq!(error["column"], 16);
    assert!(
        error["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("syntax error at line 1, column 16")),
        "{error}"
    );

    let out = run(dir.path(), &["check", "--output-format", "github"]);
    let text = stdout(&out);
    assert!(text.starts_with("::warning title=UNB100"), "{text}");
    assert!(
        text.lines().last().is_some_and(|l| l.starts_with(
            "::error title=unblock,file=bad.py,line=1,col=16::syntax error at line 1"
        )),
        "{text}"
    );
    let missing = run(
        dir.path(),
        &["check", "--output-format", "github", "nope.py"],
    );
    assert!(
        stdout(&missing).starts_with("::error title=unblock,file=nope.py::"),
        "{}",
        stdout(&missing)
    );

    let out = run(dir.path(), &["check", "--output-format", "sarif"]);
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).expect("sarif");
    let invocation = &log["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let notification = &invocation["toolExecutionNotifications"][0];
    assert_eq!(notification["level"], "error");
    let location = &notification["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "bad.py");
    assert_eq!(location["region"]["startLine"], 1);
    assert_eq!(location["region"]["startColumn"], 16);
    let clean = tree(&[("a.py", BLOCKING)]);
    let out = run(clean.path(), &["check", "--output-format", "sarif"]);
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).expect("sarif");
    assert_eq!(
        log["runs"][0]["invocations"][0]["executionSuccessful"],
        true
    );
}

#[test]
fn completions_for_every_shell() {
    let dir = tree(&[]);
    let bash = run(dir.path(), &["completions", "bash"]);
    assert_eq!(bash.status.code(), Some(0));
    let script = stdout(&bash);
    assert!(script.contains("_unblock()"), "{script}");
    for option in [
        "--force-exclude",
        "--statistics",
        "--output-format",
        "--add-noqa",
    ] {
        assert!(script.contains(option), "{option} missing");
    }
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let out = run(dir.path(), &["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        assert!(stdout(&out).contains("explain"), "{shell}");
    }
    let out = run(dir.path(), &["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
}
