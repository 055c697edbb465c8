//! Command-line behaviour: exit codes, output formats, stdin, selection, configuration,
//! suppression, `diff` ≡ `fix`, and bad input that must never lose data.

mod common;

use std::path::Path;
use std::process::Command as Process;

use tempfile::TempDir;

use common::{BLOCKING, CLEAN, MANUAL, run, stderr, stdout, tree, unblock};

/// `unblock fix - [args]` in `dir` with `src` on standard input.
fn fix_stdin(dir: &Path, args: &[&str], src: &str) -> std::process::Output {
    unblock(dir)
        .args(["fix", "-"])
        .args(args)
        .write_stdin(src)
        .output()
        .expect("runs")
}

/// A tree of `count` copies of [`BLOCKING`], named `<prefix>000.py` and on.
fn many_blocking_files(prefix: &str, count: usize) -> TempDir {
    let files: Vec<(String, String)> = (0..count)
        .map(|i| (format!("{prefix}{i:03}.py"), BLOCKING.to_string()))
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    tree(&refs)
}

#[test]
fn check_exit_codes_and_text_format() {
    let clean = tree(&[("a.py", CLEAN)]);
    let out = run(clean.path(), &["check"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("No blocking calls found (1 file checked)."));

    let dirty = tree(&[("a.py", BLOCKING), ("b.py", MANUAL)]);
    let quiet = run(dirty.path(), &["check", "-q"]);
    assert!(
        !stdout(&quiet).contains("Found "),
        "-q prints findings only"
    );
    assert!(stdout(&quiet).contains("b.py:5:12: UNB170"));
    let out = run(dirty.path(), &["check"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("a.py:6:5: UNB100 [blocking-sleep] `time.sleep` blocks the event loop in async function `main` (fix: native)"), "{text}");
    assert!(text.contains("a.py:7:12: UNB120 [blocking-path]"), "{text}");
    assert!(text.contains("b.py:5:12: UNB170 [blocking-db]"), "{text}");
    assert!(
        text.contains(
            "Found 5 blocking calls in 2 files: 2 fixable (native 1, thread 1, helper 0), 3 manual"
        ),
        "{text}"
    );
}

#[test]
fn check_json_has_the_spec_fields() {
    let dir = tree(&[("a.py", BLOCKING), ("b.py", MANUAL)]);
    let out = run(dir.path(), &["check", "--output-format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let rows = rows.as_array().expect("array");
    assert_eq!(rows.len(), 5);
    let first = &rows[0];
    for key in [
        "path",
        "line",
        "column",
        "end_line",
        "end_column",
        "code",
        "rule",
        "call",
        "function",
        "message",
        "fix",
    ] {
        assert!(first.get(key).is_some(), "missing {key} in {first}");
    }
    assert_eq!(first["path"], "a.py");
    assert_eq!(first["call"], "time.sleep");
    assert_eq!(first["function"], "main");
    assert_eq!(first["fix"], "native");
    assert_eq!(first["end_column"], 18);
    assert_eq!(first["applicability"], "safe");
    // The fix itself, edit by edit (`time.sleep` on line 6 becomes `await asyncio.sleep`).
    assert_eq!(
        first["edits"],
        serde_json::json!([{"line": 6, "column": 5, "end_line": 6, "end_column": 15, "content": "await asyncio.sleep"}]),
        "{first}"
    );
    let manual = rows
        .iter()
        .find(|r| r["fix"] == "manual")
        .expect("a manual row");
    assert!(manual["reason"].as_str().is_some_and(|r| !r.is_empty()));
    assert!(first.get("reason").is_none());
}

#[cfg(unix)]
#[test]
fn fix_writes_through_a_symlink_named_on_the_command_line() {
    let dir = tree(&[("real/a.py", BLOCKING)]);
    std::os::unix::fs::symlink(dir.path().join("real/a.py"), dir.path().join("link.py"))
        .expect("symlink");
    let out = run(dir.path(), &["fix", "link.py"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let meta = std::fs::symlink_metadata(dir.path().join("link.py")).expect("meta");
    assert!(meta.file_type().is_symlink(), "the link is still a link");
    let target = std::fs::read_to_string(dir.path().join("real/a.py")).expect("read");
    assert!(target.contains("await asyncio.sleep(1)"), "{target}");
}

#[cfg(unix)]
#[test]
fn a_fifo_named_on_the_command_line_is_refused_not_waited_on() {
    let dir = tree(&[("a.py", BLOCKING)]);
    let made = Process::new("mkfifo")
        .arg(dir.path().join("pipe.py"))
        .status()
        .is_ok_and(|s| s.success());
    assert!(made, "mkfifo is part of coreutils");
    let out = unblock(dir.path())
        .args(["fix", "pipe.py", "a.py"])
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("pipe.py: not a regular file"),
        "{}",
        stderr(&out)
    );
    let fixed = std::fs::read_to_string(dir.path().join("a.py")).expect("read");
    assert!(
        fixed.contains("await asyncio.sleep(1)"),
        "the other file is still fixed"
    );
}

#[cfg(unix)]
#[test]
fn fix_writes_the_file_it_read_whatever_its_name_looks_like() {
    // On Unix a backslash is part of a file name, not a separator: `a\b.py` is one file,
    // and `a/b.py` another that must stay untouched.
    let dir = tree(&[("a\\b.py", BLOCKING), ("a/b.py", BLOCKING)]);
    let out = run(dir.path(), &["fix", "a\\b.py"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let named = std::fs::read_to_string(dir.path().join("a\\b.py")).expect("read");
    assert!(named.contains("await asyncio.sleep(1)"), "{named}");
    let other = std::fs::read_to_string(dir.path().join("a/b.py")).expect("read");
    assert_eq!(other, BLOCKING, "a different file was written");
    // `.//` names the folder, and its files are written where they are.
    let out = run(dir.path(), &["fix", ".//"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let other = std::fs::read_to_string(dir.path().join("a/b.py")).expect("read");
    assert!(other.contains("await asyncio.sleep(1)"), "{other}");
}

#[cfg(unix)]
#[test]
fn a_read_only_file_is_refused_and_left_as_it_was() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tree(&[("a.py", BLOCKING)]);
    let path = dir.path().join("a.py");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).expect("chmod");
    let out = run(dir.path(), &["fix", "a.py"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("read-only"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&path).expect("read"), BLOCKING);
}

#[cfg(unix)]
#[test]
fn a_link_named_beside_its_target_is_fixed_once() {
    let dir = tree(&[("a.py", BLOCKING)]);
    std::os::unix::fs::symlink(dir.path().join("a.py"), dir.path().join("link.py"))
        .expect("symlink");
    let out = run(dir.path(), &["fix", "a.py", "link.py"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("changed while"), "{}", stderr(&out));
    let fixed = std::fs::read_to_string(dir.path().join("a.py")).expect("read");
    assert!(fixed.contains("await asyncio.sleep(1)"), "{fixed}");
}

#[test]
fn type_parameter_defaults_are_parsed_and_kept() {
    // PEP 696 (Python 3.13): the grammar does not know `= default` in type parameters yet.
    let src = "import time\nfrom typing import Any\n\n\nclass Entry[_DataT = Any]:\n    async def refresh(self):\n        time.sleep(1)\n\n\ndef first[T = int](xs: list[T]) -> T:\n    return xs[0]\n";
    let dir = tree(&[("entry.py", src)]);
    let check = run(dir.path(), &["check", "entry.py"]);
    assert_eq!(check.status.code(), Some(1), "{}", stderr(&check));
    assert!(
        stdout(&check).contains("entry.py:7:9: UNB100"),
        "{}",
        stdout(&check)
    );
    let fix = run(dir.path(), &["fix", "entry.py"]);
    assert_eq!(fix.status.code(), Some(0), "{}", stderr(&fix));
    let fixed = std::fs::read_to_string(dir.path().join("entry.py")).expect("read");
    assert!(fixed.contains("class Entry[_DataT = Any]:"), "{fixed}");
    assert!(
        fixed.contains("def first[T = int](xs: list[T]) -> T:"),
        "{fixed}"
    );
    assert!(fixed.contains("        await asyncio.sleep(1)"), "{fixed}");
}

#[test]
fn fix_from_stdin_with_an_error_prints_the_input_unchanged() {
    let dir = tree(&[]);
    let broken = "async def f(:\n    time.sleep(1)\n";
    let out = fix_stdin(dir.path(), &[], broken);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        broken,
        "editors replace the buffer with what is printed"
    );
    assert!(
        stderr(&out).contains("syntax error at line 1"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn cr_only_line_endings_are_read_and_kept() {
    let dir = tree(&[]);
    let src = "import time\r\r\rasync def f():\r    time.sleep(1)\r    return 1\r";
    let out = fix_stdin(dir.path(), &[], src);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "import asyncio\r\r\rasync def f():\r    await asyncio.sleep(1)\r    return 1\r"
    );
}

#[test]
fn the_httpx_swap_needs_unsafe_fixes_and_the_dependency() {
    let src = "import requests\n\n\nasync def me():\n    return requests.get(\"https://example.com/me\").json()\n";
    let thread = "await asyncio.to_thread(requests.get, \"https://example.com/me\")";
    let dir = tree(&[]);
    let safe = fix_stdin(dir.path(), &["--native", "httpx"], src);
    assert!(stdout(&safe).contains(thread), "{}", stdout(&safe));
    // `check` says what `--unsafe-fixes` would do, per finding and in the summary.
    let check = unblock(dir.path())
        .args(["check", "-", "--native", "httpx"])
        .write_stdin(src)
        .output()
        .expect("runs");
    assert!(
        stdout(&check).contains("(fix: thread; native with --unsafe-fixes)"),
        "{}",
        stdout(&check)
    );
    assert!(
        stdout(&check).contains("0 manual; 1 more native with --unsafe-fixes"),
        "{}",
        stdout(&check)
    );
    let json = unblock(dir.path())
        .args(["check", "-", "--native", "httpx", "--output-format", "json"])
        .write_stdin(src)
        .output()
        .expect("runs");
    let rows: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(rows[0]["fix"], "thread", "{rows}");
    assert_eq!(rows[0]["unsafe_fix"], "native", "{rows}");
    // Unsafe fixes allowed, but the project does not declare httpx: the safe fallback.
    let undeclared = fix_stdin(dir.path(), &["--unsafe-fixes"], src);
    assert!(
        stdout(&undeclared).contains(thread),
        "{}",
        stdout(&undeclared)
    );
    let flag = fix_stdin(dir.path(), &["--unsafe-fixes", "--native", "httpx"], src);
    assert!(
        stdout(&flag).contains("httpx.AsyncClient"),
        "{}",
        stdout(&flag)
    );
    let configured = tree(&[(
        "pyproject.toml",
        "[project]\ndependencies = [\"httpx>=0.27\"]\n[tool.unblock]\nunsafe-fixes = true\n",
    )]);
    let config = fix_stdin(configured.path(), &[], src);
    assert!(
        stdout(&config).contains("httpx.AsyncClient"),
        "{}",
        stdout(&config)
    );
}

#[test]
fn starred_items_after_yield_are_parsed_and_kept() {
    // `yield a, *b` (Python 3.8) is unknown to the grammar: parsed with the `*` blanked.
    let src = "import time\n\n\nasync def rows(h):\n    time.sleep(1)\n    yield None, h, *[1 for _ in h]\n";
    let dir = tree(&[]);
    let out = fix_stdin(dir.path(), &[], src);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "import asyncio\n\n\nasync def rows(h):\n    await asyncio.sleep(1)\n    yield None, h, *[1 for _ in h]\n"
    );
}

#[test]
fn runtime_and_strategy_flags() {
    let src = "import os\nimport time\n\n\nasync def main(p):\n    time.sleep(1)\n    with open(p) as f:\n        return f.read()\n";
    let dir = tree(&[]);
    let trio = fix_stdin(dir.path(), &["--runtime", "trio"], src);
    let text = stdout(&trio);
    assert!(
        text.contains("await trio.sleep(1)") && text.contains("await trio.open_file(p)"),
        "{text}"
    );
    assert!(text.contains("import trio"), "{text}");
    let thread = fix_stdin(dir.path(), &["--strategy", "thread"], src);
    let text = stdout(&thread);
    assert!(
        !text.contains("aiofiles") && text.contains("def _main_sync(p):"),
        "{text}"
    );
    assert!(text.contains("await asyncio.sleep(1)"), "{text}");
}

#[test]
fn offload_option_and_setting() {
    let src = "import os\n\n\nasync def setup(hass, p):\n    return os.path.exists(p)\n";
    let dir = tree(&[("a.py", src)]);
    let out = fix_stdin(
        dir.path(),
        &["--offload", "hass.async_add_executor_job"],
        src,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("return await hass.async_add_executor_job(os.path.exists, p)"));
    std::fs::write(
        dir.path().join("pyproject.toml"),
        "[tool.unblock]\noffload = \"not a call\"\n",
    )
    .expect("write");
    let bad = run(dir.path(), &["check"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("must be a dotted name"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn check_github_annotations() {
    let dir = tree(&[("a, b.py", BLOCKING)]);
    let out = run(dir.path(), &["check", "--output-format", "github"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let first = text.lines().next().expect("a line");
    assert_eq!(
        first,
        "::warning title=UNB100 [blocking-sleep],file=a%2C b.py,line=6,col=5,endLine=6,endColumn=18::UNB100 [blocking-sleep] `time.sleep` blocks the event loop in async function `main` (fix: native)"
    );
    assert_eq!(text.lines().count(), 2);
}

#[test]
fn stdin_check_diff_and_fix() {
    let dir = tree(&[]);
    let out = unblock(dir.path())
        .args(["check", "-", "--stdin-filename", "pkg/mod.py"])
        .write_stdin(BLOCKING)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("pkg/mod.py:6:5: UNB100"));

    let out = fix_stdin(dir.path(), &[], BLOCKING);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let fixed = stdout(&out);
    assert!(fixed.contains("await asyncio.sleep(1)"));
    assert!(fixed.contains("return await asyncio.to_thread(os.path.exists, p)"));
    assert!(!fixed.contains("import time"));

    let out = unblock(dir.path())
        .args(["diff", "-", "--stdin-filename", "x.py"])
        .write_stdin(BLOCKING)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).starts_with("--- a/x.py\n+++ b/x.py\n"));

    let out = fix_stdin(dir.path(), &[], CLEAN);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), CLEAN);
}

#[test]
fn select_and_ignore() {
    let dir = tree(&[("a.py", BLOCKING)]);
    let only_sleep = run(dir.path(), &["check", "--select", "UNB100"]);
    let text = stdout(&only_sleep);
    assert!(
        text.contains("UNB100") && !text.contains("UNB120"),
        "{text}"
    );

    let by_alias = run(dir.path(), &["check", "--select", "ASYNC240"]);
    let text = stdout(&by_alias);
    assert!(
        text.contains("UNB120") && !text.contains("UNB100"),
        "{text}"
    );

    let ignore_prefix = run(dir.path(), &["check", "--ignore", "UNB1"]);
    assert_eq!(ignore_prefix.status.code(), Some(0));

    let ignore_id = run(
        dir.path(),
        &["check", "--ignore", "blocking-sleep,blocking-path"],
    );
    assert_eq!(ignore_id.status.code(), Some(0));

    let unknown = run(dir.path(), &["check", "--select", "NOPE9"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("unknown rule selector `NOPE9`"));
}

#[test]
fn suppression_comments() {
    let src = "import time\n\n\nasync def main():\n    time.sleep(1)  # noqa: ASYNC251\n    time.sleep(2)  # unblock: ignore[UNB100]\n    time.sleep(3)  # unblock: ignore[UNB130]\n";
    let dir = tree(&[("a.py", src)]);
    let out = run(dir.path(), &["check"]);
    let text = stdout(&out);
    assert!(text.contains("a.py:7:5: UNB100"), "{text}");
    assert!(
        !text.contains("a.py:5:") && !text.contains("a.py:6:"),
        "{text}"
    );
}

#[test]
fn pyproject_configuration_and_overrides() {
    let pyproject = r#"
[tool.unblock]
ignore = ["UNB120"]
extra-blocking-calls = ["weather.forecast"]
extend-exclude = ["generated"]

[tool.unblock.per-file-ignores]
"tests/*" = ["UNB100"]
"#;
    let user = "import weather\n\n\nasync def f(u):\n    return weather.forecast(u)\n";
    let dir = tree(&[
        ("pyproject.toml", pyproject),
        ("src/a.py", BLOCKING),
        ("src/feed.py", user),
        ("tests/test_a.py", BLOCKING),
        ("generated/g.py", BLOCKING),
    ]);
    let out = run(dir.path(), &["check"]);
    let text = stdout(&out);
    assert!(text.contains("src/a.py:6:5: UNB100"), "{text}");
    assert!(!text.contains("UNB120"), "ignore from pyproject: {text}");
    assert!(
        text.contains("src/feed.py:5:12: UNB190 [blocking-user]"),
        "{text}"
    );
    assert!(
        !text.contains("tests/test_a.py"),
        "per-file-ignores: {text}"
    );
    assert!(!text.contains("generated/"), "extend-exclude: {text}");

    // The command line overrides the file.
    let out = run(dir.path(), &["check", "--ignore", "UNB100"]);
    let text = stdout(&out);
    assert!(
        text.contains("src/a.py:7:12: UNB120") && !text.contains("UNB100"),
        "{text}"
    );

    // --isolated ignores it; --config names another one.
    let out = run(dir.path(), &["check", "--isolated"]);
    let text = stdout(&out);
    assert!(
        text.contains("UNB120") && text.contains("generated/g.py") && !text.contains("UNB190"),
        "{text}"
    );
    std::fs::write(
        dir.path().join("other.toml"),
        "select = [\"UNB190\"]\nextra-blocking-calls = [\"weather.forecast\"]\n",
    )
    .expect("write");
    let out = run(dir.path(), &["check", "--config", "other.toml", "src"]);
    let text = stdout(&out);
    assert!(
        text.contains("UNB190") && !text.contains("UNB100"),
        "{text}"
    );

    std::fs::write(
        dir.path().join("pyproject.toml"),
        "[tool.unblock]\nnot-an-option = 1\n",
    )
    .expect("write");
    let out = run(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("pyproject.toml"), "{}", stderr(&out));
}

#[test]
fn diff_applies_with_git_and_equals_fix() {
    let files = [
        ("a.py", BLOCKING),
        (
            "pkg/b.py",
            "import os\n\n\nasync def f(d):\n    return sorted(os.listdir(d))[0]\n",
        ),
        ("pkg/c.py", MANUAL),
        ("clean.py", CLEAN),
    ];
    let via_diff = tree(&files);
    let via_fix = tree(&files);
    let out = run(via_diff.path(), &["diff"]);
    assert_eq!(out.status.code(), Some(1));
    let patch = via_diff.path().join("unblock.patch");
    std::fs::write(&patch, &out.stdout).expect("write patch");
    let text = stdout(&out);
    assert!(
        text.find("--- a/a.py") < text.find("--- a/pkg/b.py"),
        "sorted output: {text}"
    );
    assert!(!text.contains("clean.py") && !text.contains("pkg/c.py"));
    let applied = Process::new("git")
        .args(["apply", "unblock.patch"])
        .current_dir(via_diff.path())
        .output()
        .expect("git runs");
    assert!(
        applied.status.success(),
        "git apply: {}",
        String::from_utf8_lossy(&applied.stderr)
    );
    std::fs::remove_file(&patch).expect("rm");

    let out = run(via_fix.path(), &["fix"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "manual findings remain in pkg/c.py"
    );
    assert!(
        stderr(&out).contains("Fixed 1 blocking call in pkg/b.py"),
        "{}",
        stderr(&out)
    );
    for (name, _) in files {
        let a = std::fs::read(via_diff.path().join(name)).expect("read");
        let b = std::fs::read(via_fix.path().join(name)).expect("read");
        assert_eq!(a, b, "{name} differs between diff+apply and fix");
    }
    let again = run(via_fix.path(), &["diff"]);
    assert_eq!(again.status.code(), Some(0));
    assert!(again.stdout.is_empty());
}

#[test]
fn fix_exit_zero_when_nothing_is_left() {
    let dir = tree(&[("a.py", BLOCKING)]);
    let out = run(dir.path(), &["fix"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let fixed = std::fs::read_to_string(dir.path().join("a.py")).expect("read");
    assert!(fixed.starts_with("import asyncio\nimport os\n"), "{fixed}");
    let quiet = run(dir.path(), &["fix", "-q"]);
    assert!(quiet.stderr.is_empty());
}

#[test]
fn line_endings_bom_and_encoding_are_kept() {
    let crlf = BLOCKING.replace('\n', "\r\n");
    let mut bom = b"\xef\xbb\xbf".to_vec();
    bom.extend_from_slice(BLOCKING.as_bytes());
    let mut latin = b"# -*- coding: latin-1 -*-\n".to_vec();
    latin.extend_from_slice(
        b"import time\n\n\nasync def f():\n    time.sleep(1)\n    return '\xe9'\n",
    );
    let dir = tree(&[("crlf.py", &crlf)]);
    std::fs::write(dir.path().join("bom.py"), &bom).expect("write");
    std::fs::write(dir.path().join("latin.py"), &latin).expect("write");
    let out = run(dir.path(), &["fix"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let crlf_fixed = std::fs::read(dir.path().join("crlf.py")).expect("read");
    let text = String::from_utf8(crlf_fixed).expect("utf8");
    assert!(
        text.starts_with("import asyncio\r\nimport os\r\n"),
        "{text:?}"
    );
    assert!(
        !text.replace("\r\n", "").contains('\n'),
        "only CRLF line endings: {text:?}"
    );

    let bom_fixed = std::fs::read(dir.path().join("bom.py")).expect("read");
    assert!(bom_fixed.starts_with(b"\xef\xbb\xbfimport asyncio\n"));

    let latin_fixed = std::fs::read(dir.path().join("latin.py")).expect("read");
    assert!(
        latin_fixed.ends_with(b"    await asyncio.sleep(1)\n    return '\xe9'\n"),
        "{latin_fixed:?}"
    );
}

#[test]
fn bad_input_is_a_per_file_error_and_left_untouched() {
    let broken = "async def f(:\n    time.sleep(1)\n";
    let dir = tree(&[
        ("a_broken.py", broken),
        ("b_good.py", BLOCKING),
        ("empty.py", ""),
    ]);
    std::fs::write(
        dir.path().join("c_binary.py"),
        b"async def f():\n    x = '\xff\xfe'\n",
    )
    .expect("write");
    let out = run(dir.path(), &["fix"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("error: a_broken.py: syntax error at line 1"),
        "{err}"
    );
    assert!(err.contains("error: c_binary.py: not valid UTF-8"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("a_broken.py")).expect("read"),
        broken
    );
    assert_eq!(
        std::fs::read(dir.path().join("c_binary.py")).expect("read"),
        b"async def f():\n    x = '\xff\xfe'\n"
    );
    let good = std::fs::read_to_string(dir.path().join("b_good.py")).expect("read");
    assert!(
        good.contains("await asyncio.sleep(1)"),
        "the good file is still fixed"
    );

    let missing = run(dir.path(), &["check", "nope.py", "b_good.py"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("nope.py"));
}

#[cfg(unix)]
#[test]
fn symlink_loops_do_not_trap_the_walk() {
    let dir = tree(&[("pkg/a.py", BLOCKING)]);
    std::os::unix::fs::symlink(dir.path().join("pkg"), dir.path().join("pkg/loop"))
        .expect("symlink");
    let out = unblock(dir.path())
        .arg("check")
        .timeout(std::time::Duration::from_secs(30))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out).matches("UNB100").count(), 1);
}

#[test]
fn discovery_honours_ignore_files_and_default_excludes() {
    let dir = tree(&[
        ("keep.py", BLOCKING),
        ("ignored.py", BLOCKING),
        (".gitignore", "ignored.py\n"),
        (".venv/lib/x.py", BLOCKING),
        ("node_modules/y.py", BLOCKING),
        ("script", BLOCKING),
    ]);
    let out = run(dir.path(), &["check"]);
    let text = stdout(&out);
    assert!(text.contains("keep.py"));
    assert!(
        !text.contains("ignored.py") && !text.contains(".venv") && !text.contains("node_modules"),
        "{text}"
    );
    assert!(
        !text.contains("script:"),
        "files without a Python extension are skipped in folders: {text}"
    );

    let out = run(dir.path(), &["check", "--no-ignore"]);
    assert!(stdout(&out).contains("ignored.py"));

    let out = run(dir.path(), &["check", "--exclude", "keep.py"]);
    assert!(!stdout(&out).contains("keep.py"));

    // Explicit files are always processed.
    let out = run(dir.path(), &["check", ".venv/lib/x.py", "script"]);
    let text = stdout(&out);
    assert!(
        text.contains(".venv/lib/x.py:6:5") && text.contains("script:6:5"),
        "{text}"
    );
}

#[test]
fn output_order_does_not_depend_on_threads() {
    let files: Vec<(String, &str)> = (0..40).map(|i| (format!("m{i:02}.py"), BLOCKING)).collect();
    let refs: Vec<(&str, &str)> = files.iter().map(|(n, t)| (n.as_str(), *t)).collect();
    let dir = tree(&refs);
    let one = run(dir.path(), &["check", "-j", "1"]);
    let four = run(dir.path(), &["check", "-j", "4"]);
    assert_eq!(one.stdout, four.stdout);
    let diff_one = run(dir.path(), &["diff", "-j", "1"]);
    let diff_four = run(dir.path(), &["diff", "-j", "4"]);
    assert_eq!(diff_one.stdout, diff_four.stdout);
}

#[test]
fn rules_and_explain() {
    let dir = tree(&[]);
    let out = run(dir.path(), &["rules"]);
    let text = stdout(&out);
    for code in [
        "UNB100", "UNB110", "UNB111", "UNB120", "UNB121", "UNB130", "UNB140", "UNB150", "UNB160",
        "UNB170", "UNB180", "UNB185", "UNB190",
    ] {
        assert!(text.contains(code), "{code} missing from rules");
    }
    let out = run(dir.path(), &["rules", "--output-format", "json"]);
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(rows.as_array().map(Vec::len), Some(13));
    assert_eq!(rows[0]["aliases"][0], "ASYNC251");

    let out = run(dir.path(), &["explain", "ASYNC251"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).starts_with("# blocking-sleep (UNB100)"));
    assert!(stdout(&out).contains("await asyncio.sleep(0.5)"));
    let out = run(dir.path(), &["explain", "nothing"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn color_is_off_unless_asked() {
    let dir = tree(&[("a.py", BLOCKING)]);
    let plain = run(dir.path(), &["check"]);
    assert!(!stdout(&plain).contains('\x1b'));
    let colored = run(dir.path(), &["check", "--color", "always"]);
    assert!(stdout(&colored).contains("\x1b[1m\x1b[31mUNB100\x1b[0m"));
}

#[test]
fn a_reader_that_closes_the_pipe_early_ends_the_output_quietly() {
    let dir = many_blocking_files("m", 200);
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("unblock"))
        .current_dir(dir.path())
        .args(["check", "-j", "2"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut first = [0u8; 16];
    std::io::Read::read_exact(&mut stdout, &mut first).expect("some output");
    drop(stdout); // `unblock check | head -c 16`
    let out = child.wait_with_output().expect("exits");
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

#[test]
fn output_is_the_same_whatever_the_thread_count() {
    let dir = many_blocking_files("pkg/m", 40);
    for command in ["check", "diff"] {
        let one = run(dir.path(), &[command, "-j", "1"]);
        let two = run(dir.path(), &[command, "-j", "2"]);
        assert!(!one.stdout.is_empty());
        assert_eq!(one.stdout, two.stdout, "{command}");
    }
}

const FILE_READ: &str =
    "async def load(path):\n    with open(path) as f:\n        return f.read()\n";

#[test]
fn native_file_fixes_need_the_project_to_declare_aiofiles() {
    // Nothing declared: the helper, no third-party import, no packages line.
    let bare = tree(&[("app.py", FILE_READ)]);
    let out = run(bare.path(), &["fix", "app.py"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let fixed = std::fs::read_to_string(bare.path().join("app.py")).expect("read");
    assert!(!fixed.contains("aiofiles"), "{fixed}");
    assert!(
        fixed.contains("asyncio.to_thread(_load_sync, path)"),
        "{fixed}"
    );
    assert!(!stderr(&out).contains("imports"), "{}", stderr(&out));

    // Declared in requirements.txt beside pyproject.toml: the native rewrite, and the last
    // line names the package; `check` says so in the label.
    let declared = tree(&[
        ("pyproject.toml", "[project]\nname = \"app\"\n"),
        ("requirements.txt", "aiofiles==24.1.0\n"),
        ("src/app.py", FILE_READ),
    ]);
    let check = run(declared.path(), &["check"]);
    assert!(
        stdout(&check).contains("(fix: native (aiofiles))"),
        "{}",
        stdout(&check)
    );
    let json = run(declared.path(), &["check", "--output-format", "json"]);
    let rows: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(
        rows[0]["requires"],
        serde_json::json!(["aiofiles"]),
        "{rows}"
    );
    let diff = run(declared.path(), &["diff"]);
    assert!(
        stdout(&diff).contains("+import aiofiles"),
        "{}",
        stdout(&diff)
    );
    assert!(
        stderr(&diff).contains("The fixed code imports aiofiles"),
        "{}",
        stderr(&diff)
    );
    let fix = run(declared.path(), &["fix"]);
    assert!(
        stderr(&fix)
            .trim_end()
            .ends_with("The fixed code imports aiofiles: make sure the project depends on it."),
        "{}",
        stderr(&fix)
    );

    // `--native aiofiles` allows it anyway.
    let allowed = tree(&[("app.py", FILE_READ)]);
    let out = run(allowed.path(), &["diff", "--native", "aiofiles"]);
    assert!(
        stdout(&out).contains("+import aiofiles"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn requires_python_38_writes_no_to_thread() {
    let src = "import os\n\n\nasync def size(p):\n    return os.path.getsize(p)\n";
    let py38 = tree(&[
        (
            "pyproject.toml",
            "[project]\nname = \"app\"\nrequires-python = \">=3.8\"\n",
        ),
        ("app.py", src),
    ]);
    let out = run(py38.path(), &["diff"]);
    assert!(
        stdout(&out).contains(
            "+    return await asyncio.get_running_loop().run_in_executor(None, os.path.getsize, p)"
        ),
        "{}",
        stdout(&out)
    );
    assert!(!stdout(&out).contains("to_thread"), "{}", stdout(&out));
    // `--target-version` overrides the project; an unknown one is a configuration error.
    let out = run(py38.path(), &["diff", "--target-version", "py312"]);
    assert!(
        stdout(&out).contains("asyncio.to_thread(os.path.getsize, p)"),
        "{}",
        stdout(&out)
    );
    let out = run(py38.path(), &["diff", "--target-version", "3.8"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("py37 … py314"), "{}", stderr(&out));
    let out = run(py38.path(), &["diff", "--native", "requests"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("aiofiles, httpx"), "{}", stderr(&out));
}

#[test]
fn rule_selectors_mean_the_same_everywhere_in_any_case() {
    let src = "import os\nimport time\n\n\nasync def main(p):\n    time.sleep(1)  # noqa: async251\n    time.sleep(2)  # noqa: E501\n    return os.path.exists(p)\n";
    let dir = tree(&[("a.py", src)]);
    let codes = |args: &[&str]| -> Vec<String> {
        let out = unblock(dir.path())
            .args(["check", "--output-format", "json"])
            .args(args)
            .output()
            .expect("runs");
        let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        rows.as_array()
            .expect("array")
            .iter()
            .map(|r| format!("{}:{}", r["code"].as_str().unwrap_or(""), r["line"]))
            .collect()
    };
    // The lower-case alias suppresses line 6; an unknown code (E501) suppresses nothing.
    assert_eq!(codes(&[]), ["UNB100:7", "UNB120:8"]);
    assert_eq!(codes(&["--select", "unb100"]), ["UNB100:7"]);
    assert_eq!(
        codes(&["--select", "unb1", "--ignore", "blocking-SLEEP"]),
        ["UNB120:8"]
    );
    assert_eq!(codes(&["--select", "async2"]), ["UNB100:7", "UNB120:8"]);
    for bad in ["E501", "unb9"] {
        let out = run(dir.path(), &["check", "--select", bad]);
        assert_eq!(out.status.code(), Some(2));
        assert!(
            stderr(&out).contains(&format!("unknown rule selector `{bad}`")),
            "{}",
            stderr(&out)
        );
    }
    let explain = run(dir.path(), &["explain", "async251"]);
    assert!(
        stdout(&explain).starts_with("# blocking-sleep (UNB100)"),
        "{}",
        stdout(&explain)
    );
}

/// Code inside the package imports the declared call relatively (`from .client import
/// fetch`): the spelling resolves to the package path, so the entry still matches.
#[test]
fn extra_blocking_calls_match_relative_imports() {
    let dir = tree(&[
        (
            "pyproject.toml",
            "[tool.unblock]\nextra-blocking-calls = [\"mylib.client.fetch\"]\n",
        ),
        ("mylib/__init__.py", ""),
        ("mylib/client.py", "def fetch():\n    return 1\n"),
        (
            "mylib/handlers.py",
            "from .client import fetch\nfrom . import client\n\n\nasync def f():\n    return fetch(), client.fetch()\n",
        ),
    ]);
    let out = run(dir.path(), &["check"]);
    let text = stdout(&out);
    assert_eq!(
        text.matches("UNB190 [blocking-user] `mylib.client.fetch`")
            .count(),
        2,
        "{text}"
    );
}

#[test]
fn extra_blocking_calls_take_patterns_and_refuse_what_cannot_match() {
    let src = "import mylib.client\n\n\nasync def f():\n    return mylib.client.fetch()\n";
    let dir = tree(&[
        (
            "pyproject.toml",
            "[tool.unblock]\nextra-blocking-calls = [\"mylib.*.fetch\"]\n",
        ),
        ("a.py", src),
    ]);
    let out = run(dir.path(), &["check"]);
    assert!(
        stdout(&out).contains("UNB190 [blocking-user] `mylib.client.fetch`"),
        "{}",
        stdout(&out)
    );
    let bad = tree(&[
        (
            "pyproject.toml",
            "[tool.unblock]\nextra-blocking-calls = [\"requests\"]\n",
        ),
        ("a.py", src),
    ]);
    let out = run(bad.path(), &["check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("extra-blocking-calls: `requests` is a bare name"),
        "{}",
        stderr(&out)
    );
}

/// The findings `fix` leaves are shown at their place in the file it wrote, after the import
/// edits (`import time` removed, `import asyncio` added).
#[test]
fn remaining_findings_point_into_the_written_file() {
    let src = "import sqlite3\nimport time\n\n\nasync def main(db, sink):\n    time.sleep(1)\n    conn = sqlite3.connect(db)\n    await sink(conn.execute(\"select 1\").fetchone())\n";
    let dir = tree(&[("a.py", src)]);
    let out = run(dir.path(), &["fix", "a.py"]);
    let written = std::fs::read_to_string(dir.path().join("a.py")).expect("written");
    let line = written
        .lines()
        .position(|l| l.contains("sqlite3.connect"))
        .map(|i| i + 1)
        .expect("the connect line is kept");
    assert!(
        stdout(&out).contains(&format!("a.py:{line}:12: UNB170")),
        "{}\n{written}",
        stdout(&out)
    );
}
