//! Multi-module fixture projects under `tests/projects/` (UNB180 needs more than one file):
//! for each, the `check` output and the `diff` over the whole project are an insta snapshot;
//! `fix` on a copy must give files that compile and a second `fix` must change nothing.

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;

fn project(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/projects")
        .join(name)
}

fn run(dir: &Path, args: &[&str]) -> String {
    let out = Command::cargo_bin("unblock")
        .expect("binary")
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .expect("runs");
    assert!(
        out.status.code().is_some_and(|c| c < 2),
        "unblock {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("readable") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

fn snapshot(name: &str, text: String) {
    insta::with_settings!({
        snapshot_path => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("snapshots"),
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, text);
    });
}

/// Snapshots `check` and `diff`, then fixes a copy: it compiles and is a fixed point.
fn check_project(name: &str) {
    let dir = project(name);
    let checked = run(&dir, &["check", "."]);
    let diff = run(&dir, &["diff", "."]);
    snapshot(
        &format!("project_{name}"),
        format!("{checked}\n----- diff -----\n{diff}"),
    );

    let work = tempfile::tempdir().expect("tempdir");
    copy_tree(&dir, work.path());
    run(work.path(), &["fix", "."]);
    let compiled = Process::new("python3")
        .args(["-m", "compileall", "-q", "."])
        .current_dir(work.path())
        .output()
        .expect("python3 is required for the project tests");
    assert!(
        compiled.status.success(),
        "the fixed project does not compile: {}",
        String::from_utf8_lossy(&compiled.stdout)
    );
    assert_eq!(
        run(work.path(), &["diff", "."]),
        "",
        "a second fix changes more"
    );
}

#[test]
fn sync_calls() {
    check_project("sync_calls");
}

/// One file checked on its own still sees the modules it imports (pre-commit names files).
#[test]
fn one_file_sees_the_modules_it_imports() {
    let checked = run(&project("sync_calls"), &["check", "app/handlers.py"]);
    assert!(
        checked.contains("`app.util.fetch` blocks the event loop in async function `fetch_all`: fetch → requests.get (app/util.py:10)"),
        "{checked}"
    );
    assert!(checked.contains("ping → pong → time.sleep"), "{checked}");
}

/// `--ignore UNB180` turns the index off: the same run without it reports UNB180, with it
/// nothing of it (the project's other calls are all offloaded or clean already).
#[test]
fn the_rule_can_be_ignored() {
    let on = run(&project("sync_calls"), &["check", "."]);
    assert!(on.contains("UNB180"), "{on}");
    let off = run(
        &project("sync_calls"),
        &["check", ".", "--ignore", "UNB180"],
    );
    assert!(!off.contains("UNB180"), "{off}");
    assert!(off.starts_with("No blocking calls found"), "{off}");
}
