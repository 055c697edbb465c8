//! The planner's shared types: the kind of fix, the runtime and strategy, a finding with
//! its planned fix, and what the fixes of a file may use.

use serde::Serialize;
use tree_sitter::Node;

use crate::find::Finding;
use crate::fix::edits::Fix;

/// The kind of fix a finding gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum FixKind {
    Native,
    Thread,
    Helper,
    Manual,
}

impl FixKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FixKind::Native => "native",
            FixKind::Thread => "thread",
            FixKind::Helper => "helper",
            FixKind::Manual => "manual",
        }
    }
}

/// The async library a file runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Runtime {
    Asyncio,
    Anyio,
    Trio,
}

/// How to offload work: the default (`auto`) or only with the standard library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    #[default]
    Auto,
    Thread,
}

/// A finding with its planned fix.
#[derive(Debug, Clone)]
pub struct Planned<'t> {
    pub finding: Finding<'t>,
    pub kind: FixKind,
    pub reason: Option<String>,
    pub fix: Option<Fix>,
    /// Something the reviewer should know about the fix (an offload call not in scope).
    pub note: Option<String>,
    /// The finding would get a native fix with `--unsafe-fixes` (the httpx swap).
    pub unsafe_native: bool,
}

impl Planned<'_> {
    /// Takes `fix` as a fix of this `kind`; a manual reason it had no longer applies.
    pub fn take_fix(&mut self, kind: FixKind, fix: Fix) {
        self.kind = kind;
        self.reason = None;
        self.fix = Some(fix);
    }
}

/// Gives `fix` to every finding `covers` accepts: the findings one rewrite handles together.
pub fn give_where<'t>(
    planned: &mut [Planned<'t>],
    covers: impl Fn(&Planned<'t>) -> bool,
    kind: FixKind,
    fix: &Fix,
) {
    for p in planned.iter_mut().filter(|p| covers(p)) {
        p.take_fix(kind, fix.clone());
    }
}

/// Gives `fix` to the findings at exactly these nodes.
pub fn give_to_nodes<'t>(
    planned: &mut [Planned<'t>],
    nodes: &[Node<'t>],
    kind: FixKind,
    fix: &Fix,
) {
    give_where(
        planned,
        |p| nodes.iter().any(|n| n.id() == p.finding.node.id()),
        kind,
        fix,
    );
}

/// What the fixes of one file may use.
#[derive(Debug, Clone)]
pub struct Allowed {
    pub strategy: Strategy,
    /// Unsafe fixes too (the httpx swap).
    pub unsafe_fixes: bool,
    /// The third-party libraries of [`NATIVE_LIBRARIES`] the project declares, the file
    /// imports, or the configuration allows (`native`).
    pub libraries: Vec<&'static str>,
}

impl Allowed {
    pub fn library(&self, name: &str) -> bool {
        self.libraries.contains(&name)
    }
}
