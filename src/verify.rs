//! The verification gate (SPEC §3.8): every rewritten text is checked before it is shown or
//! written, and a rewrite that fails is refused with the reason.
//!
//! Checks, each against the text as it was before the rewrite so that only what the rewrite
//! changed can fail it: the text parses with no error node; no name is read where nothing binds
//! it (a helper that reads a local it is not given); no read of a module-level import now lands
//! on a local of the same name (an added `import locale` under a `locale` parameter); no changed
//! line has an indentation CPython rejects (a form feed, or tabs and spaces mixed); and nesting
//! stays within CPython's limits (100 indented blocks, 200 open brackets).

use std::collections::{HashMap, HashSet};

use thiserror::Error;
use tree_sitter::{Node, Tree};

use crate::catalog::Catalog;
use crate::parse::syntax::{first_error, is_binding_target, parse, text, variable_identifiers};
use crate::resolve::Resolver;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum VerifyError {
    #[error(
        "the rewrite does not parse (line {line}, column {column}); the file is left unchanged"
    )]
    Invalid { line: usize, column: usize },
    #[error("the parser could not run")]
    NoParser,
}

/// Parses the fixed text; an error anywhere rejects the rewrite.
pub fn verify(fixed: &str) -> Result<Tree, VerifyError> {
    let tree = parse(fixed).ok_or(VerifyError::NoParser)?;
    match first_error(&tree) {
        Some((line, column)) => Err(VerifyError::Invalid { line, column }),
        None => Ok(tree),
    }
}

/// Why the gate refused a rewrite.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum Refusal {
    #[error("it does not parse (line {line}, column {column})")]
    Unparsable { line: usize, column: usize },
    #[error("`{name}` would be read in `{function}` where nothing binds it")]
    Unbound { name: String, function: String },
    #[error("`{name}` would be read in `{function}` before the function sets it")]
    ReadBeforeSet { name: String, function: String },
    #[error("`{name}` in `{function}` would refer to a local of that name, not the module")]
    Shadowed { name: String, function: String },
    #[error("line {line} would start with a form feed or a mix of tabs and spaces")]
    Indentation { line: usize },
    #[error("an async generator would return a value")]
    GeneratorReturn,
    #[error("{what} would nest deeper than CPython allows")]
    TooDeep { what: &'static str },
}

/// CPython's limits: indented blocks (`MAXINDENT`) and open brackets (`MAXLEVEL`).
const MAX_BLOCKS: usize = 100;
const MAX_BRACKETS: usize = 200;

/// Checks `after`, the rewrite of `before`; the parsed rewrite when it passes.
pub fn gate(before: &str, before_tree: &Tree, after: &str) -> Result<Tree, Refusal> {
    let after_tree = verify(after).map_err(|e| match e {
        VerifyError::Invalid { line, column } => Refusal::Unparsable { line, column },
        VerifyError::NoParser => Refusal::Unparsable { line: 1, column: 1 },
    })?;
    check_indentation(before, before_tree, after, &after_tree)?;
    check_nesting(before_tree.root_node(), after_tree.root_node())?;
    if generator_returns(after_tree.root_node()) > generator_returns(before_tree.root_node()) {
        return Err(Refusal::GeneratorReturn);
    }
    // Reads of the rewrite's module-level imports that a local hides, counted in both texts.
    let imported = module_imports(after_tree.root_node(), after);
    let old = NameFacts::of(before, before_tree.root_node(), &imported);
    let new = NameFacts::of(after, after_tree.root_node(), &imported);
    // A name already unbound somewhere in the original is not the rewrite's doing (code that
    // reads it may move into a helper).
    let unbound_before: HashSet<&String> = old.unbound.iter().map(|(_, n)| n).collect();
    if let Some((function, name)) = new
        .unbound
        .iter()
        .filter(|(_, n)| !unbound_before.contains(n))
        .min()
    {
        return Err(Refusal::Unbound {
            name: name.clone(),
            function: function.clone(),
        });
    }
    if let Some((function, name)) = new.read_first.difference(&old.read_first).min() {
        return Err(Refusal::ReadBeforeSet {
            name: name.clone(),
            function: function.clone(),
        });
    }
    let mut grown: Vec<(&(String, String), &usize)> = new
        .shadowed_imports
        .iter()
        .filter(|(key, count)| {
            old.functions.contains(&key.0)
                && **count > old.shadowed_imports.get(*key).copied().unwrap_or(0)
        })
        .collect();
    grown.sort();
    if let Some(((function, name), _)) = grown.first() {
        return Err(Refusal::Shadowed {
            name: name.clone(),
            function: function.clone(),
        });
    }
    Ok(after_tree)
}

