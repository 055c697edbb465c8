//! One file through the pipeline: decode → pre-filter → parse → resolve → find → plan →
//! apply (repeated to a fixed point) → imports → verify. No I/O here: bytes in, results out.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use thiserror::Error;
use tree_sitter::{Node, Tree};

use crate::catalog::Catalog;
use crate::find::find;
use crate::find::suppress::Suppressions;
use crate::fix::edits::{Fix, apply, splice};
use crate::fix::imports::{add_imports, remove_unused};
use crate::fix::{Allowed, FixKind, Planned, Runtime, Spelling, Strategy, plan};
use crate::index::ProjectIndex;
use crate::index::modules::ModuleName;
use crate::index::summary::{FileFacts, Scope};
use crate::parse::newer_syntax::restore;
use crate::parse::syntax::parse;
use crate::read::{DecodeError, Source, decode, encode, may_contain_async};
use crate::resolve::Resolver;
use crate::verify::{Refusal, gate};

/// Rounds of fixing before giving up on reaching a fixed point.
const MAX_ROUNDS: usize = 100;

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
    /// Apply fixes that behave differently in known corner cases (the httpx swap).
    pub unsafe_fixes: bool,
    /// Third-party libraries allowed beyond the project's declared ones (`native`).
    pub native: Vec<String>,
    /// `target-version`, when set (else the project's `requires-python`).
    pub target: Option<crate::config::project::PythonVersion>,
    /// The project the file belongs to.
    pub project: Arc<crate::config::project::Project>,
    /// How long one file may take before it is skipped ([`TIME_BUDGET`] unless a test says).
    pub budget: std::time::Duration,
    /// The file's module name, when it has one (for the project index).
    pub module: Option<ModuleName>,
    /// The project's blocking sync functions (UNB180), when the run built the index.
    pub index: Option<Arc<ProjectIndex>>,
    /// Collect the file's facts for the project index, naming the file so.
    pub facts_as: Option<String>,
}

/// The time one file may take: past it the file is skipped with an error (never half-fixed),
/// and the other files go on.
pub const TIME_BUDGET: std::time::Duration = std::time::Duration::from_secs(20);

/// The largest file that is analysed (one that never says `async` is not parsed at all).
pub const MAX_BYTES: usize = 4 * 1024 * 1024;

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
    #[error("the parser could not run")]
    NoParser,
    #[error("{0}: not valid Python, the file is skipped")]
    TooDeep(&'static str),
    #[error("too large to analyse ({0} bytes; the limit is {MAX_BYTES}): the file is skipped")]
    TooLarge(usize),
    #[error("took longer than {0} s: the file is skipped and left as it was")]
    TooSlow(u64),
    #[error("its {0} text does not encode back to the same bytes, so it is not rewritten")]
    NotRoundTrip(String),
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
    /// Third-party packages the fix imports (`aiofiles`, `httpx`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<String>,
    /// The edits of the finding's fix as first planned (JSON only), the imports aside.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub edits: Vec<ShownEdit>,
    /// Whether the fix is safe or unsafe (absent for a manual finding).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applicability: Option<crate::fix::edits::Applicability>,
    /// The fix `--unsafe-fixes` would give instead (`native`), when it is not applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsafe_fix: Option<FixKind>,
}

/// One edit of a fix: the range it replaces (1-based lines, columns in characters, the end
/// exclusive) and the text that goes there.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ShownEdit {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub content: String,
}

/// Byte offsets to 1-based line and character column, for one text.
struct LineIndex<'s> {
    text: &'s str,
    starts: Vec<usize>,
}

