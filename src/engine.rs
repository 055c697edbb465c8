//! One file through the pipeline: decode → pre-filter → parse → resolve → find → plan →
//! apply (repeated to a fixed point) → imports → verify. No I/O here: bytes in, results out.

use std::collections::BTreeSet;
use std::sync::Arc;

use thiserror::Error;
use tree_sitter::{Node, Tree};

use crate::catalog::Catalog;
use crate::edits::{Fix, apply, splice};
use crate::find::find;
use crate::imports::{add_imports, remove_unused};
use crate::plan::{FixKind, Planned, Runtime, Spelling, Strategy, plan};
use crate::resolve::Resolver;
use crate::source::{DecodeError, Source, decode, encode, may_contain_async};
use crate::suppress::Suppressions;
use crate::syntax::{first_error, parse};
use crate::verify::{VerifyError, verify};

/// Rounds of fixing before giving up on reaching a fixed point.
const MAX_ROUNDS: usize = 12;

/// The settings that apply to one file.
#[derive(Debug, Clone)]
pub struct FileOptions {
    pub catalog: Arc<Catalog>,
    /// Per rule (catalog order): whether it is selected for this file.
    pub enabled: Vec<bool>,
    pub strategy: Strategy,
    /// `None` detects the runtime from the file's imports.
    pub runtime: Option<Runtime>,
    /// The project's own offload call (`hass.async_add_executor_job`).
    pub offload: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Check,
    Fix,
}

#[derive(Debug, Error)]
pub enum FileError {
    #[error("{0}")]
    Decode(#[from] DecodeError),
    #[error(
        "syntax error at line {line}, column {column} (or syntax newer than the parser knows): the file is skipped"
    )]
    Syntax { line: usize, column: usize },
    #[error("{0}")]
    Verify(#[from] VerifyError),
    #[error("the parser could not run")]
    NoParser,
}

/// One finding, ready to print.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Reported {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub code: String,
    pub rule: String,
    pub call: String,
    pub function: String,
    pub message: String,
    pub fix: FixKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A remark on the fix (the configured offload call is not in scope, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A rewrite of the file.
#[derive(Debug, Clone)]
pub struct Fixed {
    pub source: Source,
    pub after: String,
    pub bytes: Vec<u8>,
    /// Findings the rewrite removed.
    pub fixed: usize,
}

#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The findings in the file as it was.
    pub findings: Vec<Reported>,
    /// Findings still there after the fixes (fix mode), all `manual`.
    pub remaining: Vec<Reported>,
    pub fixed: Option<Fixed>,
}

pub fn process(bytes: &[u8], options: &FileOptions, mode: Mode) -> Result<Outcome, FileError> {
    if !may_contain_async(bytes) {
        // Still refuse undecodable input, so that errors do not depend on the pre-filter.
        decode(bytes)?;
        return Ok(Outcome::default());
    }
    let source = decode(bytes)?;
    let tree = parse(&source.text).ok_or(FileError::NoParser)?;
    if let Some((line, column)) = first_error(&tree) {
        return Err(FileError::Syntax { line, column });
    }
    let first = analyze(&source.text, &tree, options);
    let mut outcome = Outcome {
        findings: first.reported.clone(),
        ..Outcome::default()
    };
    if mode == Mode::Check {
        return Ok(outcome);
    }

    let mut text = source.text.clone();
    let mut current = first;
    for _ in 0..MAX_ROUNDS {
        if current.fixes.is_empty() {
            break;
        }
        let (next, applied) = apply(&text, &current.fixes);
        if applied.is_empty() {
            break;
        }
        let needs: BTreeSet<&'static str> = applied
            .iter()
            .flat_map(|&i| current.fixes[i].needs.iter().copied())
            .collect();
        let mut next_tree = verify(&next)?;
        text = next;
        // Imports go in at once, so that the next round resolves what this one wrote.
        let mut import_edits = add_imports(
            &text,
            &next_tree,
            &missing(&text, &next_tree, &needs),
            source.newline,
        );
        if !import_edits.is_empty() {
            import_edits.sort_by_key(|e| (e.start, e.end));
            text = splice(&text, &import_edits.iter().collect::<Vec<_>>());
            next_tree = verify(&text)?;
        }
        current = analyze(&text, &next_tree, options);
    }
    outcome.remaining = current.reported;
    if text == source.text {
        return Ok(outcome);
    }

    let fixed_tree = verify(&text)?;
    let mut removals = remove_unused(&source.text, &tree, &text, &fixed_tree);
    if !removals.is_empty() {
        removals.sort_by_key(|e| (e.start, e.end));
        text = splice(&text, &removals.iter().collect::<Vec<_>>());
        verify(&text)?;
    }
    let fixed_count = outcome
        .findings
        .len()
        .saturating_sub(outcome.remaining.len());
    outcome.fixed = Some(Fixed {
        bytes: encode(&source, &text),
        after: text,
        source,
        fixed: fixed_count,
    });
    Ok(outcome)
}

/// The needed modules the fixed text does not import yet.
fn missing<'n>(text: &str, tree: &Tree, needs: &BTreeSet<&'n str>) -> BTreeSet<&'n str> {
    let catalog = Catalog::default();
    let resolver = Resolver::new(text, tree.root_node(), &catalog);
    needs
        .iter()
        .copied()
        .filter(|m| resolver.module_alias_for(m).is_none())
        .collect()
}

struct Analysis {
    reported: Vec<Reported>,
    fixes: Vec<Fix>,
}

fn analyze(text: &str, tree: &Tree, options: &FileOptions) -> Analysis {
    let root = tree.root_node();
    let catalog = options.catalog.as_ref();
    let resolver = Resolver::new(text, root, catalog);
    let suppressions = Suppressions::collect(root, text);
    let findings: Vec<_> = find(&resolver, catalog, root)
        .into_iter()
        .filter(|f| options.enabled.get(f.rule).copied().unwrap_or(false))
        .filter(|f| !suppressions.is_suppressed(f.node, &catalog.rules[f.rule]))
        .collect();
    let spelling = Spelling::for_module(&resolver, options.runtime, options.offload.as_deref());
    let planned = plan(findings, &resolver, catalog, &spelling, options.strategy);
    let mut fixes: Vec<Fix> = Vec::new();
    for p in &planned {
        if let Some(fix) = &p.fix
            && !fixes.contains(fix)
        {
            fixes.push(fix.clone());
        }
    }
    let reported = planned.iter().map(|p| report(p, catalog, text)).collect();
    Analysis { reported, fixes }
}

fn report(p: &Planned, catalog: &Catalog, text: &str) -> Reported {
    let rule = &catalog.rules[p.finding.rule];
    let (line, column) = position(p.finding.node, text, true);
    let (end_line, end_column) = position(p.finding.node, text, false);
    Reported {
        line,
        column,
        end_line,
        end_column,
        code: rule.code.clone(),
        rule: rule.id.clone(),
        call: p.finding.call.clone(),
        function: p.finding.function.clone(),
        message: format!(
            "`{}` blocks the event loop in async function `{}`",
            p.finding.call, p.finding.function
        ),
        fix: p.kind,
        reason: p.reason.clone(),
        note: p.note.clone(),
    }
}

/// 1-based line and character column of a node's start (or end).
fn position(node: Node, text: &str, start: bool) -> (usize, usize) {
    let (point, byte) = if start {
        (node.start_position(), node.start_byte())
    } else {
        (node.end_position(), node.end_byte())
    };
    let line_start = byte.saturating_sub(point.column);
    let column = text
        .get(line_start..byte)
        .map_or(point.column, |s| s.chars().count());
    (point.row + 1, column + 1)
}
