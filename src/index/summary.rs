//! What one file tells the project index: for each of its sync functions and methods, the
//! blocking calls and the project calls in its body (in source order), whether it is a
//! generator, and whether it must stay on the event loop's thread; and the project functions
//! its coroutines call. Built from the same parse and resolver as everything else, with the
//! catalog's matching rules, so a call blocks here exactly when it would in a coroutine.

use std::collections::HashSet;

use tree_sitter::Node;

use crate::catalog::Catalog;
use crate::index::modules::ModuleName;
use crate::parse::syntax::{
    first_parameter_name, is_async_def, named_children, text, unparenthesize,
};
use crate::resolve::Resolver;

/// One call in a sync function's body that may block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Site {
    /// A catalog call (`open`, `requests.get`).
    Blocking { call: String, line: usize },
    /// A call of a project function, by key (`app.config.load`).
    Project { key: String, line: usize },
}

/// A sync function or method of the file.
#[derive(Debug, Clone)]
pub struct FunctionFacts {
    /// `app.config.load`, `app.client.Client.fetch`.
    pub key: String,
    /// How a chain names it: `load`, `Client.fetch`.
    pub name: String,
    pub sites: Vec<Site>,
    /// Its body yields: calling it runs nothing yet.
    pub generator: bool,
    /// Why it must run on the event loop's thread, if it must.
    pub loop_bound: Option<String>,
    /// The tracked type it returns (a file it opens), if its first such return says.
    pub returns: Option<String>,
}

/// A class of the file and the keys of its bases (for methods it inherits).
#[derive(Debug, Clone)]
pub struct ClassFacts {
    pub key: String,
    pub bases: Vec<String>,
}

/// Everything the index needs from one file.
#[derive(Debug, Clone, Default)]
pub struct FileFacts {
    /// How the file is shown (`app/config.py`).
    pub file: String,
    pub functions: Vec<FunctionFacts>,
    pub classes: Vec<ClassFacts>,
    /// Module-level `from … import name [as alias]`: `app.load` → `app.config.load`.
    pub aliases: Vec<(String, String)>,
    /// Keys of the project calls made in its coroutines (which modules are needed).
    pub called_from_async: Vec<String>,
}

impl FileFacts {
    /// Every key the file calls (from coroutines and sync functions alike).
    pub fn called(&self) -> impl Iterator<Item = &str> {
        self.called_from_async
            .iter()
            .map(String::as_str)
            .chain(self.functions.iter().flat_map(|f| {
                f.sites.iter().filter_map(|s| match s {
                    Site::Project { key, .. } => Some(key.as_str()),
                    Site::Blocking { .. } => None,
                })
            }))
            .chain(self.aliases.iter().map(|(_, target)| target.as_str()))
            .chain(
                self.classes
                    .iter()
                    .flat_map(|c| c.bases.iter().map(String::as_str)),
            )
    }
}

/// The file's names for its project calls: its module, and the classes and functions it
/// defines at module level.
pub struct Scope<'m> {
    pub module: &'m ModuleName,
    defined: HashSet<String>,
}

impl<'m> Scope<'m> {
    pub fn new(module: &'m ModuleName, root: Node, src: &str) -> Self {
        let defined = module_level_definitions(root)
            .into_iter()
            .filter_map(|d| d.child_by_field_name("name"))
            .map(|n| text(n, src).to_string())
            .collect();
        Scope { module, defined }
    }

