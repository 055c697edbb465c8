//! Scale: the input shapes that once stalled a run (a module of thousands of async functions,
//! a big mostly-sync module, hundreds of blocking calls in one expression, a long method
//! chain, deep nesting, a huge file, a file over its time budget). Each shape runs in a child
//! process of this test binary, so that its time and peak memory are its own; both are
//! asserted loosely (a debug build on a shared machine: the bounds catch a return of the
//! quadratic or unbounded behaviour, not a slowdown of a few percent). The precise figures of
//! a release build are in the README; `--nocapture` prints these.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use unblock::catalog::Catalog;
use unblock::config::{Config, Options};
use unblock::engine::{FileError, FileOptions, Mode, Outcome, process};

const CHILD: &str = "UNBLOCK_SCALE_CHILD";

/// The options of a scale run: the engine's own time budget is lifted (a loaded machine could
/// hit it), so that each test's bound is what decides.
fn options() -> FileOptions {
    let catalog = Catalog::builtin().expect("catalog");
    let mut options = Config::new(PathBuf::from("."), None, Options::default(), &catalog)
        .expect("config")
        .file_options(Path::new("scale.py"));
    options.budget = Duration::from_secs(600);
    options
}

/// Peak resident memory of this process in KiB (Linux), if known.
fn peak_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs `work` in a child process (this test alone) and asserts its time and peak memory.
fn shape(name: &str, max_seconds: u64, max_mib: u64, work: impl FnOnce()) {
    if std::env::var_os(CHILD).is_some() {
        let started = Instant::now();
        work();
        let seconds = started.elapsed().as_secs_f64();
        let kib = peak_kib().unwrap_or(0);
        println!("scale-result seconds={seconds:.3} peak_kib={kib}");
        return;
    }
    let exe = std::env::current_exe().expect("test binary");
    let out = Command::new(exe)
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .expect("child runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{name} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("scale-result ").map(|(_, r)| r.to_string()))
        .unwrap_or_else(|| panic!("{name}: no result line in\n{stdout}"));
    let field = |key: &str| -> f64 {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(key))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    let (seconds, kib) = (field("seconds="), field("peak_kib="));
    println!("{name}: {seconds:.2} s, {:.0} MiB peak", kib / 1024.0);
    assert!(
        seconds < max_seconds as f64,
        "{name} took {seconds:.1} s (bound {max_seconds} s)"
    );
    assert!(
        kib < (max_mib * 1024) as f64,
        "{name} used {:.0} MiB (bound {max_mib} MiB)",
        kib / 1024.0
    );
}

fn fix(text: &str) -> Outcome {
    process(text.as_bytes(), &options(), Mode::Fix).expect("processes")
}

#[test]
fn thousands_of_async_functions() {
    shape("thousands_of_async_functions", 90, 600, || {
        let mut text = String::from("import os\nimport time\n");
        for i in 0..1500 {
            text.push_str(&format!(
                "\n\nasync def f{i}(p):\n    time.sleep(1)\n    x = os.path.getsize(p)\n    with open(p) as fh:\n        data = fh.read()\n    return x, data\n"
            ));
        }
        let outcome = fix(&text);
        assert_eq!(outcome.findings.len(), 6000);
        assert!(outcome.remaining.is_empty());
        assert!(outcome.fixed.is_some());
    });
}

#[test]
fn a_big_mostly_sync_module() {
    shape("a_big_mostly_sync_module", 90, 600, || {
        let mut text = String::from("import time\n\n\nasync def main():\n    time.sleep(1)\n");
        for i in 0..6000 {
            text.push_str(&format!(
                "\n\ndef g{i}(x):\n    y = x + {i}\n    return [y for _ in range(3)]\n"
            ));
        }
        let outcome = fix(&text);
        assert_eq!(outcome.findings.len(), 1);
        assert!(outcome.fixed.is_some());
    });
}

#[test]
fn hundreds_of_blocking_calls_in_one_expression() {
    shape(
        "hundreds_of_blocking_calls_in_one_expression",
        60,
        400,
        || {
            let sum: Vec<String> = (0..800).map(|i| format!("os.path.getsize(p{i})")).collect();
            let text = format!(
                "import os\n\n\nasync def f(p):\n    return {}\n",
                sum.join(" + ")
            );
            let outcome = fix(&text);
            assert_eq!(outcome.findings.len(), 800);
            assert!(outcome.remaining.is_empty());
        },
    );
}

#[test]
fn a_long_method_chain() {
    shape("a_long_method_chain", 60, 400, || {
        let text = format!(
            "import requests\n\n\nasync def f(u):\n    return requests.get(u){}\n",
            ".strip()".repeat(1000)
        );
        let outcome = fix(&text);
        assert_eq!(outcome.findings.len(), 1);
        assert!(outcome.fixed.is_some());
    });
}

#[test]
fn five_thousand_nested_calls() {
    shape("five_thousand_nested_calls", 20, 300, || {
        let text = format!(
            "import os\n\n\nasync def f(p):\n    return {}os.path.getsize(p){}\n",
            "g(".repeat(5000),
            ")".repeat(5000)
        );
        let result = process(text.as_bytes(), &options(), Mode::Fix);
        assert!(matches!(result, Err(FileError::TooDeep(_))), "{result:?}");
    });
}

#[test]
fn a_twenty_megabyte_file() {
    shape("a_twenty_megabyte_file", 20, 200, || {
        let one = "async def f(p):\n    time.sleep(1)\n\n\n";
        let text = one.repeat(20 * 1024 * 1024 / one.len());
        let result = process(text.as_bytes(), &options(), Mode::Fix);
        assert!(matches!(result, Err(FileError::TooLarge(_))), "{result:?}");
    });
}

#[test]
fn a_file_over_its_time_budget_stops_at_the_budget() {
    shape(
        "a_file_over_its_time_budget_stops_at_the_budget",
        30,
        600,
        || {
            let mut text = String::from("import os\nimport time\n");
            for i in 0..20_000 {
                text.push_str(&format!(
                    "\n\nasync def f{i}(p):\n    time.sleep(1)\n    return os.path.getsize(p)\n"
                ));
            }
            let mut options = options();
            options.budget = Duration::from_secs(2);
            let started = Instant::now();
            let result = process(text.as_bytes(), &options, Mode::Fix);
            assert!(matches!(result, Err(FileError::TooSlow(2))), "{result:?}");
            // The work stops at the next check after the deadline, not at the end of a phase.
            assert!(
                started.elapsed() < Duration::from_secs(6),
                "stopped after {:?}",
                started.elapsed()
            );
        },
    );
}
