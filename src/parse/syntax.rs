//! Parsing with tree-sitter: one parser per worker thread, shared compiled queries, and the
//! small node helpers every later stage uses.

use std::cell::RefCell;
use std::sync::OnceLock;

use tree_sitter::{Language, Node, Parser, Query, Tree};

pub fn language() -> Language {
    tree_sitter_python::LANGUAGE.into()
}

thread_local! {
    static PARSER: RefCell<Option<Parser>> = const { RefCell::new(None) };
}

/// Parses with this thread's parser (made on first use).
pub fn parse(text: &str) -> Option<Tree> {
    PARSER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            let mut parser = Parser::new();
            parser.set_language(&language()).ok()?;
            *slot = Some(parser);
        }
        let parser = slot.as_mut()?;
        // The file's time budget also bounds the parse: cancelled, it reports the overrun.
        let bytes = text.as_bytes();
        let mut input = |at: usize, _: tree_sitter::Point| bytes.get(at..).unwrap_or_default();
        let mut progress = |_: &tree_sitter::ParseState| {
            if crate::budget::expired() {
                std::ops::ControlFlow::Break(())
            } else {
                std::ops::ControlFlow::Continue(())
            }
        };
        let options = tree_sitter::ParseOptions::new().progress_callback(&mut progress);
        let tree = parser.parse_with_options(&mut input, None, Some(options));
        if tree.is_none() {
            parser.reset();
            crate::budget::check();
        }
        tree
    })
}

/// The top-level import statements of a module, compiled once for all threads.
pub fn import_query() -> &'static Query {
    static QUERY: OnceLock<Query> = OnceLock::new();
    QUERY.get_or_init(|| {
        Query::new(
            &language(),
            "(module [(import_statement) (import_from_statement)] @import)",
        )
        .unwrap_or_else(|e| panic!("import query is valid: {e}"))
    })
}

/// The first syntax error of a tree, as 1-based (line, column).
pub fn first_error(tree: &Tree) -> Option<(usize, usize)> {
    let root = tree.root_node();
    if !root.has_error() {
        return None;
    }
    // Down the first erroneous child at each level, to the innermost error: an error node
    // that spans half the file (tree-sitter's recovery) says little, the one inside it where
    // parsing went wrong says where to look.
    let mut node = root;
    loop {
        let mut cursor = node.walk();
        let next = node
            .children(&mut cursor)
            .find(|c| c.is_error() || c.is_missing() || c.has_error());
        match next {
            Some(child) => node = child,
            None => break,
        }
    }
    let p = node.start_position();
    Some((p.row + 1, p.column + 1))
}

pub fn text<'s>(node: Node, src: &'s str) -> &'s str {
    src.get(node.byte_range()).unwrap_or("")
}

pub fn is_async_def(node: Node) -> bool {
    node.kind() == "function_definition" && has_async_keyword(node)
}

/// Whether `child` is the node held in `parent`'s field `field`.
pub fn is_field(parent: Node, field: &str, child: Node) -> bool {
    parent
        .child_by_field_name(field)
        .is_some_and(|n| n.id() == child.id())
}

pub fn named_children(node: Node) -> Vec<Node> {
    let mut cursor = node.walk();
    node.named_children(&mut cursor)
        .filter(|c| c.kind() != "comment")
        .collect()
}

pub fn children(node: Node) -> Vec<Node> {
    let mut cursor = node.walk();
    node.children(&mut cursor).collect()
}

/// Removes grouping parentheses: `((x))` → `x`.
pub fn unparenthesize(mut node: Node) -> Node {
    while node.kind() == "parenthesized_expression" {
        match named_children(node).first() {
            Some(inner) => node = *inner,
            None => break,
        }
    }
    node
}

/// The statement holding `node`: the nearest ancestor whose parent is a block or the module
/// (`root`), found in one descent (see [`ancestors`]).
pub fn enclosing_statement<'t>(root: Node<'t>, node: Node<'t>) -> Node<'t> {
    let chain = ancestors(root, node);
    match chain
        .iter()
        .rposition(|a| matches!(a.kind(), "block" | "module"))
    {
        Some(i) => chain.get(i + 1).copied().unwrap_or(node),
        None => node,
    }
}