    /// The key of the project function a call's callee may name, if it names one by a
    /// resolvable path: a function or class of this module, an imported name (relative imports
    /// made absolute), `module.function`, `Class.method`, or `self.method` / `cls.method` in a
    /// method. Whether the key is a project function is the index's question.
    pub fn key_of<'t>(
        &self,
        resolver: &Resolver<'t>,
        callee: Node<'t>,
        function: Node<'t>,
    ) -> Option<String> {
        let callee = unparenthesize(callee);
        let src = resolver.src();
        match callee.kind() {
            "identifier" => {
                let name = text(callee, src);
                if self.defined.contains(name) && resolver.is_module_level(name, callee) {
                    return (resolver.binding_count(name, callee) == 1)
                        .then(|| format!("{}.{name}", self.module.name));
                }
            }
            "attribute" => {
                let object = unparenthesize(callee.child_by_field_name("object")?);
                let attribute = text(callee.child_by_field_name("attribute")?, src);
                if object.kind() == "identifier" {
                    let name = text(object, src);
                    if let Some(class) = self.class_of_receiver(resolver, object, function) {
                        return Some(format!("{}.{class}.{attribute}", self.module.name));
                    }
                    if self.defined.contains(name) && resolver.is_module_level(name, object) {
                        return (resolver.binding_count(name, object) == 1)
                            .then(|| format!("{}.{name}.{attribute}", self.module.name));
                    }
                }
            }
            _ => return None,
        }
        let qualified = resolver.qualified_name(callee)?;
        let absolute = self.module.absolute(&qualified)?;
        absolute.contains('.').then_some(absolute)
    }

    /// `self` (or `cls`) inside a method of a module-level class (`function`, the function
    /// the call is in): that class's name.
    fn class_of_receiver<'t>(
        &self,
        resolver: &Resolver<'t>,
        object: Node<'t>,
        function: Node<'t>,
    ) -> Option<&str> {
        let src = resolver.src();
        let name = text(object, src);
        if first_parameter_name(function, src) != Some(name) {
            return None;
        }
        let class = crate::parse::syntax::class_of_method(function)?;
        if class.parent().is_none_or(|p| !is_module_level_statement(p)) {
            return None;
        }
        let class_name = text(class.child_by_field_name("name")?, src);
        let class_name = self.defined.get(class_name)?;
        (resolver.binding_scope(name, object) == Some(function.id())).then_some(class_name.as_str())
    }
}

/// Whether a node is the module, or a decorated definition directly in it.
fn is_module_level_statement(node: Node) -> bool {
    node.kind() == "module"
        || (node.kind() == "decorated_definition"
            && node.parent().is_some_and(|p| p.kind() == "module"))
}

/// The function and class definitions directly in the module (decorated or not).
fn module_level_definitions(root: Node) -> Vec<Node> {
    named_children(root)
        .into_iter()
        .filter_map(|s| match s.kind() {
            "decorated_definition" => s.child_by_field_name("definition"),
            "function_definition" | "class_definition" => Some(s),
            _ => None,
        })
        .collect()
}

/// Decorators that leave a function a plain sync function called as written.
const TRANSPARENT_DECORATORS: &[&str] = &[
    "staticmethod",
    "classmethod",
    "functools.cache",
    "functools.lru_cache",
    "typing.override",
    "typing_extensions.override",
    "abc.abstractmethod",
];

/// The facts of one parsed file.
pub fn summarize<'t>(
    resolver: &Resolver<'t>,
    catalog: &Catalog,
    scope: &Scope,
    file: String,
) -> FileFacts {
    let root = resolver.root();
    let src = resolver.src();
    let module = &scope.module.name;
    let mut facts = FileFacts {
        file,
        ..FileFacts::default()
    };
    // Module-level imports re-export what they bind (`from .config import load` in `app`
    // makes `app.load` mean `app.config.load`), as the resolver reads them.
    facts.aliases = resolver
        .module_imports()
        .into_iter()
        .filter_map(|(name, target)| {
            Some((format!("{module}.{name}"), scope.module.absolute(&target)?))
        })
        .collect();
    for definition in module_level_definitions(root) {
        let Some(name_node) = definition.child_by_field_name("name") else {
            continue;
        };
        let name = text(name_node, src);
        // A name the module binds again (`Future = _CFuture` after `class Future`, a def under
        // `try:` and another under `except:`) may not mean this definition when called.
        if resolver.binding_count(name, name_node) != 1 {
            continue;
        }
        if definition.kind() == "function_definition" {
            if let Some(f) = function_facts(resolver, catalog, scope, definition, name) {
                facts.functions.push(f);
            }
            continue;
        }
        let key = format!("{module}.{name}");
        let bases = definition
            .child_by_field_name("superclasses")
            .map(named_children)
            .unwrap_or_default()
            .into_iter()
            .filter(|b| matches!(b.kind(), "identifier" | "attribute"))
            .filter_map(|b| base_key(resolver, scope, b))
            .collect();
        facts.classes.push(ClassFacts {
            key: key.clone(),
            bases,
        });
        let Some(body) = definition.child_by_field_name("body") else {
            continue;
        };
        for method in named_children(body)
            .into_iter()
            .filter_map(|s| match s.kind() {
                "decorated_definition" => s.child_by_field_name("definition"),
                "function_definition" => Some(s),
                _ => None,
            })
        {
            if method.kind() != "function_definition" {
                continue;
            }
            let Some(method_name) = method.child_by_field_name("name") else {
                continue;
            };
            let qualified = format!("{name}.{}", text(method_name, src));
            if let Some(f) = function_facts(resolver, catalog, scope, method, &qualified) {
                facts.functions.push(f);
            }
        }
    }
    facts.called_from_async = async_calls(resolver, scope, root);
    facts
}

