//! Names and scopes: what an identifier refers to at a given place, and the light typing of
//! receivers (`Path` values, file objects, sessions, connections, …).
//!
//! Python's rules, simplified only where it cannot matter for the catalog: a name bound
//! anywhere in a function body is local to it (unless declared `global`); class bodies are not
//! visible from their methods; comprehension targets are local to the comprehension; what no
//! scope binds is a builtin. Imports bind qualified names (`import os.path as osp` → `osp` is
//! `os.path`), so resolution never relies on a name match alone.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use tree_sitter::Node;

use crate::catalog::{Catalog, Scope};
use crate::parse::syntax::{is_comprehension, is_field, named_children, text, unparenthesize};

/// The types of a class's `self.<attr>` values (`None` where they disagree).
type AttrTypes = HashMap<String, Option<String>>;

/// A place that binds a name in a scope.
#[derive(Debug, Clone)]
enum Site<'a> {
    Import(String),
    /// `name = value`, `with value as name`, `(name := value)`.
    Value(Node<'a>),
    /// `for name in iterable`.
    IterOf(Node<'a>),
    /// A parameter with this annotation.
    Annotation(Node<'a>),
    /// `name /= other`: keeps whatever type the other sites give.
    Keeps,
    Unknown,
}

#[derive(Debug, Default)]
struct ScopeInfo<'a> {
    sites: HashMap<String, Vec<Site<'a>>>,
    globals: HashSet<String>,
}

/// A value's tracked type and whether it was made outside the function that uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Typed {
    pub name: String,
    /// Made in another function, the class (`self.x`) or at module level.
    pub outer: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Ty {
    Known(Typed),
    /// The variable is being typed already (a cycle such as `p = p / "x"`).
    Pending,
}

/// What an identifier resolves to at a place.
enum Lookup<'a> {
    /// Bound in a scope; `outer` when that scope is not the innermost function's.
    Bound {
        sites: Vec<Site<'a>>,
        outer: bool,
        scope: usize,
        name: String,
    },
    Unbound,
}

pub struct Resolver<'a> {
    src: &'a str,
    root: Node<'a>,
    catalog: &'a Catalog,
    scopes: RefCell<HashMap<usize, Rc<ScopeInfo<'a>>>>,
    class_attrs: RefCell<HashMap<usize, Rc<AttrTypes>>>,
    in_progress: RefCell<HashSet<(usize, String)>>,
    /// How often each name is read in the module, computed on first need.
    reference_counts: std::cell::OnceCell<HashMap<String, usize>>,
    /// The modules the module star-imports (`from os.path import *`), computed on first need.
    star_modules: std::cell::OnceCell<Vec<String>>,
    /// The names some function declares `global` (and may rebind), computed on first need.
    global_names: std::cell::OnceCell<HashSet<String>>,
    /// Every identifier in an import statement anywhere, computed on first need.
    imported_names: std::cell::OnceCell<HashSet<String>>,
    /// Qualified names already resolved, by node id (the finder, the index and the planner
    /// ask about the same callees).
    qualified: RefCell<HashMap<usize, Option<String>>>,
    /// The tracked type a call of one of the project's own functions returns (a sync factory
    /// returning a file), when the run built the project index.
    project_returns: std::cell::OnceCell<ProjectReturns<'a>>,
    /// The module's own name, which makes relative imports absolute (`.client.fetch` in
    /// `app.web` is `app.client.fetch`).
    module: std::cell::OnceCell<crate::index::modules::ModuleName>,
}

/// How the resolver asks the project index what a call of a project function returns.
pub type ProjectReturns<'a> = Box<dyn Fn(&Resolver<'a>, Node<'a>) -> Option<String> + 'a>;

impl<'a> Resolver<'a> {
    pub fn new(src: &'a str, root: Node<'a>, catalog: &'a Catalog) -> Self {
        Resolver {
            src,
            root,
            catalog,
            scopes: RefCell::new(HashMap::new()),
            class_attrs: RefCell::new(HashMap::new()),
            in_progress: RefCell::new(HashSet::new()),
            reference_counts: std::cell::OnceCell::new(),
            star_modules: std::cell::OnceCell::new(),
            global_names: std::cell::OnceCell::new(),
            imported_names: std::cell::OnceCell::new(),
            qualified: RefCell::new(HashMap::new()),
            project_returns: std::cell::OnceCell::new(),
            module: std::cell::OnceCell::new(),
        }
    }

