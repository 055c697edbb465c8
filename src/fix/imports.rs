//! Import edits after the fixes: add what the fixes need (`import asyncio`, `import functools`,
//! …) once, among the module's top-level imports; remove an import the fixes made unused.

use std::collections::BTreeSet;

use tree_sitter::{Node, QueryCursor, StreamingIterator, Tree};

use crate::fix::edits::Edit;
use crate::parse::syntax::{import_query, line_start, named_children, text};

/// Whether a module the fixes may import comes from PyPI: a native rewrite's library or a
/// third-party runtime (anyio, trio).
fn is_third_party(module: &str) -> bool {
    crate::fix::native::NATIVE_LIBRARIES.contains(&module)
        || crate::fix::model::Runtime::ALL
            .iter()
            .any(|r| r.is_third_party() && r.module() == module)
}

/// Edits adding `import <module>` for each module, placed after the docstring and
/// `from __future__` imports, in alphabetical position among the first run of plain imports.
pub fn add_imports(src: &str, tree: &Tree, modules: &BTreeSet<&str>, newline: &str) -> Vec<Edit> {
    let root = tree.root_node();
    let statements: Vec<Node> = named_children(root);
    let mut first_code = 0;
    for (i, stmt) in statements.iter().enumerate() {
        let is_docstring = i == 0 && crate::parse::syntax::is_string_statement(*stmt);
        if is_docstring || stmt.kind() == "future_import_statement" {
            first_code = i + 1;
        } else {
            break;
        }
    }
    let is_import = |n: &Node| matches!(n.kind(), "import_statement" | "import_from_statement");
    // The leading imports, in blocks separated by blank lines (isort's sections).
    let header: Vec<Node> = statements[first_code.min(statements.len())..]
        .iter()
        .skip_while(|n| !is_import(n))
        .take_while(|n| is_import(n))
        .copied()
        .collect();
    let mut blocks: Vec<Vec<Node>> = Vec::new();
    for stmt in header {
        let separated = blocks
            .last()
            .and_then(|b| b.last())
            .is_none_or(|prev| stmt.start_position().row > prev.end_position().row + 1);
        if separated {
            blocks.push(Vec::new());
        }
        if let Some(block) = blocks.last_mut() {
            block.push(stmt);
        }
    }

    let mut edits: Vec<Edit> = Vec::new();
    for module in modules {
        // Standard-library modules join the first block; third-party ones the last, when the
        // module keeps them apart.
        let run: Vec<Node> = if is_third_party(module) && blocks.len() > 1 {
            blocks.last().cloned().unwrap_or_default()
        } else {
            blocks.first().cloned().unwrap_or_default()
        };
        let plain: Vec<Node> = run
            .iter()
            .filter(|n| n.kind() == "import_statement")
            .copied()
            .collect();
        let line = format!("import {module}{newline}");
        let edit = if let Some(next) = plain
            .iter()
            .find(|n| first_module(**n, src).to_ascii_lowercase().as_str() > *module)
        {
            Edit::insert(line_start(src, next.start_byte()), line)
        } else if let Some(last) = plain.last() {
            after_line(src, last.end_byte(), line, newline)
        } else if let Some(first) = run.first() {
            Edit::insert(line_start(src, first.start_byte()), line)
        } else if let Some(prev) = first_code.checked_sub(1).and_then(|i| statements.get(i)) {
            // No imports yet: a block of its own, one blank line below the docstring/futures.
            after_line(src, prev.end_byte(), line, newline)
        } else if let Some(stmt) = statements.first() {
            Edit::insert(line_start(src, stmt.start_byte()), line)
        } else {
            Edit::insert(src.len(), line)
        };
        // Several insertions at one place become one.
        match edits
            .iter_mut()
            .find(|e| e.start == edit.start && e.end == edit.end)
        {
            Some(existing) => existing.text.push_str(&edit.text),
            None => edits.push(edit),
        }
    }
    if blocks.is_empty() {
        // Frame a new import block with blank lines, as isort and ruff would.
        let defines = |n: &Node| {
            matches!(
                n.kind(),
                "function_definition" | "class_definition" | "decorated_definition"
            )
        };
        for edit in &mut edits {
            if first_code > 0 {
                edit.text = format!("{newline}{}", edit.text);
            } else if let Some(first) = statements.first() {
                let blanks = if defines(first) { 2 } else { 1 };
                edit.text.push_str(&newline.repeat(blanks));
            }
        }
    }
    edits
}