/// What the names of one text resolve to, per function (`Class.method`, `<module>` for code
/// outside functions).
struct NameFacts {
    functions: HashSet<String>,
    /// (function, name) read where no scope binds the name and it is no builtin.
    unbound: HashSet<(String, String)>,
    /// (function, name) of a local (not a parameter) whose first mention in the function is
    /// a read: `UnboundLocalError` unless a loop brings a later binding round first.
    read_first: HashSet<(String, String)>,
    /// How often a name of `imported` is read, in each function, where a local (or a
    /// parameter) of that name would hide a module-level import of it.
    shadowed_imports: HashMap<(String, String), usize>,
}

impl NameFacts {
    fn of(src: &str, root: Node, imported: &HashSet<String>) -> NameFacts {
        let catalog = Catalog::default();
        let resolver = Resolver::new(src, root, &catalog);
        let mut facts = NameFacts {
            functions: HashSet::new(),
            unbound: HashSet::new(),
            read_first: HashSet::new(),
            shadowed_imports: HashMap::new(),
        };
        facts.functions.insert("<module>".to_string());
        for (function, node) in functions(root, src) {
            facts.functions.insert(function.clone());
            let body = match node {
                Some(def) => match def.child_by_field_name("body") {
                    Some(b) => b,
                    None => continue,
                },
                None => root,
            };
            let parameters: HashSet<&str> = node
                .and_then(|def| def.child_by_field_name("parameters"))
                .map(|p| {
                    variable_identifiers(p, &[])
                        .into_iter()
                        .filter(|i| is_binding_target(*i))
                        .map(|i| text(i, src))
                        .collect()
                })
                .unwrap_or_default();
            let mut mentioned: HashSet<&str> = HashSet::new();
            // In evaluation order: an assignment binds its targets after its value is read.
            let mut idents =
                variable_identifiers(body, &["function_definition", "class_definition"]);
            idents.sort_by_cached_key(|i| (evaluated_at(*i), i.start_byte()));
            for ident in idents {
                crate::budget::tick();
                let name = text(ident, src);
                let first = mentioned.insert(name);
                if is_binding_target(ident) {
                    continue;
                }
                if let Some(def) = node
                    && first
                    && !parameters.contains(name)
                    && resolver.binding_scope(name, ident) == Some(def.id())
                {
                    facts
                        .read_first
                        .insert((function.clone(), name.to_string()));
                }
                match resolver.binding_scope(name, ident) {
                    None if !is_builtin(name) => {
                        facts.unbound.insert((function.clone(), name.to_string()));
                    }
                    Some(scope) if scope != root.id() && imported.contains(name) => {
                        *facts
                            .shadowed_imports
                            .entry((function.clone(), name.to_string()))
                            .or_default() += 1;
                    }
                    _ => {}
                }
            }
        }
        facts
    }
}

/// Where an identifier takes effect: a binding target of an assignment or `:=` when the whole
/// statement's value has been computed, anything else where it stands.
fn evaluated_at(ident: Node) -> usize {
    if is_binding_target(ident) {
        let mut up = ident.parent();
        while let Some(n) = up {
            match n.kind() {
                "assignment" | "augmented_assignment" | "named_expression" => return n.end_byte(),
                "block" | "function_definition" | "class_definition" => break,
                _ => up = n.parent(),
            }
        }
    }
    ident.start_byte()
}

