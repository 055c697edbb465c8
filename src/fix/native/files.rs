//! Native file I/O (SPEC §3.3, §3.6): `with open(...) as f:` → `async with aiofiles.open(...)
//! as f:` (asyncio), `async with await anyio.open_file(...) as f:` (anyio) or `async with await
//! trio.open_file(...) as f:` (trio) when every use of `f` in the block is one the async file
//! supports and `f` does not escape; a simple statement such as `data = open(p).read()` gets a
//! block of its own.
//!
//! Uses rewritten: `f.read()`/`write`/`readline`/`readlines`/`writelines`/`flush`/`seek`/
//! `tell`/`truncate`/`close` → `await f.…`; `for line in f` (and comprehensions over `f`) →
//! `async for`; `json.load(f)` → `json.loads(await f.read())`; `json.dump(obj, f, **kw)` →
//! `await f.write(json.dumps(obj, **kw))`; attribute reads (`f.name`, `f.mode`, …) as they are.
//! Anything else — `csv.reader(f)`, `print(..., file=f)`, `f` passed on or kept — leaves the
//! block to helper extraction.

use tree_sitter::Node;

use crate::fix::edits::{Edit, Fix};
use crate::fix::model::{FixKind, Planned, give_where};
use crate::parse::syntax::{
    await_parts, children, is_field, named_children, text, unparenthesize, within,
};
use crate::resolve::Resolver;

const AWAITED_METHODS: &[&str] = &[
    "read",
    "readline",
    "readlines",
    "write",
    "writelines",
    "flush",
    "seek",
    "tell",
    "truncate",
    "close",
];
const PLAIN_ATTRIBUTES: &[&str] = &["name", "mode", "closed", "encoding", "errors", "newlines"];
/// The name catalog entries use for this rewrite: the calls whose file objects aiofiles (and
/// anyio's and trio's files) open the same way (same arguments, same meaning).
pub const NAME: &str = "async-files";

/// How the fixes open an async file in this module's runtime.
pub struct FileOpener {
    /// The call that opens it: `aiofiles.open`, `await anyio.open_file`, `await trio.open_file`.
    pub call: String,
    pub needs: Option<&'static str>,
    /// Whether `f.close()` may be awaited as it is (anyio and trio name it `aclose`).
    pub close: bool,
}

impl FileOpener {
    pub fn for_runtime(resolver: &Resolver, runtime: crate::fix::model::Runtime) -> FileOpener {
        use crate::fix::model::Runtime;
        let (module, member, awaited) = match runtime {
            Runtime::Asyncio => ("aiofiles", "open", false),
            Runtime::Anyio => ("anyio", "open_file", true),
            Runtime::Trio => ("trio", "open_file", true),
        };
        let (base, needs) = match resolver.module_alias_for(module) {
            Some(alias) => (alias, None),
            None => (module.to_string(), Some(module)),
        };
        FileOpener {
            call: format!("{}{base}.{member}", if awaited { "await " } else { "" }),
            needs,
            close: !awaited,
        }
    }
}

/// Gives `manual` file findings the async-file rewrite where it is exact.
pub fn use_async_files<'t>(
    planned: &mut [Planned<'t>],
    resolver: &Resolver<'t>,
    name: &FileOpener,
) {
    let mut done: Vec<usize> = Vec::new();
    for i in 0..planned.len() {
        if planned[i].kind() != FixKind::Manual {
            continue;
        }
        let node = planned[i].finding.node;
        if !is_opener(resolver, node) {
            continue;
        }
        let opener = node;
        let converted = match with_statement_of(opener) {
            Some(with) if !done.contains(&with.id()) => {
                done.push(with.id());
                convert_with(resolver, with, name).map(|(fix, uses)| (with, fix, uses))
            }
            Some(_) => None,
            None => convert_statement(resolver, opener, name),
        };
        let Some((scope, fix, uses)) = converted else {
            continue;
        };
        let covers = |p: &Planned<'t>| {
            let n = p.finding.node;
            uses.iter().any(|u| u.id() == n.id()) || (within(n, scope) && is_opener(resolver, n))
        };
        give_where(planned, covers, FixKind::Native, &fix);
    }
}

