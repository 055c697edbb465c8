//! Module names of first-party files, and the file of a first-party module.
//!
//! A file's module name is its path below the nearest folder that is not a package (a
//! package folder holds an `__init__.py`): `app/handlers.py` in a package `app` is
//! `app.handlers`, `src/app/__init__.py` is `app`. So `src/` layouts need nothing special, and
//! a loose script is a top-level module of its own name.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A module's dotted name, and whether it is a package (`__init__.py`), which decides what
/// its relative imports mean.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModuleName {
    pub name: String,
    pub package: bool,
}

impl ModuleName {
    /// The absolute name of an import target as the resolver spells it: `.config.load` in
    /// `app.handlers` is `app.config.load`, `..util.f` is one package further up. Names that
    /// do not start with a dot are already absolute. `None` when the dots climb past the top.
    pub fn absolute(&self, target: &str) -> Option<String> {
        let rest = target.trim_start_matches('.');
        let dots = target.len() - rest.len();
        if dots == 0 {
            return Some(target.to_string());
        }
        let mut parts: Vec<&str> = self.name.split('.').collect();
        if !self.package {
            parts.pop();
        }
        for _ in 1..dots {
            parts.pop()?;
        }
        if !rest.is_empty() {
            parts.push(rest);
        }
        (!parts.is_empty()).then(|| parts.join("."))
    }
}

/// Answers "which module is this file" and "which file is this module", looking at each
/// folder once.
#[derive(Default)]
pub struct Modules {
    package_dirs: Mutex<HashMap<PathBuf, bool>>,
}

impl Modules {
    fn is_package_dir(&self, dir: &Path) -> bool {
        let lock = || {
            self.package_dirs
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if let Some(known) = lock().get(dir) {
            return *known;
        }
        let is = dir.join("__init__.py").is_file();
        lock().insert(dir.to_path_buf(), is);
        is
    }

    /// The module a Python file is, with the folder its top-level package sits in (the root
    /// its sibling modules are looked up from). `None` for a name that is not an identifier.
    pub fn module_of(&self, file: &Path) -> Option<(ModuleName, PathBuf)> {
        let absolute = std::path::absolute(file).ok()?;
        let stem = absolute.file_stem()?.to_str()?;
        let package = stem == "__init__";
        let mut parts: Vec<String> = Vec::new();
        if !package {
            parts.push(identifier(stem)?.to_string());
        }
        let mut dir = absolute.parent()?.to_path_buf();
        while self.is_package_dir(&dir) {
            let name = dir.file_name()?.to_str()?;
            parts.push(identifier(name)?.to_string());
            dir = dir.parent()?.to_path_buf();
        }
        if parts.is_empty() {
            return None;
        }
        parts.reverse();
        Some((
            ModuleName {
                name: parts.join("."),
                package,
            },
            dir,
        ))
    }
}

/// The file of module `name` below `root` (`a.b` → `root/a/b.py` or `root/a/b/__init__.py`).
pub fn file_of(root: &Path, name: &str) -> Option<PathBuf> {
    let mut path = root.to_path_buf();
    for part in name.split('.') {
        path.push(part);
    }
    let module = path.with_extension("py");
    if module.is_file() {
        return Some(module);
    }
    let package = path.join("__init__.py");
    package.is_file().then_some(package)
}

fn identifier(name: &str) -> Option<&str> {
    let mut chars = name.chars();
    let first = chars.next()?;
    ((first == '_' || first.is_alphabetic()) && chars.all(|c| c == '_' || c.is_alphanumeric()))
        .then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(name: &str, package: bool) -> ModuleName {
        ModuleName {
            name: name.to_string(),
            package,
        }
    }

    #[test]
    fn relative_targets_climb_from_the_package() {
        let handlers = module("app.web.handlers", false);
        assert_eq!(
            handlers.absolute(".config.load").as_deref(),
            Some("app.web.config.load")
        );
        assert_eq!(handlers.absolute("..util.f").as_deref(), Some("app.util.f"));
        assert_eq!(handlers.absolute("os.path").as_deref(), Some("os.path"));
        assert_eq!(handlers.absolute("....x"), None);
        let init = module("app.web", true);
        assert_eq!(
            init.absolute(".views.v").as_deref(),
            Some("app.web.views.v")
        );
    }

    #[test]
    fn a_file_is_named_from_the_first_folder_that_is_not_a_package() {
        let dir = tempfile::tempdir().unwrap();
        let pkg = dir.path().join("src/app/web");
        std::fs::create_dir_all(&pkg).unwrap();
        std::fs::write(dir.path().join("src/app/__init__.py"), "").unwrap();
        std::fs::write(pkg.join("__init__.py"), "").unwrap();
        std::fs::write(pkg.join("views.py"), "").unwrap();
        let modules = Modules::default();
        let (name, root) = modules.module_of(&pkg.join("views.py")).unwrap();
        assert_eq!(name, module("app.web.views", false));
        assert_eq!(root, std::path::absolute(dir.path().join("src")).unwrap());
        let (init, _) = modules.module_of(&pkg.join("__init__.py")).unwrap();
        assert_eq!(init, module("app.web", true));
        assert_eq!(file_of(&root, "app.web"), Some(pkg.join("__init__.py")));
        assert_eq!(file_of(&root, "app.web.views"), Some(pkg.join("views.py")));
        assert_eq!(file_of(&root, "app.nothing"), None);
        assert!(modules.module_of(Path::new("my-script.py")).is_none());
    }
}