/// Every function with its dotted path (`Outer.method`), and the module itself (`None`).
/// Decorators, defaults and annotations belong to the scope around the function; they are
/// read there, as part of that scope's body.
fn functions<'t>(root: Node<'t>, src: &str) -> Vec<(String, Option<Node<'t>>)> {
    let mut out = vec![("<module>".to_string(), None)];
    let mut stack: Vec<(Node<'t>, String)> = vec![(root, String::new())];
    while let Some((node, path)) = stack.pop() {
        let mut cursor = node.walk();
        for child in node.children(&mut cursor) {
            let named = matches!(child.kind(), "function_definition" | "class_definition");
            let inner = if named {
                let name = child
                    .child_by_field_name("name")
                    .map_or("?", |n| text(n, src));
                let full = if path.is_empty() {
                    name.to_string()
                } else {
                    format!("{path}.{name}")
                };
                if child.kind() == "function_definition" {
                    out.push((full.clone(), Some(child)));
                }
                full
            } else {
                path.clone()
            };
            stack.push((child, inner));
        }
    }
    out
}

/// The names bound by import statements at module level.
fn module_imports(root: Node, src: &str) -> HashSet<String> {
    let mut out = HashSet::new();
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        match node.kind() {
            "import_statement" | "import_from_statement" => {
                out.extend(
                    variable_identifiers(node, &[])
                        .into_iter()
                        .filter(|i| is_binding_target(*i))
                        .map(|i| bound_import_name(i, src)),
                );
            }
            "function_definition" | "class_definition" => {}
            _ => {
                let mut cursor = node.walk();
                stack.extend(node.children(&mut cursor));
            }
        }
    }
    out.remove("");
    out
}

/// The name an import identifier binds: the alias, or the first part of `import a.b`.
fn bound_import_name(ident: Node, src: &str) -> String {
    let parent = ident.parent();
    if let Some(dotted) = parent.filter(|p| p.kind() == "dotted_name") {
        let in_alias = dotted
            .parent()
            .is_some_and(|a| a.kind() == "aliased_import");
        let first = dotted.named_child(0).is_some_and(|f| f.id() == ident.id());
        let module_part = dotted.parent().is_some_and(|s| {
            s.kind() == "import_from_statement"
                && s.child_by_field_name("module_name")
                    .is_some_and(|m| m.id() == dotted.id())
        });
        if in_alias || !first || module_part {
            return String::new();
        }
    }
    text(ident, src).to_string()
}

/// Every block's statements must start at one column, deeper than the line that opens the
/// block, as CPython counts columns: a tab moves to the next multiple of 8, a form feed
/// starts the count again, and the answer must not change with a tab size of 1 (else
/// `TabError`). tree-sitter is more lenient, so a rewrite that moves lines into another
/// block (a helper) could pass its parse and still fail CPython's; the rewrite is refused
/// when it has more such blocks than the original.
fn check_indentation(
    before: &str,
    before_tree: &Tree,
    after: &str,
    after_tree: &Tree,
) -> Result<(), Refusal> {
    let old = indentation_faults(before, before_tree.root_node());
    let new = indentation_faults(after, after_tree.root_node());
    match new.get(old.len()) {
        Some(&line) => Err(Refusal::Indentation { line }),
        None => Ok(()),
    }
}

/// The first line (1-based) whose indentation CPython rejects (`IndentationError`,
/// `TabError`), which tree-sitter may accept.
pub fn first_indentation_fault(src: &str, root: Node) -> Option<usize> {
    indentation_faults(src, root).first().copied()
}

