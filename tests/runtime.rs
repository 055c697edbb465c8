//! Runtime proof of the rewrites (SPEC §4): every program under `examples/` is run as it is,
//! then fixed by the built binary and run again under blockbuster (any blocking call on the
//! event-loop thread raises `BlockingError`). The fixed copy must compile, exit 0, raise no
//! `BlockingError` and print exactly what the original printed; `unblock check` must find
//! nothing left in it. The original, run under blockbuster, must fail: that shows the example
//! really blocks in a way the detector sees (examples whose blocking call blockbuster cannot
//! see say `# blockbuster: blind` and rely on the static re-check).
//!
//! The Python side (pinned in `tests/runtime/requirements.txt`) is installed into
//! `target/pyenv` on first use and reused afterwards.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

const STDIN: &str = "Ada\nyes\n";
const TIMEOUT: Duration = Duration::from_secs(120);

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The virtualenv's Python, set up once per test process (the tests here run in parallel).
fn python() -> PathBuf {
    static PYTHON: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PYTHON.get_or_init(setup_python).clone()
}

/// The virtualenv with the pinned packages, made (or remade when the pins change) on demand.
fn setup_python() -> PathBuf {
    let requirements = root().join("tests/runtime/requirements.txt");
    let pins = std::fs::read_to_string(&requirements).expect("requirements.txt");
    let env = root().join("target/pyenv");
    let marker = env.join("installed-requirements.txt");
    let python = env.join("bin/python");
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(pins.as_str()) && python.exists() {
        return python;
    }
    let made = Command::new("python3")
        .args(["-m", "venv", "--clear"])
        .arg(&env)
        .status()
        .unwrap_or_else(|e| {
            panic!("python3 is required for the runtime tests and could not be run: {e}")
        });
    assert!(made.success(), "python3 -m venv failed");
    let installed = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(&requirements)
        .status()
        .expect("pip runs");
    assert!(
        installed.success(),
        "installing tests/runtime/requirements.txt failed"
    );
    std::fs::write(&marker, pins).expect("marker written");
    python
}

/// The local HTTP server; stops when dropped (its standard input closes).
struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    base: String,
}