fn is_opener<'t>(resolver: &Resolver<'t>, call: Node<'t>) -> bool {
    if call.kind() != "call" {
        return false;
    }
    let Some(callee) = call.child_by_field_name("function") else {
        return false;
    };
    if let Some(q) = resolver.qualified_name(callee) {
        return resolver.catalog().native_of_call(&q) == Some(NAME);
    }
    // `path.open(...)` on a value known to be a `pathlib.Path`.
    let callee = unparenthesize(callee);
    callee.kind() == "attribute"
        && callee
            .child_by_field_name("attribute")
            .is_some_and(|a| text(a, resolver.src()) == "open")
        && callee
            .child_by_field_name("object")
            .and_then(|o| resolver.type_of(o))
            .is_some_and(|t| t.name == "pathlib.Path")
}

/// The `with` statement whose item is this call (`with open(p) as f:`).
fn with_statement_of(call: Node) -> Option<Node> {
    let mut node = call;
    loop {
        let parent = node.parent()?;
        match parent.kind() {
            "as_pattern" | "with_item" | "with_clause" | "parenthesized_expression" => {
                node = parent
            }
            "with_statement" => return Some(parent),
            _ => return None,
        }
    }
}

/// `aiofiles.open(<args>)` for an opener call: `open(p, "w")` → `aiofiles.open(p, "w")`,
/// `path.open("w")` → `aiofiles.open(path, "w")`.
fn aiofiles_call(opener: Node, src: &str, name: &FileOpener) -> Option<String> {
    let callee = unparenthesize(opener.child_by_field_name("function")?);
    let args = opener.child_by_field_name("arguments")?;
    if args.kind() != "argument_list" {
        return None;
    }
    let inner = &src[args.start_byte() + 1..args.end_byte() - 1];
    let receiver = (callee.kind() == "attribute")
        .then(|| callee.child_by_field_name("object"))
        .flatten()
        .filter(|_| {
            callee
                .child_by_field_name("attribute")
                .is_some_and(|a| text(a, src) == "open")
        });
    Some(match receiver {
        // `io.open(...)` is an attribute too, but its object is a module, not a path.
        Some(obj) if !matches!(text(obj, src), "io") => {
            let sep = if inner.trim().is_empty() { "" } else { ", " };
            format!(
                "{}({}{sep}{})",
                name.call,
                text(obj, src),
                inner.trim_start()
            )
        }
        _ => format!("{}({inner})", name.call),
    })
}

/// A handle and the edits that rewrite its uses; `None` when a use is not supported.
struct Uses<'t> {
    edits: Vec<Edit>,
    /// The nodes (calls, iterables) whose findings the rewrite covers.
    nodes: Vec<Node<'t>>,
}

fn convert_with<'t>(
    resolver: &Resolver<'t>,
    with: Node<'t>,
    name: &FileOpener,
) -> Option<(Fix, Vec<Node<'t>>)> {
    let src = resolver.src();
    if crate::parse::syntax::has_async_keyword(with) {
        return None;
    }
    let clause = named_children(with)
        .into_iter()
        .find(|n| n.kind() == "with_clause")?;
    let body = with.child_by_field_name("body")?;
    let mut edits = vec![Edit::insert(with.start_byte(), "async ")];
    let mut nodes = Vec::new();
    let mut handles = Vec::new();
    for item in named_children(clause) {
        let value = item.child_by_field_name("value")?;
        if value.kind() != "as_pattern" {
            return None;
        }
        let call = unparenthesize(*named_children(value).first()?);
        if !is_opener(resolver, call) {
            return None;
        }
        let target = value.child_by_field_name("alias")?;
        let ident = *named_children(target).first()?;
        if ident.kind() != "identifier" {
            return None;
        }
        edits.push(Edit::replace(
            call.start_byte(),
            call.end_byte(),
            aiofiles_call(call, src, name)?,
        ));
        nodes.push(call);
        handles.push(ident);
    }
    for handle in handles {
        let uses = rewrite_uses(resolver, handle, body, with, name)?;
        edits.extend(uses.edits);
        nodes.extend(uses.nodes);
    }
    Some((
        Fix {
            edits,
            needs: name.needs.into_iter().collect(),
            ..Fix::default()
        },
        nodes,
    ))
}

