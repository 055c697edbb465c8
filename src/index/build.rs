//! Builds a run's project index. The main pass gives the facts of every file it parses (the
//! files that say `async`); then, wave by wave, the first-party modules those facts call into
//! (walked, or found under the package roots and the project root) are parsed and summarised,
//! each once, in parallel. A file that cannot be read or parsed adds nothing: its own error is
//! reported by the main pass.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::config::Configs;
use crate::engine::summarize;
use crate::index::ProjectIndex;
use crate::index::modules::{ModuleName, Modules, file_of};
use crate::index::summary::FileFacts;
use crate::read::read_regular;

/// The facts gathered so far, and where to look for more.
pub struct Builder {
    /// Module name → walked file.
    known: HashMap<String, PathBuf>,
    /// Folders that hold top-level packages.
    roots: BTreeSet<PathBuf>,
    /// (absolute path, module name) already summarised.
    done: HashSet<(PathBuf, String)>,
    facts: Vec<FileFacts>,
}

impl Builder {
    /// A builder that knows the walked files' module names.
    pub fn new(files: &[PathBuf], modules: &Modules) -> Builder {
        let named: Vec<(PathBuf, Option<(ModuleName, PathBuf)>)> = files
            .par_iter()
            .map(|p| (p.clone(), modules.module_of(p)))
            .collect();
        let mut builder = Builder {
            known: HashMap::new(),
            roots: BTreeSet::new(),
            done: HashSet::new(),
            facts: Vec::new(),
        };
        for (path, module) in named {
            if let Some((name, root)) = module {
                builder.known.entry(name.name).or_insert(path);
                builder.roots.insert(root);
            }
        }
        builder
    }

    /// The facts of one file the main pass parsed, with its project's root (whose `src/`
    /// and itself are searched for modules not walked).
    pub fn add(
        &mut self,
        path: &Path,
        module: &ModuleName,
        facts: FileFacts,
        project_root: Option<&Path>,
    ) {
        if let Some(root) = project_root
            && !self.roots.contains(root)
        {
            self.roots.insert(root.join("src"));
            self.roots.insert(root.to_path_buf());
        }
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        self.done.insert((absolute, module.name.clone()));
        self.facts.push(facts);
    }

    /// Summarises, wave by wave, the modules the calls reachable from coroutines lead into,
    /// and solves the index.
    pub fn finish(mut self, configs: &Configs) -> ProjectIndex {
        let mut demand = Demand::default();
        for f in &self.facts {
            demand.learn(f);
        }
        let mut pending: Vec<String> = self
            .facts
            .iter()
            .flat_map(|f| f.called_from_async.iter().cloned())
            .collect();
        let mut tried: HashSet<String> = HashSet::new();
        loop {
            let unresolved = demand.follow(&mut pending);
            let wanted: Vec<String> =
                ProjectIndex::candidate_modules(unresolved.iter().map(String::as_str))
                    .into_iter()
                    .filter(|m| tried.insert(m.clone()))
                    .collect();
            // Each module by the name it is called by: a file below a folder without
            // `__init__.py` (a namespace package) is found by its full name from the roots.
            let mut found: Vec<(PathBuf, String)> = wanted
                .iter()
                .filter_map(|m| {
                    let path = self
                        .known
                        .get(m)
                        .cloned()
                        .or_else(|| self.roots.iter().find_map(|r| file_of(r, m)))?;
                    Some((std::path::absolute(&path).unwrap_or(path), m.clone()))
                })
                .filter(|key| !self.done.contains(key))
                .collect();
            found.sort();
            found.dedup();
            if found.is_empty() {
                break;
            }
            self.done.extend(found.iter().cloned());
            let more: Vec<FileFacts> = found
                .par_iter()
                .filter_map(|(path, name)| {
                    let bytes = read_regular(path).ok()?;
                    let mut options = configs.file_options(path).ok()?;
                    options.module = Some(ModuleName {
                        name: name.clone(),
                        package: path.ends_with("__init__.py"),
                    });
                    summarize(&bytes, &options, display(path))
                })
                .collect();
            for f in &more {
                demand.learn(f);
            }
            self.facts.extend(more);
            // What could not be followed before may be now.
            demand.retry(&mut pending);
        }
        ProjectIndex::build(self.facts)
    }
}

