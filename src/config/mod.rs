//! Configuration: `[tool.unblock]` in the nearest `pyproject.toml` (searched upward from each
//! file, cached per directory), `--config FILE`, `--isolated`, and the command-line options that
//! override the file. Produces the [`FileOptions`] of each file.

pub mod project;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use thiserror::Error;

use crate::catalog::Catalog;
use crate::config::project::Project;
use crate::engine::FileOptions;
use crate::find::selector::{any_matches, parse_all};
use crate::fix::{Runtime, Strategy};

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: invalid configuration: {message}")]
    Invalid { path: String, message: String },
    /// A TOML or key error at a known place in the file.
    #[error("{path}:{line}:{column}: invalid configuration: {message}")]
    InvalidAt {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
}

/// Folders and files skipped while walking unless `exclude` says otherwise (the default value
/// of `exclude`; `extend-exclude` adds to it).
pub const DEFAULT_EXCLUDE: &[&str] = &[
    ".bzr",
    ".direnv",
    ".eggs",
    ".git",
    ".git-rewrite",
    ".hg",
    ".ipynb_checkpoints",
    ".mypy_cache",
    ".nox",
    ".pants.d",
    ".pyenv",
    ".pytest_cache",
    ".pytype",
    ".ruff_cache",
    ".svn",
    ".tox",
    ".venv",
    ".vscode",
    "__pycache__",
    "__pypackages__",
    "_build",
    "buck-out",
    "build",
    "dist",
    "node_modules",
    "site-packages",
    "venv",
];

/// `runtime = "auto" | "asyncio" | "anyio" | "trio"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuntimeChoice {
    #[default]
    Auto,
    Asyncio,
    Anyio,
    Trio,
}

impl RuntimeChoice {
    pub fn runtime(self) -> Option<Runtime> {
        match self {
            RuntimeChoice::Auto => None,
            RuntimeChoice::Asyncio => Some(Runtime::Asyncio),
            RuntimeChoice::Anyio => Some(Runtime::Anyio),
            RuntimeChoice::Trio => Some(Runtime::Trio),
        }
    }
}

/// The options a configuration file (or the command line) may set.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Options {
    pub select: Option<Vec<String>>,
    /// Rules enabled on top of `select` (a `select` set on the command line drops the file's).
    pub extend_select: Option<Vec<String>>,
    pub ignore: Option<Vec<String>>,
    /// Rules disabled on top of `ignore` (the file's and the command line's add up).
    pub extend_ignore: Option<Vec<String>>,
    pub strategy: Option<Strategy>,
    pub runtime: Option<RuntimeChoice>,
    pub exclude: Option<Vec<String>>,
    pub extend_exclude: Option<Vec<String>>,
    /// Apply `exclude`/`extend-exclude` to paths named on the command line and to
    /// `--stdin-filename` too (for pre-commit, which names every file).
    pub force_exclude: Option<bool>,
    pub per_file_ignores: Option<BTreeMap<String, Vec<String>>>,
    pub extra_blocking_calls: Option<Vec<String>>,
    pub offload: Option<String>,
    pub unsafe_fixes: Option<bool>,
    /// Third-party libraries the native fixes may use even when the project does not declare
    /// them (`["aiofiles"]`).
    pub native: Option<Vec<String>>,
    /// The oldest Python the fixed code must run on (`py38`); default: `requires-python`.
    pub target_version: Option<String>,
    /// The versions of unblock the project accepts: a PEP 440 specifier (`>=0.1,<0.3`) or a
    /// version (`0.1.0`, meaning exactly that one).
    pub required_version: Option<String>,
}