impl<'s> LineIndex<'s> {
    fn new(text: &'s str) -> Self {
        let starts = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1))
            .collect();
        LineIndex { text, starts }
    }

    fn position(&self, byte: usize) -> (usize, usize) {
        let line = self.starts.partition_point(|&s| s <= byte).max(1);
        let start = self.starts[line - 1];
        let column = self
            .text
            .get(start..byte)
            .map_or(byte - start, |s| s.chars().count());
        (line, column + 1)
    }

    fn shown(&self, fix: &Fix) -> Vec<ShownEdit> {
        fix.edits
            .iter()
            .map(|e| {
                let (line, column) = self.position(e.start);
                let (end_line, end_column) = self.position(e.end);
                ShownEdit {
                    line,
                    column,
                    end_line,
                    end_column,
                    content: e.text.clone(),
                }
            })
            .collect()
    }
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

impl Outcome {
    /// The third-party packages the applied fixes import, sorted.
    pub fn packages(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .findings
            .iter()
            .filter(|f| f.fix != FixKind::Manual)
            .flat_map(|f| f.requires.iter().cloned())
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The findings in the file as it was.
    pub findings: Vec<Reported>,
    /// Findings still there after the fixes (fix mode), all `manual`.
    pub remaining: Vec<Reported>,
    pub fixed: Option<Fixed>,
    /// What the file tells the project index, when the options asked for it.
    pub facts: Option<FileFacts>,
}

pub fn process(bytes: &[u8], options: &FileOptions, mode: Mode) -> Result<Outcome, FileError> {
    if !may_contain_async(bytes) {
        // Still refuse undecodable input, so that errors do not depend on the pre-filter.
        decode(bytes)?;
        return Ok(Outcome::default());
    }
    if bytes.len() > MAX_BYTES {
        return Err(FileError::TooLarge(bytes.len()));
    }
    // Every loop that grows with the file checks the budget; running out ends here.
    let deadline = std::time::Instant::now().checked_add(options.budget);
    crate::budget::run(deadline, || process_within_budget(bytes, options, mode))
        .unwrap_or(Err(FileError::TooSlow(options.budget.as_secs())))
}

fn process_within_budget(
    bytes: &[u8],
    options: &FileOptions,
    mode: Mode,
) -> Result<Outcome, FileError> {
    let source = decode(bytes)?;
    // Old Mac line endings (a lone `\r`, which Python reads as a newline) are analysed as `\n`
    // (one byte for one) and written back as they were.
    let lone_cr = crate::parse::lone_cr_as_lf(&source.text);
    let cr_only = lone_cr.is_some();
    let mut analysis = source.clone();
    if let Some(text) = lone_cr {
        analysis.text = text;
        analysis.newline = "\n";
    }
    let base = analysis.text.clone();
    // Syntax newer than the grammar is blanked for the analysis (same offsets), and the
    // rewrite carried back to the real text at the end.
    let parsed = crate::parse::parse_repairing(&base).map_err(|e| match e {
        crate::parse::Unparsed::NoParser => FileError::NoParser,
        crate::parse::Unparsed::Syntax { line, column } => FileError::Syntax { line, column },
    })?;
    let tree = parsed.tree;
    let blanked = parsed.blanked;
    analysis.text = parsed.text;
    if let Some(why) = crate::verify::too_deep(tree.root_node()) {
        return Err(FileError::TooDeep(why));
    }
    // tree-sitter accepts indentation CPython rejects: such a file is not valid Python.
    if let Some(line) = crate::verify::first_indentation_fault(&analysis.text, tree.root_node()) {
        return Err(FileError::Syntax { line, column: 1 });
    }
    let (first, facts) = analyze_gathering(
        &analysis.text,
        &tree,
        options,
        &Refusals::new(),
        options.facts_as.as_deref(),
    );
    if first.fixes.is_empty() {
        return Ok(Outcome {
            remaining: first.reported.clone(),
            findings: first.reported,
            fixed: None,
            facts,
        });
    }
    // `check` runs the same rounds as `fix`, so that the label of every finding is what `fix`
    // does with it (one source of truth), gate refusals included.
    let unrefused = first.reported.clone();
    let run = fix_rounds(&analysis, &tree, first, options)?;
    let findings = if run.converged {
        // The first round's labels, unless the gate refused a fix on the way.
        let labelled = if run.refusals.is_empty() {
            unrefused
        } else {
            analyze(&analysis.text, &tree, options, &run.refusals).reported
        };
        agree(labelled, &run.remaining, &run.later_kinds)
    } else {
        run.remaining.clone()
    };
    let mut outcome = Outcome {
        findings,
        remaining: run.remaining,
        fixed: None,
        facts,
    };
    if run.text == analysis.text {
        return Ok(outcome);
    }
    let after = match &blanked {
        None => run.text,
        Some(ranges) => match restore(&base, &analysis.text, ranges, &run.text) {
            Some(text) => text,
            None => {
                // The rewrite would change a line the parser reads only after a repair.
                let why = "the rewrite would change a line the parser reads only after a repair (syntax newer than its grammar, or a continuation line indented less than its statement)";
                for f in outcome
                    .findings
                    .iter_mut()
                    .filter(|f| f.fix != FixKind::Manual)
                {
                    f.fix = FixKind::Manual;
                    f.reason = Some(why.to_string());
                }
                outcome.remaining = outcome.findings.clone();
                return Ok(outcome);
            }
        },
    };
    let after = if cr_only {
        after.replace('\n', "\r")
    } else {
        after
    };
    if mode == Mode::Check {
        return Ok(outcome);
    }
    // Every byte the fix does not change must be written back as it was: an encoding that
    // does not round-trip this file is not rewritten.
    if encode(&source, &source.text) != bytes {
        return Err(FileError::NotRoundTrip(source.encoding.name()));
    }
    let fixed_count = outcome
        .findings
        .len()
        .saturating_sub(outcome.remaining.len());
    outcome.fixed = Some(Fixed {
        bytes: encode(&source, &after),
        after,
        source,
        fixed: fixed_count,
    });
    Ok(outcome)
}

/// What the fix rounds made of a file.
struct FixRun {
    text: String,
    /// The findings left at the end (all manual when the rounds reached a fixed point).
    remaining: Vec<Reported>,
    /// The fixes the gate refused, by the findings they covered.
    refusals: Refusals,
    /// Findings fixed only after the first round, with the kind of fix they got.
    later_kinds: Vec<(LabelKey, FixKind)>,
    /// Whether the rounds reached a fixed point (else nothing is applied).
    converged: bool,
}

/// A finding as `check` and `fix` both see it across rounds: rule, call and function (its
/// position moves as earlier fixes change the text).
type LabelKey = (String, String, String);

/// Refused fixes: the findings they covered (label key and the call's text), with the reason.
type Refusals = HashMap<(LabelKey, String), String>;

fn label_key(r: &Reported) -> LabelKey {
    (r.code.clone(), r.call.clone(), r.function.clone())
}

/// Applies the fixes round after round to a fixed point. Each round's rewrite passes the
/// verification gate before it is kept; a fix the gate refuses is dropped and its findings
/// become manual with the gate's reason, in this round and every later one.
fn fix_rounds(
    source: &Source,
    original: &Tree,
    first: Analysis,
    options: &FileOptions,
) -> Result<FixRun, FileError> {
    let mut run = FixRun {
        text: source.text.clone(),
        remaining: Vec::new(),
        refusals: Refusals::new(),
        later_kinds: Vec::new(),
        converged: true,
    };
    let mut tree = original.clone();
    let first_reported = first.reported.clone();
    let mut current = first;
    for round in 0..MAX_ROUNDS {
        let mut dropped: Vec<usize> = Vec::new();
        let kept = loop {
            crate::budget::check();
            let live: Vec<usize> = (0..current.fixes.len())
                .filter(|i| !dropped.contains(i))
                .collect();
            let fixes: Vec<Fix> = live.iter().map(|&i| current.fixes[i].clone()).collect();
            let (candidate, applied) = apply(&run.text, &fixes);
            let applied: Vec<usize> = applied.into_iter().map(|a| live[a]).collect();
            if applied.is_empty() {
                break None;
            }
            let candidate = with_imports(candidate, &current.fixes, &applied, source.newline);
            match gate(&run.text, &tree, &candidate) {
                Ok(new_tree) => break Some((candidate, new_tree, applied)),
                Err(refusal) => {
                    // The fixes that fail on their own; all of this round's when only their
                    // combination does.
                    let alone: Vec<(usize, Refusal)> = applied
                        .iter()
                        .filter_map(|&i| {
                            let (one, _) =
                                apply(&run.text, std::slice::from_ref(&current.fixes[i]));
                            let one = with_imports(one, &current.fixes, &[i], source.newline);
                            gate(&run.text, &tree, &one).err().map(|r| (i, r))
                        })
                        .collect();
                    let culprits = if alone.is_empty() {
                        applied.iter().map(|&i| (i, refusal.clone())).collect()
                    } else {
                        alone
                    };
                    for (i, why) in culprits {
                        dropped.push(i);
                        for (r, call_text) in current.covered_by(i) {
                            run.refusals.insert(
                                (label_key(r), call_text.to_string()),
                                format!("the rewrite failed verification: {why}"),
                            );
                        }
                    }
                }
            }
        };
        let Some((text, new_tree, applied)) = kept else {
            if !dropped.is_empty() {
                // This round's refusals must show in the findings left.
                current = analyze(&run.text, &tree, options, &run.refusals);
            }
            break;
        };
        if round > 0 {
            for &i in &applied {
                run.later_kinds
                    .extend(current.covered_by(i).map(|(r, _)| (label_key(r), r.fix)));
            }
        }
        run.text = text;
        tree = new_tree;
        current = analyze(&run.text, &tree, options, &run.refusals);
        if round + 1 == MAX_ROUNDS && !current.fixes.is_empty() {
            // No fixed point: a rewrite that keeps rewriting itself is not trusted at all.
            let why = "the fixes did not reach a fixed point, so none is applied";
            run.text = source.text.clone();
            run.remaining = first_reported
                .into_iter()
                .map(|mut r| {
                    r.fix = FixKind::Manual;
                    r.reason = Some(why.to_string());
                    r
                })
                .collect();
            run.converged = false;
            return Ok(run);
        }
    }
    run.remaining = current.reported;
    // `tree` is the parse of `run.text` (the last round's gate made it): no parse again.
    if run.text != source.text {
        let mut removals = remove_unused(&source.text, original, &run.text, &tree);
        if !removals.is_empty() {
            removals.sort_by_key(|e| (e.start, e.end));
            let trimmed = splice(&run.text, &removals.iter().collect::<Vec<_>>());
            if let Ok(trimmed_tree) = gate(&run.text, &tree, &trimmed) {
                run.text = trimmed;
                // The findings left are shown where they are in the text written.
                if !run.remaining.is_empty() {
                    run.remaining =
                        analyze(&run.text, &trimmed_tree, options, &run.refusals).reported;
                }
            }
        }
    }
    Ok(run)
}

/// The text with `import` statements added for the modules the applied fixes need and it
/// does not import yet; unchanged when it does not parse (the gate then refuses it).
fn with_imports(text: String, fixes: &[Fix], applied: &[usize], newline: &str) -> String {
    let needs: BTreeSet<&'static str> = applied
        .iter()
        .flat_map(|&i| fixes[i].needs.iter().copied())
        .collect();
    if needs.is_empty() {
        return text;
    }
    let Some(tree) = parse(&text) else {
        return text;
    };
    // Each fix says which imports it adds (none where the module is imported already, as
    // the fix's own resolver saw): no second look at the text is needed.
    let mut edits = add_imports(&text, &tree, &needs, newline);
    if edits.is_empty() {
        return text;
    }
    edits.sort_by_key(|e| (e.start, e.end));
    splice(&text, &edits.iter().collect::<Vec<_>>())
}

/// `check`'s labels made to say exactly what `fix` did: for each (rule, call, function), as
/// many findings are manual as `fix` left behind, and the others carry the kind of fix they
/// got (the first round's, or a later round's for a finding fixed only then).
fn agree(
    mut labels: Vec<Reported>,
    remaining: &[Reported],
    later: &[(LabelKey, FixKind)],
) -> Vec<Reported> {
    let mut left: HashMap<LabelKey, Vec<&Reported>> = HashMap::new();
    for r in remaining {
        left.entry(label_key(r)).or_default().push(r);
    }
    let mut is_left = vec![false; labels.len()];
    // Manual labels first: they stay manual while `fix` left as many.
    for pass_manual in [true, false] {
        for (i, label) in labels.iter_mut().enumerate() {
            if (label.fix == FixKind::Manual) != pass_manual {
                continue;
            }
            if let Some(stack) = left.get_mut(&label_key(label))
                && let Some(r) = stack.pop()
            {
                is_left[i] = true;
                if label.fix != FixKind::Manual {
                    label.fix = FixKind::Manual;
                    label.reason = r.reason.clone().or_else(|| {
                        Some("its fix could not be applied with the others".to_string())
                    });
                }
            }
        }
    }
    for (i, label) in labels.iter_mut().enumerate() {
        if !is_left[i] && label.fix == FixKind::Manual {
            let key = label_key(label);
            label.fix = later
                .iter()
                .find(|(k, _)| *k == key)
                .map_or(FixKind::Helper, |(_, kind)| *kind);
            label.reason = None;
        }
    }
    labels
}

struct Analysis {
    reported: Vec<Reported>,
    /// The text of each finding's node, for refusals.
    node_texts: Vec<String>,
    fixes: Vec<Fix>,
    /// For each finding, the index of its fix.
    fix_of: Vec<Option<usize>>,
}

impl Analysis {
    /// The findings fix `index` covers, each with the text of its call.
    fn covered_by(&self, index: usize) -> impl Iterator<Item = (&Reported, &str)> {
        self.reported
            .iter()
            .zip(&self.node_texts)
            .zip(&self.fix_of)
            .filter(move |(_, f)| **f == Some(index))
            .map(|((r, t), _)| (r, t.as_str()))
    }
}

fn analyze(text: &str, tree: &Tree, options: &FileOptions, refusals: &Refusals) -> Analysis {
    analyze_gathering(text, tree, options, refusals, None).0
}

/// [`analyze`], and the file's facts for the project index when `facts_as` names the file
/// (from the same resolver, so names and scopes are worked out once).
fn analyze_gathering(
    text: &str,
    tree: &Tree,
    options: &FileOptions,
    refusals: &Refusals,
    facts_as: Option<&str>,
) -> (Analysis, Option<FileFacts>) {
    let root = tree.root_node();
    let catalog = options.catalog.as_ref();
    let resolver = Resolver::new(text, root, catalog);
    if let Some(module) = &options.module {
        resolver.set_module(module.clone());
    }
    let project = project_calls(&resolver, options);
    if let Some(p) = &project {
        // A value made by a project function that returns a file is a file.
        let scope = Scope::new(p.scope.module, root, text);
        let index = p.index;
        resolver.set_project_returns(Box::new(move |r, call| {
            let function = crate::resolve::enclosing_function(call)?;
            let key = scope.key_of(r, call.child_by_field_name("function")?, function)?;
            index.returns(&key)
        }));
    }
    let facts = facts_as.and_then(|file| {
        let scope = Scope::new(options.module.as_ref()?, root, text);
        Some(crate::index::summary::summarize(
            &resolver,
            catalog,
            &scope,
            file.to_string(),
        ))
    });
    let suppressions = Suppressions::collect(root, text);
    let findings: Vec<_> = find(&resolver, catalog, root, project.as_ref())
        .into_iter()
        .filter(|f| options.enabled.get(f.rule).copied().unwrap_or(false))
        .filter(|f| !suppressions.is_suppressed(root, f.node, f.rule, catalog))
        .collect();
    let target = options.target.or(options.project.oldest_python);
    let spelling = Spelling::for_module(
        &resolver,
        options.runtime,
        options.offload.as_deref(),
        target,
    );
    let allowed = Allowed {
        strategy: options.strategy,
        unsafe_fixes: options.unsafe_fixes,
        libraries: crate::fix::NATIVE_LIBRARIES
            .iter()
            .copied()
            .filter(|lib| {
                options.native.iter().any(|n| n == lib)
                    || options.project.declares(lib)
                    || resolver.uses_module(lib)
            })
            .collect(),
    };
    // Which findings `--unsafe-fixes` would make native: planned that way too (only when an
    // unsafe fix could apply), and said on the finding.
    let unsafe_plan = crate::fix::native::unsafe_would_apply(
        &spelling,
        &allowed,
        catalog,
        findings.iter().map(|f| f.call.as_str()),
    )
    .then(|| {
        let unsafe_allowed = Allowed {
            unsafe_fixes: true,
            ..allowed.clone()
        };
        plan(
            findings.clone(),
            &resolver,
            catalog,
            &spelling,
            &unsafe_allowed,
        )
    });
    let mut planned = plan(findings, &resolver, catalog, &spelling, &allowed);
    if let Some(unsafe_plan) = unsafe_plan {
        for (p, u) in planned.iter_mut().zip(&unsafe_plan) {
            p.unsafe_native = u.kind() == FixKind::Native && p.kind() != FixKind::Native;
        }
    }
    let mut fixes: Vec<Fix> = Vec::new();
    let mut index_of: HashMap<&Fix, usize> = HashMap::new();
    let mut fix_of = Vec::new();
    let mut reported = Vec::new();
    let mut node_texts = Vec::new();
    // A fix refused for any finding it covers is refused whole.
    let refused_fixes: Vec<(&Fix, &String)> = planned
        .iter()
        .filter_map(|p| {
            let r = report(p, catalog, text);
            let why = refusals.get(&(
                label_key(&r),
                crate::parse::syntax::text(p.finding.node, text).to_string(),
            ))?;
            Some((p.fix()?, why))
        })
        .collect();
    let lines = LineIndex::new(text);
    for p in &planned {
        let mut r = report(p, catalog, text);
        r.edits = p.fix().map(|f| lines.shown(f)).unwrap_or_default();
        let refused = p
            .fix()
            .and_then(|f| refused_fixes.iter().find(|(rf, _)| *rf == f))
            .map(|(_, why)| (*why).clone());
        let index = match (p.fix(), refused) {
            (_, Some(why)) => {
                r.fix = FixKind::Manual;
                r.reason = Some(why);
                r.note = None;
                r.edits.clear();
                r.applicability = None;
                r.requires.clear();
                None
            }
            (Some(fix), None) => Some(*index_of.entry(fix).or_insert_with(|| {
                fixes.push(fix.clone());
                fixes.len() - 1
            })),
            (None, None) => None,
        };
        fix_of.push(index);
        node_texts.push(crate::parse::syntax::text(p.finding.node, text).to_string());
        reported.push(r);
    }
    (
        Analysis {
            reported,
            node_texts,
            fixes,
            fix_of,
        },
        facts,
    )
}

/// The project index as the finder sees it from this file, when the run built one, the file
/// has a module name and UNB180 is selected for it.
fn project_calls<'a>(
    resolver: &Resolver<'a>,
    options: &'a FileOptions,
) -> Option<crate::find::ProjectCalls<'a>> {
    let catalog = options.catalog.as_ref();
    let rule = catalog
        .rules
        .iter()
        .position(|r| r.code == crate::catalog::SYNC_CALL_RULE_CODE)?;
    if !options.enabled.get(rule).copied().unwrap_or(false) {
        return None;
    }
    let index = options.index.as_deref().filter(|i| !i.is_empty())?;
    let module = options.module.as_ref()?;
    Some(crate::find::ProjectCalls {
        scope: Scope::new(module, resolver.root(), resolver.src()),
        index,
        rule,
    })
}