    pub fn src(&self) -> &'a str {
        self.src
    }

    /// Names the module, so that relative imports resolve to absolute names (set once, before
    /// any question is asked).
    pub fn set_module(&self, module: crate::index::modules::ModuleName) {
        let _ = self.module.set(module);
    }

    /// Lets calls of the project's own functions be typed by what they return (set once,
    /// before any question is asked).
    pub fn set_project_returns(&self, returns: ProjectReturns<'a>) {
        let _ = self.project_returns.set(returns);
    }

    pub fn catalog(&self) -> &'a Catalog {
        self.catalog
    }

    /// Whether some function of the module declares `name` global (and so may rebind it).
    fn declared_global(&self, name: &str) -> bool {
        self.global_names
            .get_or_init(|| {
                let mut names = HashSet::new();
                let mut stack = vec![self.root];
                while let Some(n) = stack.pop() {
                    if n.kind() == "global_statement" {
                        names.extend(
                            named_children(n)
                                .into_iter()
                                .map(|i| text(i, self.src).to_string()),
                        );
                    }
                    stack.extend(named_children(n));
                }
                names
            })
            .contains(name)
    }

    /// Whether an identifier can have a qualified name at all: a module-level name, a name some
    /// import binds anywhere, a builtin the catalog names, or any name when the module
    /// star-imports. Anything else (`self`, a local, a parameter) is answered without a scope
    /// lookup.
    fn may_name_an_import(&self, ident: &str) -> bool {
        let imported = self.imported_names.get_or_init(|| {
            let mut names = HashSet::new();
            let mut stack = vec![self.root];
            while let Some(node) = stack.pop() {
                match node.kind() {
                    "import_statement" | "import_from_statement" | "future_import_statement" => {
                        names.extend(
                            crate::parse::syntax::descendants(node)
                                .into_iter()
                                .filter(|n| n.kind() == "identifier")
                                .map(|n| text(n, self.src).to_string()),
                        );
                    }
                    // Imports are statements: only statement containers can hold one.
                    kind if crate::parse::syntax::holds_statements(kind) => {
                        stack.extend(named_children(node));
                    }
                    _ => {}
                }
            }
            names
        });
        imported.contains(ident)
            || self.catalog.names_builtin(ident)
            || self.scope_info(self.root).sites.contains_key(ident)
            || !self
                .star_modules
                .get_or_init(|| self.star_import_modules())
                .is_empty()
    }

    /// The catalog call a module-level star import makes `name` mean, if one does.
    fn star_imported(&self, name: &str) -> Option<String> {
        let modules = self.star_modules.get_or_init(|| self.star_import_modules());
        modules
            .iter()
            .map(|m| format!("{m}.{name}"))
            .find(|q| !self.catalog.calls_named(q).is_empty())
    }

    /// The modules the module star-imports (`from os.path import *`).
    fn star_import_modules(&self) -> Vec<String> {
        named_children(self.root)
            .into_iter()
            .filter(|s| {
                s.kind() == "import_from_statement"
                    && named_children(*s)
                        .iter()
                        .any(|c| c.kind() == "wildcard_import")
            })
            .filter_map(|s| s.child_by_field_name("module_name"))
            .map(|m| text(m, self.src).to_string())
            .collect()
    }

    /// The module node.
    pub fn root(&self) -> Node<'a> {
        self.root
    }

    /// The qualified name an expression refers to: `osp.getsize` → `os.path.getsize`,
    /// `open` → `open` when no scope rebinds it. `None` for anything local or computed.
    pub fn qualified_name(&self, expr: Node<'a>) -> Option<String> {
        if let Some(known) = self.qualified.borrow().get(&expr.id()) {
            return known.clone();
        }
        let mut name = self.qualified_name_at(expr, 0);
        if let (Some(relative), Some(module)) = (&name, self.module.get())
            && relative.starts_with('.')
        {
            name = module.absolute(relative);
        }
        self.qualified.borrow_mut().insert(expr.id(), name.clone());
        name
    }

    fn qualified_name_at(&self, expr: Node<'a>, depth: usize) -> Option<String> {
        if depth > 8 {
            return None;
        }
        let expr = unparenthesize(expr);
        let name = match expr.kind() {
            "identifier" => {
                let ident = text(expr, self.src);
                if !self.may_name_an_import(ident) {
                    return None;
                }
                match self.lookup(ident, expr) {
                    Lookup::Bound { sites, scope, .. } => match single_import(&sites) {
                        Some(q) => q,
                        // A module-level alias of a callable (`_sleep = time.sleep`), unless a
                        // function may rebind it (`global _sleep`).
                        None if scope == self.root.id() && !self.declared_global(ident) => {
                            match sites.as_slice() {
                                [Site::Value(v)]
                                    if matches!(v.kind(), "identifier" | "attribute") =>
                                {
                                    self.qualified_name_at(*v, depth + 1)?
                                }
                                _ => return None,
                            }
                        }
                        None => return None,
                    },
                    // A builtin the catalog names, or a catalog call a star import brings in
                    // (`from os.path import *` → `exists`); any other unbound name is nothing.
                    Lookup::Unbound if self.catalog.names_builtin(ident) => ident.to_string(),
                    Lookup::Unbound => self.star_imported(ident)?,
                }
            }
            "attribute" => {
                let object = expr.child_by_field_name("object")?;
                let attr = expr.child_by_field_name("attribute")?;
                format!(
                    "{}.{}",
                    self.qualified_name_at(object, depth + 1)?,
                    text(attr, self.src)
                )
            }
            _ => return None,
        };
        Some(
            name.strip_prefix("builtins.")
                .map(str::to_string)
                .unwrap_or(name),
        )
    }

    /// The module-level name bound to a qualified import target (`asyncio` → `aio` after
    /// `import asyncio as aio`), if any.
    pub fn module_alias_for(&self, qualified: &str) -> Option<String> {
        let info = self.scope_info(self.root);
        let mut names: Vec<&String> = info
            .sites
            .iter()
            .filter(|(_, sites)| single_import(sites).as_deref() == Some(qualified))
            .map(|(name, _)| name)
            .collect();
        // The module's own name first (`asyncio` over an `_asyncio` alias a fix added).
        names.sort_by_key(|n| (n.as_str() != qualified, n.to_string()));
        names.first().map(|s| s.to_string())
    }

    /// The module-level names bound by an import and nothing else, with what they import
    /// (`load` → `.config.load` for `from .config import load`), in name order.
    pub fn module_imports(&self) -> Vec<(String, String)> {
        let info = self.scope_info(self.root);
        let mut out: Vec<(String, String)> = info
            .sites
            .iter()
            .filter_map(|(name, sites)| Some((name.clone(), single_import(sites)?)))
            .collect();
        out.sort();
        out
    }

    /// Whether a module-level name is bound at all.
    pub fn module_binds(&self, name: &str) -> bool {
        self.scope_info(self.root).sites.contains_key(name)
    }

    /// Whether a module-level import of this module (or of something inside it) is read
    /// anywhere: `import trio` kept only to pre-load it does not count.
    pub fn uses_module(&self, module: &str) -> bool {
        let info = self.scope_info(self.root);
        let prefix = format!("{module}.");
        let names: Vec<&String> = info
            .sites
            .iter()
            .filter(|(_, sites)| {
                sites
                    .iter()
                    .any(|s| matches!(s, Site::Import(q) if q == module || q.starts_with(&prefix)))
            })
            .map(|(name, _)| name)
            .collect();
        if names.is_empty() {
            return false;
        }
        let counts = self
            .reference_counts
            .get_or_init(|| crate::parse::syntax::reference_counts(self.root, self.src));
        names
            .iter()
            .any(|n| counts.get(n.as_str()).copied().unwrap_or(0) > 0)
    }

    /// The tracked type of an expression, if known.
    /// Whether a call's file argument (the first positional one, or `fileobj=`/`fp=`) is an
    /// in-memory buffer (`io.BytesIO(...)`, or a name bound to one): no file, no I/O.
    pub fn over_a_buffer(&self, call: Node<'a>) -> bool {
        self.over_buffer(call, 0)
    }

    fn over_buffer(&self, call: Node<'a>, depth: usize) -> bool {
        let Some(args) = call.child_by_field_name("arguments") else {
            return false;
        };
        let items = named_children(args);
        let file = items
            .iter()
            .find(|a| {
                a.kind() == "keyword_argument"
                    && a.child_by_field_name("name")
                        .is_some_and(|n| matches!(text(n, self.src), "fileobj" | "fp"))
            })
            .and_then(|a| a.child_by_field_name("value"))
            .or_else(|| {
                items
                    .first()
                    .copied()
                    .filter(|a| a.kind() != "keyword_argument")
            });
        file.and_then(|f| self.ty(f, depth + 1))
            .is_some_and(|t| matches!(t, Ty::Known(t) if t.name == crate::catalog::BUFFER_TYPE))
    }

    pub fn type_of(&self, expr: Node<'a>) -> Option<Typed> {
        match self.ty(expr, 0)? {
            Ty::Known(t) => Some(t),
            Ty::Pending => None,
        }
    }

    fn ty(&self, expr: Node<'a>, depth: usize) -> Option<Ty> {
        if depth > 24 {
            return None;
        }
        let expr = unparenthesize(expr);
        match expr.kind() {
            "call" => {
                let callee = expr.child_by_field_name("function")?;
                if let Some(returns) = self.project_returns.get()
                    && let Some(t) = returns(self, expr)
                {
                    return Some(local(&t));
                }
                if let Some(q) = self.qualified_name(callee) {
                    if let Some(t) = self.catalog.constructed_type(&q) {
                        return Some(local(t));
                    }
                    // An archive or image over an in-memory buffer is no file: untyped.
                    return self
                        .catalog
                        .calls_named(&q)
                        .into_iter()
                        .find(|e| e.arg_type.is_none())
                        .filter(|e| !(e.buffer_ok && self.over_buffer(expr, depth + 1)))
                        .and_then(|e| e.returns.as_deref())
                        .map(local);
                }
                // `opener(p)` with `opener = gzip.open if z else open`: the type every branch
                // makes, when they agree.
                if let Some(names) = self.alternatives(callee) {
                    let made: Vec<Option<&str>> = names
                        .iter()
                        .map(|q| {
                            self.catalog
                                .calls_named(q)
                                .into_iter()
                                .find(|e| e.arg_type.is_none())
                                .and_then(|e| e.returns.as_deref())
                        })
                        .collect();
                    return match made.as_slice() {
                        [Some(first), rest @ ..] if rest.iter().all(|t| *t == Some(*first)) => {
                            Some(local(first))
                        }
                        _ => None,
                    };
                }
                let callee = unparenthesize(callee);
                if callee.kind() != "attribute" {
                    return None;
                }
                let object = callee.child_by_field_name("object")?;
                let method = text(callee.child_by_field_name("attribute")?, self.src);
                let Ty::Known(receiver) = self.ty(object, depth + 1)? else {
                    return Some(Ty::Pending);
                };
                if let Some(t) = self
                    .catalog
                    .method(&receiver.name, method)
                    .and_then(|m| m.returns.as_deref())
                {
                    return Some(local(t));
                }
                let def = self.catalog.type_def(&receiver.name)?;
                def.returns.get(method).map(|t| local(t))
            }
            "binary_operator" => {
                let op = expr.child_by_field_name("operator")?;
                if text(op, self.src) != "/" {
                    return None;
                }
                let left = self.ty(expr.child_by_field_name("left")?, depth + 1)?;
                match left {
                    Ty::Known(t) if self.catalog.type_def(&t.name).is_some_and(|d| d.divides) => {
                        Some(Ty::Known(t))
                    }
                    Ty::Known(_) => None,
                    Ty::Pending => Some(Ty::Pending),
                }
            }
            "attribute" => {
                let object = unparenthesize(expr.child_by_field_name("object")?);
                let attr = text(expr.child_by_field_name("attribute")?, self.src);
                if let Some(class) = self.self_class(object) {
                    let attrs = self.class_attr_types(class);
                    let t = attrs.get(attr)?.clone()?;
                    return Some(Ty::Known(Typed {
                        name: t,
                        outer: true,
                    }));
                }
                let Ty::Known(t) = self.ty(object, depth + 1)? else {
                    return Some(Ty::Pending);
                };
                let def = self.catalog.type_def(&t.name)?;
                def.attributes.get(attr).map(|a| {
                    Ty::Known(Typed {
                        name: a.clone(),
                        outer: t.outer,
                    })
                })
            }
            "identifier" => self.variable_type(expr, depth),
            _ => None,
        }
    }

    fn variable_type(&self, ident: Node<'a>, depth: usize) -> Option<Ty> {
        let Lookup::Bound {
            sites,
            outer,
            scope,
            name,
        } = self.lookup(text(ident, self.src), ident)
        else {
            return None;
        };
        // Re-bound later (`f = open(p)`, `f.read()`, then `f = text`): a use right after one
        // binding in its own block sees that binding only (and is its own step of the
        // recursion guard: `p = p.parent` reads the binding before it).
        let (sites, key) = match dominating_site(&sites, ident) {
            Some((site, at)) => (vec![site], (scope, format!("{name}@{at}"))),
            None => (sites, (scope, name)),
        };
        if self.in_progress.borrow().contains(&key) {
            return Some(Ty::Pending);
        }
        self.in_progress.borrow_mut().insert(key.clone());
        let mut found: Option<String> = None;
        let mut known = true;
        for site in &sites {
            let t = match site {
                Site::Value(value) => self.ty(*value, depth + 1),
                Site::IterOf(iterable) => match self.ty(*iterable, depth + 1) {
                    Some(Ty::Known(t)) => t.name.strip_suffix("[]").map(local),
                    other => other.filter(|t| *t == Ty::Pending),
                },
                Site::Annotation(annotation) => {
                    self.annotation_type(*annotation).map(|t| local(&t))
                }
                Site::Keeps => Some(Ty::Pending),
                Site::Import(_) | Site::Unknown => None,
            };
            match t {
                None => {
                    known = false;
                    break;
                }
                Some(Ty::Pending) => {}
                Some(Ty::Known(t)) => match &found {
                    Some(prev) if *prev != t.name => {
                        known = false;
                        break;
                    }
                    _ => found = Some(t.name),
                },
            }
        }
        self.in_progress.borrow_mut().remove(&key);
        if !known {
            return None;
        }
        found.map(|name| Ty::Known(Typed { name, outer }))
    }

    /// `Path`, `pathlib.Path`, `Path | None`, `Optional[Path]`, `Union[Path, None]`.
    fn annotation_type(&self, annotation: Node<'a>) -> Option<String> {
        let node = if annotation.kind() == "type" {
            *named_children(annotation).first()?
        } else {
            annotation
        };
        match node.kind() {
            "identifier" | "attribute" => {
                let q = self.qualified_name(node)?;
                self.catalog.type_def(&q).map(|d| d.name.clone())
            }
            "binary_operator" => {
                let left = node.child_by_field_name("left")?;
                let right = node.child_by_field_name("right")?;
                match (left.kind(), right.kind()) {
                    (_, "none") => self.annotation_type(left),
                    ("none", _) => self.annotation_type(right),
                    _ => None,
                }
            }
            "generic_type" => {
                let children = named_children(node);
                let first = *children.first()?;
                let head = match self.qualified_name(first) {
                    Some(q) => q,
                    // `list[Path]`: a builtin container no scope rebinds.
                    None if first.kind() == "identifier"
                        && self.binding_scope(text(first, self.src), first).is_none() =>
                    {
                        text(first, self.src).to_string()
                    }
                    None => return None,
                };
                let params = children.get(1)?;
                let args: Vec<Node> = named_children(*params)
                    .into_iter()
                    .filter(|n| {
                        !(n.kind() == "type"
                            && named_children(*n)
                                .first()
                                .is_some_and(|c| c.kind() == "none"))
                    })
                    .collect();
                match (head.as_str(), args.as_slice()) {
                    ("typing.Optional" | "typing.Union", [only]) => self.annotation_type(*only),
                    // A container of one type: its elements are of that type (`for p in files`).
                    (container, [element, ..]) if CONTAINERS.contains(&container) => {
                        self.annotation_type(*element).map(|t| format!("{t}[]"))
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// When `object` is the first parameter of a method, the class that method belongs to.
    fn self_class(&self, object: Node<'a>) -> Option<Node<'a>> {
        if object.kind() != "identifier" {
            return None;
        }
        let name = text(object, self.src);
        let function = enclosing_function(object)?;
        let first = crate::parse::syntax::first_parameter_name(function, self.src)?;
        if first != name {
            return None;
        }
        crate::parse::syntax::class_of_method(function)
    }

    /// Types of `self.<attr>` assigned anywhere in the class (methods or class body).
    fn class_attr_types(&self, class: Node<'a>) -> Rc<AttrTypes> {
        if let Some(done) = self.class_attrs.borrow().get(&class.id()) {
            return done.clone();
        }
        // Placeholder against recursion through `self.x = self.y`.
        self.class_attrs
            .borrow_mut()
            .insert(class.id(), Rc::new(HashMap::new()));
        let mut attrs: HashMap<String, Option<String>> = HashMap::new();
        let merge =
            |attrs: &mut HashMap<String, Option<String>>, name: String, t: Option<String>| {
                let slot = attrs.entry(name).or_insert_with(|| t.clone());
                if *slot != t {
                    *slot = None;
                }
            };
        if let Some(body) = class.child_by_field_name("body") {
            for stmt in named_children(body) {
                let def = if stmt.kind() == "decorated_definition" {
                    stmt.child_by_field_name("definition").unwrap_or(stmt)
                } else {
                    stmt
                };
                if def.kind() == "function_definition" {
                    let Some(this) = crate::parse::syntax::first_parameter_name(def, self.src)
                    else {
                        continue;
                    };
                    let Some(fbody) = def.child_by_field_name("body") else {
                        continue;
                    };
                    for (target, value) in scope_assignments(fbody) {
                        if target.kind() != "attribute" {
                            continue;
                        }
                        let (Some(obj), Some(attr)) = (
                            target.child_by_field_name("object"),
                            target.child_by_field_name("attribute"),
                        ) else {
                            continue;
                        };
                        if obj.kind() == "identifier" && text(obj, self.src) == this {
                            let t = self.type_of(value).map(|t| t.name);
                            merge(&mut attrs, text(attr, self.src).to_string(), t);
                        }
                    }
                } else if stmt.kind() == "expression_statement" {
                    for (target, value) in scope_assignments_in(stmt) {
                        if target.kind() == "identifier" {
                            let t = self.type_of(value).map(|t| t.name);
                            merge(&mut attrs, text(target, self.src).to_string(), t);
                        }
                    }
                }
            }
        }
        let attrs = Rc::new(attrs);
        self.class_attrs
            .borrow_mut()
            .insert(class.id(), attrs.clone());
        attrs
    }

    fn lookup(&self, name: &str, at: Node<'a>) -> Lookup<'a> {
        crate::budget::tick();
        let mut child = at;
        let mut below: Option<Node<'a>> = None;
        let mut functions_passed = 0usize;
        for parent in crate::parse::syntax::ancestors(self.root, at)
            .into_iter()
            .rev()
        {
            let kind = parent.kind();
            if is_comprehension(kind) && !in_first_iterable(parent, child, below) {
                for clause in named_children(parent) {
                    if clause.kind() != "for_in_clause" {
                        continue;
                    }
                    let (Some(left), Some(right)) = (
                        clause.child_by_field_name("left"),
                        clause.child_by_field_name("right"),
                    ) else {
                        continue;
                    };
                    if left.kind() == "identifier" && text(left, self.src) == name {
                        return Lookup::Bound {
                            sites: vec![Site::IterOf(right)],
                            outer: false,
                            scope: parent.id(),
                            name: name.to_string(),
                        };
                    }
                    if pattern_names(left, self.src).contains(&name) {
                        return Lookup::Bound {
                            sites: vec![Site::Unknown],
                            outer: false,
                            scope: parent.id(),
                            name: name.to_string(),
                        };
                    }
                }
            } else if kind == "function_definition" && is_field(parent, "body", child) {
                let info = self.scope_info(parent);
                if info.globals.contains(name) {
                    break;
                }
                if let Some(sites) = info.sites.get(name) {
                    return Lookup::Bound {
                        sites: sites.clone(),
                        outer: functions_passed > 0,
                        scope: parent.id(),
                        name: name.to_string(),
                    };
                }
                functions_passed += 1;
            } else if kind == "lambda" && is_field(parent, "body", child) {
                if let Some(params) = parent.child_by_field_name("parameters")
                    && parameter_sites(params, self.src)
                        .iter()
                        .any(|(n, _)| *n == name)
                {
                    return Lookup::Bound {
                        sites: vec![Site::Unknown],
                        outer: functions_passed > 0,
                        scope: parent.id(),
                        name: name.to_string(),
                    };
                }
                functions_passed += 1;
            }
            below = Some(child);
            child = parent;
        }
        let info = self.scope_info(self.root);
        match info.sites.get(name) {
            Some(sites) => Lookup::Bound {
                sites: sites.clone(),
                outer: true,
                scope: self.root.id(),
                name: name.to_string(),
            },
            None => Lookup::Unbound,
        }
    }

    fn scope_info(&self, scope: Node<'a>) -> Rc<ScopeInfo<'a>> {
        if let Some(info) = self.scopes.borrow().get(&scope.id()) {
            return info.clone();
        }
        let mut info = ScopeInfo::default();
        if scope.kind() == "function_definition"
            && let Some(params) = scope.child_by_field_name("parameters")
        {
            for (name, site) in parameter_sites(params, self.src) {
                info.sites.entry(name.to_string()).or_default().push(site);
            }
        }
        let body = if scope.kind() == "module" {
            Some(scope)
        } else {
            scope.child_by_field_name("body")
        };
        if let Some(body) = body {
            collect_sites(body, self.src, &mut info);
        }
        let info = Rc::new(info);
        self.scopes.borrow_mut().insert(scope.id(), info.clone());
        info
    }

    /// The qualified names a local chosen by a conditional may hold (`opener = gzip.open if z
    /// else open` → `gzip.open`, `open`), when it is bound once, to such an expression, and
    /// every branch names something.
    pub fn alternatives(&self, expr: Node<'a>) -> Option<Vec<String>> {
        let expr = unparenthesize(expr);
        if expr.kind() != "identifier" {
            return None;
        }
        let Lookup::Bound { sites, .. } = self.lookup(text(expr, self.src), expr) else {
            return None;
        };
        let [Site::Value(value)] = sites.as_slice() else {
            return None;
        };
        let value = unparenthesize(*value);
        if value.kind() != "conditional_expression" {
            return None;
        }
        // `a if cond else b`: the first and last named children are the two values.
        let parts = named_children(value);
        let branches = [*parts.first()?, *parts.last()?];
        branches
            .iter()
            .map(|b| self.qualified_name(*b))
            .collect::<Option<Vec<String>>>()
    }

    /// How many places bind `name` in the scope that binds it at `at` (0 when nothing does).
    pub fn binding_count(&self, name: &str, at: Node<'a>) -> usize {
        match self.lookup(name, at) {
            Lookup::Bound { sites, .. } => sites.len(),
            Lookup::Unbound => 0,
        }
    }

    /// The id of the scope node (function, lambda, comprehension or module) that binds `name`
    /// at this place; `None` for builtins and unbound names.
    pub fn binding_scope(&self, name: &str, at: Node<'a>) -> Option<usize> {
        match self.lookup(name, at) {
            Lookup::Bound { scope, .. } => Some(scope),
            Lookup::Unbound => None,
        }
    }

    /// Whether calling `callee` makes a value of a tracked type (`Path(...)`, `requests.Session()`).
    pub fn is_tracked_constructor(&self, callee: Node<'a>) -> bool {
        self.qualified_name(callee)
            .is_some_and(|q| self.catalog.constructed_type(&q).is_some())
    }

    /// Every identifier in `function` that refers to the same variable as `target` (a binding
    /// of it), `target` itself excluded, in no particular order.
    pub fn uses_of(&self, target: Node<'a>, function: Node<'a>) -> Vec<Node<'a>> {
        let name = text(target, self.src);
        let Some(scope) = self.binding_scope(name, target) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut stack = vec![function];
        while let Some(node) = stack.pop() {
            let mut cursor = node.walk();
            stack.extend(node.children(&mut cursor));
            if node.kind() == "identifier"
                && node.id() != target.id()
                && text(node, self.src) == name
                && self.binding_scope(name, node) == Some(scope)
            {
                out.push(node);
            }
        }
        out
    }

    /// The `x.attr` nodes through which a value bound by `target` in `statement` is used in
    /// `function`; `None` when any use is not such an attribute, comes before the statement, or
    /// sits in a nested function (the value would escape the rewrite).
    pub fn attribute_uses_after(
        &self,
        target: Node<'a>,
        statement: Node<'a>,
        function: Node<'a>,
    ) -> Option<Vec<Node<'a>>> {
        let mut out = Vec::new();
        for node in self.uses_of(target, function) {
            if node.start_byte() < statement.end_byte()
                || crate::parse::syntax::in_nested_scope(node, function)
            {
                return None;
            }
            let parent = node.parent()?;
            if parent.kind() != "attribute" || !is_field(parent, "object", node) {
                return None;
            }
            out.push(parent);
        }
        Some(out)
    }

    /// Whether `name` at this place means the module-level binding of that name (no local,
    /// parameter or enclosing function hides it).
    pub fn is_module_level(&self, name: &str, at: Node<'a>) -> bool {
        matches!(self.lookup(name, at), Lookup::Bound { scope, .. } if scope == self.root.id())
    }

    /// The value a module-level name is bound to, when one assignment binds it.
    pub fn module_value(&self, name: &str) -> Option<Node<'a>> {
        match self.scope_info(self.root).sites.get(name)?.as_slice() {
            [Site::Value(value)] => Some(*value),
            _ => None,
        }
    }

    /// Whether the module binds `alias` by importing `module` (`import asyncio as _asyncio`).
    pub fn imports_as(&self, module: &str, alias: &str) -> bool {
        self.scope_info(self.root)
            .sites
            .get(alias)
            .is_some_and(|sites| single_import(sites).as_deref() == Some(module))
    }

    /// Whether an identifier at this place is bound by a scope other than the builtins.
    pub fn is_bound(&self, name: &str, at: Node<'a>) -> bool {
        matches!(self.lookup(name, at), Lookup::Bound { .. })
    }

    /// Whether the value may only be used by the thread that made it (sqlite3 objects).
    pub fn is_thread_bound(&self, typed: &Typed) -> bool {
        self.catalog
            .type_def(&typed.name)
            .is_some_and(|d| d.scope == Scope::ThreadBound)
    }

    /// The catalog's offload policy for a typed value, as a manual reason when calls on it
    /// cannot be offloaded one by one.
    pub fn manual_reason_for(&self, typed: &Typed) -> Option<String> {
        let def = self.catalog.type_def(&typed.name)?;
        match def.scope {
            Scope::Call => None,
            Scope::Region if typed.outer => None,
            Scope::Region | Scope::ThreadBound => Some(def.reason.clone()),
        }
    }
}

fn local(t: &str) -> Ty {
    Ty::Known(Typed {
        name: t.to_string(),
        outer: false,
    })
}

/// `a, b = x, y` / `(a, b) = (x, y)`: each plain name with the value at its place, when both
/// sides have the same number of plain items (no starred item, no nested pattern).
fn element_pairs<'a>(left: Node<'a>, right: Node<'a>) -> Option<Vec<(Node<'a>, Node<'a>)>> {
    if !matches!(left.kind(), "pattern_list" | "tuple_pattern")
        || !matches!(right.kind(), "expression_list" | "tuple")
    {
        return None;
    }
    let names = named_children(left);
    let values = named_children(right);
    let plain = names.len() == values.len()
        && names.iter().all(|n| n.kind() == "identifier")
        && values.iter().all(|v| v.kind() != "list_splat");
    plain.then(|| names.into_iter().zip(values).collect())
}

/// Among several bindings of a name, the one a use surely sees: the nearest binding before
/// the use, made by a statement of the block that holds the use's statement and ending before
/// it. Every path to the use passes that statement last (a binding nested in a branch or loop
/// between them would be nearer, and is not in the block), so the others cannot reach it.
fn dominating_site<'a>(sites: &[Site<'a>], use_: Node<'a>) -> Option<(Site<'a>, usize)> {
    if sites.len() < 2 {
        return None;
    }
    let node_of = |site: &Site<'a>| match site {
        Site::Value(n) | Site::IterOf(n) | Site::Annotation(n) => Some(*n),
        _ => None,
    };
    let nodes: Vec<Node<'a>> = sites.iter().map(node_of).collect::<Option<_>>()?;
    let (index, nearest) = nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.start_byte() < use_.start_byte())
        .max_by_key(|(_, n)| n.start_byte())?;
    if !matches!(sites[index], Site::Value(_)) {
        return None;
    }
    let binding = statement_in_block(*nearest)?;
    let using = statement_in_block(use_)?;
    let same_block = binding.parent()?.id() == using.parent()?.id();
    (same_block && binding.end_byte() <= using.start_byte())
        .then(|| (sites[index].clone(), nearest.start_byte()))
}

