//! Finding blocking calls: every call (and every loop over a blocking iterable) that runs on
//! the event loop, matched against the catalog through the resolver.
//!
//! "On the event loop" means lexically in an `async def` body, not inside a nested `def`,
//! `lambda` or `class` body, and not already awaited. Comprehensions count; a generator
//! expression is remembered, since `await` cannot go inside one.

pub mod selector;
pub mod suppress;

use tree_sitter::Node;

use crate::catalog::{Catalog, EntryFix};
use crate::parse::syntax::{
    children, has_async_keyword, is_async_def, is_comprehension, is_field, named_children, text,
    unparenthesize,
};
use crate::resolve::Resolver;

/// What matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matched {
    /// A call; `returns` is the tracked type of its value.
    Call {
        entry_fix: EntryFix,
        returns: Option<String>,
    },
    /// A `for` loop or comprehension clause iterating a blocking iterable.
    Iteration,
}

#[derive(Debug, Clone)]
pub struct Finding<'t> {
    pub rule: usize,
    /// Resolved qualified name (`requests.get`, `pathlib.Path.read_text`, `io.IOBase.__iter__`).
    pub call: String,
    /// The enclosing async function's name.
    pub function: String,
    /// The enclosing async function.
    pub function_node: Node<'t>,
    /// The call node, or the iterable of a loop.
    pub node: Node<'t>,
    pub matched: Matched,
    /// Why the call cannot be offloaded on its own, whatever its context.
    pub manual_reason: Option<String>,
    /// The outermost generator expression whose scope holds the call.
    pub genexp: Option<Node<'t>>,
    /// The call returns a lazy iterator whose iteration blocks too (`os.walk`, `Path.glob`).
    pub lazy: bool,
    /// How the call blocks, when that is not the call itself (a project function's chain).
    pub detail: Option<String>,
    /// Why the call must stay on the event loop's thread (no helper may take it either).
    pub pinned: Option<String>,
}

/// What the finder needs to see into the project's own sync functions (UNB180).
pub struct ProjectCalls<'a> {
    pub scope: crate::index::summary::Scope<'a>,
    pub index: &'a crate::index::ProjectIndex,
    /// The catalog index of the rule its findings belong to.
    pub rule: usize,
}

#[derive(Clone, Copy)]
struct Context<'t> {
    function: Option<Node<'t>>,
    genexp: Option<Node<'t>>,
}

/// All findings of a module, in source order.
pub fn find<'t>(
    resolver: &Resolver<'t>,
    catalog: &Catalog,
    root: Node<'t>,
    project: Option<&ProjectCalls>,
) -> Vec<Finding<'t>> {
    let src = resolver.src();
    let mut out = Vec::new();
    let mut stack: Vec<(Node<'t>, Context<'t>)> = vec![(
        root,
        Context {
            function: None,
            genexp: None,
        },
    )];
    while let Some((node, ctx)) = stack.pop() {
        crate::budget::tick();
        if let Some(function) = ctx.function {
            match node.kind() {
                "call" if node.parent().is_none_or(|p| p.kind() != "await") => {
                    if let Some(f) = match_call(resolver, catalog, node)
                        .or_else(|| match_higher_order(resolver, catalog, node))
                        .or_else(|| match_nested_def_call(resolver, catalog, node, function))
                        .or_else(|| {
                            project.and_then(|p| match_project_call(resolver, p, node, function))
                        })
                    {
                        out.push(f.into_finding(function, ctx.genexp, node, src));
                    }
                }
                "for_statement" if !has_async_keyword(node) => {
                    if let Some(iterable) = node.child_by_field_name("right")
                        && let Some(f) = match_iteration(resolver, catalog, iterable)
                    {
                        out.push(f.into_finding(function, ctx.genexp, iterable, src));
                    }
                }
                kind if is_comprehension(kind) => {
                    // Each clause's iterable; only the first one runs outside the comprehension.
                    let offloaded =
                        kind == "generator_expression" && is_offloaded_argument(resolver, node);
                    for (index, clause) in named_children(node)
                        .into_iter()
                        .filter(|c| c.kind() == "for_in_clause")
                        .enumerate()
                    {
                        if has_async_keyword(clause) || (offloaded && index > 0) {
                            continue;
                        }
                        let genexp = if index > 0 && kind == "generator_expression" {
                            ctx.genexp.or(Some(node))
                        } else {
                            ctx.genexp
                        };
                        let Some(iterable) = clause.child_by_field_name("right") else {
                            continue;
                        };
                        if let Some(f) = match_iteration(resolver, catalog, iterable) {
                            out.push(f.into_finding(function, genexp, iterable, src));
                        }
                    }
                }
                _ => {}
            }
        }
        let ctx = if node.kind() == "generator_expression" && is_offloaded_argument(resolver, node)
        {
            // Its body runs in the worker thread; only the outermost iterable runs here.
            push_offloaded_generator(node, ctx, &mut stack);
            continue;
        } else {
            ctx
        };
        push_children(node, ctx, &mut stack);
    }
    out.sort_by_key(|f| (f.node.start_byte(), f.node.end_byte()));
    out
}