/// Whether `node` can be evaluated on its own just before `statement` (which holds it) without
/// changing what the statement does: it is not under a lambda, comprehension, conditional
/// expression, the right side of `and`/`or`, or a `match`/loop header whose parts run later,
/// and no call in the statement runs before it (a call that ends before it starts, other
/// than one it is part of). Moving it out of such a place would read variables it cannot
/// see, run it when the original did not, or reorder side effects.
pub fn can_move_before(node: Node, statement: Node) -> bool {
    let mut child = node;
    while let Some(parent) = child.parent() {
        if parent.id() == statement.id() {
            break;
        }
        let conditional = match parent.kind() {
            "lambda" | "conditional_expression" => true,
            k if is_comprehension(k) => true,
            "boolean_operator" => is_field(parent, "right", child),
            _ => false,
        };
        if conditional {
            return false;
        }
        child = parent;
    }
    if child.parent().is_none_or(|p| p.id() != statement.id()) && child.id() != statement.id() {
        return false;
    }
    let mut stack = vec![statement];
    while let Some(n) = stack.pop() {
        if n.kind() == "call" && n.end_byte() <= node.start_byte() {
            return false;
        }
        if n.start_byte() >= node.start_byte() {
            continue;
        }
        stack.extend(children(n));
    }
    true
}

/// The ancestors of `node`, from `root` down to its parent, found by one descent from the
/// root. `Node::parent` costs the node's depth on each call (tree-sitter walks down from the
/// root to find it), so climbing with it costs the depth squared; this costs the depth once.
pub fn ancestors<'t>(root: Node<'t>, node: Node<'t>) -> Vec<Node<'t>> {
    crate::budget::tick();
    let mut out = Vec::new();
    let mut current = root;
    while current.id() != node.id() {
        out.push(current);
        match current.child_with_descendant(node) {
            Some(next) if next.id() != current.id() => current = next,
            _ => break,
        }
    }
    out
}

/// Whether an identifier is a name being bound (an assignment, loop, `with`/`except`, import,
/// parameter, `def`/`class` or `global`/`nonlocal` target) rather than read.
pub fn is_binding_target(ident: Node) -> bool {
    let mut current = ident;
    while let Some(parent) = current.parent() {
        match parent.kind() {
            "attribute" | "subscript" => return false,
            "pattern_list"
            | "tuple_pattern"
            | "list_pattern"
            | "list_splat_pattern"
            | "parenthesized_expression"
            | "tuple"
            | "list" => current = parent,
            "assignment" => return is_field(parent, "left", current),
            "for_statement" | "for_in_clause" => return is_field(parent, "left", current),
            "as_pattern_target" => return true,
            "named_expression" => return is_field(parent, "name", current),
            "function_definition" | "class_definition" => return is_field(parent, "name", current),
            "parameters"
            | "lambda_parameters"
            | "default_parameter"
            | "typed_parameter"
            | "typed_default_parameter" => {
                return !(is_field(parent, "value", current));
            }
            "import_statement" | "import_from_statement" | "aliased_import" | "dotted_name" => {
                return true;
            }
            "global_statement" | "nonlocal_statement" => return true,
            _ => return false,
        }
    }
    false
}

/// The names a function declares `global` or `nonlocal` in its own body (not in nested
/// functions): its assignments to them change variables other code shares.
pub fn declared_outside(function: Node, src: &str) -> std::collections::HashSet<String> {
    let mut out = std::collections::HashSet::new();
    let Some(body) = function.child_by_field_name("body") else {
        return out;
    };
    let mut stack = vec![body];
    while let Some(n) = stack.pop() {
        match n.kind() {
            "function_definition" | "class_definition" | "lambda" => continue,
            "global_statement" | "nonlocal_statement" => {
                out.extend(
                    named_children(n)
                        .into_iter()
                        .map(|i| text(i, src).to_string()),
                );
                continue;
            }
            _ => stack.extend(children(n)),
        }
    }
    out
}

/// A comprehension or generator expression node.
pub fn is_comprehension(kind: &str) -> bool {
    matches!(
        kind,
        "list_comprehension"
            | "set_comprehension"
            | "dictionary_comprehension"
            | "generator_expression"
    )
}

/// Whether `node` lies within `outer` (byte ranges).
pub fn within(node: Node, outer: Node) -> bool {
    outer.start_byte() <= node.start_byte() && node.end_byte() <= outer.end_byte()
}

/// The byte offset where the line holding `at` starts.
pub fn line_start(src: &str, at: usize) -> usize {
    src[..at].rfind('\n').map_or(0, |i| i + 1)
}

/// The byte offset just past the end of the line holding `at` (after its newline).
pub fn line_end(src: &str, at: usize) -> usize {
    src[at..].find('\n').map_or(src.len(), |i| at + i + 1)
}

/// The text around an awaited call: `("await ", "")`, or `("(await ", ")")` where the call's
/// value is the object of `.attr`, `[i]` or `(...)` (`(await f()).attr`, never
/// `await f().attr`).
pub fn await_parts(call: Node) -> (&'static str, &'static str) {
    if needs_parentheses(call) {
        ("(await ", ")")
    } else {
        ("await ", "")
    }
}

/// Whether `node` (a `def`, `for`, `with` or comprehension clause) has the `async` keyword.
pub fn has_async_keyword(node: Node) -> bool {
    children(node).iter().any(|c| c.kind() == "async")
}

