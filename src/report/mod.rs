//! Printing results: `check` text and JSON, the summary line, `fix` summaries, per-file errors
//! (colour in [`color`], diffs in [`diff`], the ordered output stream in [`output`], the
//! [`progress`] bar).

pub mod color;
pub mod diff;
pub mod output;
pub mod progress;
pub mod rules;

use std::collections::BTreeMap;
use std::path::Path;

use crate::engine::{Outcome, Reported};
use crate::fix::FixKind;

/// The result of one file.
#[derive(Debug)]
pub struct FileResult {
    /// The path as shown: relative to the working directory, with `/` separators. For
    /// messages only: writes go to `path`.
    pub display: String,
    /// The path as discovered (`None` for standard input).
    pub path: Option<std::path::PathBuf>,
    /// The bytes read, kept for files that get a fix (the write checks them once more).
    pub original: Option<Vec<u8>>,
    pub outcome: Result<Outcome, String>,
}

/// A path as shown to the user.
pub fn display_path(path: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    let shown = match cwd.as_deref().and_then(|cwd| path.strip_prefix(cwd).ok()) {
        Some(rel) if path.is_absolute() => rel,
        _ => path,
    };
    let mut s = shown.to_string_lossy().replace('\\', "/");
    while let Some(rest) = s.strip_prefix("./") {
        s = rest.to_string();
    }
    s
}

pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, style: anstyle::Style, text: &str) -> String {
        if self.color {
            color::paint(style, text)
        } else {
            text.to_string()
        }
    }
}

/// `(fix: kind)`, `(fix: kind; note)` or `(manual: reason)`.
fn fix_text(f: &Reported) -> String {
    let mut kind = if f.requires.is_empty() {
        f.fix.as_str().to_string()
    } else {
        format!("{} ({})", f.fix.as_str(), f.requires.join(", "))
    };
    if f.applicability == Some(crate::fix::edits::Applicability::Unsafe) {
        kind.push_str(", unsafe");
    }
    let kind = match f.unsafe_fix {
        Some(better) => format!("{kind}; {} with --unsafe-fixes", better.as_str()),
        None => kind,
    };
    match (&f.fix, &f.reason, &f.note) {
        (FixKind::Manual, Some(reason), None) if f.unsafe_fix.is_some() => {
            format!(
                "(manual: {reason}; {} with --unsafe-fixes)",
                FixKind::Native.as_str()
            )
        }
        (FixKind::Manual, Some(reason), _) => format!("(manual: {reason})"),
        (_, _, Some(note)) => format!("(fix: {kind}; {note})"),
        (_, _, None) => format!("(fix: {kind})"),
    }
}

/// The line `fix` and `diff` end with when the fixed code imports third-party packages.
pub fn packages_line(results: &[FileResult]) -> Option<String> {
    let mut all: Vec<String> = results
        .iter()
        .filter_map(|r| r.outcome.as_ref().ok())
        .filter(|o| o.fixed.is_some())
        .flat_map(|o| o.packages())
        .collect();
    all.sort();
    all.dedup();
    (!all.is_empty()).then(|| {
        format!(
            "The fixed code imports {}: make sure the project depends on {}.",
            all.join(", "),
            if all.len() == 1 { "it" } else { "them" }
        )
    })
}

/// `path:line:col: CODE [rule-id] message (fix: kind)` — or `(manual: reason)`.
pub fn finding_line(path: &str, f: &Reported, style: &Style) -> String {
    let fix = fix_text(f);
    format!(
        "{}:{}:{}: {} {} {} {}",
        style.paint(color::PATH, path),
        f.line,
        f.column,
        style.paint(color::CODE, &f.code),
        style.paint(color::RULE, &format!("[{}]", f.rule)),
        f.message,
        fix
    )
}

pub fn check_text(results: &[FileResult], style: &Style) -> String {
    let mut out = String::new();
    for r in results {
        if let Ok(outcome) = &r.outcome {
            for f in &outcome.findings {
                out.push_str(&finding_line(&r.display, f, style));
                out.push('\n');
            }
        }
    }
    out
}