/// The facts of a parsed text for the project index (`None` without a module name).
fn facts_of(text: &str, tree: &Tree, options: &FileOptions, file: String) -> Option<FileFacts> {
    let module = options.module.as_ref()?;
    let catalog = options.catalog.as_ref();
    let resolver = Resolver::new(text, tree.root_node(), catalog);
    resolver.set_module(module.clone());
    let scope = Scope::new(module, tree.root_node(), text);
    Some(crate::index::summary::summarize(
        &resolver, catalog, &scope, file,
    ))
}

/// What a file tells the project index (its sync functions, what its coroutines call), or
/// `None` when it has no module name or cannot be read as Python. Parse only: nothing else
/// of the pipeline runs.
pub fn summarize(bytes: &[u8], options: &FileOptions, file: String) -> Option<FileFacts> {
    options.module.as_ref()?;
    if bytes.len() > MAX_BYTES {
        return None;
    }
    let deadline = std::time::Instant::now().checked_add(options.budget);
    crate::budget::run(deadline, || {
        let source = decode(bytes).ok()?;
        let text = crate::parse::lone_cr_as_lf(&source.text).unwrap_or(source.text);
        let parsed = crate::parse::parse_repairing(&text).ok()?;
        let (analysed, tree) = (parsed.text, parsed.tree);
        if crate::verify::too_deep(tree.root_node()).is_some() {
            return None;
        }
        facts_of(&analysed, &tree, options, file)
    })
    .ok()
    .flatten()
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
        message: match &p.finding.detail {
            None => format!(
                "`{}` blocks the event loop in async function `{}`",
                p.finding.call, p.finding.function
            ),
            Some(chain) => format!(
                "`{}` blocks the event loop in async function `{}`: {chain}",
                p.finding.call, p.finding.function
            ),
        },
        fix: p.kind(),
        reason: p.reason().map(str::to_string),
        note: p.note.clone(),
        requires: p
            .fix()
            .into_iter()
            .flat_map(|f| f.needs.iter())
            .filter(|m| crate::fix::NATIVE_LIBRARIES.contains(m))
            .map(|m| m.to_string())
            .collect(),
        unsafe_fix: p.unsafe_native.then_some(FixKind::Native),
        applicability: p.fix().map(|f| f.applicability),
        edits: Vec::new(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> FileOptions {
        let catalog = Catalog::builtin().expect("catalog");
        crate::config::Config::new(
            std::path::PathBuf::from("."),
            None,
            crate::config::Options::default(),
            &catalog,
        )
        .expect("config")
        .file_options(std::path::Path::new("a.py"))
    }

    const BLOCKING: &[u8] = b"import time\n\n\nasync def f():\n    time.sleep(1)\n";

    #[test]
    fn a_file_over_its_time_budget_is_skipped_not_half_fixed() {
        let mut options = options();
        options.budget = std::time::Duration::ZERO;
        assert!(matches!(
            process(BLOCKING, &options, Mode::Fix),
            Err(FileError::TooSlow(0))
        ));
        options.budget = TIME_BUDGET;
        assert!(process(BLOCKING, &options, Mode::Fix).is_ok_and(|o| o.fixed.is_some()));
    }

    #[test]
    fn a_file_over_the_size_limit_is_skipped() {
        let mut big = BLOCKING.to_vec();
        big.resize(MAX_BYTES + 1, b'\n');
        assert!(matches!(
            process(&big, &options(), Mode::Check),
            Err(FileError::TooLarge(_))
        ));
    }
}
