//! The catalog of blocking calls: the TOML files under `transforms/`, compiled into the binary.
//!
//! Each file is one rule family (`[rule]` with its documentation) plus the entries it owns:
//! `[[calls]]` (qualified functions), `[[methods]]` (methods of a tracked value type) and
//! `[[types]]` (value types the resolver tracks: what makes them, what their methods return,
//! and how their calls may be offloaded).

use std::collections::{HashMap, HashSet};

use serde::Deserialize;
use thiserror::Error;

/// The family files, in rule-code order.
const FAMILIES: &[(&str, &str)] = &[
    ("sleep.toml", include_str!("../transforms/sleep.toml")),
    ("open.toml", include_str!("../transforms/open.toml")),
    ("file_io.toml", include_str!("../transforms/file_io.toml")),
    ("path.toml", include_str!("../transforms/path.toml")),
    ("fs.toml", include_str!("../transforms/fs.toml")),
    ("http.toml", include_str!("../transforms/http.toml")),
    (
        "subprocess.toml",
        include_str!("../transforms/subprocess.toml"),
    ),
    ("input.toml", include_str!("../transforms/input.toml")),
    ("network.toml", include_str!("../transforms/network.toml")),
    ("db.toml", include_str!("../transforms/db.toml")),
    (
        "sync_call.toml",
        include_str!("../transforms/sync_call.toml"),
    ),
    ("library.toml", include_str!("../transforms/library.toml")),
    ("user.toml", include_str!("../transforms/user.toml")),
];

/// The rule code of the project's blocking sync functions (the project index's findings).
pub const SYNC_CALL_RULE_CODE: &str = "UNB180";

/// The rule id of the user-declared family (`extra-blocking-calls`).
pub const USER_RULE_CODE: &str = "UNB190";

#[derive(Debug, Error)]
pub enum CatalogError {
    #[error("transforms/{file}: {source}")]
    Toml {
        file: String,
        source: toml::de::Error,
    },
    #[error("transforms/{file}: {message}")]
    Invalid { file: String, message: String },
}

/// How a finding is fixed when nothing about its context forces `manual`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum EntryFix {
    /// Offload the call to a worker thread.
    #[default]
    Thread,
    /// Replace with the runtime's sleep.
    Sleep,
    /// Never rewritten; the entry's `reason` says why.
    Manual,
}

/// How the calls on a value of a tracked type may be offloaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// Any call may go to a worker thread on its own.
    #[default]
    Call,
    /// A value made in the function must be made and used in one place (rewritten as a block);
    /// a value made elsewhere may be used call by call.
    Region,
    /// The value refuses to be used from another thread than its creator's.
    ThreadBound,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub code: String,
    pub id: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub summary: String,
    pub fix: String,
    pub doc: String,
}

#[derive(Debug, Clone)]
pub struct CallEntry {
    pub rule: usize,
    /// Qualified name; a trailing `*` matches any suffix (`os.spawn*`).
    pub name: String,
    pub fix: EntryFix,
    pub lazy: bool,
    pub returns: Option<String>,
    /// Only a finding when an argument has this type (`json.load(f)` with `f` a file).
    pub arg_type: Option<String>,
    /// With `arg_type`: only that keyword argument counts (`print(..., file=f)`).
    pub keyword: Option<String>,
    pub reason: Option<String>,
    /// The native rewrite that may take the call (`async-files`), by its table name.
    pub native: Option<String>,
    /// Not a finding over an in-memory buffer: its file argument (the first, or `fileobj=`/`fp=`)
    /// is an `io.BytesIO`/`io.StringIO`.
    pub buffer_ok: bool,
}