/// A base class's key: a class of this module, or an imported one.
fn base_key<'t>(resolver: &Resolver<'t>, scope: &Scope, base: Node<'t>) -> Option<String> {
    let src = resolver.src();
    if base.kind() == "identifier" && scope.defined.contains(text(base, src)) {
        return Some(format!("{}.{}", scope.module.name, text(base, src)));
    }
    scope.module.absolute(&resolver.qualified_name(base)?)
}

fn function_facts<'t>(
    resolver: &Resolver<'t>,
    catalog: &Catalog,
    scope: &Scope,
    function: Node<'t>,
    name: &str,
) -> Option<FunctionFacts> {
    if is_async_def(function) {
        return None;
    }
    let src = resolver.src();
    let mut loop_bound = None;
    if let Some(decorated) = function
        .parent()
        .filter(|p| p.kind() == "decorated_definition")
    {
        for decorator in named_children(decorated)
            .into_iter()
            .filter(|d| d.kind() == "decorator")
        {
            let expression = named_children(decorator).into_iter().next()?;
            let called = match expression.kind() {
                "call" => expression.child_by_field_name("function")?,
                _ => expression,
            };
            let qualified = resolver
                .qualified_name(called)
                .unwrap_or_else(|| text(called, src).to_string());
            if qualified == "callback" || qualified.ends_with(".callback") {
                loop_bound = Some(format!(
                    "`{name}` is a `@callback`, made to run on the event loop"
                ));
            } else if !TRANSPARENT_DECORATORS.contains(&qualified.as_str()) {
                // Any other decorator may change what calling it does (run it elsewhere,
                // return an awaitable): not summarised.
                return None;
            }
        }
    }
    let body = function.child_by_field_name("body")?;
    let mut sites = Vec::new();
    let mut generator = false;
    let mut returns = None;
    let mut stack = vec![body];
    while let Some(node) = stack.pop() {
        crate::budget::tick();
        match node.kind() {
            "function_definition" | "lambda" | "class_definition" => continue,
            "yield" => generator = true,
            "return_statement" if returns.is_none() => {
                returns = named_children(node)
                    .first()
                    .and_then(|v| resolver.type_of(*v))
                    .filter(|t| catalog.type_def(&t.name).is_some())
                    .map(|t| t.name);
            }
            // Debugging aids (`if self._loop.get_debug():`, `if __debug__:`) are not the
            // function's normal work: only the other branches count.
            "if_statement"
                if node
                    .child_by_field_name("condition")
                    .is_some_and(|c| text(c, src).to_ascii_lowercase().contains("debug")) =>
            {
                stack.extend(
                    named_children(node)
                        .into_iter()
                        .filter(|c| matches!(c.kind(), "elif_clause" | "else_clause"))
                        .rev(),
                );
                continue;
            }
            "call" => {
                let line = node.start_position().row + 1;
                let callee = node.child_by_field_name("function");
                if loop_bound.is_none() {
                    loop_bound = callee.and_then(|c| loop_use(resolver, c, name));
                }
                if let Some(call) = crate::find::catalog_call(resolver, catalog, node) {
                    if loop_bound.is_none()
                        && thread_bound_receiver(resolver, catalog, &call, callee)
                    {
                        loop_bound = Some(format!(
                            "`{name}` uses a connection made elsewhere, which only the thread that made it may use"
                        ));
                    }
                    if loop_bound.is_none() && keeps_thread_bound_value(catalog, &call, node) {
                        loop_bound = Some(format!(
                            "`{name}` keeps the `{call}` value it makes, which only the thread that made it may use"
                        ));
                    }
                    sites.push(Site::Blocking { call, line });
                } else if let Some(key) = callee.and_then(|c| scope.key_of(resolver, c, function)) {
                    sites.push(Site::Project { key, line });
                }
            }
            _ => {}
        }
        stack.extend(named_children(node).into_iter().rev());
    }
    Some(FunctionFacts {
        key: format!("{}.{name}", scope.module.name),
        name: name.to_string(),
        sites,
        generator,
        loop_bound,
        returns,
    })
}