/// Whether a generator expression is an argument of an offloading call
/// (`await asyncio.to_thread(sum, (f(x) for x in xs))`).
fn is_offloaded_argument<'t>(resolver: &Resolver<'t>, genexp: Node<'t>) -> bool {
    let Some(call) = genexp
        .parent()
        .filter(|p| p.kind() == "argument_list")
        .and_then(|p| p.parent())
        .filter(|c| c.kind() == "call")
    else {
        return false;
    };
    let callee = |c: Node<'t>| {
        c.child_by_field_name("function")
            .and_then(|f| resolver.qualified_name(f))
    };
    match callee(call).as_deref() {
        Some(q) if crate::runtime::Runtime::is_offload_call(q) => true,
        // `run_sync(functools.partial(max, (… for …), default=0))`: the partial is offloaded.
        Some("functools.partial") => call
            .parent()
            .filter(|p| p.kind() == "argument_list")
            .and_then(|p| p.parent())
            .filter(|c| c.kind() == "call")
            .and_then(callee)
            .is_some_and(|q| crate::runtime::Runtime::is_offload_call(&q)),
        _ => false,
    }
}

fn push_offloaded_generator<'t>(
    node: Node<'t>,
    ctx: Context<'t>,
    stack: &mut Vec<(Node<'t>, Context<'t>)>,
) {
    let off = Context {
        function: None,
        genexp: None,
    };
    for child in children(node).into_iter().rev() {
        if child.kind() == "for_in_clause" && is_first_clause(node, child) {
            for part in children(child).into_iter().rev() {
                stack.push((
                    part,
                    if is_field(child, "right", part) {
                        ctx
                    } else {
                        off
                    },
                ));
            }
        } else {
            stack.push((child, off));
        }
    }
}

/// Pushes the children with the context they run in (reverse order, so pops are in order).
fn push_children<'t>(node: Node<'t>, ctx: Context<'t>, stack: &mut Vec<(Node<'t>, Context<'t>)>) {
    let kids = children(node);
    let kind = node.kind();
    for child in kids.into_iter().rev() {
        let mut child_ctx = ctx;
        match kind {
            "function_definition" if is_field(node, "body", child) => {
                child_ctx = Context {
                    function: is_async_def(node).then_some(node),
                    genexp: None,
                };
            }
            "lambda" | "class_definition" if is_field(node, "body", child) => {
                child_ctx = Context {
                    function: None,
                    genexp: None,
                };
            }
            "generator_expression" if ctx.function.is_some() => {
                child_ctx.genexp = ctx.genexp.or(Some(node));
                if child.kind() == "for_in_clause" && is_first_clause(node, child) {
                    // The outermost iterable runs outside the generator: push its parts apart.
                    for part in children(child).into_iter().rev() {
                        let part_ctx = if is_field(child, "right", part) {
                            ctx
                        } else {
                            child_ctx
                        };
                        stack.push((part, part_ctx));
                    }
                    continue;
                }
            }
            _ => {}
        }
        stack.push((child, child_ctx));
    }
}

fn is_first_clause(comp: Node, clause: Node) -> bool {
    named_children(comp)
        .into_iter()
        .find(|c| c.kind() == "for_in_clause")
        .is_some_and(|c| c.id() == clause.id())
}

