//! The pre-commit hooks (`.pre-commit-hooks.yaml`) and `--force-exclude`: the hooks' exact
//! commands, read from the YAML, are run on named files the way pre-commit runs them, and
//! files excluded by the configuration are neither reported nor rewritten.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{BLOCKING, read, run, stderr, stdout, tree, unblock};

/// One hook of `.pre-commit-hooks.yaml`: its scalar keys and its flow lists.
#[derive(Debug, Default)]
struct Hook {
    scalars: BTreeMap<String, String>,
    lists: BTreeMap<String, Vec<String>>,
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .or_else(|| s.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
        .unwrap_or(s)
        .to_string()
}

/// Reads the hook file: a list of flat mappings whose values are scalars or `[a, b]` lists
/// (the only YAML the file uses; anything else fails the test).
fn hooks() -> Vec<Hook> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml");
    let text = std::fs::read_to_string(path).expect(".pre-commit-hooks.yaml");
    let mut hooks: Vec<Hook> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let item = match line.strip_prefix("- ") {
            Some(rest) => {
                hooks.push(Hook::default());
                rest
            }
            None => line
                .strip_prefix("  ")
                .unwrap_or_else(|| panic!("unexpected line: {line}")),
        };
        let (key, value) = item
            .split_once(':')
            .unwrap_or_else(|| panic!("not `key: value`: {line}"));
        let hook = hooks.last_mut().expect("a key before the first hook");
        let value = value.trim();
        if let Some(inner) = value.strip_prefix('[') {
            let inner = inner.strip_suffix(']').expect("a one-line list");
            let items = inner
                .split(',')
                .map(unquote)
                .filter(|s| !s.is_empty())
                .collect();
            hook.lists.insert(key.trim().to_string(), items);
        } else {
            hook.scalars.insert(key.trim().to_string(), unquote(value));
        }
    }
    hooks
}

fn hook(id: &str) -> Hook {
    hooks()
        .into_iter()
        .find(|h| h.scalars.get("id").map(String::as_str) == Some(id))
        .unwrap_or_else(|| panic!("no hook `{id}`"))
}

/// Runs a hook as pre-commit does: its entry, then its args, then the file names, in `dir`.
fn run_hook(hook: &Hook, dir: &Path, files: &[&str]) -> std::process::Output {
    let entry = &hook.scalars["entry"];
    let mut words = entry.split_whitespace();
    assert_eq!(words.next(), Some("unblock"), "the hook runs `unblock`");
    unblock(dir)
        .args(words)
        .args(hook.lists.get("args").into_iter().flatten())
        .args(files)
        .output()
        .expect("runs")
}

const PYPROJECT: &str = "[tool.unblock]\nextend-exclude = [\"legacy.py\", \"generated\"]\n";

#[test]
fn the_hook_file_has_a_check_and_a_fix_hook_for_python_files() {
    for (id, command) in [("unblock-check", "check"), ("unblock-fix", "fix")] {
        let hook = hook(id);
        let entry = &hook.scalars["entry"];
        assert_eq!(
            entry.split_whitespace().take(2).collect::<Vec<_>>(),
            ["unblock", command]
        );
        assert!(entry.contains("--force-exclude"), "{entry}");
        assert_eq!(hook.scalars["language"], "python");
        assert!(hook.lists["types_or"].contains(&"python".to_string()));
    }
}

#[test]
fn the_check_hook_skips_files_the_configuration_excludes() {
    let dir = tree(&[
        ("pyproject.toml", PYPROJECT),
        ("app.py", BLOCKING),
        ("legacy.py", BLOCKING),
        ("generated/g.py", BLOCKING),
    ]);
    let files = ["app.py", "legacy.py", "generated/g.py"];
    let out = run_hook(&hook("unblock-check"), dir.path(), &files);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("app.py:6:5: UNB100"), "{text}");
    assert!(!text.contains("legacy.py"), "{text}");
    assert!(!text.contains("generated/"), "{text}");
    assert!(text.contains("in 1 file:"), "{text}");

    // Without the flag, a named file is always processed (the reason the hook passes it).
    let mut args = vec!["check"];
    args.extend(files);
    let text = stdout(&run(dir.path(), &args));
    assert!(
        text.contains("legacy.py:6:5: UNB100") && text.contains("generated/g.py:6:5: UNB100"),
        "{text}"
    );
}

#[test]
fn the_fix_hook_leaves_excluded_files_as_they_were() {
    let dir = tree(&[
        ("pyproject.toml", PYPROJECT),
        ("app.py", BLOCKING),
        ("legacy.py", BLOCKING),
        ("generated/g.py", BLOCKING),
    ]);
    let out = run_hook(
        &hook("unblock-fix"),
        dir.path(),
        &["app.py", "legacy.py", "generated/g.py"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(read(dir.path(), "app.py").contains("await asyncio.sleep(1)"));
    assert_eq!(read(dir.path(), "legacy.py"), BLOCKING);
    assert_eq!(read(dir.path(), "generated/g.py"), BLOCKING);
    assert!(
        stderr(&out).contains("Fixed 2 blocking calls in 1 file;"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn force_exclude_applies_to_the_stdin_filename() {
    let dir = tree(&[("pyproject.toml", PYPROJECT)]);
    let check = |extra: &[&str]| {
        unblock(dir.path())
            .args(["check", "-", "--stdin-filename", "generated/g.py"])
            .args(extra)
            .write_stdin(BLOCKING)
            .output()
            .expect("runs")
    };
    let out = check(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("generated/g.py:6:5: UNB100"));
    let out = check(&["--force-exclude"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stdout(&out).contains("UNB100"), "{}", stdout(&out));

    // `fix -` of an excluded name echoes the input unchanged (as editors expect).
    let out = unblock(dir.path())
        .args([
            "fix",
            "-",
            "--stdin-filename",
            "legacy.py",
            "--force-exclude",
        ])
        .write_stdin(BLOCKING)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), BLOCKING);
}

#[test]
fn force_exclude_can_be_set_in_the_configuration_and_turned_off() {
    let dir = tree(&[
        (
            "pyproject.toml",
            "[tool.unblock]\nexclude = [\"legacy.py\"]\nforce-exclude = true\n",
        ),
        ("app.py", BLOCKING),
        ("legacy.py", BLOCKING),
    ]);
    let text = stdout(&run(dir.path(), &["check", "app.py", "legacy.py"]));
    assert!(
        text.contains("app.py:6:5") && !text.contains("legacy.py"),
        "{text}"
    );
    let text = stdout(&run(
        dir.path(),
        &["check", "--no-force-exclude", "app.py", "legacy.py"],
    ));
    assert!(text.contains("legacy.py:6:5"), "{text}");
    // A folder named on the command line is skipped too when it is excluded.
    std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
    std::fs::write(dir.path().join("sub/s.py"), BLOCKING).expect("write");
    let text = stdout(&run(dir.path(), &["check", "--exclude", "sub", "sub"]));
    assert!(
        text.contains("No blocking calls found (0 files checked)"),
        "{text}"
    );
    let text = stdout(&run(
        dir.path(),
        &["check", "--no-force-exclude", "--exclude", "sub", "sub"],
    ));
    assert!(text.contains("sub/s.py:6:5"), "{text}");
    // A missing path is still an error, excluded or not.
    let out = run(dir.path(), &["check", "--exclude", "nope", "nope"]);
    assert_eq!(out.status.code(), Some(2));
}