/// The statement of a block (or of the module) that holds `node`.
fn statement_in_block(node: Node) -> Option<Node> {
    let mut child = node;
    while let Some(parent) = child.parent() {
        if matches!(parent.kind(), "block" | "module") {
            return Some(child);
        }
        child = parent;
    }
    None
}

/// Annotations of a collection whose elements all have the type of its first parameter.
const CONTAINERS: &[&str] = &[
    "list",
    "set",
    "frozenset",
    "typing.List",
    "typing.Set",
    "typing.FrozenSet",
    "typing.Sequence",
    "typing.Iterable",
    "typing.Iterator",
    "typing.Collection",
    "collections.abc.Sequence",
    "collections.abc.Iterable",
    "collections.abc.Iterator",
    "collections.abc.Collection",
];

fn single_import(sites: &[Site]) -> Option<String> {
    let mut found: Option<&String> = None;
    for site in sites {
        match site {
            Site::Import(q) if found.is_none_or(|f| f == q) => found = Some(q),
            _ => return None,
        }
    }
    found.cloned()
}

/// The innermost function (or lambda) whose body holds `node`.
pub fn enclosing_function(node: Node) -> Option<Node> {
    let mut child = node;
    while let Some(parent) = child.parent() {
        if matches!(parent.kind(), "function_definition" | "lambda")
            && is_field(parent, "body", child)
        {
            return Some(parent);
        }
        child = parent;
    }
    None
}

