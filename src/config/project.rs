//! What the project a file belongs to declares: the distributions it depends on (PEP 621
//! `dependencies` and `optional-dependencies`, PEP 735 `dependency-groups`, Poetry's
//! dependency tables, and `requirements*.txt` beside its `pyproject.toml`) and the oldest
//! Python it supports (`requires-python`, or Poetry's `python` entry). Fixes use a
//! third-party library only when it is declared here (or the file imports it already), and
//! write no API newer than that Python.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep508_rs::pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{PackageName, Requirement};

/// A Python version, `(3, 8)`.
pub type PythonVersion = (u32, u32);

/// The Python versions a `requires-python` may name, oldest first.
const KNOWN_PYTHONS: &[PythonVersion] = &[
    (3, 7),
    (3, 8),
    (3, 9),
    (3, 10),
    (3, 11),
    (3, 12),
    (3, 13),
    (3, 14),
];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Project {
    /// The folder of the project's `pyproject.toml` (or requirements file), if there is one.
    pub root: Option<PathBuf>,
    /// The declared distributions, normalized (`aiofiles`, `python-dateutil`).
    pub dependencies: BTreeSet<String>,
    /// The oldest Python `requires-python` allows.
    pub oldest_python: Option<PythonVersion>,
}

impl Project {
    /// The project of the folder `dir`: the nearest folder upward holding a `pyproject.toml`
    /// or a `requirements*.txt`. Unreadable or malformed files declare nothing (the fixes
    /// fall back to what needs no library), they are never an error.
    pub fn find(dir: &Path) -> Project {
        dir.ancestors().find_map(Project::at).unwrap_or_default()
    }

    /// The project whose root is exactly `folder`, if it holds a `pyproject.toml` or a
    /// `requirements*.txt`.
    pub fn at(folder: &Path) -> Option<Project> {
        let pyproject = folder.join("pyproject.toml");
        let requirements = requirements_files(folder);
        if !pyproject.is_file() && requirements.is_empty() {
            return None;
        }
        let mut project = Project {
            root: Some(folder.to_path_buf()),
            ..Project::default()
        };
        if let Ok(text) = std::fs::read_to_string(&pyproject) {
            project.read_pyproject(&text);
        }
        for file in requirements {
            if let Ok(text) = std::fs::read_to_string(&file) {
                project.read_requirements(&text);
            }
        }
        Some(project)
    }

    /// Whether the project declares the distribution `name` (any spelling).
    pub fn declares(&self, name: &str) -> bool {
        normalized(name).is_some_and(|n| self.dependencies.contains(&n))
    }

    pub fn read_pyproject(&mut self, text: &str) {
        let Ok(value) = toml::from_str::<toml::Value>(text) else {
            return;
        };
        let strings = |v: Option<&toml::Value>| -> Vec<String> {
            v.and_then(toml::Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        let project = value.get("project");
        let mut requirements = strings(project.and_then(|p| p.get("dependencies")));
        if let Some(extras) = project
            .and_then(|p| p.get("optional-dependencies"))
            .and_then(toml::Value::as_table)
        {
            for list in extras.values() {
                requirements.extend(strings(Some(list)));
            }
        }
        // PEP 735: plain requirement strings; `{include-group = ...}` tables add nothing new.
        if let Some(groups) = value
            .get("dependency-groups")
            .and_then(toml::Value::as_table)
        {
            for list in groups.values() {
                requirements.extend(strings(Some(list)));
            }
        }
        for requirement in requirements {
            self.add_requirement(&requirement);
        }
        if let Some(python) = project
            .and_then(|p| p.get("requires-python"))
            .and_then(toml::Value::as_str)
        {
            self.oldest_python = oldest_python(python);
        }
        // Poetry: the tables' keys are the distributions; `python` is the Python constraint.
        let poetry = value.get("tool").and_then(|t| t.get("poetry"));
        let mut tables: Vec<&toml::Value> = Vec::new();
        if let Some(p) = poetry {
            tables.extend(p.get("dependencies"));
            tables.extend(p.get("dev-dependencies"));
            if let Some(groups) = p.get("group").and_then(toml::Value::as_table) {
                tables.extend(groups.values().filter_map(|g| g.get("dependencies")));
            }
        }
        for table in tables.iter().filter_map(|t| t.as_table()) {
            for (name, spec) in table {
                if name == "python" {
                    if self.oldest_python.is_none()
                        && let Some(constraint) = spec.as_str()
                    {
                        self.oldest_python = oldest_python(&poetry_constraint(constraint));
                    }
                } else if let Some(n) = normalized(name) {
                    self.dependencies.insert(n);
                }
            }
        }
    }

    pub fn read_requirements(&mut self, text: &str) {
        for line in text.lines() {
            let line = line.split(" #").next().unwrap_or("").trim();
            // Options (`-r other.txt`, `-e .`, `--index-url ...`) and comments declare nothing.
            if line.is_empty() || line.starts_with('#') || line.starts_with('-') {
                continue;
            }
            self.add_requirement(line);
        }
    }

    fn add_requirement(&mut self, requirement: &str) {
        match Requirement::<pep508_rs::VerbatimUrl>::from_str(requirement) {
            Ok(r) => {
                self.dependencies.insert(r.name.to_string());
            }
            // A line the parser does not take (a pip-only form): its leading name still counts.
            Err(_) => {
                let name: String = requirement
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                    .collect();
                if let Some(n) = normalized(&name) {
                    self.dependencies.insert(n);
                }
            }
        }
    }
}

/// The `requirements*.txt` files of a folder, sorted.
fn requirements_files(folder: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("requirements") && n.ends_with(".txt"))
                && p.is_file()
        })
        .collect();
    found.sort();
    found
}