#[derive(Debug, Clone)]
pub struct MethodEntry {
    pub rule: usize,
    pub type_name: String,
    pub name: String,
    pub fix: EntryFix,
    pub lazy: bool,
    pub returns: Option<String>,
    pub reason: Option<String>,
    /// The native rewrite that may take the call, by its table name.
    pub native: Option<String>,
    /// Not a finding over an in-memory buffer (see [`CallEntry::buffer_ok`]).
    pub buffer_ok: bool,
    /// When not empty, the parameters (in positional order) that make the call do I/O: a call
    /// passing none of them, by position or keyword, is no finding
    /// (`load_verify_locations(cadata=pem)` reads no file).
    pub io_arguments: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct TypeDef {
    pub name: String,
    pub scope: Scope,
    pub reason: String,
    /// Whether leaving a `with` block over this value does blocking I/O.
    pub exit_blocks: bool,
    /// `a / b` on this type gives this type again (`pathlib.Path`).
    pub divides: bool,
    pub attributes: HashMap<String, String>,
    pub returns: HashMap<String, String>,
    /// A value made and used up in one expression (`urlopen(u).read()`) may be offloaded with
    /// that whole expression.
    pub chain: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FamilyFile {
    rule: Rule,
    #[serde(default)]
    calls: Vec<RawCalls>,
    #[serde(default)]
    methods: Vec<RawMethods>,
    #[serde(default)]
    types: Vec<RawType>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalls {
    names: Vec<String>,
    #[serde(default)]
    fix: EntryFix,
    #[serde(default)]
    lazy: bool,
    returns: Option<String>,
    arg_type: Option<String>,
    keyword: Option<String>,
    reason: Option<String>,
    native: Option<String>,
    #[serde(default)]
    buffer_ok: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMethods {
    #[serde(rename = "type")]
    type_name: String,
    names: Vec<String>,
    #[serde(default)]
    fix: EntryFix,
    #[serde(default)]
    lazy: bool,
    returns: Option<String>,
    reason: Option<String>,
    native: Option<String>,
    #[serde(default)]
    buffer_ok: bool,
    #[serde(default)]
    io_arguments: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawType {
    name: String,
    #[serde(default)]
    scope: Scope,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    constructors: Vec<String>,
    exit_blocks: Option<bool>,
    #[serde(default)]
    divides: bool,
    #[serde(default)]
    attributes: HashMap<String, String>,
    #[serde(default)]
    returns: HashMap<String, String>,
    #[serde(default)]
    chain: bool,
    /// Shorthand: blocking methods owned by the declaring family.
    #[serde(default)]
    methods: Vec<String>,
}

/// The whole catalog, indexed for lookup.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub rules: Vec<Rule>,
    calls: HashMap<String, Vec<CallEntry>>,
    prefix_calls: Vec<CallEntry>,
    /// The project's `extra-blocking-calls` given as fnmatch patterns (`mylib.*.fetch`).
    pattern_calls: Vec<(globset::GlobMatcher, CallEntry)>,
    methods: HashMap<(String, String), MethodEntry>,
    /// Every method name of `methods`, for a cheap test before typing a receiver.
    method_names: HashSet<String>,
    types: HashMap<String, TypeDef>,
    constructors: HashMap<String, String>,
    /// The file each rule came from (`open.toml`), by rule index.
    rule_files: Vec<String>,
    /// The undotted call names (`open`, `input`, `print`): builtins the catalog names.
    builtins: std::collections::HashSet<String>,
}

impl Catalog {
    /// The built-in catalog.
    pub fn builtin() -> Result<Catalog, CatalogError> {
        let mut catalog = Catalog::default();
        for (file, text) in FAMILIES {
            catalog.add_family(file, text)?;
        }
        catalog.check_types()?;
        Ok(catalog)
    }

    fn add_family(&mut self, file: &str, text: &str) -> Result<(), CatalogError> {
        let family: FamilyFile = toml::from_str(text).map_err(|source| CatalogError::Toml {
            file: file.to_string(),
            source,
        })?;
        let rule = self.rules.len();
        self.rules.push(family.rule);
        self.rule_files.push(file.to_string());
        let twice = |what: String| CatalogError::Invalid {
            file: file.to_string(),
            message: format!("{what} is listed twice"),
        };
        for raw in family.calls {
            for name in raw.names {
                if self.calls.contains_key(&name)
                    || self
                        .prefix_calls
                        .iter()
                        .any(|e| format!("{}*", e.name) == name)
                {
                    return Err(twice(format!("call `{name}`")));
                }
                let entry = CallEntry {
                    rule,
                    name: name.clone(),
                    fix: raw.fix,
                    lazy: raw.lazy,
                    returns: raw.returns.clone(),
                    arg_type: raw.arg_type.clone(),
                    keyword: raw.keyword.clone(),
                    reason: raw.reason.clone(),
                    native: raw.native.clone(),
                    buffer_ok: raw.buffer_ok,
                };
                self.add_call(entry);
            }
        }
        for raw in family.methods {
            for name in raw.names {
                if self
                    .methods
                    .contains_key(&(raw.type_name.clone(), name.clone()))
                {
                    return Err(twice(format!("method `{}.{name}`", raw.type_name)));
                }
                self.method_names.insert(name.clone());
                self.methods.insert(
                    (raw.type_name.clone(), name.clone()),
                    MethodEntry {
                        rule,
                        type_name: raw.type_name.clone(),
                        name,
                        fix: raw.fix,
                        lazy: raw.lazy,
                        returns: raw.returns.clone(),
                        reason: raw.reason.clone(),
                        native: raw.native.clone(),
                        buffer_ok: raw.buffer_ok,
                        io_arguments: raw.io_arguments.clone(),
                    },
                );
            }
        }
        for raw in family.types {
            if self.types.contains_key(&raw.name) {
                return Err(CatalogError::Invalid {
                    file: file.to_string(),
                    message: format!("type `{}` is declared twice", raw.name),
                });
            }
            for ctor in &raw.constructors {
                self.constructors.insert(ctor.clone(), raw.name.clone());
            }
            for name in &raw.methods {
                if self.methods.contains_key(&(raw.name.clone(), name.clone())) {
                    return Err(twice(format!("method `{}.{name}`", raw.name)));
                }
                self.method_names.insert(name.clone());
                self.methods.insert(
                    (raw.name.clone(), name.clone()),
                    MethodEntry {
                        rule,
                        type_name: raw.name.clone(),
                        name: name.clone(),
                        fix: EntryFix::Thread,
                        lazy: false,
                        returns: None,
                        reason: None,
                        native: None,
                        buffer_ok: false,
                        io_arguments: Vec::new(),
                    },
                );
            }
            self.types.insert(
                raw.name.clone(),
                TypeDef {
                    name: raw.name,
                    scope: raw.scope,
                    reason: raw.reason,
                    exit_blocks: raw.exit_blocks.unwrap_or(true),
                    divides: raw.divides,
                    attributes: raw.attributes,
                    returns: raw.returns,
                    chain: raw.chain,
                },
            );
        }
        Ok(())
    }

    fn add_call(&mut self, entry: CallEntry) {
        if let Some(prefix) = entry.name.strip_suffix('*').map(str::to_string) {
            let mut entry = entry;
            entry.name = prefix;
            self.prefix_calls.push(entry);
        } else {
            if !entry.name.contains('.') {
                self.builtins.insert(entry.name.clone());
            }
            self.calls
                .entry(entry.name.clone())
                .or_default()
                .push(entry);
        }
    }

    /// The native rewrite a call's entry names (`async-files` for `open`).
    pub fn native_of_call(&self, qualified: &str) -> Option<&str> {
        self.calls
            .get(qualified)?
            .iter()
            .find_map(|e| e.native.as_deref())
    }

    /// The native rewrite a finding's call names, whether it is a function
    /// (`requests.get`) or a method of a tracked type (`requests.Session.get`).
    pub fn native_of(&self, call: &str) -> Option<&str> {
        self.native_of_call(call).or_else(|| {
            let (type_name, method) = call.rsplit_once('.')?;
            self.native_of_method(type_name, method)
        })
    }

    /// The native rewrite a method's entry names (`runtime-paths` for `pathlib.Path.exists`).
    pub fn native_of_method(&self, type_name: &str, method: &str) -> Option<&str> {
        self.methods
            .get(&(type_name.to_string(), method.to_string()))?
            .native
            .as_deref()
    }

    /// Every native rewrite name the entries use must be one `known` accepts (the rewrite
    /// table's names).
    pub fn check_native_names(&self, known: impl Fn(&str) -> bool) -> Result<(), CatalogError> {
        let named = self
            .calls
            .values()
            .flatten()
            .map(|e| (e.rule, &e.name, &e.native))
            .chain(
                self.prefix_calls
                    .iter()
                    .map(|e| (e.rule, &e.name, &e.native)),
            )
            .chain(self.methods.values().map(|e| (e.rule, &e.name, &e.native)));
        for (rule, name, native) in named {
            if let Some(native) = native
                && !known(native)
            {
                return Err(CatalogError::Invalid {
                    file: self.rule_files.get(rule).cloned().unwrap_or_default(),
                    message: format!(
                        "`{name}` names the native rewrite `{native}`, which does not exist"
                    ),
                });
            }
        }
        Ok(())
    }

    /// Whether an unbound name is a builtin the catalog names (`open`, `input`, `print`).
    pub fn names_builtin(&self, name: &str) -> bool {
        self.builtins.contains(name)
    }

    /// Every type a method, a return or a constructor names must be declared.
    fn check_types(&self) -> Result<(), CatalogError> {
        let mut named: Vec<&str> = Vec::new();
        named.extend(self.methods.keys().map(|(t, _)| t.as_str()));
        for entries in self.calls.values() {
            named.extend(entries.iter().filter_map(|e| e.returns.as_deref()));
            named.extend(entries.iter().filter_map(|e| e.arg_type.as_deref()));
        }
        named.extend(self.methods.values().filter_map(|m| m.returns.as_deref()));
        for def in self.types.values() {
            named.extend(def.returns.values().map(String::as_str));
            named.extend(def.attributes.values().map(String::as_str));
        }
        for name in named {
            let base = name.strip_suffix("[]").unwrap_or(name);
            if !self.types.contains_key(base) {
                return Err(CatalogError::Invalid {
                    file: "*".to_string(),
                    message: format!("type `{base}` is used but never declared"),
                });
            }
        }
        Ok(())
    }

    /// Adds the project's `extra-blocking-calls`. A name whose next-to-last part starts with an
    /// upper-case letter (`mylib.client.Client.fetch`) is a method of that class; the class
    /// becomes a tracked type made by calling it. A name with `*`, `?` or `[` is an fnmatch
    /// pattern over qualified function names (`mylib.*.fetch`; `*` crosses dots). An entry
    /// that could never match is an error that says why.
    pub fn with_user_calls(&self, names: &[String]) -> Result<Catalog, String> {
        let mut catalog = self.clone();
        let Some(rule) = catalog.rules.iter().position(|r| r.code == USER_RULE_CODE) else {
            return Ok(catalog);
        };
        for name in names {
            check_user_call(name)?;
            if name.contains(['*', '?', '[']) && !is_plain_prefix(name) {
                let matcher = globset::GlobBuilder::new(name)
                    .literal_separator(false)
                    .build()
                    .map_err(|e| format!("`{name}` is not a valid pattern: {e}"))?
                    .compile_matcher();
                catalog
                    .pattern_calls
                    .push((matcher, user_entry(rule, name)));
                continue;
            }
            let parts: Vec<&str> = name.split('.').collect();
            let is_method = parts.len() >= 2
                && parts[parts.len() - 2]
                    .chars()
                    .next()
                    .is_some_and(char::is_uppercase);
            if is_method {
                let class = parts[..parts.len() - 1].join(".");
                let method = parts[parts.len() - 1].to_string();
                catalog
                    .types
                    .entry(class.clone())
                    .or_insert_with(|| TypeDef {
                        name: class.clone(),
                        exit_blocks: true,
                        ..TypeDef::default()
                    });
                catalog
                    .constructors
                    .entry(class.clone())
                    .or_insert_with(|| class.clone());
                catalog.method_names.insert(method.clone());
                catalog.methods.insert(
                    (class.clone(), method.clone()),
                    MethodEntry {
                        rule,
                        type_name: class,
                        name: method,
                        fix: EntryFix::Thread,
                        lazy: false,
                        returns: None,
                        reason: None,
                        native: None,
                        buffer_ok: false,
                        io_arguments: Vec::new(),
                    },
                );
            }
            catalog.add_call(user_entry(rule, name));
        }
        Ok(catalog)
    }

    /// The entries for a resolved qualified function name.
    pub fn calls_named(&self, qualified: &str) -> Vec<&CallEntry> {
        let mut found: Vec<&CallEntry> = self
            .calls
            .get(qualified)
            .map(|v| v.iter().collect())
            .unwrap_or_default();
        found.extend(
            self.prefix_calls
                .iter()
                .filter(|e| qualified.starts_with(&e.name) && qualified.len() > e.name.len()),
        );
        found.extend(
            self.pattern_calls
                .iter()
                .filter(|(m, _)| m.is_match(qualified))
                .map(|(_, e)| e),
        );
        found
    }

    /// Whether some tracked type has a blocking method of this name.
    pub fn knows_method(&self, method: &str) -> bool {
        self.method_names.contains(method)
    }

    pub fn method(&self, type_name: &str, method: &str) -> Option<&MethodEntry> {
        self.methods
            .get(&(type_name.to_string(), method.to_string()))
    }

    pub fn type_def(&self, name: &str) -> Option<&TypeDef> {
        self.types.get(name.strip_suffix("[]").unwrap_or(name))
    }

    /// The type made by calling this qualified name, if it is a tracked constructor.
    pub fn constructed_type(&self, qualified: &str) -> Option<&str> {
        self.constructors.get(qualified).map(String::as_str)
    }
}

/// The catalog type of in-memory file objects (`io.BytesIO`, `io.StringIO`).
pub const BUFFER_TYPE: &str = "io.BytesIO";

/// A user-declared blocking callable, offloaded to a thread.
fn user_entry(rule: usize, name: &str) -> CallEntry {
    CallEntry {
        rule,
        name: name.to_string(),
        fix: EntryFix::Thread,
        lazy: false,
        returns: None,
        arg_type: None,
        keyword: None,
        reason: None,
        native: None,
        buffer_ok: false,
    }
}

/// `os.spawn*`: a name with one `*`, at its end (the catalog's own prefix form).
fn is_plain_prefix(name: &str) -> bool {
    name.strip_suffix('*')
        .is_some_and(|rest| !rest.contains(['*', '?', '[']))
}

/// Why an `extra-blocking-calls` entry could never match a call, if it could not.
fn check_user_call(name: &str) -> Result<(), String> {
    if name.contains("->") {
        return Err(format!(
            "`{name}`: flake8-async's `a -> b` form is not supported; list the blocking callable alone (its qualified name)"
        ));
    }
    if name.starts_with('.') {
        return Err(format!(
            "`{name}` is relative: give the callable's package path (`mypackage{name}`)"
        ));
    }
    if !name.contains('.') {
        return Err(format!(
            "`{name}` is a bare name, which no call resolves to: give the callable's module path (`mylib.{name}`)"
        ));
    }
    let valid_part = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '*' | '?' | '[' | ']' | '!'))
    };
    if !name.split('.').all(valid_part) {
        return Err(format!(
            "`{name}` is not a dotted name (`mylib.client.fetch`) or an fnmatch pattern (`mylib.*.fetch`)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalog_loads_and_is_consistent() {
        let catalog = Catalog::builtin().expect("catalog");
        assert_eq!(catalog.rules.len(), FAMILIES.len());
        assert!(!catalog.calls_named("time.sleep").is_empty());
        assert!(!catalog.calls_named("os.spawnlp").is_empty());
        assert!(catalog.calls_named("os.path.join").is_empty());
        assert!(catalog.method("pathlib.Path", "read_text").is_some());
        assert_eq!(
            catalog.constructed_type("pathlib.Path"),
            Some("pathlib.Path")
        );
    }

    const FAMILY: &str = "[rule]\ncode = \"UNB901\"\nid = \"test-family\"\nsummary = \"s\"\nfix = \"thread\"\ndoc = \"d\"\n";

    #[test]
    fn a_new_builtin_is_one_toml_line() {
        let mut catalog = Catalog::builtin().expect("catalog");
        assert!(!catalog.names_builtin("breakpoint"));
        let family = format!("{FAMILY}\n[[calls]]\nnames = [\"breakpoint\"]\n");
        catalog.add_family("test.toml", &family).expect("valid");
        assert!(catalog.names_builtin("breakpoint"));
        assert!(!catalog.calls_named("breakpoint").is_empty());
    }

    #[test]
    fn a_name_listed_twice_is_an_error() {
        let mut catalog = Catalog::builtin().expect("catalog");
        let family = format!("{FAMILY}\n[[calls]]\nnames = [\"time.sleep\"]\n");
        let err = catalog
            .add_family("test.toml", &family)
            .expect_err("time.sleep is in sleep.toml");
        assert!(
            err.to_string()
                .contains("call `time.sleep` is listed twice"),
            "{err}"
        );
        let mut catalog = Catalog::builtin().expect("catalog");
        let family =
            format!("{FAMILY}\n[[methods]]\ntype = \"pathlib.Path\"\nnames = [\"read_text\"]\n");
        let err = catalog
            .add_family("test.toml", &family)
            .expect_err("Path.read_text is in path.toml");
        assert!(err.to_string().contains("listed twice"), "{err}");
    }

    #[test]
    fn user_patterns_match_qualified_names_and_impossible_entries_are_errors() {
        let catalog = Catalog::builtin()
            .expect("catalog")
            .with_user_calls(&["mylib.*.fetch".to_string(), "tools.run_?".to_string()])
            .expect("valid");
        assert!(!catalog.calls_named("mylib.client.fetch").is_empty());
        assert!(!catalog.calls_named("mylib.a.b.fetch").is_empty());
        assert!(catalog.calls_named("mylib.fetch").is_empty());
        assert!(!catalog.calls_named("tools.run_x").is_empty());
        for (bad, why) in [
            ("requests", "bare name"),
            ("mylib.fetch -> mylib.afetch", "a -> b"),
            ("mylib..fetch", "not a dotted name"),
            (".client.fetch", "relative"),
        ] {
            let err = Catalog::builtin()
                .expect("catalog")
                .with_user_calls(&[bad.to_string()])
                .expect_err(bad);
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn user_method_names_make_a_tracked_type() {
        let catalog = Catalog::builtin()
            .expect("catalog")
            .with_user_calls(&[
                "mylib.client.Client.fetch".to_string(),
                "weather.forecast".to_string(),
            ])
            .expect("valid");
        assert!(catalog.method("mylib.client.Client", "fetch").is_some());
        assert_eq!(
            catalog.constructed_type("mylib.client.Client"),
            Some("mylib.client.Client")
        );
        assert!(!catalog.calls_named("weather.forecast").is_empty());
    }
}