impl Server {
    fn start(python: &Path) -> Server {
        let mut child = Command::new(python)
            .arg(root().join("tests/runtime/server.py"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("server starts");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("server stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("server says its port");
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .expect("PORT line")
            .to_string();
        Server {
            child,
            stdin,
            base: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.stdin.take());
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run_python(python: &Path, args: &[&Path], scratch: &Path, base: &str) -> Run {
    let mut cmd = assert_cmd::Command::new(python);
    cmd.args(args)
        .env("UNBLOCK_SCRATCH", scratch)
        .env("UNBLOCK_HTTP", base)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .write_stdin(STDIN)
        .timeout(TIMEOUT);
    let out = cmd.output().expect("python runs");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Validates a SARIF log against the schema; the validator's report (`valid: N results`).
fn validate_sarif(python: &Path, log_bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("dir");
    let log = dir.path().join("unblock.sarif");
    std::fs::write(&log, log_bytes).expect("write");
    let checked = Command::new(python)
        .arg(root().join("tests/runtime/validate_sarif.py"))
        .arg(&log)
        .output()
        .expect("validator runs");
    let report = String::from_utf8_lossy(&checked.stdout).into_owned();
    assert!(
        checked.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    report
}

/// A file's text, or a folder's Python files' texts (with their names), in name order.
fn tree_text(path: &Path) -> String {
    if !path.is_dir() {
        return std::fs::read_to_string(path).expect("example readable");
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .expect("readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    entries
        .iter()
        .filter(|p| {
            (p.is_dir() && !p.ends_with("__pycache__")) || p.extension().is_some_and(|e| e == "py")
        })
        .map(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default();
            format!("== {name}\n{}", tree_text(p))
        })
        .collect()
}

/// Copies a file, or a folder with everything in it.
fn copy_tree(from: &Path, to: &Path) {
    if !from.is_dir() {
        std::fs::copy(from, to).expect("copy");
        return;
    }
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from)
        .expect("readable")
        .filter_map(|e| e.ok())
    {
        copy_tree(&entry.path(), &to.join(entry.file_name()));
    }
}

fn unblock(args: &[&str], dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_unblock"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("unblock runs")
}

/// `check --output-format sarif` over the examples is valid SARIF 2.1.0, with one result per
/// finding of the text output.
#[test]
fn sarif_output_is_valid_against_the_schema() {
    let python = python();
    let out = unblock(&["check", "--output-format", "sarif", "examples"], &root());
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = validate_sarif(&python, &out.stdout);
    let text = unblock(&["check", "--output-format", "json", "examples"], &root());
    let findings: serde_json::Value = serde_json::from_slice(&text.stdout).expect("json");
    let count = findings.as_array().map_or(0, Vec::len);
    assert!(count > 0);
    assert_eq!(report.trim(), format!("valid: {count} results"));
}

/// Files that could not be checked become tool execution notifications; the log stays valid.
#[test]
fn sarif_with_errors_is_valid_against_the_schema() {
    let python = python();
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("a.py"),
        "import time\n\n\nasync def f():\n    time.sleep(1)\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("bad.py"), "async def f(:\n").expect("write");
    let out = unblock(
        &["check", "--output-format", "sarif", ".", "missing.py"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    let log_text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        log_text.contains("toolExecutionNotifications"),
        "{log_text}"
    );
    let report = validate_sarif(&python, &out.stdout);
    assert_eq!(report.trim(), "valid: 1 results");
}

/// The verification gate is a safety net: no rewrite of an example is refused by it, and
/// every finding in the examples is fixable.
#[test]
fn the_gate_never_fires_on_the_examples() {
    let text = unblock(&["check", "--output-format", "json", "examples"], &root());
    let findings: serde_json::Value = serde_json::from_slice(&text.stdout).expect("json");
    let findings = findings.as_array().expect("an array");
    assert!(findings.len() > 20, "the examples went missing");
    let manual: Vec<&serde_json::Value> =
        findings.iter().filter(|f| f["fix"] == "manual").collect();
    assert!(
        manual.is_empty(),
        "manual findings in the examples: {manual:#?}"
    );
}

#[test]
fn examples_keep_their_output_and_stop_blocking() {
    let python = python();
    let server = Server::start(&python);
    let runner = root().join("tests/runtime/run_blockbuster.py");
    let examples = root().join("examples");
    // Programs (`name.py`) and applications (a folder `name/` with a `main.py`).
    let mut names: Vec<String> = std::fs::read_dir(&examples)
        .expect("examples/")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".py") || examples.join(n).join("main.py").is_file())
        .collect();
    names.sort();
    assert!(names.len() >= 10, "the examples went missing");

    let mut failures = Vec::new();
    for name in &names {
        let application = examples.join(name).is_dir();
        let original = if application {
            examples.join(name).join("main.py")
        } else {
            examples.join(name)
        };
        let source = tree_text(&examples.join(name));
        let blind = source.contains("# blockbuster: blind");

        let scratch = tempfile::tempdir().expect("scratch");
        let before = run_python(&python, &[&original], scratch.path(), &server.base);
        if before.code != Some(0) {
            failures.push(format!("{name}: the original fails:\n{}", before.stderr));
            continue;
        }

        if !blind {
            let scratch = tempfile::tempdir().expect("scratch");
            let blocked = run_python(&python, &[&runner, &original], scratch.path(), &server.base);
            if blocked.code == Some(0) && !blocked.stderr.contains("BlockingError") {
                failures.push(format!(
                    "{name}: blockbuster sees no blocking call in the original"
                ));
            }
        }

        // Fix a copy next to a copy of the examples' configuration.
        let work = tempfile::tempdir().expect("work");
        copy_tree(&examples.join(name), &work.path().join(name));
        let copy = if application {
            work.path().join(name).join("main.py")
        } else {
            work.path().join(name)
        };
        std::fs::copy(
            examples.join("pyproject.toml"),
            work.path().join("pyproject.toml"),
        )
        .expect("config");
        let fixed = unblock(&["fix", name], work.path());
        if fixed.status.code() != Some(0) {
            failures.push(format!(
                "{name}: `unblock fix` left findings or failed:\n{}{}",
                String::from_utf8_lossy(&fixed.stdout),
                String::from_utf8_lossy(&fixed.stderr)
            ));
            continue;
        }
        let fixed_text = tree_text(&work.path().join(name));
        if fixed_text == source {
            failures.push(format!("{name}: the fix changed nothing"));
            continue;
        }
        let compiled = Command::new(&python)
            .args(["-m", "compileall", "-q"])
            .arg(work.path().join(name))
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .output()
            .expect("compileall");
        if !compiled.status.success() {
            failures.push(format!(
                "{name}: fixed copy does not compile: {}",
                String::from_utf8_lossy(&compiled.stderr)
            ));
            continue;
        }
        let checked = unblock(&["check", name], work.path());
        if checked.status.code() != Some(0) {
            failures.push(format!(
                "{name}: `unblock check` still finds:\n{}",
                String::from_utf8_lossy(&checked.stdout)
            ));
        }

        let scratch = tempfile::tempdir().expect("scratch");
        let after = run_python(&python, &[&runner, &copy], scratch.path(), &server.base);
        if after.code != Some(0) || after.stderr.contains("BlockingError") {
            failures.push(format!(
                "{name}: the fixed copy fails under blockbuster:\n{}",
                after.stderr
            ));
        } else if after.stdout != before.stdout {
            failures.push(format!(
                "{name}: output differs\n--- original\n{}--- fixed\n{}",
                before.stdout, after.stdout
            ));
        }

        let diff = unblock(&["diff", &format!("examples/{name}")], &root());
        insta::with_settings!({
            snapshot_path => root().join("snapshots"),
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!(
                format!("example_{}", name.trim_end_matches(".py")),
                String::from_utf8_lossy(&diff.stdout)
            );
        });
    }
    drop(server);
    let mut report = String::new();
    for f in &failures {
        report.push_str(f);
        report.push_str("\n\n");
    }
    std::io::stderr().write_all(report.as_bytes()).ok();
    assert!(
        failures.is_empty(),
        "{} example(s) failed:\n{report}",
        failures.len()
    );
}