impl Options {
    /// `self` over `base`: every option set here wins.
    pub fn over(&self, base: &Options) -> Options {
        Options {
            select: self.select.clone().or_else(|| base.select.clone()),
            // As in ruff: a `select` given here starts the selection afresh, dropping the
            // base's `extend-select`; otherwise the two lists add up.
            extend_select: if self.select.is_some() {
                self.extend_select.clone()
            } else {
                concat(&base.extend_select, &self.extend_select)
            },
            ignore: self.ignore.clone().or_else(|| base.ignore.clone()),
            extend_ignore: concat(&base.extend_ignore, &self.extend_ignore),
            strategy: self.strategy.or(base.strategy),
            runtime: self.runtime.or(base.runtime),
            exclude: self.exclude.clone().or_else(|| base.exclude.clone()),
            extend_exclude: concat(&base.extend_exclude, &self.extend_exclude),
            force_exclude: self.force_exclude.or(base.force_exclude),
            per_file_ignores: self
                .per_file_ignores
                .clone()
                .or_else(|| base.per_file_ignores.clone()),
            extra_blocking_calls: self
                .extra_blocking_calls
                .clone()
                .or_else(|| base.extra_blocking_calls.clone()),
            offload: self.offload.clone().or_else(|| base.offload.clone()),
            unsafe_fixes: self.unsafe_fixes.or(base.unsafe_fixes),
            native: self.native.clone().or_else(|| base.native.clone()),
            target_version: self
                .target_version
                .clone()
                .or_else(|| base.target_version.clone()),
            required_version: self
                .required_version
                .clone()
                .or_else(|| base.required_version.clone()),
        }
    }
}

/// Checks `required-version` against the running version; `Err` says why it does not match.
pub fn check_required_version(required: &str, running: &str) -> Result<(), String> {
    use pep508_rs::pep440_rs::{Version, VersionSpecifiers};
    use std::str::FromStr;
    let running = Version::from_str(running).map_err(|e| e.to_string())?;
    let trimmed = required.trim();
    // The parsers' messages go on with a picture of the text: their first line says it.
    let bad = |e: String| {
        format!(
            "`required-version = \"{required}\"` is not a version or specifier: {}",
            e.lines().next().unwrap_or_default().trim()
        )
    };
    let matches = if trimmed.starts_with(|c: char| c.is_ascii_digit()) {
        Version::from_str(trimmed).map_err(|e| bad(e.to_string()))? == running
    } else {
        VersionSpecifiers::from_str(trimmed)
            .map_err(|e| bad(e.to_string()))?
            .contains(&running)
    };
    if matches {
        Ok(())
    } else {
        Err(format!(
            "`required-version = \"{required}\"` does not match the running unblock {running}"
        ))
    }
}

/// Both lists, `None` when neither is set.
fn concat(first: &Option<Vec<String>>, second: &Option<Vec<String>>) -> Option<Vec<String>> {
    match (first, second) {
        (None, None) => None,
        _ => Some(
            first
                .iter()
                .chain(second.iter())
                .flatten()
                .cloned()
                .collect(),
        ),
    }
}

/// One configuration in force, already checked and compiled.
#[derive(Debug)]
pub struct Config {
    /// The folder relative globs are taken from.
    pub root: PathBuf,
    pub file: Option<PathBuf>,
    pub options: Options,
    catalog: Arc<Catalog>,
    enabled: Vec<bool>,
    per_file: Vec<(GlobSet, Vec<bool>)>,
    exclude: GlobSet,
}