/// A match before it is placed in its function.
struct Match {
    lazy: bool,
    rule: usize,
    call: String,
    matched: Matched,
    manual_reason: Option<String>,
    detail: Option<String>,
    pinned: Option<String>,
}

impl Match {
    /// A blocking call that runs inside another call (a key function, a local helper): the
    /// outer call is the finding, offloaded whole to a thread.
    fn run_whole(self) -> Match {
        Match {
            lazy: false,
            matched: Matched::Call {
                entry_fix: EntryFix::Thread,
                returns: None,
            },
            manual_reason: None,
            ..self
        }
    }

    fn into_finding<'t>(
        self,
        function: Node<'t>,
        genexp: Option<Node<'t>>,
        node: Node<'t>,
        src: &str,
    ) -> Finding<'t> {
        let name = function
            .child_by_field_name("name")
            .map(|n| text(n, src).to_string())
            .unwrap_or_default();
        Finding {
            rule: self.rule,
            call: self.call,
            function: name,
            function_node: function,
            node,
            matched: self.matched,
            manual_reason: self.manual_reason,
            genexp,
            lazy: self.lazy,
            detail: self.detail,
            pinned: self.pinned,
        }
    }
}

/// A call of a sync function defined in the coroutine itself (`def helper(): ...` then
/// `helper()`) whose body blocks: the body runs on the loop. The finding is the call (offloaded
/// whole), named after the first blocking call in the body. Not a generator (calling one runs
/// nothing), nor a function that reaches for `asyncio` (it may need the loop's thread).
fn match_nested_def_call<'t>(
    resolver: &Resolver<'t>,
    catalog: &Catalog,
    call: Node<'t>,
    function: Node<'t>,
) -> Option<Match> {
    let callee = unparenthesize(call.child_by_field_name("function")?);
    if callee.kind() != "identifier" {
        return None;
    }
    let src = resolver.src();
    let name = text(callee, src);
    let body = function.child_by_field_name("body")?;
    // Cheap test first: the coroutine's text defines something of that name.
    if !text(body, src).contains(&format!("def {name}")) {
        return None;
    }
    if resolver.binding_scope(name, callee) != Some(function.id()) {
        return None;
    }
    let defs: Vec<Node<'t>> = crate::parse::syntax::descendants(body)
        .into_iter()
        .filter(|n| {
            n.kind() == "function_definition"
                && n.child_by_field_name("name")
                    .is_some_and(|d| text(d, src) == name)
        })
        .collect();
    // One definition, and nothing else binds the name in the coroutine.
    let [def] = defs.as_slice() else {
        return None;
    };
    if crate::parse::syntax::is_async_def(*def) || resolver.binding_count(name, callee) != 1 {
        return None;
    }
    let inner = def.child_by_field_name("body")?;
    let nodes = crate::parse::syntax::descendants(inner);
    let uses_the_loop = nodes.iter().any(|n| {
        matches!(n.kind(), "yield" | "await")
            || (matches!(n.kind(), "identifier" | "attribute")
                && resolver
                    .qualified_name(*n)
                    .is_some_and(|q| q == "asyncio" || q.starts_with("asyncio.")))
    });
    if uses_the_loop {
        return None;
    }
    let blocking = nodes
        .into_iter()
        .filter(|n| n.kind() == "call")
        .find_map(|c| match_call(resolver, catalog, c))?;
    Some(blocking.run_whole())
}

/// The catalog call a call makes, if it blocks by the catalog's rules (directly, or through a
/// blocking callable it runs at once): its qualified name. What the project index records for
/// the body of a sync function.
pub fn catalog_call<'t>(
    resolver: &Resolver<'t>,
    catalog: &Catalog,
    call: Node<'t>,
) -> Option<String> {
    match_call(resolver, catalog, call)
        .or_else(|| match_higher_order(resolver, catalog, call))
        .map(|m| m.call)
}