/// Whether a call's value is the object of `.attr`, `[i]` or `(...)`, and so needs parentheses
/// once awaited (`(await f()).attr`, never `await f().attr`).
pub fn needs_parentheses(call: Node) -> bool {
    call.parent().is_some_and(|p| match p.kind() {
        "attribute" => is_field(p, "object", call),
        "subscript" => is_field(p, "value", call),
        "call" => is_field(p, "function", call),
        _ => false,
    })
}

/// The line ending text inserted by the fixes should use: the file's own.
pub fn newline_of(src: &str) -> &'static str {
    if src.contains("\r\n") { "\r\n" } else { "\n" }
}

/// One level of indentation as the function writes it: its body's indentation less its own.
pub fn indent_unit(src: &str, function: Node) -> Option<String> {
    let body = function.child_by_field_name("body")?;
    let first = *named_children(body).first()?;
    let body_indent = &src[line_start(src, first.start_byte())..first.start_byte()];
    let def_start = match function.parent() {
        Some(p) if p.kind() == "decorated_definition" => p.start_byte(),
        _ => function.start_byte(),
    };
    let def_indent = &src[line_start(src, def_start)..def_start];
    body_indent
        .strip_prefix(def_indent)
        .filter(|u| !u.is_empty())
        .map(str::to_string)
}

/// The identifiers under `node` that name variables, in source order: not attribute names
/// (`x.name`) nor keyword-argument names (`f(name=...)`); subtrees of the `skip` kinds are not
/// entered. One cursor walk that knows each node's parent and field, so no `Node::parent`
/// look-ups (they cost the node's depth each).
pub fn variable_identifiers<'t>(node: Node<'t>, skip: &[&str]) -> Vec<Node<'t>> {
    let mut out = Vec::new();
    let mut cursor = node.walk();
    let mut parents: Vec<&str> = Vec::new();
    loop {
        crate::budget::tick();
        let current = cursor.node();
        if current.kind() == "identifier" {
            let field = cursor.field_name();
            let parent = parents.last().copied();
            let attribute_name = parent == Some("attribute") && field == Some("attribute");
            let keyword_name = parent == Some("keyword_argument") && field == Some("name");
            if !attribute_name && !keyword_name {
                out.push(current);
            }
        }
        if !skip.contains(&current.kind()) && cursor.goto_first_child() {
            parents.push(current.kind());
            continue;
        }
        // Next sibling, or climb until there is one; the cursor cannot leave `node`.
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return out;
            }
            parents.pop();
        }
    }
}

/// The first of `base`, `base2`, `base3`, … that names no variable in `scope` (attribute and
/// keyword-argument names do not count: `http.client` leaves `client` free).
pub fn free_name(src: &str, scope: Node, base: &str) -> String {
    let used: std::collections::HashSet<&str> = variable_identifiers(scope, &[])
        .into_iter()
        .map(|n| text(n, src))
        .collect();
    first_free(base, "", |n| used.contains(n))
}

/// The first of `base`, `base{sep}2`, `base{sep}3`, … that `taken` does not refuse.
pub fn first_free(base: &str, sep: &str, taken: impl Fn(&str) -> bool) -> String {
    std::iter::once(base.to_string())
        .chain((2..).map(|i| format!("{base}{sep}{i}")))
        .find(|n| !taken(n))
        .unwrap_or_else(|| base.to_string())
}

/// Whether a statement is a string on its own: a docstring when it opens its block.
pub fn is_string_statement(statement: Node) -> bool {
    statement.kind() == "expression_statement"
        && named_children(statement)
            .first()
            .is_some_and(|n| n.kind() == "string")
}

/// The name of a function's first parameter (`self`, `cls`), if it has one.
pub fn first_parameter_name<'s>(function: Node, src: &'s str) -> Option<&'s str> {
    let params = function.child_by_field_name("parameters")?;
    let first = *named_children(params).first()?;
    match first.kind() {
        "identifier" => Some(text(first, src)),
        "typed_parameter" => named_children(first)
            .into_iter()
            .find(|n| n.kind() == "identifier")
            .map(|n| text(n, src)),
        "default_parameter" | "typed_default_parameter" => {
            first.child_by_field_name("name").map(|n| text(n, src))
        }
        _ => None,
    }
}

/// The class a function is a method of (decorated or not), if it is one.
pub fn class_of_method(function: Node) -> Option<Node> {
    let mut up = function.parent()?;
    if up.kind() == "decorated_definition" {
        up = up.parent()?;
    }
    if up.kind() != "block" {
        return None;
    }
    up.parent().filter(|c| c.kind() == "class_definition")
}