impl Config {
    pub fn new(
        root: PathBuf,
        file: Option<PathBuf>,
        options: Options,
        builtin: &Catalog,
    ) -> Result<Config, ConfigError> {
        let label = file
            .as_ref()
            .map_or_else(|| "command line".to_string(), |f| f.display().to_string());
        let invalid = |message: String| ConfigError::Invalid {
            path: label.clone(),
            message,
        };
        let catalog = Arc::new(
            builtin
                .with_user_calls(options.extra_blocking_calls.as_deref().unwrap_or(&[]))
                .map_err(|e| invalid(format!("extra-blocking-calls: {e}")))?,
        );
        let mut select = options
            .select
            .clone()
            .unwrap_or_else(|| vec!["ALL".to_string()]);
        select.extend(options.extend_select.iter().flatten().cloned());
        let select = parse_all(&select, &catalog).map_err(&invalid)?;
        let mut ignore = options.ignore.clone().unwrap_or_default();
        ignore.extend(options.extend_ignore.iter().flatten().cloned());
        let ignore = parse_all(&ignore, &catalog).map_err(&invalid)?;
        let enabled: Vec<bool> = catalog
            .rules
            .iter()
            .enumerate()
            .map(|(i, rule)| any_matches(&select, i, rule) && !any_matches(&ignore, i, rule))
            .collect();
        let mut per_file = Vec::new();
        for (pattern, selectors) in options.per_file_ignores.iter().flatten() {
            let set = glob_set(std::slice::from_ref(pattern)).map_err(&invalid)?;
            let selectors = parse_all(selectors, &catalog).map_err(&invalid)?;
            let ignored: Vec<bool> = catalog
                .rules
                .iter()
                .enumerate()
                .map(|(i, rule)| any_matches(&selectors, i, rule))
                .collect();
            per_file.push((set, ignored));
        }
        if let Some(required) = &options.required_version {
            check_required_version(required, env!("CARGO_PKG_VERSION")).map_err(&invalid)?;
        }
        let mut patterns = options
            .exclude
            .clone()
            .unwrap_or_else(|| DEFAULT_EXCLUDE.iter().map(|p| p.to_string()).collect());
        patterns.extend(options.extend_exclude.clone().unwrap_or_default());
        let exclude = glob_set(&patterns).map_err(&invalid)?;
        if let Some(offload) = &options.offload {
            let valid = offload.split('.').count() >= 2
                && offload.split('.').all(|part| {
                    part.chars()
                        .next()
                        .is_some_and(|c| c.is_alphabetic() || c == '_')
                        && part.chars().all(|c| c.is_alphanumeric() || c == '_')
                });
            if !valid {
                return Err(invalid(format!(
                    "`offload = \"{offload}\"` must be a dotted name such as `hass.async_add_executor_job`"
                )));
            }
        }
        if let Some(target) = &options.target_version
            && crate::config::project::parse_target_version(target).is_none()
        {
            return Err(invalid(format!(
                "`target-version = \"{target}\"` must be one of py37 … py314"
            )));
        }
        for library in options.native.iter().flatten() {
            if !crate::fix::NATIVE_LIBRARIES.contains(&library.as_str()) {
                return Err(invalid(format!(
                    "`native` lists `{library}`; the native fixes use {}",
                    crate::fix::NATIVE_LIBRARIES.join(", ")
                )));
            }
        }
        Ok(Config {
            root,
            file,
            options,
            catalog,
            enabled,
            per_file,
            exclude,
        })
    }

    /// The options for one file under this configuration.
    pub fn file_options(&self, path: &Path) -> FileOptions {
        let mut enabled = self.enabled.clone();
        if !self.per_file.is_empty() {
            let candidates = match_candidates(path, &self.root);
            for (set, ignored) in &self.per_file {
                if candidates.iter().any(|c| set.is_match(c)) {
                    for (on, off) in enabled.iter_mut().zip(ignored) {
                        *on = *on && !off;
                    }
                }
            }
        }
        FileOptions {
            catalog: self.catalog.clone(),
            enabled,
            strategy: self.options.strategy.unwrap_or_default(),
            runtime: self.options.runtime.unwrap_or_default().runtime(),
            offload: self.options.offload.clone(),
            unsafe_fixes: self.options.unsafe_fixes.unwrap_or(false),
            native: self.options.native.clone().unwrap_or_default(),
            target: self
                .options
                .target_version
                .as_deref()
                .and_then(crate::config::project::parse_target_version),
            project: Arc::new(crate::config::project::Project::default()),
            budget: crate::engine::TIME_BUDGET,
            module: None,
            index: None,
            facts_as: None,
        }
    }

    /// Whether a discovered path matches `exclude`/`extend-exclude`.
    pub fn excludes(&self, path: &Path) -> bool {
        !self.exclude.is_empty()
            && match_candidates(path, &self.root)
                .iter()
                .any(|c| self.exclude.is_match(c))
    }

    /// Whether a path named on the command line is excluded (`--force-exclude`): the path
    /// itself, or one of its folders below the configuration's folder, matches
    /// `exclude`/`extend-exclude` (`generated/x.py` is excluded by `extend-exclude =
    /// ["generated"]`, as it would be while walking).
    pub fn excludes_named(&self, path: &Path) -> bool {
        if self.exclude.is_empty() {
            return false;
        }
        if self.excludes(path) {
            return true;
        }
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let root = std::path::absolute(&self.root).unwrap_or_else(|_| self.root.clone());
        absolute
            .ancestors()
            .skip(1)
            .take_while(|dir| dir.starts_with(&root) && *dir != root)
            .any(|dir| self.excludes(dir))
    }