/// A call of a sync function or method of the project that blocks, directly or through
/// further sync calls (UNB180): offloaded whole, or `manual` when that is not safe.
fn match_project_call<'t>(
    resolver: &Resolver<'t>,
    project: &ProjectCalls,
    call: Node<'t>,
    function: Node<'t>,
) -> Option<Match> {
    let key = project
        .scope
        .key_of(resolver, call.child_by_field_name("function")?, function)?;
    let verdict = project.index.verdict(&key)?;
    let returns = project.index.returns(&key);
    Some(Match {
        lazy: false,
        rule: project.rule,
        call: key,
        matched: Matched::Call {
            entry_fix: EntryFix::Thread,
            returns,
        },
        manual_reason: verdict.manual.clone().or_else(|| verdict.pinned.clone()),
        detail: Some(verdict.describe()),
        pinned: verdict.pinned.clone(),
    })
}

/// Builtins that call their `key=` at once (and `list.sort`).
const EAGER_KEY: &[&str] = &["sorted", "min", "max"];
/// Builtins that consume an iterable at once.
const CONSUMERS: &[&str] = &[
    "list",
    "tuple",
    "set",
    "frozenset",
    "dict",
    "sorted",
    "sum",
    "min",
    "max",
    "any",
    "all",
];
/// Builtins that call a function lazily over an iterable.
const LAZY_APPLY: &[&str] = &["map", "filter"];

/// A blocking callable handed to a call that runs it at once: `sorted(files,
/// key=os.path.getmtime)`, `files.sort(key=lambda p: p.stat().st_size)`,
/// `list(map(os.path.getsize, files))`. The finding is that whole call (it is what must leave
/// the loop), named after the blocking callable.
fn match_higher_order<'t>(
    resolver: &Resolver<'t>,
    catalog: &Catalog,
    call: Node<'t>,
) -> Option<Match> {
    let callee = unparenthesize(call.child_by_field_name("function")?);
    let src = resolver.src();
    // Cheap test first: only these names matter (a scope lookup costs more).
    let named = match callee.kind() {
        "identifier" => text(callee, src),
        "attribute" => callee
            .child_by_field_name("attribute")
            .map_or("", |a| text(a, src)),
        _ => "",
    };
    if !(EAGER_KEY.contains(&named) || CONSUMERS.contains(&named) || named == "sort") {
        return None;
    }
    let args = call.child_by_field_name("arguments")?;
    let builtin = |node: Node<'t>| -> Option<&'t str> {
        (node.kind() == "identifier" && resolver.binding_scope(text(node, src), node).is_none())
            .then(|| text(node, src))
    };
    let keyword = |name: &str| {
        named_children(args)
            .into_iter()
            .filter(|a| a.kind() == "keyword_argument")
            .find(|a| {
                a.child_by_field_name("name")
                    .is_some_and(|n| text(n, src) == name)
            })
            .and_then(|a| a.child_by_field_name("value"))
    };
    let eager_key = match builtin(callee) {
        Some(name) => EAGER_KEY.contains(&name),
        // `xs.sort(key=...)`: a list's sort, whatever `xs` is.
        None => {
            callee.kind() == "attribute"
                && callee
                    .child_by_field_name("attribute")
                    .is_some_and(|a| text(a, src) == "sort")
        }
    };
    if eager_key
        && let Some(key) = keyword("key")
        && let Some(m) = blocking_callable(resolver, catalog, key)
    {
        return Some(m);
    }
    if builtin(callee).is_some_and(|n| CONSUMERS.contains(&n))
        && let Some(first) = named_children(args).into_iter().next()
    {
        return lazy_application(resolver, catalog, first);
    }
    None
}

/// `map(f, xs)` / `filter(f, xs)` with `f` blocking: the blocking callable.
fn lazy_application<'t>(
    resolver: &Resolver<'t>,
    catalog: &Catalog,
    node: Node<'t>,
) -> Option<Match> {
    let node = unparenthesize(node);
    if node.kind() != "call" {
        return None;
    }
    let callee = unparenthesize(node.child_by_field_name("function")?);
    let src = resolver.src();
    let is_lazy = callee.kind() == "identifier"
        && LAZY_APPLY.contains(&text(callee, src))
        && resolver.binding_scope(text(callee, src), callee).is_none();
    if !is_lazy {
        return None;
    }
    let function = named_children(node.child_by_field_name("arguments")?)
        .into_iter()
        .next()?;
    blocking_callable(resolver, catalog, function)
}

