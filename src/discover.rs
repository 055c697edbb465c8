//! Discovering the files to process: explicit files always (unless `--force-exclude`); folders
//! walked in parallel, honouring `.gitignore`/`.ignore` (also outside a git repository),
//! skipping the configured excludes (by default the usual virtualenv, cache, build and VCS
//! folders: [`DEFAULT_EXCLUDE`](crate::config::DEFAULT_EXCLUDE)). Links found while
//! walking are not followed, so link loops cannot trap the walk.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ignore::{WalkBuilder, WalkState};

use crate::config::Configs;

const EXTENSIONS: &[&str] = &["py", "pyi", "pyw"];

#[derive(Debug, Default)]
pub struct Discovered {
    pub files: Vec<PathBuf>,
    /// Paths that could not be walked, with the reason.
    pub errors: Vec<(PathBuf, String)>,
}

pub struct Walk {
    pub configs: Arc<Configs>,
    pub respect_ignore_files: bool,
    pub threads: usize,
}

impl Walk {
    pub fn discover(&self, paths: &[PathBuf]) -> Discovered {
        let mut out = Discovered::default();
        let mut dirs = Vec::new();
        for path in paths {
            match std::fs::metadata(path) {
                Ok(_) if self.is_force_excluded(path) => {}
                Ok(meta) if meta.is_dir() => dirs.push(path.clone()),
                Ok(_) => out.files.push(path.clone()),
                Err(e) => out.errors.push((path.clone(), e.to_string())),
            }
        }
        if let Some((first, rest)) = dirs.split_first() {
            let files = Mutex::new(Vec::new());
            let errors = Mutex::new(Vec::new());
            let mut builder = WalkBuilder::new(first);
            for dir in rest {
                builder.add(dir);
            }
            let respect = self.respect_ignore_files;
            let configs = self.configs.clone();
            builder
                .hidden(false)
                .parents(respect)
                .ignore(respect)
                .git_ignore(respect)
                .git_global(respect)
                .git_exclude(respect)
                .require_git(false)
                .follow_links(false)
                .threads(self.threads)
                .filter_entry(move |entry| {
                    if entry.depth() == 0 {
                        return true;
                    }
                    let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
                    let config = if is_dir {
                        configs.for_folder(entry.path())
                    } else {
                        configs.for_file(entry.path())
                    };
                    config.map_or(true, |c| !c.excludes(entry.path()))
                });
            builder.build_parallel().run(|| {
                let files = &files;
                let errors = &errors;
                Box::new(move |result| {
                    match result {
                        Ok(entry) => {
                            let is_file = entry.file_type().is_some_and(|t| t.is_file());
                            if is_file && has_python_extension(entry.path()) {
                                lock(files).push(entry.into_path());
                            }
                        }
                        Err(e) => {
                            let path = error_path(&e).unwrap_or_default();
                            lock(errors).push((path, e.to_string()));
                        }
                    }
                    WalkState::Continue
                })
            });
            out.files.extend(
                files
                    .into_inner()
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            );
            out.errors.extend(
                errors
                    .into_inner()
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            );
        }
        out.files.sort();
        out.files.dedup();
        // One file reached by two names (a link named beside its target, a file named beside
        // its folder) is processed once: a second fix would find it changed by the first.
        if paths.len() > 1 {
            let mut seen = std::collections::HashSet::new();
            out.files
                .retain(|p| seen.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())));
        }
        out.errors.sort();
        out
    }

    /// Whether a path named on the command line is skipped: `--force-exclude` (or
    /// `force-exclude = true` in its configuration) and it matches the excludes.
    pub fn is_force_excluded(&self, path: &Path) -> bool {
        self.configs
            .for_path(path)
            .is_ok_and(|c| c.force_exclude() && c.excludes_named(path))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn has_python_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.contains(&e))
}

fn error_path(error: &ignore::Error) -> Option<PathBuf> {
    match error {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        _ => None,
    }
}
