//! Snapshot tests over `tests/fixtures/*.py`: for each fixture, the `check` output and the
//! `diff` of its fix are an insta snapshot under `snapshots/`; the fixed text must compile with
//! `python3 -m py_compile` and be a fixed point (a second run changes nothing).
//!
//! A fixture may set options with leading `# fixture: <toml>` lines, e.g.
//! `# fixture: extra-blocking-calls = ["feedparser.parse"]`.

use std::path::{Path, PathBuf};
use std::process::Command;

use unblock::catalog::Catalog;
use unblock::config::{Config, Options};
use unblock::engine::{FileOptions, Mode, process};
use unblock::report::diff::unified;
use unblock::report::{FileResult, Style, finding_line, summary};

fn options_for(source: &str) -> FileOptions {
    let toml_text: String = source
        .lines()
        .take_while(|l| l.starts_with('#'))
        .filter_map(|l| l.strip_prefix("# fixture: "))
        .map(|l| format!("{l}\n"))
        .collect();
    let options: Options = toml::from_str(&toml_text).expect("fixture options are valid TOML");
    let catalog = Catalog::builtin().expect("catalog");
    let config = Config::new(PathBuf::from("."), None, options, &catalog)
        .expect("fixture options are valid");
    config.file_options(Path::new("fixture.py"))
}