/// The catalog entry a callable value blocks with: a reference to a blocking function
/// (`os.path.getsize`), or a lambda whose body calls one.
fn blocking_callable<'t>(
    resolver: &Resolver<'t>,
    catalog: &Catalog,
    value: Node<'t>,
) -> Option<Match> {
    let value = unparenthesize(value);
    match value.kind() {
        "identifier" | "attribute" => {
            let qualified = resolver.qualified_name(value)?;
            let entry = catalog
                .calls_named(&qualified)
                .into_iter()
                .find(|e| e.arg_type.is_none() && e.fix == EntryFix::Thread && !e.lazy)?;
            Some(
                Match {
                    lazy: false,
                    rule: entry.rule,
                    call: qualified,
                    matched: Matched::Iteration,
                    manual_reason: None,
                    detail: None,
                    pinned: None,
                }
                .run_whole(),
            )
        }
        "lambda" => {
            let body = value.child_by_field_name("body")?;
            crate::parse::syntax::descendants(body)
                .into_iter()
                .filter(|n| n.kind() == "call")
                .find_map(|c| match_call(resolver, catalog, c))
                .map(Match::run_whole)
        }
        _ => None,
    }
}

fn match_call<'t>(resolver: &Resolver<'t>, catalog: &Catalog, call: Node<'t>) -> Option<Match> {
    let callee = call.child_by_field_name("function")?;
    if let Some(qualified) = resolver.qualified_name(callee) {
        for entry in catalog.calls_named(&qualified) {
            if entry.buffer_ok && resolver.over_a_buffer(call) {
                continue;
            }
            let mut manual_reason = entry
                .reason
                .clone()
                .filter(|_| entry.lazy || entry.fix == EntryFix::Manual);
            if let Some(wanted) = &entry.arg_type {
                let Some(typed) = typed_argument(resolver, call, wanted, entry.keyword.as_deref())
                else {
                    continue;
                };
                manual_reason = manual_reason.or_else(|| resolver.manual_reason_for(&typed));
            }
            let streams = streams_response(&qualified, call, resolver.src());
            if streams {
                manual_reason = Some(STREAMED.to_string());
            }
            return Some(Match {
                lazy: entry.lazy || streams,
                rule: entry.rule,
                call: qualified,
                matched: Matched::Call {
                    entry_fix: entry.fix,
                    returns: entry.returns.clone(),
                },
                manual_reason,
                detail: None,
                pinned: None,
            });
        }
        // A resolved module-level name that is not in the catalog is not a method call on a
        // tracked value either.
        if unparenthesize(callee).kind() == "identifier" {
            return None;
        }
    }
    // `opener(p)` with `opener = gzip.open if z else open`: a finding when every branch is
    // the same kind of blocking call, named after the first.
    if callee.kind() == "identifier"
        && let Some(names) = resolver.alternatives(callee)
    {
        let entries: Vec<Option<&crate::catalog::CallEntry>> = names
            .iter()
            .map(|q| {
                catalog
                    .calls_named(q)
                    .into_iter()
                    .find(|e| e.arg_type.is_none() && !e.buffer_ok)
            })
            .collect();
        if let [Some(first), rest @ ..] = entries.as_slice()
            && rest
                .iter()
                .all(|e| e.is_some_and(|e| e.rule == first.rule && e.returns == first.returns))
        {
            return Some(Match {
                lazy: first.lazy,
                rule: first.rule,
                call: names[0].clone(),
                matched: Matched::Call {
                    entry_fix: first.fix,
                    returns: first.returns.clone(),
                },
                manual_reason: first
                    .reason
                    .clone()
                    .filter(|_| first.lazy || first.fix == EntryFix::Manual),
                detail: None,
                pinned: None,
            });
        }
    }

    let callee = unparenthesize(callee);
    if callee.kind() != "attribute" {
        return None;
    }
    let receiver = callee.child_by_field_name("object")?;
    let method = text(callee.child_by_field_name("attribute")?, resolver.src());
    // Cheap test first: typing the receiver costs more.
    if !catalog.knows_method(method) {
        return None;
    }
    let typed = resolver.type_of(receiver)?;
    let entry = catalog.method(&typed.name, method)?;
    if entry.buffer_ok && resolver.over_a_buffer(call) {
        return None;
    }
    if !entry.io_arguments.is_empty() && !passes_any(call, &entry.io_arguments, resolver.src()) {
        return None;
    }
    let manual_reason = if entry.lazy || entry.fix == EntryFix::Manual {
        entry.reason.clone()
    } else {
        resolver.manual_reason_for(&typed)
    };
    Some(Match {
        lazy: entry.lazy,
        rule: entry.rule,
        call: format!("{}.{}", typed.name, method),
        matched: Matched::Call {
            entry_fix: entry.fix,
            returns: entry.returns.clone(),
        },
        manual_reason,
        detail: None,
        pinned: None,
    })
}