/// Whether the place reached through `child` (a direct child of comprehension `comp`) and
/// then `below` is the comprehension's outermost iterable, which is evaluated outside it.
pub fn in_first_iterable(comp: Node, child: Node, below: Option<Node>) -> bool {
    let Some(first) = named_children(comp)
        .into_iter()
        .find(|c| c.kind() == "for_in_clause")
    else {
        return false;
    };
    child.id() == first.id() && below.is_some_and(|b| is_field(first, "right", b))
}

fn parameter_sites<'a, 's>(params: Node<'a>, src: &'s str) -> Vec<(&'s str, Site<'a>)> {
    let mut out = Vec::new();
    for p in named_children(params) {
        match p.kind() {
            "identifier" => out.push((text(p, src), Site::Unknown)),
            "typed_parameter" => {
                let ident = named_children(p)
                    .into_iter()
                    .find(|n| n.kind() == "identifier");
                if let Some(ident) = ident {
                    let site = p
                        .child_by_field_name("type")
                        .map_or(Site::Unknown, Site::Annotation);
                    out.push((text(ident, src), site));
                } else if let Some(inner) = named_children(p).first() {
                    // `*args: T`, `**kw: T`
                    for n in pattern_names(*inner, src) {
                        out.push((n, Site::Unknown));
                    }
                }
            }
            "typed_default_parameter" => {
                if let Some(name) = p.child_by_field_name("name") {
                    let site = p
                        .child_by_field_name("type")
                        .map_or(Site::Unknown, Site::Annotation);
                    out.push((text(name, src), site));
                }
            }
            "default_parameter" => {
                if let Some(name) = p.child_by_field_name("name") {
                    out.push((text(name, src), Site::Unknown));
                }
            }
            _ => {
                for n in pattern_names(p, src) {
                    out.push((n, Site::Unknown));
                }
            }
        }
    }
    out
}