#[derive(serde::Serialize)]
struct JsonFinding<'a> {
    path: &'a str,
    #[serde(flatten)]
    finding: &'a Reported,
}

/// A file that could not be checked, as a row of the JSON output.
#[derive(serde::Serialize)]
struct JsonError<'a> {
    path: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<usize>,
    error: &'a str,
}

#[derive(serde::Serialize)]
#[serde(untagged)]
enum JsonRow<'a> {
    Finding(JsonFinding<'a>),
    Error(JsonError<'a>),
}

/// One JSON array: a row per finding, and a row with `error` for each file that could not
/// be checked, in path order.
pub fn check_json(results: &[FileResult]) -> String {
    let mut rows: Vec<JsonRow> = Vec::new();
    for r in results {
        match &r.outcome {
            Ok(o) => rows.extend(o.findings.iter().map(|f| {
                JsonRow::Finding(JsonFinding {
                    path: &r.display,
                    finding: f,
                })
            })),
            Err(error) => {
                let position = error_position(error);
                rows.push(JsonRow::Error(JsonError {
                    path: &r.display,
                    line: position.map(|p| p.0),
                    column: position.and_then(|p| p.1),
                    error,
                }));
            }
        }
    }
    let mut s = serde_json::to_string_pretty(&rows).unwrap_or_else(|_| "[]".to_string());
    s.push('\n');
    s
}

/// The place an error message names (`… at line 3, column 7`, `… at line 3`), if any.
pub fn error_position(message: &str) -> Option<(usize, Option<usize>)> {
    let number = |text: &str| -> Option<usize> {
        let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    };
    let after_line = message.split_once("at line ")?.1;
    let line = number(after_line)?;
    let column = after_line
        .split_once(", column ")
        .and_then(|(_, rest)| number(rest));
    Some((line, column))
}

/// The closing line of `fix` (`Fixed 3 blocking calls in 2 files; 1 manual finding remains.`)
/// and of `diff` (`Would fix …`); `None` when no file could be read (the errors say it all).
pub fn fix_summary(results: &[FileResult], dry_run: bool) -> Option<String> {
    let outcomes: Vec<_> = results
        .iter()
        .filter_map(|r| r.outcome.as_ref().ok())
        .collect();
    if outcomes.is_empty() && !results.is_empty() {
        return None;
    }
    let fixed: usize = outcomes
        .iter()
        .filter_map(|o| o.fixed.as_ref())
        .map(|f| f.fixed)
        .sum();
    let files = outcomes.iter().filter(|o| o.fixed.is_some()).count();
    let remaining: usize = outcomes.iter().map(|o| o.remaining.len()).sum();
    Some(format!(
        "{} {fixed} blocking {} in {files} {}; {remaining} manual {} {}.",
        if dry_run { "Would fix" } else { "Fixed" },
        plural(fixed, "call", "calls"),
        plural(files, "file", "files"),
        plural(remaining, "finding", "findings"),
        plural(remaining, "remains", "remain"),
    ))
}

/// `Found 12 blocking calls in 4 files: 9 fixable (native 5, thread 3, helper 1), 3 manual`,
/// or `No blocking calls found (N files checked).` Files that could not be checked are
/// counted apart; when no file could be, there is nothing to sum up (empty).
pub fn summary(results: &[FileResult]) -> String {
    let checked = results.iter().filter(|r| r.outcome.is_ok()).count();
    let failed = results.len() - checked;
    let failed_note = if failed > 0 {
        format!(
            "; {failed} {} could not be checked",
            plural(failed, "file", "files")
        )
    } else {
        String::new()
    };
    let mut counts: BTreeMap<FixKind, usize> = BTreeMap::new();
    let mut files = 0;
    let mut unsafe_native = 0;
    for r in results {
        if let Ok(o) = &r.outcome {
            if !o.findings.is_empty() {
                files += 1;
            }
            for f in &o.findings {
                *counts.entry(f.fix).or_default() += 1;
                unsafe_native += usize::from(f.unsafe_fix.is_some());
            }
        }
    }
    let total: usize = counts.values().sum();
    if total == 0 {
        return match (checked, failed) {
            (_, 0) => format!(
                "No blocking calls found ({checked} {} checked).",
                plural(checked, "file", "files")
            ),
            (0, _) => String::new(),
            _ => format!(
                "No blocking calls found in the {checked} {} checked{failed_note}.",
                plural(checked, "file", "files")
            ),
        };
    }
    let get = |k: FixKind| counts.get(&k).copied().unwrap_or(0);
    let manual = get(FixKind::Manual);
    let unsafe_note = if unsafe_native > 0 {
        format!("; {unsafe_native} more native with --unsafe-fixes")
    } else {
        String::new()
    };
    format!(
        "Found {total} blocking {} in {files} {}: {} fixable (native {}, thread {}, helper {}), {manual} manual{unsafe_note}{failed_note}",
        plural(total, "call", "calls"),
        plural(files, "file", "files"),
        total - manual,
        get(FixKind::Native),
        get(FixKind::Thread),
        get(FixKind::Helper),
    )
}

/// The findings counted by rule and fix kind, most frequent first: `(count, code, rule, fix)`.
fn statistics(results: &[FileResult]) -> Vec<(usize, &str, &str, FixKind)> {
    let mut counts: BTreeMap<(&str, &str, FixKind), usize> = BTreeMap::new();
    for o in results.iter().filter_map(|r| r.outcome.as_ref().ok()) {
        for f in &o.findings {
            *counts
                .entry((f.code.as_str(), f.rule.as_str(), f.fix))
                .or_default() += 1;
        }
    }
    let mut rows: Vec<_> = counts
        .into_iter()
        .map(|((code, rule, fix), n)| (n, code, rule, fix))
        .collect();
    rows.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| (a.1, a.3).cmp(&(b.1, b.3))));
    rows
}