/// Which keys the coroutines reach, function by function: only the project calls of a
/// function that is itself reached are followed, so a module nobody's coroutine leads into
/// is never parsed for the index.
#[derive(Default)]
struct Demand {
    /// Function key → the project keys its body calls.
    calls: HashMap<String, Vec<String>>,
    /// Re-exports (`app.load` → `app.config.load`).
    aliases: HashMap<String, String>,
    /// Class key → its bases' keys.
    bases: HashMap<String, Vec<String>>,
    /// Keys already followed.
    seen: HashSet<String>,
    /// Keys no summarised module defines yet.
    unresolved: HashSet<String>,
}

impl Demand {
    fn learn(&mut self, facts: &FileFacts) {
        for f in &facts.functions {
            let called = f
                .sites
                .iter()
                .filter_map(|s| match s {
                    crate::index::summary::Site::Project { key, .. } => Some(key.clone()),
                    crate::index::summary::Site::Blocking { .. } => None,
                })
                .collect();
            self.calls.insert(f.key.clone(), called);
        }
        for (alias, target) in &facts.aliases {
            self.aliases.insert(alias.clone(), target.clone());
        }
        for c in &facts.classes {
            self.bases.insert(c.key.clone(), c.bases.clone());
        }
    }

    /// Follows the pending keys as far as the summaries go; returns the keys still unresolved
    /// (whose modules are wanted).
    fn follow(&mut self, pending: &mut Vec<String>) -> Vec<String> {
        let mut fresh = Vec::new();
        while let Some(key) = pending.pop() {
            if !self.seen.insert(key.clone()) {
                continue;
            }
            let mut next: Vec<String> = Vec::new();
            if let Some(called) = self.calls.get(&key) {
                next.extend(called.iter().cloned());
            } else if let Some(bases) = self.bases.get(&key) {
                next.push(format!("{key}.__init__"));
                next.extend(bases.iter().map(|b| format!("{b}.__init__")));
            } else {
                // A re-export of the key or of its owner, or a method a base class defines.
                let mut resolved = false;
                if let Some(target) = self.aliases.get(&key) {
                    next.push(target.clone());
                    resolved = true;
                }
                if let Some((owner, name)) = key.rsplit_once('.') {
                    if let Some(target) = self.aliases.get(owner) {
                        next.push(format!("{target}.{name}"));
                        resolved = true;
                    }
                    if let Some(bases) = self.bases.get(owner) {
                        next.extend(bases.iter().map(|b| format!("{b}.{name}")));
                        resolved = true;
                    }
                }
                if !resolved && self.unresolved.insert(key.clone()) {
                    fresh.push(key.clone());
                }
            }
            pending.extend(next);
        }
        fresh
    }

    /// Puts the unresolved keys back to be followed again (after more modules are known).
    fn retry(&mut self, pending: &mut Vec<String>) {
        for key in self.unresolved.drain() {
            self.seen.remove(&key);
            pending.push(key);
        }
    }
}

/// The index for one text read from standard input (named by `--stdin-filename`).
pub fn for_stdin(
    name: &Path,
    bytes: &[u8],
    configs: &Configs,
    modules: &Modules,
) -> Option<ProjectIndex> {
    let mut options = configs.file_options(name).ok()?;
    if !sync_calls_selected(&options) {
        return None;
    }
    let (module, root) = modules.module_of(name)?;
    options.module = Some(module.clone());
    let facts = summarize(bytes, &options, display(name))?;
    let mut builder = Builder::new(&[], modules);
    builder.roots.insert(root);
    builder.add(name, &module, facts, options.project.root.as_deref());
    Some(builder.finish(configs))
}

/// Whether UNB180 is selected in these options.
pub fn sync_calls_selected(options: &crate::engine::FileOptions) -> bool {
    options
        .catalog
        .rules
        .iter()
        .position(|r| r.code == crate::catalog::SYNC_CALL_RULE_CODE)
        .is_some_and(|rule| options.enabled.get(rule).copied().unwrap_or(false))
}

/// How a file is named in a chain's location.
pub fn display(path: &Path) -> String {
    crate::report::display_path(path)
}