/// The identifiers a target pattern binds (`a`, `(a, b)`, `[a, *rest]`); attributes and
/// subscripts bind nothing.
fn pattern_names<'s>(pattern: Node, src: &'s str) -> Vec<&'s str> {
    match pattern.kind() {
        "identifier" => vec![text(pattern, src)],
        "attribute" | "subscript" => Vec::new(),
        _ => named_children(pattern)
            .into_iter()
            .flat_map(|c| pattern_names(c, src))
            .collect(),
    }
}

/// `(target, value)` for the simple assignments directly in one scope's body (not nested
/// scopes), including `with value as target`.
fn scope_assignments(body: Node) -> Vec<(Node, Node)> {
    let mut out = Vec::new();
    let mut stack = vec![body];
    while let Some(node) = stack.pop() {
        match node.kind() {
            "function_definition" | "class_definition" | "lambda" => continue,
            k if is_comprehension(k) => continue,
            _ => {}
        }
        out.extend(assignment_pair(node));
        stack.extend(named_children(node).into_iter().rev());
    }
    out
}

fn scope_assignments_in(stmt: Node) -> Vec<(Node, Node)> {
    named_children(stmt)
        .into_iter()
        .filter_map(assignment_pair)
        .collect()
}

fn assignment_pair(node: Node) -> Option<(Node, Node)> {
    if node.kind() != "assignment" {
        return None;
    }
    let left = node.child_by_field_name("left")?;
    let mut right = node.child_by_field_name("right")?;
    while right.kind() == "assignment" {
        right = right.child_by_field_name("right")?;
    }
    Some((left, right))
}