    /// Whether `force-exclude = true` is set.
    pub fn force_exclude(&self) -> bool {
        self.options.force_exclude.unwrap_or(false)
    }
}

/// The strings a glob is tried against: the path relative to the root, the path as given, and
/// the file name, so that `tests/*.py`, `build` and `*_pb2.py` all do what they say.
fn match_candidates(path: &Path, root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let root = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
    if let Ok(rel) = absolute.strip_prefix(&root) {
        out.push(rel.to_path_buf());
    }
    out.push(path.strip_prefix("./").unwrap_or(path).to_path_buf());
    if let Some(name) = path.file_name() {
        out.push(PathBuf::from(name));
    }
    out
}

fn glob_set(patterns: &[String]) -> Result<GlobSet, String> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let glob = Glob::new(pattern.trim_end_matches('/'))
            .map_err(|e| format!("bad glob `{pattern}`: {e}"))?;
        builder.add(glob);
    }
    builder.build().map_err(|e| e.to_string())
}

/// Whether a selector list names the rule; an unknown selector is an error.
/// Reads `[tool.unblock]` from a `pyproject.toml`, or a whole standalone TOML file given with
/// `--config`. `Ok(None)` when a `pyproject.toml` has no `[tool.unblock]` table.
pub fn read_config_file(path: &Path, standalone: bool) -> Result<Option<Options>, ConfigError> {
    let label = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: label.clone(),
        source,
    })?;
    let invalid = |message: String| ConfigError::Invalid {
        path: label.clone(),
        message,
    };
    let at = |e: toml::de::Error| match e.span() {
        Some(span) => {
            let (line, column) = line_column(&text, span.start);
            ConfigError::InvalidAt {
                path: label.clone(),
                line,
                column,
                message: e.message().trim().to_string(),
            }
        }
        None => invalid(e.message().trim().to_string()),
    };
    let value: toml::Table = toml::from_str(&text).map_err(at)?;
    // Read again, typed, from the text: errors in the options keep their place in the file.
    match value.get("tool").and_then(|t| t.get("unblock")) {
        Some(_) => Ok(toml::from_str::<Pyproject>(&text)
            .map_err(at)?
            .tool
            .and_then(|t| t.unblock)),
        None if standalone && !value.contains_key("tool") => {
            Ok(Some(toml::from_str::<Options>(&text).map_err(at)?))
        }
        None => Ok(None),
    }
}

/// The part of a `pyproject.toml` read here; everything else in it is passed over.
#[derive(Deserialize)]
struct Pyproject {
    tool: Option<Tool>,
}

#[derive(Deserialize)]
struct Tool {
    unblock: Option<Options>,
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Finds and caches the configuration of each folder.
pub struct Configs {
    cli: Options,
    builtin: Catalog,
    /// `--config` or `--isolated`: one configuration for everything.
    fixed: Option<Arc<Config>>,
    by_dir: Mutex<HashMap<PathBuf, Arc<Config>>>,
    default: Arc<Config>,
    /// The project (declared dependencies, `requires-python`) of each folder.
    projects: Mutex<HashMap<PathBuf, Arc<Project>>>,
}

impl Configs {
    pub fn new(
        cli: Options,
        config_file: Option<&Path>,
        isolated: bool,
        builtin: Catalog,
    ) -> Result<Configs, ConfigError> {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let default = Arc::new(Config::new(cwd.clone(), None, cli.clone(), &builtin)?);
        let fixed = if let Some(file) = config_file {
            let standalone = file.file_name().is_none_or(|n| n != "pyproject.toml");
            let options = read_config_file(file, standalone)?.unwrap_or_default();
            let root = file
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or(cwd.clone(), Path::to_path_buf);
            Some(Arc::new(Config::new(
                root,
                Some(file.to_path_buf()),
                cli.over(&options),
                &builtin,
            )?))
        } else if isolated {
            Some(default.clone())
        } else {
            None
        };
        Ok(Configs {
            cli,
            builtin,
            fixed,
            by_dir: Mutex::new(HashMap::new()),
            default,
            projects: Mutex::new(HashMap::new()),
        })
    }