/// The lines (1-based) where a block's statement is indented in a way CPython rejects.
fn indentation_faults(src: &str, root: Node) -> Vec<usize> {
    let mut faults = Vec::new();
    // Module-level statements start at column 0 (`unexpected indent` otherwise).
    let mut cursor = root.walk();
    for statement in root.named_children(&mut cursor) {
        let start = statement.start_byte();
        let line_start = crate::parse::syntax::line_start(src, start);
        let at_line_start = src[line_start..start]
            .chars()
            .all(|c| matches!(c, ' ' | '\t' | '\x0c'));
        if statement.kind() != "comment" && at_line_start && columns(&src[line_start..]) != (0, 0) {
            faults.push(statement.start_position().row + 1);
        }
    }
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        let mut cursor = node.walk();
        stack.extend(node.children(&mut cursor));
        if node.kind() != "block" {
            continue;
        }
        let Some(header) = node.parent() else {
            continue;
        };
        // A block with no statement (tree-sitter's recovery for a body CPython finds
        // missing: `expected an indented block`).
        let mut count_cursor = node.walk();
        if node
            .named_children(&mut count_cursor)
            .all(|c| c.kind() == "comment")
        {
            faults.push(header.start_position().row + 1);
            continue;
        }
        let opener = columns(line_of(src, header.start_byte()));
        let mut first: Option<(usize, usize)> = None;
        let mut cursor = node.walk();
        for statement in node.named_children(&mut cursor) {
            // Comments sit at any indentation.
            if statement.kind() == "comment" {
                continue;
            }
            let start = statement.start_byte();
            let line_start = crate::parse::syntax::line_start(src, start);
            if !src[line_start..start]
                .chars()
                .all(|c| matches!(c, ' ' | '\t' | '\x0c'))
            {
                // `if x: pass` — on the header's line, nothing to compare.
                continue;
            }
            let here = columns(&src[line_start..]);
            let deeper = here.0 > opener.0 && here.1 > opener.1;
            let same = first.is_none_or(|f| f == here);
            if !deeper || !same {
                faults.push(statement.start_position().row + 1);
            }
            first.get_or_insert(here);
        }
    }
    faults.sort_unstable();
    faults
}

fn line_of(src: &str, at: usize) -> &str {
    &src[crate::parse::syntax::line_start(src, at)..]
}

/// A line's indentation as CPython measures it: (tab size 8, tab size 1).
fn columns(line: &str) -> (usize, usize) {
    let (mut col, mut alt) = (0, 0);
    for c in line.chars() {
        match c {
            ' ' => {
                col += 1;
                alt += 1;
            }
            '\t' => {
                col = (col / 8 + 1) * 8;
                alt += 1;
            }
            '\x0c' => {
                col = 0;
                alt = 0;
            }
            _ => break,
        }
    }
    (col, alt)
}

/// Blocks and brackets nest no deeper than CPython allows, unless the original was already
/// that deep (then the rewrite is not to blame).
fn check_nesting(before: Node, after: Node) -> Result<(), Refusal> {
    let (old_blocks, old_brackets) = nesting(before);
    let (blocks, brackets) = nesting(after);
    if blocks >= MAX_BLOCKS && blocks > old_blocks {
        return Err(Refusal::TooDeep {
            what: "indented blocks",
        });
    }
    if brackets >= MAX_BRACKETS && brackets > old_brackets {
        return Err(Refusal::TooDeep { what: "brackets" });
    }
    Ok(())
}

/// How many `return <value>` statements stand in async generators (a syntax error CPython
/// reports and tree-sitter does not).
fn generator_returns(root: Node) -> usize {
    let mut count = 0;
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        let mut cursor = node.walk();
        stack.extend(node.children(&mut cursor));
        if !crate::parse::syntax::is_async_def(node) {
            continue;
        }
        let Some(body) = node.child_by_field_name("body") else {
            continue;
        };
        let (mut yields, mut returns) = (false, 0);
        let mut inner = vec![body];
        while let Some(n) = inner.pop() {
            match n.kind() {
                "function_definition" | "class_definition" | "lambda" => continue,
                "yield" => yields = true,
                "return_statement" if n.named_child_count() > 0 => returns += 1,
                _ => {}
            }
            let mut cursor = n.walk();
            inner.extend(n.children(&mut cursor));
        }
        if yields {
            count += returns;
        }
    }
    count
}

/// Whether a parsed file nests deeper than CPython accepts: such a file is not valid Python
/// (`too many nested parentheses`, `too many levels of indentation`), and analysing it would
/// only cost time. The limits, and where the deepest nesting starts.
pub fn too_deep(root: Node) -> Option<&'static str> {
    let (blocks, brackets) = nesting(root);
    if brackets > MAX_BRACKETS {
        Some("brackets nest deeper than CPython accepts (200)")
    } else if blocks >= MAX_BLOCKS {
        Some("blocks nest deeper than CPython accepts (99 levels)")
    } else {
        None
    }
}

