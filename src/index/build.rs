//! Builds a run's project index: every walked file that says `async` is summarised, then,
//! wave by wave, the first-party modules the summaries call into (walked or found under the
//! package roots and the project root), each once, in parallel. A file that cannot be read or
//! parsed adds nothing: its own error is reported by the main pass.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::config::Configs;
use crate::engine::{FileOptions, summarize};
use crate::index::ProjectIndex;
use crate::index::modules::{Modules, file_of};
use crate::index::summary::FileFacts;
use crate::read::{may_contain_async, read_regular};

/// The index of a run, or `None` when no file has UNB180 selected.
pub fn build(
    files: &[PathBuf],
    stdin: Option<(&Path, &[u8])>,
    configs: &Configs,
    modules: &Modules,
) -> Option<ProjectIndex> {
    let named: Vec<(
        PathBuf,
        Option<(crate::index::modules::ModuleName, PathBuf)>,
    )> = files
        .par_iter()
        .map(|p| (p.clone(), modules.module_of(p)))
        .collect();
    let mut known: HashMap<String, PathBuf> = HashMap::new();
    let mut roots: BTreeSet<PathBuf> = BTreeSet::new();
    for (path, module) in &named {
        if let Some((name, root)) = module {
            known
                .entry(name.name.clone())
                .or_insert_with(|| path.clone());
            roots.insert(root.clone());
        }
    }
    let options_for = |path: &Path| -> Option<FileOptions> {
        let mut options = configs.file_options(path).ok()?;
        options.module = Some(modules.module_of(path)?.0);
        Some(options)
    };
    let selected = |options: &FileOptions| {
        options
            .catalog
            .rules
            .iter()
            .position(|r| r.code == crate::catalog::SYNC_CALL_RULE_CODE)
            .is_some_and(|rule| options.enabled.get(rule).copied().unwrap_or(false))
    };
    let mut done: HashSet<PathBuf> = HashSet::new();
    let seeds: Vec<Seed> = match stdin {
        Some((name, bytes)) => {
            if let Some((_, root)) = modules.module_of(name) {
                roots.insert(root);
            }
            options_for(name)
                .map(|options| Seed {
                    path: name.to_path_buf(),
                    selected: selected(&options),
                    project: options.project.root.clone(),
                    facts: summarize(bytes, &options, display(name)),
                })
                .into_iter()
                .collect()
        }
        None => files
            .par_iter()
            .filter_map(|path| {
                let bytes = read_regular(path).ok()?;
                if !may_contain_async(&bytes) {
                    return None;
                }
                let options = options_for(path)?;
                Some(Seed {
                    path: path.clone(),
                    selected: selected(&options),
                    project: options.project.root.clone(),
                    facts: summarize(&bytes, &options, display(path)),
                })
            })
            .collect(),
    };
    if !seeds.iter().any(|s| s.selected) {
        return None;
    }
    let mut facts: Vec<FileFacts> = Vec::new();
    for seed in seeds {
        // The project roots too (a `src/` layout, or one file checked on its own).
        if let Some(root) = seed.project {
            roots.insert(root.join("src"));
            roots.insert(root);
        }
        done.insert(seed.path);
        facts.extend(seed.facts);
    }
    let mut tried: HashSet<String> = HashSet::new();
    let mut from = 0;
    loop {
        let wanted: Vec<String> =
            ProjectIndex::candidate_modules(facts[from..].iter().flat_map(FileFacts::called))
                .into_iter()
                .filter(|m| tried.insert(m.clone()))
                .collect();
        let mut paths: Vec<PathBuf> = wanted
            .iter()
            .filter_map(|m| {
                known
                    .get(m)
                    .cloned()
                    .or_else(|| roots.iter().find_map(|r| file_of(r, m)))
            })
            .filter(|p| !done.contains(p))
            .collect();
        paths.sort();
        paths.dedup();
        if paths.is_empty() {
            break;
        }
        from = facts.len();
        done.extend(paths.iter().cloned());
        let more: Vec<FileFacts> = paths
            .par_iter()
            .filter_map(|path| {
                let bytes = read_regular(path).ok()?;
                summarize(&bytes, &options_for(path)?, display(path))
            })
            .collect();
        facts.extend(more);
    }
    Some(ProjectIndex::build(facts))
}

/// A file that says `async`, summarised.
struct Seed {
    path: PathBuf,
    /// Whether UNB180 is selected for it.
    selected: bool,
    project: Option<PathBuf>,
    facts: Option<FileFacts>,
}

fn display(path: &Path) -> String {
    crate::report::display_path(path)
}