/// A distribution name in its normalized form (PEP 503), or `None` when it is not one.
pub fn normalized(name: &str) -> Option<String> {
    PackageName::from_str(name).ok().map(|n| n.to_string())
}

/// The oldest known Python a `requires-python` specifier allows (`>=3.8` → 3.8).
pub fn oldest_python(specifiers: &str) -> Option<PythonVersion> {
    let specifiers = VersionSpecifiers::from_str(specifiers).ok()?;
    KNOWN_PYTHONS.iter().copied().find(|&(major, minor)| {
        // A minor release is allowed when any of its patch releases is.
        (0..30).any(|patch| {
            specifiers.contains(&Version::new([major as u64, minor as u64, patch as u64]))
        })
    })
}

/// A Poetry constraint in PEP 440 terms: `^3.8` → `>=3.8`, `~3.9` → `>=3.9`; others as they are.
fn poetry_constraint(constraint: &str) -> String {
    constraint
        .split(',')
        .map(|part| {
            let part = part.trim();
            match part.strip_prefix('^').or_else(|| part.strip_prefix('~')) {
                Some(rest) if !rest.starts_with('=') => format!(">={rest}"),
                _ => part.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// A `target-version` setting (`py38`, `py312`) as a Python version.
pub fn parse_target_version(text: &str) -> Option<PythonVersion> {
    let digits = text.strip_prefix("py")?;
    let (major, minor) = digits.split_at_checked(1)?;
    Some((major.parse().ok()?, minor.parse().ok()?)).filter(|v| KNOWN_PYTHONS.contains(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pyproject: &str) -> Project {
        let mut p = Project::default();
        p.read_pyproject(pyproject);
        p
    }

    #[test]
    fn reads_every_kind_of_dependency_table() {
        let p = read(
            r#"
[project]
requires-python = ">=3.8"
dependencies = ["FastAPI>=0.100", "aiofiles ; python_version >= '3.8'"]
[project.optional-dependencies]
http = ["HTTPX[http2]~=0.27"]
[dependency-groups]
dev = ["pytest", {include-group = "http"}]
[tool.poetry.dependencies]
Python_Dateutil = "^2.8"
[tool.poetry.group.test.dependencies]
respx = "*"
"#,
        );
        let names: Vec<&str> = p.dependencies.iter().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "aiofiles",
                "fastapi",
                "httpx",
                "pytest",
                "python-dateutil",
                "respx"
            ]
        );
        assert_eq!(p.oldest_python, Some((3, 8)));
        assert!(p.declares("AioFiles") && p.declares("python_dateutil"));
        assert!(!p.declares("requests"));
    }

    #[test]
    fn reads_requirements_files_line_by_line() {
        let mut p = Project::default();
        p.read_requirements(
            "# pinned\n-r base.txt\n--index-url https://x\naiofiles==23.2.1  # files\nhttpx[http2]>=0.27\n\nweird-pkg @ file:///tmp/x\n",
        );
        let names: Vec<&str> = p.dependencies.iter().map(String::as_str).collect();
        assert_eq!(names, ["aiofiles", "httpx", "weird-pkg"]);
    }

    #[test]
    fn finds_the_oldest_python_a_specifier_allows() {
        assert_eq!(oldest_python(">=3.8"), Some((3, 8)));
        assert_eq!(oldest_python(">=3.9,<4"), Some((3, 9)));
        assert_eq!(oldest_python("~=3.10"), Some((3, 10)));
        assert_eq!(oldest_python(">3.8"), Some((3, 8)), "3.8.1 is above 3.8");
        assert_eq!(oldest_python("==3.12.*"), Some((3, 12)));
        assert_eq!(oldest_python("not a specifier"), None);
        let poetry = read("[tool.poetry.dependencies]\npython = \"^3.8\"\n");
        assert_eq!(poetry.oldest_python, Some((3, 8)));
    }

    #[test]
    fn parses_target_versions_like_ruff() {
        assert_eq!(parse_target_version("py38"), Some((3, 8)));
        assert_eq!(parse_target_version("py312"), Some((3, 12)));
        assert_eq!(parse_target_version("3.8"), None);
        assert_eq!(parse_target_version("py26"), None);
    }

    #[test]
    fn finds_the_nearest_project_folder() {
        let dir = tempfile::tempdir().expect("tempdir");
        let app = dir.path().join("app/pkg");
        std::fs::create_dir_all(&app).expect("mkdir");
        std::fs::write(
            dir.path().join("app/pyproject.toml"),
            "[project]\ndependencies = [\"aiofiles\"]\n",
        )
        .expect("write");
        std::fs::write(dir.path().join("app/requirements-dev.txt"), "httpx\n").expect("write");
        let p = Project::find(&app);
        assert_eq!(p.root.as_deref(), Some(dir.path().join("app").as_path()));
        assert!(p.declares("aiofiles") && p.declares("httpx"));
        assert_eq!(Project::find(dir.path()).root, None);
    }
}