/// How often each name is read in a module (identifiers outside import statements, not
/// attribute names or keyword-argument names).
pub fn reference_counts(root: Node, src: &str) -> std::collections::HashMap<String, usize> {
    let mut counts: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let imports = [
        "import_statement",
        "import_from_statement",
        "future_import_statement",
    ];
    for node in variable_identifiers(root, &imports) {
        *counts.entry(text(node, src).to_string()).or_default() += 1;
    }
    counts
}

/// Whether `node` sits in a nested `def`, `lambda` or `class` body inside `function`.
pub fn in_nested_scope(node: Node, function: Node) -> bool {
    let mut child = node;
    while let Some(parent) = child.parent() {
        if parent.id() == function.id() {
            return false;
        }
        if matches!(
            parent.kind(),
            "function_definition" | "lambda" | "class_definition"
        ) && is_field(parent, "body", child)
        {
            return true;
        }
        child = parent;
    }
    false
}

/// Whether `node` is inside a generator expression's own scope (where `await` cannot go).
pub fn in_generator_scope(node: Node) -> bool {
    let mut child = node;
    let mut below: Option<Node> = None;
    while let Some(parent) = child.parent() {
        match parent.kind() {
            "function_definition" | "lambda" | "class_definition" => return false,
            "generator_expression" if !crate::resolve::in_first_iterable(parent, child, below) => {
                return true;
            }
            _ => {}
        }
        below = Some(child);
        child = parent;
    }
    false
}

/// Every node below `node`, nested function, lambda and class bodies excluded.
/// The last name a callee is called by: `call_soon` in `loop.call_soon`, `f` in `f`.
pub fn last_name<'s>(callee: Node, src: &'s str) -> Option<&'s str> {
    let callee = unparenthesize(callee);
    match callee.kind() {
        "identifier" => Some(text(callee, src)),
        "attribute" => callee
            .child_by_field_name("attribute")
            .map(|a| text(a, src)),
        _ => None,
    }
}

/// Whether a node of this kind can hold statements (a search for statements, such as imports
/// or function definitions, need not enter anything else).
pub fn holds_statements(kind: &str) -> bool {
    matches!(
        kind,
        "module"
            | "block"
            | "if_statement"
            | "elif_clause"
            | "else_clause"
            | "try_statement"
            | "except_clause"
            | "except_group_clause"
            | "finally_clause"
            | "with_statement"
            | "for_statement"
            | "while_statement"
            | "function_definition"
            | "class_definition"
            | "decorated_definition"
            | "match_statement"
            | "case_clause"
    )
}

pub fn descendants(node: Node) -> Vec<Node> {
    let mut out = Vec::new();
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        out.push(n);
        if n.id() != node.id()
            && matches!(
                n.kind(),
                "function_definition" | "class_definition" | "lambda"
            )
        {
            continue;
        }
        stack.extend(children(n));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_identifiers_skip_attribute_and_keyword_names() {
        let src = "import os\nx = os.path.join(a, sep=b)\nf(c)\n";
        let tree = parse(src).expect("tree");
        let names: Vec<&str> = variable_identifiers(tree.root_node(), &["import_statement"])
            .into_iter()
            .map(|n| text(n, src))
            .collect();
        assert_eq!(names, vec!["x", "os", "a", "b", "f", "c"]);
        assert_eq!(free_name(src, tree.root_node(), "path"), "path");
        assert_eq!(free_name(src, tree.root_node(), "x"), "x2");
    }

    #[test]
    fn can_move_before_refuses_scoped_conditional_and_reordered_places() {
        let src =
            "x = [g(n) for n in y]\nx = a or g(1)\nx = h() + g(2)\nx = t + g(3).y\nx = g(4)(h())\n";
        let tree = parse(src).expect("tree");
        let root = tree.root_node();
        let g_calls: Vec<Node> = {
            let mut out = Vec::new();
            let mut stack = vec![root];
            while let Some(n) = stack.pop() {
                if n.kind() == "call"
                    && n.child_by_field_name("function")
                        .is_some_and(|f| text(f, src) == "g")
                {
                    out.push(n);
                }
                stack.extend(children(n));
            }
            out.sort_by_key(|n| n.start_byte());
            out
        };
        let verdicts: Vec<bool> = g_calls
            .iter()
            .map(|c| can_move_before(*c, enclosing_statement(root, *c)))
            .collect();
        assert_eq!(verdicts, vec![false, false, false, true, true]);
    }

    #[test]
    fn parses_and_reports_first_error() {
        let tree = parse("def f(:\n    pass\n").expect("tree");
        assert!(first_error(&tree).is_some());
        let ok = parse("async def f():\n    pass\n").expect("tree");
        assert_eq!(first_error(&ok), None);
        let def = ok.root_node().child(0).expect("def");
        assert!(is_async_def(def));
    }
}