/// The deepest nesting of indented blocks and of open brackets, in one walk.
fn nesting(root: Node) -> (usize, usize) {
    let (mut blocks, mut brackets, mut max_blocks, mut max_brackets) = (0usize, 0usize, 0, 0);
    let mut cursor = root.walk();
    loop {
        crate::budget::tick();
        let node = cursor.node();
        match node.kind() {
            "(" | "[" | "{" if node.child_count() == 0 => {
                brackets += 1;
                max_brackets = max_brackets.max(brackets);
            }
            ")" | "]" | "}" if node.child_count() == 0 => brackets = brackets.saturating_sub(1),
            _ => {}
        }
        if cursor.goto_first_child() {
            if node.kind() == "block" {
                blocks += 1;
                max_blocks = max_blocks.max(blocks);
            }
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return (max_blocks, max_brackets);
            }
            if cursor.node().kind() == "block" {
                blocks -= 1;
            }
        }
    }
}

fn is_builtin(name: &str) -> bool {
    BUILTINS.binary_search(&name).is_ok()
}

/// Python's builtins and module attributes (sorted, for the binary search).
const BUILTINS: &[&str] = &[
    "ArithmeticError",
    "AssertionError",
    "AttributeError",
    "BaseException",
    "BaseExceptionGroup",
    "BlockingIOError",
    "BrokenPipeError",
    "BufferError",
    "BytesWarning",
    "ChildProcessError",
    "ConnectionAbortedError",
    "ConnectionError",
    "ConnectionRefusedError",
    "ConnectionResetError",
    "DeprecationWarning",
    "EOFError",
    "Ellipsis",
    "EncodingWarning",
    "EnvironmentError",
    "Exception",
    "ExceptionGroup",
    "False",
    "FileExistsError",
    "FileNotFoundError",
    "FloatingPointError",
    "FutureWarning",
    "GeneratorExit",
    "IOError",
    "ImportError",
    "ImportWarning",
    "IndentationError",
    "IndexError",
    "InterruptedError",
    "IsADirectoryError",
    "KeyError",
    "KeyboardInterrupt",
    "LookupError",
    "MemoryError",
    "ModuleNotFoundError",
    "NameError",
    "None",
    "NotADirectoryError",
    "NotImplemented",
    "NotImplementedError",
    "OSError",
    "OverflowError",
    "PendingDeprecationWarning",
    "PermissionError",
    "ProcessLookupError",
    "PythonFinalizationError",
    "RecursionError",
    "ReferenceError",
    "ResourceWarning",
    "RuntimeError",
    "RuntimeWarning",
    "StopAsyncIteration",
    "StopIteration",
    "SyntaxError",
    "SyntaxWarning",
    "SystemError",
    "SystemExit",
    "TabError",
    "TimeoutError",
    "True",
    "TypeError",
    "UnboundLocalError",
    "UnicodeDecodeError",
    "UnicodeEncodeError",
    "UnicodeError",
    "UnicodeTranslateError",
    "UnicodeWarning",
    "UserWarning",
    "ValueError",
    "Warning",
    "WindowsError",
    "ZeroDivisionError",
    "__annotations__",
    "__build_class__",
    "__builtins__",
    "__cached__",
    "__class__",
    "__debug__",
    "__dict__",
    "__doc__",
    "__file__",
    "__import__",
    "__loader__",
    "__module__",
    "__name__",
    "__package__",
    "__path__",
    "__qualname__",
    "__spec__",
    "abs",
    "aiter",
    "all",
    "anext",
    "any",
    "ascii",
    "bin",
    "bool",
    "breakpoint",
    "bytearray",
    "bytes",
    "callable",
    "chr",
    "classmethod",
    "compile",
    "complex",
    "copyright",
    "credits",
    "delattr",
    "dict",
    "dir",
    "divmod",
    "enumerate",
    "eval",
    "exec",
    "exit",
    "filter",
    "float",
    "format",
    "frozenset",
    "getattr",
    "globals",
    "hasattr",
    "hash",
    "help",
    "hex",
    "id",
    "input",
    "int",
    "isinstance",
    "issubclass",
    "iter",
    "len",
    "license",
    "list",
    "locals",
    "map",
    "max",
    "memoryview",
    "min",
    "next",
    "object",
    "oct",
    "open",
    "ord",
    "pow",
    "print",
    "property",
    "quit",
    "range",
    "repr",
    "reversed",
    "round",
    "set",
    "setattr",
    "slice",
    "sorted",
    "staticmethod",
    "str",
    "sum",
    "super",
    "tuple",
    "type",
    "vars",
    "zip",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn gate_of(before: &str, after: &str) -> Result<(), Refusal> {
        let tree = parse(before).expect("tree");
        gate(before, &tree, after).map(|_| ())
    }

    #[test]
    fn rejects_broken_text() {
        assert!(verify("x = (1,\n").is_err());
        assert!(verify("x = 1\n").is_ok());
        assert!(matches!(
            gate_of("x = 1\n", "x = (1,\n"),
            Err(Refusal::Unparsable { .. })
        ));
    }

    #[test]
    fn refuses_a_value_returned_from_an_async_generator() {
        let before = "async def f(p):\n    yield 1\n    g(p)\n";
        let after = "async def f(p):\n    yield 1\n    return await t(g, p)\n";
        assert_eq!(gate_of(before, after), Err(Refusal::GeneratorReturn));
    }

    #[test]
    fn builtins_are_sorted() {
        assert!(BUILTINS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn refuses_a_helper_that_reads_a_local_it_is_not_given() {
        let before =
            "async def save(rows, header):\n    first = header.upper()\n    print(first, rows)\n";
        let after = "def _save_sync(rows):\n    print(first, rows)\n\n\nasync def save(rows, header):\n    first = header.upper()\n    await to_thread(_save_sync, rows)\n";
        // `to_thread` is unbound too, but only `first` is read in the helper: the lowest
        // (function, name) pair is reported.
        assert_eq!(
            gate_of(before, after),
            Err(Refusal::Unbound {
                name: "first".into(),
                function: "_save_sync".into()
            })
        );
        let good = "import asyncio\n\n\ndef _save_sync(rows, first):\n    print(first, rows)\n\n\nasync def save(rows, header):\n    first = header.upper()\n    await asyncio.to_thread(_save_sync, rows, first)\n";
        assert_eq!(gate_of(before, good), Ok(()));
    }

    #[test]
    fn an_unbound_name_already_there_is_not_the_rewrite_s_fault() {
        let before = "async def f():\n    missing()\n    import time\n    time.sleep(1)\n";
        let after =
            "import asyncio\n\n\nasync def f():\n    missing()\n    await asyncio.sleep(1)\n";
        assert_eq!(gate_of(before, after), Ok(()));
    }

    #[test]
    fn refuses_a_helper_that_reads_a_local_before_setting_it() {
        let before = "from os.path import getsize as g\nfrom asyncio import to_thread as t\nTOTAL = 0\n\n\nasync def f(p):\n    global TOTAL\n    TOTAL = TOTAL + g(p)\n";
        let after = "from os.path import getsize as g\nfrom asyncio import to_thread as t\nTOTAL = 0\n\n\ndef _f_sync(p):\n    TOTAL = TOTAL + g(p)\n\n\nasync def f(p):\n    global TOTAL\n    await t(_f_sync, p)\n";
        assert_eq!(
            gate_of(before, after).map_err(|e| e.to_string()),
            Err("`TOTAL` would be read in `_f_sync` before the function sets it".to_string())
        );
    }

    #[test]
    fn a_name_unbound_in_the_original_may_move_into_a_helper() {
        let before = "async def f(p):\n    print(missing)\n    await g()\n";
        let after = "def _f_sync():\n    print(missing)\n\n\nasync def f(p):\n    await t(_f_sync)\n    await g()\n";
        // `t` is new and unbound: refused for it, not for `missing`.
        assert_eq!(
            gate_of(before, after),
            Err(Refusal::Unbound {
                name: "t".into(),
                function: "f".into()
            })
        );
    }

    #[test]
    fn refuses_an_import_hidden_by_a_parameter() {
        let before = "import asyncio\nimport time\n\n\nasync def nap(asyncio):\n    time.sleep(1)\n    return asyncio\n";
        let after = "import asyncio\n\n\nasync def nap(asyncio):\n    await asyncio.sleep(1)\n    return asyncio\n";
        assert_eq!(
            gate_of(before, after),
            Err(Refusal::Shadowed {
                name: "asyncio".into(),
                function: "nap".into()
            })
        );
    }

    #[test]
    fn refuses_indentation_cpython_rejects() {
        let before = "async def f():\n    g()\n    h()\n";
        // A form feed resets the column: `h()` would sit at column 2, `g()` at 4 (refused
        // one way or another).
        assert!(gate_of(before, "async def f():\n    g()\n  \x0c  h()\n").is_err());
        // A tab is column 8 with tab size 8, column 1 with tab size 1: ambiguous beside
        // eight spaces.
        assert_eq!(
            gate_of(before, "async def f():\n        g()\n\th()\n"),
            Err(Refusal::Indentation { line: 3 })
        );
        assert_eq!(
            gate_of(before, "async def f():\n    await g()\n    h()\n"),
            Ok(())
        );
        // A form feed on a line of its own, or before the indentation, is fine.
        assert_eq!(
            gate_of(before, "async def f():\n    g()\n\x0c    h()\n"),
            Ok(())
        );
    }

    #[test]
    fn an_empty_block_is_an_indentation_fault() {
        // A form feed resets the column: `rows` is not inside the inner `with`, whose body is
        // then missing (CPython: "expected an indented block"); tree-sitter gives it an empty
        // block and no error.
        let src = "async def h(p):\n    with open(p) as g:\n        with open(p) as fh:\n\x0c        rows = 1\n";
        let tree = parse(src).expect("tree");
        assert_eq!(first_indentation_fault(src, tree.root_node()), Some(3));
        let fine = "async def h(p):\n    with open(p) as g:\n        pass  # body\n";
        let tree = parse(fine).expect("tree");
        assert_eq!(first_indentation_fault(fine, tree.root_node()), None);
    }

    #[test]
    fn refuses_nesting_past_cpython_limits() {
        let mut before = String::new();
        for depth in 0..99 {
            before.push_str(&" ".repeat(depth));
            before.push_str("if x:\n");
        }
        before.push_str(&" ".repeat(99));
        before.push_str("pass\n");
        let after = format!("with y:\n{}", indent_all(&before));
        assert_eq!(
            gate_of(&before, &after),
            Err(Refusal::TooDeep {
                what: "indented blocks"
            })
        );
        let brackets = format!("x = {}1{}\n", "(".repeat(199), ")".repeat(199));
        let deeper = format!("x = {}1{}\n", "(".repeat(200), ")".repeat(200));
        assert_eq!(
            gate_of(&brackets, &deeper),
            Err(Refusal::TooDeep { what: "brackets" })
        );
    }

    #[test]
    fn nesting_cpython_rejects_is_found_before_any_analysis() {
        let ok = format!("x = {}1{}\n", "(".repeat(200), ")".repeat(200));
        let bad = format!("x = {}1{}\n", "(".repeat(201), ")".repeat(201));
        let tree = |s: &str| parse(s).expect("tree");
        assert_eq!(too_deep(tree(&ok).root_node()), None);
        assert!(too_deep(tree(&bad).root_node()).is_some());
        let blocks = |n: usize| {
            (0..n)
                .map(|i| format!("{}if x:\n", " ".repeat(i)))
                .collect::<String>()
                + &" ".repeat(n)
                + "pass\n"
        };
        assert_eq!(too_deep(tree(&blocks(99)).root_node()), None);
        assert!(too_deep(tree(&blocks(100)).root_node()).is_some());
    }

    fn indent_all(text: &str) -> String {
        text.lines().map(|l| format!(" {l}\n")).collect()
    }
}