/// The uses of `handle` (bound by `owner`) inside `body`; every other read of the name in the
/// function must not exist (the handle may not escape the block).
fn rewrite_uses<'t>(
    resolver: &Resolver<'t>,
    handle: Node<'t>,
    body: Node<'t>,
    owner: Node<'t>,
    opener: &FileOpener,
) -> Option<Uses<'t>> {
    let src = resolver.src();
    let handle_name = text(handle, src);
    let function = crate::resolve::enclosing_function(owner)?;
    let mut edits = Vec::new();
    let mut nodes = Vec::new();
    let uses = resolver.uses_of(handle, function);
    let rebinds: Vec<Node<'t>> = uses
        .iter()
        .copied()
        .filter(|u| !within(*u, body) && rebinds_after(*u, owner))
        .collect();
    for node in uses {
        let inside = within(node, body);
        if !inside && rebound_around(node, handle_name, owner, src) {
            // Another `with ... as f:` (or `for f in`) block binds the name anew for this use.
            continue;
        }
        if !inside
            && rebinds
                .iter()
                .any(|r| r.id() == node.id() || dominates(*r, node))
        {
            // `f = other` after the block: that use and the reads it leads to are not the file.
            continue;
        }
        if !inside || crate::parse::syntax::in_nested_scope(node, function) {
            return None;
        }
        let (edit_set, covered) = rewrite_one_use(resolver, node, opener)?;
        edits.extend(edit_set);
        nodes.push(covered);
    }
    Some(Uses { edits, nodes })
}

/// Whether `ident` is the whole target of a plain assignment (`f = other`) that is a
/// statement of a block holding `owner`, after it: it runs every time the block does, once
/// `owner` is done.
fn rebinds_after(ident: Node, owner: Node) -> bool {
    let Some(assign) = ident
        .parent()
        .filter(|a| a.kind() == "assignment" && is_field(*a, "left", ident))
    else {
        return false;
    };
    let statement = match assign.parent() {
        Some(s) if s.kind() == "expression_statement" => s,
        _ => return false,
    };
    statement.start_byte() >= owner.end_byte()
        && statement
            .parent()
            .is_some_and(|block| block.kind() == "block" && within(owner, block))
}

/// Whether the rebinding statement of `target` runs before `read` on every path: the read
/// comes later in the same block (or in a statement nested after it there).
fn dominates(target: Node, read: Node) -> bool {
    let Some(statement) = target.parent().and_then(|a| a.parent()) else {
        return false;
    };
    let Some(block) = statement.parent() else {
        return false;
    };
    read.start_byte() >= statement.end_byte() && within(read, block)
}

/// Whether a use of `name` outside `owner` is the target of another statement that binds the
/// name itself (`with open(q) as f:`, `for f in ...:`), or sits in that statement's body.
fn rebound_around(use_node: Node, name: &str, owner: Node, src: &str) -> bool {
    let mut child = use_node;
    while let Some(parent) = child.parent() {
        if parent.id() == owner.id() || matches!(parent.kind(), "function_definition" | "lambda") {
            return false;
        }
        if parent.kind() == "as_pattern_target" {
            return true;
        }
        let binds = match parent.kind() {
            "with_statement" => named_children(parent)
                .into_iter()
                .filter(|c| c.kind() == "with_clause")
                .flat_map(named_children)
                .filter_map(|item| item.child_by_field_name("value"))
                .filter_map(|v| v.child_by_field_name("alias"))
                .any(|alias| text(alias, src) == name),
            "for_statement" => parent
                .child_by_field_name("left")
                .is_some_and(|l| text(l, src) == name),
            _ => false,
        };
        let in_body = parent.child_by_field_name("body").is_some_and(|b| {
            b.start_byte() <= use_node.start_byte() && use_node.end_byte() <= b.end_byte()
        });
        if binds && in_body {
            return true;
        }
        child = parent;
    }
    false
}

