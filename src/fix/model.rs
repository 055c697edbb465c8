//! The planner's shared types: the kind of fix, the runtime and strategy, a finding with
//! its planned fix, and what the fixes of a file may use.

pub use crate::runtime::Runtime;
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

/// How to offload work: the default (`auto`) or only with the standard library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    #[default]
    Auto,
    Thread,
}

/// What a finding gets: a fix of some kind (its applicability is the fix's), or `manual` with
/// the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    Fixed { kind: FixKind, fix: Fix },
    Manual { reason: String },
}

/// A finding with its planned fix.
#[derive(Debug, Clone)]
pub struct Planned<'t> {
    pub finding: Finding<'t>,
    pub resolution: Resolution,
    /// Something the reviewer should know about the fix (an offload call not in scope).
    pub note: Option<String>,
    /// The finding would get a native fix with `--unsafe-fixes` (the httpx swap).
    pub unsafe_native: bool,
}

impl Planned<'_> {
    pub fn kind(&self) -> FixKind {
        match &self.resolution {
            Resolution::Fixed { kind, .. } => *kind,
            Resolution::Manual { .. } => FixKind::Manual,
        }
    }

    pub fn fix(&self) -> Option<&Fix> {
        match &self.resolution {
            Resolution::Fixed { fix, .. } => Some(fix),
            Resolution::Manual { .. } => None,
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match &self.resolution {
            Resolution::Fixed { .. } => None,
            Resolution::Manual { reason } => Some(reason),
        }
    }

    /// Takes `fix` as a fix of this `kind`; a manual reason it had no longer applies.
    pub fn take_fix(&mut self, kind: FixKind, fix: Fix) {
        self.resolution = Resolution::Fixed { kind, fix };
    }

    /// No fix, for this reason.
    pub fn make_manual(&mut self, reason: String) {
        self.resolution = Resolution::Manual { reason };
    }

    /// Adds to the reason of a `manual` finding (once per `marker`).
    pub fn add_to_reason(&mut self, marker: &str, more: &str) {
        if let Resolution::Manual { reason } = &mut self.resolution
            && !reason.contains(marker)
            && !reason.contains(more)
        {
            reason.push_str(marker);
            reason.push_str(more);
        }
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
    /// The third-party libraries of [`NATIVE_LIBRARIES`](crate::fix::native::NATIVE_LIBRARIES) the project declares, the file
    /// imports, or the configuration allows (`native`).
    pub libraries: Vec<&'static str>,
}

impl Allowed {
    pub fn library(&self, name: &str) -> bool {
        self.libraries.contains(&name)
    }
}
