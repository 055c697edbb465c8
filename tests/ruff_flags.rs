//! The flags a ruff user reaches for: `--exit-zero`, `--statistics`, `--output-file`,
//! `--extend-select`/`--extend-ignore` (and their configuration keys), the output-format
//! environment variable, `check --fix`/`check --diff`, and `check --add-noqa`.

mod common;

use common::{BLOCKING, CLEAN, MANUAL, read, run, stderr, stdout, tree, unblock};

const BROKEN: &str = "async def main(:\n";

#[test]
fn exit_zero_keeps_the_output_but_not_the_exit_code() {
    let dir = tree(&[("a.py", BLOCKING), ("b.py", MANUAL)]);
    let out = run(dir.path(), &["check", "--exit-zero"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("a.py:6:5: UNB100"),
        "{}",
        stdout(&out)
    );
    let out = run(dir.path(), &["diff", "--exit-zero"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).starts_with("--- a/a.py"));
    let out = run(dir.path(), &["fix", "--exit-zero"]);
    assert_eq!(out.status.code(), Some(0), "manual findings remain in b.py");
    assert!(stdout(&out).contains("b.py:5:12: UNB170"));
    // An error is still an error.
    let dir = tree(&[("a.py", BLOCKING), ("bad.py", BROKEN)]);
    let out = run(dir.path(), &["check", "--exit-zero"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn statistics_count_findings_by_rule_and_fix_kind() {
    let two_sleeps = "import time\n\n\nasync def f():\n    time.sleep(1)\n    time.sleep(2)\n";
    let dir = tree(&[("a.py", BLOCKING), ("b.py", MANUAL), ("c.py", two_sleeps)]);
    let out = run(dir.path(), &["check", "--statistics"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        "3  UNB100  [native]  blocking-sleep\n\
         3  UNB170  [manual]  blocking-db\n\
         1  UNB120  [thread]  blocking-path\n\
         Found 7 blocking calls in 3 files: 4 fixable (native 3, thread 1, helper 0), 3 manual\n"
    );
    let out = run(dir.path(), &["check", "--statistics", "-q"]);
    assert!(!stdout(&out).contains("Found"), "{}", stdout(&out));
    let out = run(
        dir.path(),
        &["check", "--statistics", "--output-format", "json"],
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        rows,
        serde_json::json!([
            {"code": "UNB100", "rule": "blocking-sleep", "fix": "native", "count": 3},
            {"code": "UNB170", "rule": "blocking-db", "fix": "manual", "count": 3},
            {"code": "UNB120", "rule": "blocking-path", "fix": "thread", "count": 1},
        ])
    );
    let clean = tree(&[("a.py", CLEAN)]);
    let out = run(clean.path(), &["check", "--statistics"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "No blocking calls found (1 file checked).\n");
}

#[test]
fn output_file_receives_what_standard_output_would() {
    let dir = tree(&[("a.py", BLOCKING), ("b.py", MANUAL)]);
    for format in ["text", "json", "sarif", "github"] {
        let expected = run(dir.path(), &["check", "--output-format", format]);
        let name = format!("reports/{format}.out");
        let out = run(
            dir.path(),
            &["check", "--output-format", format, "--output-file", &name],
        );
        assert_eq!(out.status.code(), Some(1), "{format}");
        assert_eq!(stdout(&out), "", "{format}: nothing on standard output");
        assert_eq!(read(dir.path(), &name), stdout(&expected), "{format}");
    }
    // The environment variable ruff users know as RUFF_OUTPUT_FILE.
    let out = unblock(dir.path())
        .args(["check", "-q"])
        .env("UNBLOCK_OUTPUT_FILE", "env.txt")
        .output()
        .expect("runs");
    assert_eq!(stdout(&out), "");
    assert!(read(dir.path(), "env.txt").starts_with("a.py:6:5: UNB100"));
    // A file that cannot be written is an error.
    let out = run(dir.path(), &["check", "--output-file", "a.py/x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("a.py/x"), "{}", stderr(&out));
}

#[test]
fn output_format_from_the_environment() {
    let dir = tree(&[("a.py", BLOCKING)]);
    let env = |value: &str, args: &[&str]| {
        unblock(dir.path())
            .arg("check")
            .args(args)
            .env("UNBLOCK_OUTPUT_FORMAT", value)
            .output()
            .expect("runs")
    };
    let out = env("json", &[]);
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(rows.as_array().map(Vec::len), Some(2));
    let out = env("json", &["--output-format", "github"]);
    assert!(
        stdout(&out).starts_with("::warning "),
        "the flag wins: {}",
        stdout(&out)
    );
    let out = env("xml", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("xml"), "{}", stderr(&out));
}

#[test]
fn extend_select_and_extend_ignore() {
    let dir = tree(&[("a.py", BLOCKING), ("b.py", MANUAL)]);
    let codes = |args: &[&str]| {
        let mut all = vec!["check", "--output-format", "json"];
        all.extend(args);
        let out = run(dir.path(), &all);
        assert_ne!(out.status.code(), Some(2), "{}", stderr(&out));
        let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        let mut codes: Vec<String> = rows
            .as_array()
            .expect("array")
            .iter()
            .map(|r| r["code"].as_str().unwrap_or_default().to_string())
            .collect();
        codes.dedup();
        codes
    };
    assert_eq!(
        codes(&["--select", "UNB100", "--extend-select", "ASYNC240"]),
        ["UNB100", "UNB120"]
    );
    assert_eq!(
        codes(&["--extend-ignore", "UNB100,blocking-db"]),
        ["UNB120"]
    );
    assert_eq!(
        codes(&["--ignore", "UNB100", "--extend-ignore", "UNB120"]),
        ["UNB170"]
    );

    std::fs::write(
        dir.path().join("pyproject.toml"),
        "[tool.unblock]\nselect = [\"UNB100\"]\nextend-select = [\"UNB170\"]\nextend-ignore = [\"UNB120\"]\n",
    )
    .expect("write");
    assert_eq!(codes(&[]), ["UNB100", "UNB170"]);
    assert_eq!(codes(&["--extend-select", "UNB120"]), ["UNB100", "UNB170"]);
    // A `--select` on the command line starts afresh: the file's extend-select is dropped,
    // its extend-ignore still applies.
    assert_eq!(codes(&["--select", "UNB1"]), ["UNB100", "UNB170"]);
    assert_eq!(codes(&["--select", "UNB120,UNB170"]), ["UNB170"]);
    assert_eq!(
        codes(&["--select", "UNB100", "--extend-select", "UNB170"]),
        ["UNB100", "UNB170"]
    );

    std::fs::write(
        dir.path().join("pyproject.toml"),
        "[tool.unblock]\nextend-select = [\"NOPE9\"]\n",
    )
    .expect("write");
    let out = run(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("NOPE9"), "{}", stderr(&out));
}

#[test]
fn check_fix_and_check_diff_are_fix_and_diff() {
    let files = [("a.py", BLOCKING), ("b.py", MANUAL)];
    let by_check = tree(&files);
    let by_diff = tree(&files);
    let check_diff = run(by_check.path(), &["check", "--diff"]);
    let diff = run(by_diff.path(), &["diff"]);
    assert_eq!(check_diff.status.code(), Some(1));
    assert_eq!(stdout(&check_diff), stdout(&diff));
    assert!(stdout(&diff).starts_with("--- a/a.py"));
    assert_eq!(
        read(by_check.path(), "a.py"),
        BLOCKING,
        "--diff writes nothing"
    );
    // `--diff` wins over `--fix`, as in ruff.
    let both = run(by_check.path(), &["check", "--fix", "--diff"]);
    assert_eq!(stdout(&both), stdout(&diff));
    assert_eq!(read(by_check.path(), "a.py"), BLOCKING);

    let check_fix = run(by_check.path(), &["check", "--fix"]);
    let fix = run(by_diff.path(), &["fix"]);
    assert_eq!(check_fix.status.code(), fix.status.code());
    assert_eq!(check_fix.status.code(), Some(1), "manual findings remain");
    assert_eq!(stdout(&check_fix), stdout(&fix));
    assert_eq!(stderr(&check_fix), stderr(&fix));
    assert_eq!(read(by_check.path(), "a.py"), read(by_diff.path(), "a.py"));
    assert!(read(by_check.path(), "a.py").contains("await asyncio.sleep(1)"));

    // `--output-format` prints the findings that remain, in that format.
    let json = tree(&files);
    let out = run(json.path(), &["check", "--fix", "--output-format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let rows = rows.as_array().expect("array");
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(
        rows.iter()
            .all(|r| r["fix"] == "manual" && r["path"] == "b.py")
    );
    assert!(read(json.path(), "a.py").contains("await asyncio.sleep(1)"));

    // From standard input too.
    let out = unblock(by_check.path())
        .args(["check", "--fix", "-"])
        .write_stdin(BLOCKING)
        .output()
        .expect("runs");
    assert!(stdout(&out).contains("await asyncio.sleep(1)"));
    // Flags that mean nothing to `fix` are refused rather than ignored.
    let out = run(by_check.path(), &["check", "--fix", "--statistics"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn add_noqa_suppresses_the_findings_and_keeps_comments() {
    let src = "import time\nimport os\n\n\nasync def main(p):\n    time.sleep(1)  # wait\n    x = os.path.exists(time.sleep(2))\n    return os.path.exists(p)  # noqa: E501\n\n\nasync def other():\n    time.sleep(3)  # noqa: ASYNC251\n";
    let dir = tree(&[("a.py", src), ("clean.py", CLEAN)]);
    let out = run(dir.path(), &["check", "--add-noqa"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "Added 3 noqa directives.\n");
    assert_eq!(
        read(dir.path(), "a.py"),
        "import time\nimport os\n\n\nasync def main(p):\n    time.sleep(1)  # wait  # noqa: UNB100\n    x = os.path.exists(time.sleep(2))  # noqa: UNB100, UNB120\n    return os.path.exists(p)  # noqa: E501, UNB120\n\n\nasync def other():\n    time.sleep(3)  # noqa: ASYNC251\n"
    );
    assert_eq!(read(dir.path(), "clean.py"), CLEAN);
    let after = run(dir.path(), &["check"]);
    assert_eq!(after.status.code(), Some(0), "{}", stdout(&after));

    // Idempotent: nothing is left to suppress.
    let before = read(dir.path(), "a.py");
    let again = run(dir.path(), &["check", "--add-noqa"]);
    assert_eq!(stderr(&again), "Added 0 noqa directives.\n");
    assert_eq!(read(dir.path(), "a.py"), before);

    // Only the selected rules get one.
    let dir = tree(&[("a.py", BLOCKING)]);
    run(dir.path(), &["check", "--add-noqa", "--select", "UNB120"]);
    assert_eq!(
        read(dir.path(), "a.py"),
        BLOCKING.replace("exists(p)\n", "exists(p)  # noqa: UNB120\n")
    );
    let out = unblock(dir.path())
        .args(["check", "--add-noqa", "-"])
        .write_stdin(BLOCKING)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
}