fn first_module<'s>(import: Node, src: &'s str) -> &'s str {
    let Some(item) = named_children(import).into_iter().next() else {
        return "";
    };
    let name = if item.kind() == "aliased_import" {
        item.child_by_field_name("name").unwrap_or(item)
    } else {
        item
    };
    text(name, src)
}

/// An insertion at the start of the line after the one holding `at`.
fn after_line(src: &str, at: usize, text: String, newline: &str) -> Edit {
    match src[at..].find('\n') {
        Some(i) => Edit::insert(at + i + 1, text),
        None => Edit::insert(
            src.len(),
            format!("{newline}{}", text.trim_end_matches(['\r', '\n'])),
        ),
    }
}

/// A top-level import binding: the statement, the item, and the name it binds.
struct Binding<'t> {
    statement: Node<'t>,
    item: Node<'t>,
    name: String,
}

fn top_level_bindings<'t>(root: Node<'t>, src: &str) -> Vec<Binding<'t>> {
    let mut out = Vec::new();
    let mut cursor = QueryCursor::new();
    let mut statements: Vec<Node<'t>> = Vec::new();
    let mut matches = cursor.matches(import_query(), root, src.as_bytes());
    while let Some(m) = matches.next() {
        statements.extend(m.nodes_for_capture_index(0));
    }
    for stmt in statements {
        let items: Vec<Node> = match stmt.kind() {
            "import_statement" => named_children(stmt),
            "import_from_statement" => {
                let mut cursor = stmt.walk();
                stmt.children_by_field_name("name", &mut cursor).collect()
            }
            _ => continue,
        };
        for item in items {
            let name = match item.kind() {
                "aliased_import" => item
                    .child_by_field_name("alias")
                    .map(|a| text(a, src).to_string()),
                "dotted_name" if stmt.kind() == "import_statement" => text(item, src)
                    .split('.')
                    .next()
                    .map(|s| s.trim().to_string()),
                "dotted_name" => Some(text(item, src).to_string()),
                _ => None,
            };
            if let Some(name) = name {
                out.push(Binding {
                    statement: stmt,
                    item,
                    name,
                });
            }
        }
    }
    out
}

/// Edits removing the top-level imports that were read in `before` and are read nowhere in
/// `after` (the fixed text). Nothing else is touched.
pub fn remove_unused(before_src: &str, before: &Tree, after_src: &str, after: &Tree) -> Vec<Edit> {
    let before_counts = crate::parse::syntax::reference_counts(before.root_node(), before_src);
    let after_counts = crate::parse::syntax::reference_counts(after.root_node(), after_src);
    let bindings = top_level_bindings(after.root_node(), after_src);
    let unused: Vec<&Binding> = bindings
        .iter()
        .filter(|b| {
            before_counts.get(&b.name).copied().unwrap_or(0) > 0
                && !after_counts.contains_key(&b.name)
        })
        .collect();
    let mut edits = Vec::new();
    let mut statements: Vec<Node> = unused.iter().map(|b| b.statement).collect();
    statements.dedup_by_key(|s| s.id());
    for stmt in statements {
        let all: Vec<&Binding> = bindings
            .iter()
            .filter(|b| b.statement.id() == stmt.id())
            .collect();
        let gone: Vec<&&Binding> = unused
            .iter()
            .filter(|b| b.statement.id() == stmt.id())
            .collect();
        if gone.len() == all.len() {
            if let Some(edit) = delete_statement(after_src, stmt) {
                edits.push(edit);
            }
        } else if gone.len() == 1 {
            let item = gone[0].item;
            let position = all.iter().position(|b| b.item.id() == item.id());
            match position {
                Some(i) if i + 1 < all.len() => edits.push(Edit::delete(
                    item.start_byte(),
                    all[i + 1].item.start_byte(),
                )),
                Some(i) if i > 0 => {
                    edits.push(Edit::delete(all[i - 1].item.end_byte(), item.end_byte()))
                }
                _ => {}
            }
        } else {
            let kept: Vec<&str> = all
                .iter()
                .filter(|b| !gone.iter().any(|g| g.item.id() == b.item.id()))
                .map(|b| text(b.item, after_src))
                .collect();
            if let (Some(first), Some(last)) = (all.first(), all.last()) {
                edits.push(Edit::replace(
                    first.item.start_byte(),
                    last.item.end_byte(),
                    kept.join(", "),
                ));
            }
        }
    }
    edits
}