/// Why calling `callee` needs the event loop's thread (see [`crate::runtime::thread_tie`]);
/// a method name plain containers share (`clear`, `set`) does not pin a whole function.
fn loop_use<'t>(resolver: &Resolver<'t>, callee: Node<'t>, function: &str) -> Option<String> {
    use crate::runtime::ThreadTie;
    let src = resolver.src();
    let qualified = resolver.qualified_name(callee);
    let why = match crate::runtime::thread_tie(
        qualified.as_deref(),
        crate::parse::syntax::last_name(callee, src),
    )? {
        ThreadTie::Ambiguous => return None,
        ThreadTie::HandledException => {
            "reads the exception being handled: a worker thread has none"
        }
        ThreadTie::EventLoop | ThreadTie::LoopCallback => "needs the event loop's thread",
    };
    Some(format!(
        "`{function}` calls `{}`, which {why}",
        text(unparenthesize(callee), src)
    ))
}

/// Whether a call makes a value only its own thread may use (`sqlite3.connect`) and the
/// function lets it out: stored on an attribute (`self.db = ...`), returned or yielded.
fn keeps_thread_bound_value(catalog: &Catalog, call: &str, node: Node) -> bool {
    let makes_one = catalog.calls_named(call).into_iter().any(|e| {
        e.returns
            .as_deref()
            .and_then(|r| catalog.type_def(r))
            .is_some_and(|d| d.scope == crate::catalog::Scope::ThreadBound)
    });
    if !makes_one {
        return false;
    }
    let Some(parent) = node.parent() else {
        return false;
    };
    match parent.kind() {
        "return_statement" | "yield" => true,
        "assignment" => parent
            .child_by_field_name("left")
            .is_some_and(|l| matches!(l.kind(), "attribute" | "subscript")),
        _ => false,
    }
}

/// Whether a call is a method of a value only its own thread may use, made outside the function
/// (`self.db.execute(...)` on a sqlite3 connection).
fn thread_bound_receiver<'t>(
    resolver: &Resolver<'t>,
    catalog: &Catalog,
    call: &str,
    callee: Option<Node<'t>>,
) -> bool {
    let method_of_bound_type = call
        .rsplit_once('.')
        .and_then(|(owner, _)| catalog.type_def(owner))
        .is_some_and(|d| d.scope == crate::catalog::Scope::ThreadBound);
    let Some(callee) = callee
        .map(unparenthesize)
        .filter(|c| method_of_bound_type && c.kind() == "attribute")
    else {
        return false;
    };
    callee
        .child_by_field_name("object")
        .and_then(|o| resolver.type_of(o))
        .is_some_and(|t| t.outer && resolver.is_thread_bound(&t))
}

/// The project keys called in the file's coroutines (nested functions included: a superset
/// is enough to know which modules are needed). Coroutines are statements: the search for
/// them does not enter expressions.
fn async_calls<'t>(resolver: &Resolver<'t>, scope: &Scope, root: Node<'t>) -> Vec<String> {
    let mut keys = Vec::new();
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        crate::budget::tick();
        match node.kind() {
            "function_definition" if is_async_def(node) => {
                for call in crate::parse::syntax::descendants(node)
                    .into_iter()
                    .filter(|n| n.kind() == "call")
                {
                    if let Some(key) = call
                        .child_by_field_name("function")
                        .and_then(|c| scope.key_of(resolver, c, node))
                    {
                        keys.push(key);
                    }
                }
                // Coroutines defined inside it (`descendants` stops at nested scopes).
                stack.extend(named_children(node));
            }
            kind if crate::parse::syntax::holds_statements(kind) => {
                stack.extend(named_children(node));
            }
            _ => {}
        }
    }
    keys.sort();
    keys.dedup();
    keys
}