/// One use of a handle → its edits and the finding node it covers.
fn rewrite_one_use<'t>(
    resolver: &Resolver<'t>,
    ident: Node<'t>,
    opener: &FileOpener,
) -> Option<(Vec<Edit>, Node<'t>)> {
    let src = resolver.src();
    let parent = ident.parent()?;
    match parent.kind() {
        "attribute" if is_field(parent, "object", ident) => {
            let attr = text(parent.child_by_field_name("attribute")?, src);
            let call = parent
                .parent()
                .filter(|c| c.kind() == "call" && is_field(*c, "function", parent));
            match call {
                Some(call)
                    if AWAITED_METHODS.contains(&attr) && (attr != "close" || opener.close) =>
                {
                    if crate::parse::syntax::in_generator_scope(call) {
                        return None;
                    }
                    Some((crate::fix::edits::await_call(call), call))
                }
                None if PLAIN_ATTRIBUTES.contains(&attr) => Some((Vec::new(), parent)),
                _ => None,
            }
        }
        "for_statement" if is_field(parent, "right", ident) => {
            Some((vec![Edit::insert(parent.start_byte(), "async ")], ident))
        }
        "for_in_clause" if is_field(parent, "right", ident) => {
            let comp = parent.parent()?;
            if comp.kind() == "generator_expression"
                || crate::parse::syntax::in_generator_scope(comp)
            {
                return None;
            }
            // The comprehension's outermost `for` is `async for`.
            let first = named_children(comp)
                .into_iter()
                .find(|n| n.kind() == "for_in_clause")?;
            if first.id() != parent.id() {
                return None;
            }
            Some((vec![Edit::insert(parent.start_byte(), "async ")], ident))
        }
        "argument_list" => json_use(resolver, ident, parent),
        _ => None,
    }
}

/// `json.load(f, **kw)` → `json.loads(await f.read(), **kw)`;
/// `json.dump(obj, f, **kw)` → `await f.write(json.dumps(obj, **kw))`.
fn json_use<'t>(
    resolver: &Resolver<'t>,
    ident: Node<'t>,
    args: Node<'t>,
) -> Option<(Vec<Edit>, Node<'t>)> {
    let src = resolver.src();
    let call = args.parent().filter(|c| c.kind() == "call")?;
    let callee = unparenthesize(call.child_by_field_name("function")?);
    let qualified = resolver.qualified_name(callee)?;
    if callee.kind() != "attribute" || crate::parse::syntax::in_generator_scope(call) {
        return None;
    }
    let positional: Vec<Node> = named_children(args);
    let handle = text(ident, src);
    match qualified.as_str() {
        "json.load" => {
            if positional.first().map(|n| n.id()) != Some(ident.id()) {
                return None;
            }
            let attr = callee.child_by_field_name("attribute")?;
            Some((
                vec![
                    Edit::replace(attr.start_byte(), attr.end_byte(), "loads"),
                    Edit::replace(
                        ident.start_byte(),
                        ident.end_byte(),
                        format!("await {handle}.read()"),
                    ),
                ],
                call,
            ))
        }
        "json.dump" => {
            if positional.get(1).map(|n| n.id()) != Some(ident.id())
                || positional[0].kind() == "keyword_argument"
            {
                return None;
            }
            let obj = text(positional[0], src);
            let rest: Vec<&str> = positional[2..].iter().map(|n| text(*n, src)).collect();
            if positional[2..]
                .iter()
                .any(|n| n.kind() != "keyword_argument")
            {
                return None;
            }
            let object = text(callee.child_by_field_name("object")?, src);
            let mut dumps_args = vec![obj];
            dumps_args.extend(rest);
            let (head, tail) = await_parts(call);
            let replacement = format!(
                "{head}{handle}.write({object}.dumps({})){tail}",
                dumps_args.join(", ")
            );
            Some((
                vec![Edit::replace(
                    call.start_byte(),
                    call.end_byte(),
                    replacement,
                )],
                call,
            ))
        }
        _ => None,
    }
}