fn py_compile(text: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join("fixed.py");
    std::fs::write(&path, text).map_err(|e| e.to_string())?;
    let out = Command::new("python3")
        .args(["-m", "py_compile"])
        .arg(&path)
        .output()
        .map_err(|e| format!("python3 is required for the fixture tests: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// The snapshot text of one fixture, after checking compile and fixed point.
fn run_fixture(path: &Path) -> String {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .expect("name")
        .to_string();
    let bytes = std::fs::read(path).expect("fixture readable");
    let source = String::from_utf8(bytes.clone()).expect("fixtures are UTF-8");
    let options = options_for(&source);
    let style = Style { color: false };

    let checked = process(&bytes, &options, Mode::Check).expect("fixture processes");
    let checked_labels = checked.findings.clone();
    let mut out = String::from("--- check ---\n");
    for f in &checked.findings {
        out.push_str(&finding_line(&name, f, &style));
        out.push('\n');
    }
    let results = vec![FileResult {
        display: name.clone(),
        path: None,
        original: None,
        outcome: Ok(checked),
    }];
    out.push_str(&summary(&results));
    out.push_str("\n--- diff ---\n");

    let fixed = process(&bytes, &options, Mode::Fix).expect("fixture fixes");
    // The verification gate is a safety net: it never fires on the fixtures.
    let refused: Vec<String> = checked_reasons(&fixed.findings)
        .into_iter()
        .filter(|r| r.contains("failed verification"))
        .collect();
    assert!(
        refused.is_empty(),
        "{name}: the gate refused a rewrite: {refused:?}"
    );
    // `check` labels exactly what `fix` does: the manual findings of `check` are the ones
    // `fix` leaves, and every other one is fixed. (A reason may differ in wording: `check`
    // gives the one that holds for the code as written.)
    let mut labelled_manual: Vec<String> = fixed
        .findings
        .iter()
        .filter(|f| f.fix == unblock::fix::FixKind::Manual && f.reason.is_some())
        .map(|f| format!("{} {} in {}", f.code, f.call, f.function))
        .collect();
    let mut left: Vec<String> = fixed
        .remaining
        .iter()
        .map(|f| format!("{} {} in {}", f.code, f.call, f.function))
        .collect();
    labelled_manual.sort();
    left.sort();
    assert_eq!(
        labelled_manual, left,
        "{name}: check's manual labels differ from what fix leaves"
    );
    let check_labels: Vec<(String, unblock::fix::FixKind)> = checked_labels
        .iter()
        .map(|f| (format!("{}:{} {}", f.line, f.column, f.call), f.fix))
        .collect();
    let fix_labels: Vec<(String, unblock::fix::FixKind)> = fixed
        .findings
        .iter()
        .map(|f| (format!("{}:{} {}", f.line, f.column, f.call), f.fix))
        .collect();
    assert_eq!(
        check_labels, fix_labels,
        "{name}: check and fix label differently"
    );
    if let Some(f) = &fixed.fixed {
        out.push_str(&String::from_utf8_lossy(&unified(&name, f)));
        if let Err(e) = py_compile(&f.after) {
            panic!("{name}: fixed output does not compile:\n{e}\n{}", f.after);
        }
        let again = process(&f.bytes, &options, Mode::Fix).expect("fixed text processes");
        assert!(
            again.fixed.is_none(),
            "{name}: not a fixed point; second run changed:\n{}",
            again.fixed.map(|g| g.after).unwrap_or_default()
        );
        assert_eq!(
            again.findings.len(),
            fixed.remaining.len(),
            "{name}: the findings left after fixing differ from a fresh check of the fixed text"
        );
        let unfixed: Vec<String> = fixed
            .remaining
            .iter()
            .filter(|f| f.fix != unblock::fix::FixKind::Manual)
            .map(|f| format!("{}:{} {} ({:?})", f.line, f.column, f.call, f.fix))
            .collect();
        assert!(
            unfixed.is_empty(),
            "{name}: fixable findings were left unfixed: {unfixed:?}"
        );
    } else {
        out.push_str("(no change)\n");
    }
    out
}

fn checked_reasons(findings: &[unblock::engine::Reported]) -> Vec<String> {
    findings.iter().filter_map(|f| f.reason.clone()).collect()
}

/// Snapshots one fixture (`tests/fixtures/<stem>.py` → `snapshots/<stem>.snap`).
fn snapshot(stem: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format!("{stem}.py"));
    let snapshot = run_fixture(&path);
    insta::with_settings!({
        snapshot_path => Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots"),
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(stem, snapshot);
    });
}

/// One test per fixture, so that one failure does not hide the rest.
macro_rules! fixtures {
    ($($stem:ident),* $(,)?) => {
        $(
            #[test]
            fn $stem() {
                snapshot(stringify!($stem));
            }
        )*
        const LISTED: &[&str] = &[$(stringify!($stem)),*];
    };
}

fixtures!(
    aliases_and_star_imports,
    comprehension_scope,
    db,
    deps_imported,
    deps_undeclared,
    file_io,
    file_rebound,
    files_native,
    form_feed,
    fs,
    helper_async_generator,
    helper_global_names,
    helper_loop_target_shadows,
    helper_names,
    helper_params,
    helper_refused,
    helper_regions,
    helper_thread_context,
    higher_order,
    http,
    http_native,
    http_native_fallbacks,
    imports_alias,
    imports_docstring_future,
    imports_from_asyncio,
    imports_kept,
    imports_none,
    imports_removed,
    imports_type_checking,
    input_calls,
    library,
    lost_update,
    methods,
    nested_sync_def,
    network,
    offload_home_assistant,
    open,
    path,
    pipes_and_streams,
    precedence,
    process_anyio,
    process_trio,
    runtime_anyio,
    runtime_asyncio_preloads_trio,
    runtime_trio,
    scopes,
    shadowed_names,
    sleep,
    strategy_thread,
    subprocess_calls,
    subprocess_native,
    suppression,
    syntax_generic_annotation_operator,
    syntax_repaired_line_changed,
    syntax_repaired_line_in_helper,
    syntax_shallow_continuation,
    syntax_starred_yield,
    target_py38,
    target_py38_native,
    typed_receivers,
    user_calls,
);

#[test]
fn every_fixture_has_its_test() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut stems: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixtures folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "py"))
        .filter_map(|p| p.file_stem().and_then(|s| s.to_str()).map(str::to_string))
        .collect();
    stems.sort();
    assert_eq!(stems, LISTED, "add each fixture to the fixtures! list");
}