/// Every binding site directly in a scope body.
fn collect_sites<'a>(body: Node<'a>, src: &str, info: &mut ScopeInfo<'a>) {
    let add = |info: &mut ScopeInfo<'a>, name: &str, site: Site<'a>| {
        info.sites.entry(name.to_string()).or_default().push(site);
    };
    let mut stack = vec![body];
    while let Some(node) = stack.pop() {
        match node.kind() {
            "function_definition" | "class_definition" => {
                if let Some(name) = node.child_by_field_name("name") {
                    add(info, text(name, src), Site::Unknown);
                }
                // Decorators and defaults run here, but bind nothing we track.
                continue;
            }
            "lambda" => continue,
            k if is_comprehension(k) => continue,
            "global_statement" => {
                for n in named_children(node) {
                    info.globals.insert(text(n, src).to_string());
                }
                continue;
            }
            "nonlocal_statement" => {
                for n in named_children(node) {
                    add(info, text(n, src), Site::Unknown);
                }
                continue;
            }
            "import_statement" => {
                for item in named_children(node) {
                    match item.kind() {
                        "dotted_name" => {
                            let full = text(item, src);
                            let head = full.split('.').next().unwrap_or(full).trim();
                            add(info, head, Site::Import(head.to_string()));
                        }
                        "aliased_import" => {
                            if let (Some(n), Some(a)) = (
                                item.child_by_field_name("name"),
                                item.child_by_field_name("alias"),
                            ) {
                                add(info, text(a, src), Site::Import(dotted(n, src)));
                            }
                        }
                        _ => {}
                    }
                }
                continue;
            }
            "import_from_statement" => {
                let module = node
                    .child_by_field_name("module_name")
                    .map(|m| dotted(m, src))
                    .unwrap_or_default();
                let sep = if module.ends_with('.') { "" } else { "." };
                let mut cursor = node.walk();
                for item in node.children_by_field_name("name", &mut cursor) {
                    match item.kind() {
                        "dotted_name" => {
                            let n = dotted(item, src);
                            add(info, &n, Site::Import(format!("{module}{sep}{n}")));
                        }
                        "aliased_import" => {
                            if let (Some(n), Some(a)) = (
                                item.child_by_field_name("name"),
                                item.child_by_field_name("alias"),
                            ) {
                                add(
                                    info,
                                    text(a, src),
                                    Site::Import(format!("{module}{sep}{}", dotted(n, src))),
                                );
                            }
                        }
                        _ => {}
                    }
                }
                continue;
            }
            "assignment" => {
                if let Some(left) = node.child_by_field_name("left") {
                    let right = node.child_by_field_name("right");
                    let mut value = right;
                    while let Some(v) = value.filter(|v| v.kind() == "assignment") {
                        value = v.child_by_field_name("right");
                    }
                    if left.kind() == "identifier" {
                        if let Some(value) = value {
                            add(info, text(left, src), Site::Value(value));
                        } else if node.child_by_field_name("type").is_some() {
                            add(info, text(left, src), Site::Unknown);
                        }
                    } else if let Some(pairs) = value.and_then(|v| element_pairs(left, v)) {
                        // `(p1, p2) = (Path(a), Path(b))`: each name gets its own value.
                        for (name, value) in pairs {
                            add(info, text(name, src), Site::Value(value));
                        }
                    } else {
                        for n in pattern_names(left, src) {
                            add(info, n, Site::Unknown);
                        }
                    }
                }
            }
            "augmented_assignment" => {
                if let Some(left) = node.child_by_field_name("left") {
                    let op = node.child_by_field_name("operator").map(|o| text(o, src));
                    for n in pattern_names(left, src) {
                        add(
                            info,
                            n,
                            if op == Some("/=") {
                                Site::Keeps
                            } else {
                                Site::Unknown
                            },
                        );
                    }
                }
            }
            "for_statement" => {
                if let (Some(left), Some(right)) = (
                    node.child_by_field_name("left"),
                    node.child_by_field_name("right"),
                ) {
                    if left.kind() == "identifier" {
                        add(info, text(left, src), Site::IterOf(right));
                    } else {
                        for n in pattern_names(left, src) {
                            add(info, n, Site::Unknown);
                        }
                    }
                }
            }
            "as_pattern" => {
                let value = named_children(node).into_iter().next();
                if let Some(alias) = node.child_by_field_name("alias") {
                    let target = named_children(alias).into_iter().next().unwrap_or(alias);
                    let in_with = node.parent().is_some_and(|p| p.kind() == "with_item");
                    if target.kind() == "identifier" && in_with {
                        if let Some(value) = value {
                            add(info, text(target, src), Site::Value(value));
                        }
                    } else {
                        for n in pattern_names(target, src) {
                            add(info, n, Site::Unknown);
                        }
                    }
                }
            }
            "named_expression" => {
                if let (Some(name), Some(value)) = (
                    node.child_by_field_name("name"),
                    node.child_by_field_name("value"),
                ) {
                    add(info, text(name, src), Site::Value(value));
                }
            }
            "if_statement"
                if node
                    .child_by_field_name("condition")
                    .is_some_and(|c| is_type_checking(text(c, src))) =>
            {
                // `if TYPE_CHECKING:` imports exist for the type checker only: at run time
                // nothing is bound (an `else:` branch still runs).
                stack.extend(
                    named_children(node)
                        .into_iter()
                        .filter(|c| matches!(c.kind(), "else_clause" | "elif_clause"))
                        .rev(),
                );
                continue;
            }
            _ => {}
        }
        stack.extend(named_children(node).into_iter().rev());
    }
}