/// Deletes a statement with its line, when it stands alone on its lines.
fn delete_statement(src: &str, stmt: Node) -> Option<Edit> {
    let start = line_start(src, stmt.start_byte());
    if !src[start..stmt.start_byte()].trim().is_empty() {
        return None;
    }
    let rest = &src[stmt.end_byte()..];
    let line_end = rest
        .find('\n')
        .map_or(src.len(), |i| stmt.end_byte() + i + 1);
    let tail = src[stmt.end_byte()..line_end].trim();
    if !(tail.is_empty() || tail.starts_with('#')) {
        return None;
    }
    // Keep the statement's enclosing block valid: only direct module children are removed.
    if stmt.parent().is_none_or(|p| p.kind() != "module") {
        return None;
    }
    Some(Edit::delete(start, line_end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::edits::splice;
    use crate::parse::syntax::parse;

    fn add(src: &str, modules: &[&'static str]) -> String {
        let tree = parse(src).expect("tree");
        let set: BTreeSet<&str> = modules.iter().copied().collect();
        let edits = add_imports(src, &tree, &set, "\n");
        splice(src, &edits.iter().collect::<Vec<_>>())
    }

    #[test]
    fn added_in_alphabetical_place_after_docstring_and_future() {
        assert_eq!(
            add(
                "\"\"\"Doc.\"\"\"\nfrom __future__ import annotations\n\nimport os\nimport time\n\nx = 1\n",
                &["asyncio"]
            ),
            "\"\"\"Doc.\"\"\"\nfrom __future__ import annotations\n\nimport asyncio\nimport os\nimport time\n\nx = 1\n"
        );
        assert_eq!(
            add("import os\nfrom x import y\n", &["sys"]),
            "import os\nimport sys\nfrom x import y\n"
        );
        assert_eq!(
            add("\"\"\"Doc.\"\"\"\n\nx = 1\n", &["asyncio"]),
            "\"\"\"Doc.\"\"\"\n\nimport asyncio\n\nx = 1\n"
        );
        assert_eq!(
            add("from a import b\n", &["asyncio", "functools"]),
            "import asyncio\nimport functools\nfrom a import b\n"
        );
    }

    #[test]
    fn third_party_modules_join_the_third_party_block() {
        assert_eq!(
            add(
                "import os\n\nimport requests\n\nx = 1\n",
                &["asyncio", "httpx"]
            ),
            "import asyncio\nimport os\n\nimport httpx\nimport requests\n\nx = 1\n"
        );
        // One block only: everything goes there, in alphabetical place.
        assert_eq!(
            add("import os\n", &["aiofiles"]),
            "import aiofiles\nimport os\n"
        );
    }

    fn remove(before: &str, after: &str) -> String {
        let bt = parse(before).expect("tree");
        let at = parse(after).expect("tree");
        let edits = remove_unused(before, &bt, after, &at);
        splice(after, &edits.iter().collect::<Vec<_>>())
    }

    #[test]
    fn removes_only_what_the_fix_made_unused() {
        assert_eq!(
            remove(
                "import os, time\nimport sys\ntime.sleep(1)\n",
                "import os, time\nimport sys\nx(1)\n"
            ),
            "import os\nimport sys\nx(1)\n"
        );
        assert_eq!(
            remove(
                "import time\nimport sys\ntime.sleep(1)\n",
                "import time\nimport sys\nx(1)\n"
            ),
            "import sys\nx(1)\n"
        );
        assert_eq!(
            remove(
                "from time import sleep, time\nsleep(1)\ntime()\n",
                "from time import sleep, time\nx(1)\ntime()\n"
            ),
            "from time import time\nx(1)\ntime()\n"
        );
        // `sys` was never read: left alone.
        assert_eq!(
            remove(
                "import sys\nimport time\ntime.sleep(1)\n",
                "import sys\nimport time\nx(1)\n"
            ),
            "import sys\nx(1)\n"
        );
    }
}