/// Whether a call passes any of these parameters (named in positional order), by position or
/// by keyword; `*args`/`**kwargs` may pass anything.
fn passes_any(call: Node, parameters: &[String], src: &str) -> bool {
    let Some(args) = call.child_by_field_name("arguments") else {
        return false;
    };
    let mut position = 0;
    for arg in named_children(args) {
        match arg.kind() {
            "keyword_argument" => {
                if arg
                    .child_by_field_name("name")
                    .is_some_and(|n| parameters.iter().any(|p| p == text(n, src)))
                {
                    return true;
                }
            }
            "list_splat" | "dictionary_splat" => return true,
            "comment" => {}
            _ => {
                if position < parameters.len() {
                    return true;
                }
                position += 1;
            }
        }
    }
    false
}

/// Why a streamed request cannot be offloaded on its own.
const STREAMED: &str = "the response is streamed (`stream=True`): reading its body (iter_content, iter_lines, raw) blocks too, so the request and its reads must move to one helper";

/// Whether a `requests` call asks for a streamed response (`stream=` anything but `False`):
/// its body is read later, from the socket, wherever the response is used.
fn streams_response(qualified: &str, call: Node, src: &str) -> bool {
    if !qualified.starts_with("requests.") {
        return false;
    }
    let Some(args) = call.child_by_field_name("arguments") else {
        return false;
    };
    named_children(args).into_iter().any(|a| {
        a.kind() == "keyword_argument"
            && a.child_by_field_name("name")
                .is_some_and(|n| text(n, src) == "stream")
            && a.child_by_field_name("value")
                .is_none_or(|v| text(v, src) != "False")
    })
}

fn typed_argument<'t>(
    resolver: &Resolver<'t>,
    call: Node<'t>,
    wanted: &str,
    keyword: Option<&str>,
) -> Option<crate::resolve::Typed> {
    let args = call.child_by_field_name("arguments")?;
    for arg in named_children(args) {
        let value = match (arg.kind(), keyword) {
            ("keyword_argument", Some(k)) => {
                let name = arg.child_by_field_name("name")?;
                if text(name, resolver.src()) != k {
                    continue;
                }
                arg.child_by_field_name("value")?
            }
            ("keyword_argument", None) => arg.child_by_field_name("value")?,
            (_, Some(_)) => continue,
            _ => arg,
        };
        if let Some(t) = resolver.type_of(value).filter(|t| t.name == wanted) {
            return Some(t);
        }
    }
    None
}

fn match_iteration<'t>(
    resolver: &Resolver<'t>,
    catalog: &Catalog,
    iterable: Node<'t>,
) -> Option<Match> {
    // `for d in filter(os.path.isdir, names)`: each step calls the blocking function.
    if let Some(m) = lazy_application(resolver, catalog, iterable) {
        return Some(Match {
            matched: Matched::Iteration,
            manual_reason: Some("iterating it blocks on every step".to_string()),
            ..m
        });
    }
    let typed = resolver.type_of(iterable)?;
    let entry = catalog.method(&typed.name, "__iter__")?;
    Some(Match {
        lazy: false,
        rule: entry.rule,
        call: format!("{}.__iter__", typed.name),
        matched: Matched::Iteration,
        manual_reason: Some("iterating it blocks on every step".to_string()),
        detail: None,
        pinned: None,
    })
}