/// `check --statistics`: one aligned row per rule and fix kind, `count  code  [fix]  rule-id`.
pub fn statistics_text(results: &[FileResult]) -> String {
    let rows = statistics(results);
    let count_width = rows
        .iter()
        .map(|r| r.0.to_string().len())
        .max()
        .unwrap_or(1);
    let code_width = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
    let fix_width = rows
        .iter()
        .map(|r| r.3.as_str().len() + 2)
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (n, code, rule, fix) in rows {
        out.push_str(&format!(
            "{n:>count_width$}  {code:<code_width$}  {:<fix_width$}  {rule}\n",
            format!("[{}]", fix.as_str())
        ));
    }
    out
}

#[derive(serde::Serialize)]
struct StatisticsRow<'a> {
    code: &'a str,
    rule: &'a str,
    fix: FixKind,
    count: usize,
}

/// `check --statistics --output-format json`: the same rows as objects.
pub fn statistics_json(results: &[FileResult]) -> String {
    let rows: Vec<StatisticsRow> = statistics(results)
        .into_iter()
        .map(|(count, code, rule, fix)| StatisticsRow {
            code,
            rule,
            fix,
            count,
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&rows).unwrap_or_else(|_| "[]".to_string());
    s.push('\n');
    s
}

pub fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// `error: path: reason` lines for the files that failed.
pub fn errors(results: &[FileResult]) -> Vec<String> {
    results
        .iter()
        .filter_map(|r| {
            r.outcome
                .as_ref()
                .err()
                .map(|e| format!("error: {}: {e}", r.display))
        })
        .collect()
}

/// SARIF 2.1.0: one run, every rule of the catalog in `tool.driver.rules`, one result per
/// finding; paths relative to the working directory (`%SRCROOT%`), columns in code points.
pub fn check_sarif(results: &[FileResult], catalog: &crate::catalog::Catalog) -> String {
    use serde_json::json;
    let rules: Vec<serde_json::Value> = catalog
        .rules
        .iter()
        .map(|r| {
            json!({
                "id": r.code,
                "name": r.id,
                "shortDescription": {"text": r.summary},
                "fullDescription": {"text": format!("{} Fix: {}", r.summary, r.fix)},
                "help": {"text": r.doc, "markdown": r.doc},
                "defaultConfiguration": {"level": "warning"},
                "properties": {"aliases": r.aliases},
            })
        })
        .collect();
    let mut sarif_results = Vec::new();
    // Files that could not be checked: tool execution notifications of the invocation.
    let mut notifications = Vec::new();
    for r in results {
        let outcome = match &r.outcome {
            Ok(outcome) => outcome,
            Err(error) => {
                let mut location = json!({
                    "artifactLocation": {"uri": uri_path(&r.display), "uriBaseId": "%SRCROOT%"},
                });
                if let Some((line, column)) = error_position(error) {
                    location["region"] = json!({"startLine": line});
                    if let Some(column) = column {
                        location["region"]["startColumn"] = json!(column);
                    }
                }
                notifications.push(json!({
                    "level": "error",
                    "message": {"text": format!("{}: {error}", r.display)},
                    "locations": [{"physicalLocation": location}],
                }));
                continue;
            }
        };
        for f in &outcome.findings {
            let index = catalog
                .rules
                .iter()
                .position(|rule| rule.code == f.code)
                .unwrap_or(0);
            let text = format!("{} {}", f.message, fix_text(f));
            let mut properties = json!({"call": f.call, "function": f.function, "fix": f.fix});
            if let Some(reason) = &f.reason {
                properties["reason"] = json!(reason);
            }
            sarif_results.push(json!({
                "ruleId": f.code,
                "ruleIndex": index,
                "level": "warning",
                "message": {"text": text},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri_path(&r.display), "uriBaseId": "%SRCROOT%"},
                        "region": {
                            "startLine": f.line,
                            "startColumn": f.column,
                            "endLine": f.end_line,
                            "endColumn": f.end_column,
                        },
                    },
                }],
                "properties": properties,
            }));
        }
    }
    let cwd = std::env::current_dir()
        .map(|d| format!("file://{}/", uri_path(&d.to_string_lossy())))
        .unwrap_or_else(|_| "file:///".to_string());
    let log = json!({
        "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "unblock",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": notifications.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "originalUriBaseIds": {"%SRCROOT%": {"uri": cwd}},
            "columnKind": "unicodeCodePoints",
            "results": sarif_results,
        }],
    });
    let mut s = serde_json::to_string_pretty(&log).unwrap_or_else(|_| "{}".to_string());
    s.push('\n');
    s
}