/// `TYPE_CHECKING` or `typing.TYPE_CHECKING` (any module spelling).
fn is_type_checking(condition: &str) -> bool {
    let condition = condition.trim();
    condition == "TYPE_CHECKING" || condition.ends_with(".TYPE_CHECKING")
}

/// The names a statement (or any subtree) binds in its scope, nested scopes excluded.
pub fn names_bound_in(node: Node, src: &str) -> HashSet<String> {
    let mut info = ScopeInfo::default();
    collect_sites(node, src, &mut info);
    info.sites.into_keys().collect()
}

fn dotted(node: Node, src: &str) -> String {
    text(node, src).split_whitespace().collect::<String>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::syntax::parse;

    fn find_call<'t>(root: Node<'t>, src: &str, callee: &str) -> Node<'t> {
        let mut stack = vec![root];
        while let Some(n) = stack.pop() {
            if n.kind() == "call"
                && n.child_by_field_name("function")
                    .is_some_and(|f| text(f, src) == callee)
            {
                return n;
            }
            stack.extend(named_children(n));
        }
        panic!("no call to {callee}");
    }

    fn resolve(src: &str, callee: &str) -> Option<String> {
        let catalog = Catalog::builtin().expect("catalog");
        let tree = parse(src).expect("tree");
        let resolver = Resolver::new(src, tree.root_node(), &catalog);
        let call = find_call(tree.root_node(), src, callee);
        resolver.qualified_name(call.child_by_field_name("function").expect("callee"))
    }

    #[test]
    fn import_forms_resolve() {
        assert_eq!(
            resolve("import os.path as osp\nosp.getsize(p)\n", "osp.getsize").as_deref(),
            Some("os.path.getsize")
        );
        assert_eq!(
            resolve("from time import sleep as zzz\nzzz(1)\n", "zzz").as_deref(),
            Some("time.sleep")
        );
        assert_eq!(
            resolve("from os import path\npath.exists(p)\n", "path.exists").as_deref(),
            Some("os.path.exists")
        );
        assert_eq!(
            resolve("import os.path\nos.path.isdir(p)\n", "os.path.isdir").as_deref(),
            Some("os.path.isdir")
        );
        assert_eq!(resolve("open(p)\n", "open").as_deref(), Some("open"));
        assert_eq!(resolve("requests.get(u)\n", "requests.get"), None);
    }

    #[test]
    fn locals_and_parameters_shadow() {
        let src = "import httpx\nasync def f(httpx):\n    httpx.get(u)\n";
        assert_eq!(resolve(src, "httpx.get"), None);
        let src = "async def f():\n    open = make()\n    open(p)\n";
        assert_eq!(resolve(src, "open"), None);
        let src = "import time\nasync def f():\n    global time\n    time.sleep(1)\n    time = 3\n";
        assert_eq!(resolve(src, "time.sleep").as_deref(), Some("time.sleep"));
        let src = "async def f():\n    import time as t\n    t.sleep(1)\n";
        assert_eq!(resolve(src, "t.sleep").as_deref(), Some("time.sleep"));
    }

    fn type_of_receiver(src: &str, callee: &str) -> Option<Typed> {
        let catalog = Catalog::builtin().expect("catalog");
        let tree = parse(src).expect("tree");
        let resolver = Resolver::new(src, tree.root_node(), &catalog);
        let call = find_call(tree.root_node(), src, callee);
        let callee = call.child_by_field_name("function").expect("callee");
        resolver.type_of(callee.child_by_field_name("object").expect("object"))
    }

    #[test]
    fn path_values_are_typed() {
        let src = "from pathlib import Path\nasync def f(d: Path | None):\n    p = d / 'x'\n    p = p.parent\n    p.exists()\n";
        assert_eq!(
            type_of_receiver(src, "p.exists").map(|t| t.name).as_deref(),
            Some("pathlib.Path")
        );
        let src = "import pathlib\nfrom typing import Optional\nasync def f(d: Optional[pathlib.Path]):\n    d.exists()\n";
        assert_eq!(
            type_of_receiver(src, "d.exists").map(|t| t.name).as_deref(),
            Some("pathlib.Path")
        );
        let src = "from pathlib import Path\nasync def f(d):\n    for c in Path(d).iterdir():\n        c.stat()\n";
        assert_eq!(
            type_of_receiver(src, "c.stat").map(|t| t.name).as_deref(),
            Some("pathlib.Path")
        );
        let src = "from pathlib import Path\nasync def f(d):\n    p = Path(d)\n    p = 3\n    p.exists()\n";
        assert_eq!(type_of_receiver(src, "p.exists"), None);
    }

    #[test]
    fn self_attributes_are_typed_as_outer() {
        let src = "import requests\nclass C:\n    def __init__(self):\n        self.s = requests.Session()\n    async def go(self):\n        self.s.get(u)\n";
        let t = type_of_receiver(src, "self.s.get").expect("typed");
        assert_eq!(t.name, "requests.Session");
        assert!(t.outer);
    }
}