/// `data = open(p).read()`, `return open(p).read()`, `json.dump(x, open(p, "w"))`, … → the
/// statement in an `async with aiofiles.open(...) as f:` block of its own.
fn convert_statement<'t>(
    resolver: &Resolver<'t>,
    opener: Node<'t>,
    name: &FileOpener,
) -> Option<(Node<'t>, Fix, Vec<Node<'t>>)> {
    let src = resolver.src();
    let statement = crate::parse::syntax::enclosing_statement(resolver.root(), opener);
    if !matches!(
        statement.kind(),
        "expression_statement" | "return_statement"
    ) || statement.parent().is_none_or(|p| p.kind() != "block")
    {
        return None;
    }
    let function = crate::resolve::enclosing_function(statement)?;
    // The opener runs first, in the `async with` header: never out of a comprehension or
    // lambda whose variables it reads, out of a branch, or ahead of another call.
    if crate::parse::syntax::in_nested_scope(opener, function)
        || crate::parse::syntax::in_generator_scope(opener)
        || !crate::parse::syntax::can_move_before(opener, statement)
    {
        return None;
    }
    // Only one opener in the statement.
    let mut stack = vec![statement];
    let mut openers = 0;
    while let Some(n) = stack.pop() {
        if is_opener(resolver, n) {
            openers += 1;
        }
        stack.extend(children(n));
    }
    if openers != 1 {
        return None;
    }
    let handle = crate::parse::syntax::free_name(src, function, "f");
    // The opener's use: a method call on it, or an argument of json.load/dump.
    let parent = opener.parent()?;
    let (use_start, use_end, replacement, covered) =
        if parent.kind() == "attribute" && is_field(parent, "object", opener) {
            let attr = text(parent.child_by_field_name("attribute")?, src);
            let call = parent
                .parent()
                .filter(|c| c.kind() == "call" && is_field(*c, "function", parent))?;
            if !AWAITED_METHODS.contains(&attr) {
                return None;
            }
            let args = call.child_by_field_name("arguments")?;
            let text_after = format!("{handle}.{attr}{}", text(args, src));
            let (head, tail) = await_parts(call);
            let replacement = format!("{head}{text_after}{tail}");
            (call.start_byte(), call.end_byte(), replacement, call)
        } else if parent.kind() == "argument_list" {
            let call = parent.parent().filter(|c| c.kind() == "call")?;
            let callee = unparenthesize(call.child_by_field_name("function")?);
            let qualified = resolver.qualified_name(callee)?;
            let object = text(callee.child_by_field_name("object")?, src);
            let args = named_children(parent);
            match qualified.as_str() {
                "json.load" if args.first().map(|a| a.id()) == Some(opener.id()) => {
                    let rest: Vec<&str> = args[1..].iter().map(|n| text(*n, src)).collect();
                    let mut all = vec![format!("await {handle}.read()")];
                    all.extend(rest.iter().map(|s| s.to_string()));
                    let replacement = format!("{object}.loads({})", all.join(", "));
                    (call.start_byte(), call.end_byte(), replacement, call)
                }
                "json.dump" if args.get(1).map(|a| a.id()) == Some(opener.id()) => {
                    if args[2..].iter().any(|n| n.kind() != "keyword_argument") {
                        return None;
                    }
                    let mut all = vec![text(args[0], src).to_string()];
                    all.extend(args[2..].iter().map(|n| text(*n, src).to_string()));
                    let (head, tail) = await_parts(call);
                    let replacement = format!(
                        "{head}{handle}.write({object}.dumps({})){tail}",
                        all.join(", ")
                    );
                    (call.start_byte(), call.end_byte(), replacement, call)
                }
                _ => return None,
            }
        } else {
            return None;
        };
    let before = &src[statement.start_byte()..use_start];
    let after = &src[use_end..statement.end_byte()];
    let block = crate::fix::edits::in_async_with(
        src,
        statement,
        function,
        &aiofiles_call(opener, src, name)?,
        &handle,
        &format!("{before}{replacement}{after}"),
    )?;
    // The opener call and its use (`open(p).read()`) are both findings.
    let mut covered_nodes = vec![covered, opener];
    covered_nodes.dedup_by_key(|n| n.id());
    Some((
        statement,
        Fix {
            edits: vec![block],
            needs: name.needs.into_iter().collect(),
            ..Fix::default()
        },
        covered_nodes,
    ))
}

/// `with open(p) as f:` → `async with aiofiles.open(p) as f:` (anyio/trio: their own files).
pub struct AsyncFiles;

impl super::NativeRewrite for AsyncFiles {
    fn apply<'t>(
        &self,
        planned: &mut [Planned<'t>],
        resolver: &Resolver<'t>,
        spelling: &crate::fix::spelling::Spelling,
    ) {
        let opener = FileOpener::for_runtime(resolver, spelling.runtime);
        use_async_files(planned, resolver, &opener);
    }
}