/// A path as a URI reference: `/`-separated, with the characters URIs reserve escaped.
fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(char::from(b))
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// GitHub Actions workflow commands, one `::warning` annotation per finding.
pub fn check_github(results: &[FileResult]) -> String {
    let mut out = String::new();
    for r in results {
        let Ok(outcome) = &r.outcome else { continue };
        for f in &outcome.findings {
            let text = format!("{} {}", f.message, fix_text(f));
            out.push_str(&format!(
                "::warning title={},file={},line={},col={},endLine={},endColumn={}::{}\n",
                escape_property(&format!("{} [{}]", f.code, f.rule)),
                escape_property(&r.display),
                f.line,
                f.column,
                f.end_line,
                f.end_column,
                escape_data(&format!("{} [{}] {text}", f.code, f.rule)),
            ));
        }
    }
    out
}

/// GitHub Actions `::error` annotations, one per file that could not be checked (printed
/// after the findings).
pub fn github_errors(results: &[FileResult]) -> String {
    let mut out = String::new();
    for r in results {
        let Err(error) = &r.outcome else { continue };
        let mut properties = format!("title=unblock,file={}", escape_property(&r.display));
        if let Some((line, column)) = error_position(error) {
            properties.push_str(&format!(",line={line}"));
            if let Some(column) = column {
                properties.push_str(&format!(",col={column}"));
            }
        }
        out.push_str(&format!("::error {properties}::{}\n", escape_data(error)));
    }
    out
}

fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}