    /// The configuration in force for a path (a file or a folder).
    pub fn for_path(&self, path: &Path) -> Result<Arc<Config>, ConfigError> {
        if path.is_dir() {
            self.for_folder(path)
        } else {
            self.for_file(path)
        }
    }

    /// The configuration in force for a file: its folder's (no file-system look-up).
    pub fn for_file(&self, file: &Path) -> Result<Arc<Config>, ConfigError> {
        if let Some(fixed) = &self.fixed {
            return Ok(fixed.clone());
        }
        let absolute = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
        match absolute.parent() {
            Some(dir) => self.for_dir(dir),
            None => self.for_dir(&absolute),
        }
    }

    /// Everything that decides how one file is checked and fixed: its configuration and its
    /// project.
    pub fn file_options(&self, file: &Path) -> Result<FileOptions, ConfigError> {
        let mut options = self.for_file(file)?.file_options(file);
        let absolute = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
        options.project = self.project_of(absolute.parent().unwrap_or(&absolute));
        Ok(options)
    }

    /// The project of a folder: its own, or its parent's. Each folder is looked at once (a
    /// folder of a thousand packages is listed once, not once per package).
    fn project_of(&self, dir: &Path) -> Arc<Project> {
        let lock = || {
            self.projects
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if let Some(found) = lock().get(dir) {
            return found.clone();
        }
        let project = match Project::at(dir) {
            Some(p) => Arc::new(p),
            None => match dir.parent() {
                Some(parent) => self.project_of(parent),
                None => Arc::new(Project::default()),
            },
        };
        lock().insert(dir.to_path_buf(), project.clone());
        project
    }

    /// The configuration in force for a folder.
    pub fn for_folder(&self, dir: &Path) -> Result<Arc<Config>, ConfigError> {
        if let Some(fixed) = &self.fixed {
            return Ok(fixed.clone());
        }
        self.for_dir(&std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf()))
    }

    fn for_dir(&self, dir: &Path) -> Result<Arc<Config>, ConfigError> {
        if let Some(found) = self.lock().get(dir) {
            return Ok(found.clone());
        }
        let candidate = dir.join("pyproject.toml");
        let config = match candidate
            .is_file()
            .then(|| read_config_file(&candidate, false))
            .transpose()?
            .flatten()
        {
            Some(options) => Arc::new(Config::new(
                dir.to_path_buf(),
                Some(candidate),
                self.cli.over(&options),
                &self.builtin,
            )?),
            None => match dir.parent() {
                Some(parent) => self.for_dir(parent)?,
                None => self.default.clone(),
            },
        };
        self.lock().insert(dir.to_path_buf(), config.clone());
        Ok(config)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, Arc<Config>>> {
        self.by_dir
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_version_takes_specifiers_and_versions() {
        assert!(check_required_version(">=0.1", "0.1.0").is_ok());
        assert!(check_required_version(">=0.1,<0.2", "0.1.5").is_ok());
        assert!(check_required_version("~=0.1.0", "0.1.3").is_ok());
        assert!(check_required_version("==0.1.*", "0.1.3").is_ok());
        assert!(check_required_version("0.1.0", "0.1.0").is_ok());
        assert!(
            check_required_version("0.1", "0.1.0").is_ok(),
            "0.1 == 0.1.0 in PEP 440"
        );
        let e = check_required_version(">=0.2", "0.1.0").expect_err("too old");
        assert!(
            e.contains("does not match the running unblock 0.1.0"),
            "{e}"
        );
        assert!(check_required_version("0.2.0", "0.1.0").is_err());
        let e = check_required_version("soon", "0.1.0").expect_err("not a version");
        assert!(
            e.contains("is not a version or specifier") && !e.contains('\n'),
            "{e}"
        );
    }

    #[test]
    fn line_and_column_of_an_offset() {
        let text = "a = 1\nbé = [\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        assert_eq!(line_column(text, 11), (2, 5), "columns count characters");
    }
}
