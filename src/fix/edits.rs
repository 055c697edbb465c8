//! Edits as byte ranges, grouped into fixes; applying a set of fixes with conflict handling.
//!
//! A fix is all-or-nothing: when any of its edits overlaps an edit of a fix already taken
//! (or inserts at the same place), the whole fix waits for the next round, which re-analyses
//! the rewritten text.

/// Replace `start..end` with `text` (an insertion when `start == end`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Edit {
    pub start: usize,
    pub end: usize,
    pub text: String,
}

impl Edit {
    pub fn insert(at: usize, text: impl Into<String>) -> Edit {
        Edit {
            start: at,
            end: at,
            text: text.into(),
        }
    }

    pub fn replace(start: usize, end: usize, text: impl Into<String>) -> Edit {
        Edit {
            start,
            end,
            text: text.into(),
        }
    }

    pub fn delete(start: usize, end: usize) -> Edit {
        Edit {
            start,
            end,
            text: String::new(),
        }
    }

    fn conflicts(&self, other: &Edit) -> bool {
        self.start == other.start || (self.start < other.end && other.start < self.end)
    }
}

/// `statement`, rewritten as `body`, in an `async with <header> as <name>:` block of its own
/// at the statement's place (one indentation unit of `function` deeper). `None` when the
/// statement does not start its line (`x = 1; f()`) or the function's unit is unknown.
pub fn in_async_with(
    src: &str,
    statement: tree_sitter::Node,
    function: tree_sitter::Node,
    header: &str,
    name: &str,
    body: &str,
) -> Option<Edit> {
    let start = statement.start_byte();
    let indent = &src[crate::parse::syntax::line_start(src, start)..start];
    if !indent.trim().is_empty() {
        return None;
    }
    let unit = crate::parse::syntax::indent_unit(src, function)?;
    let newline = crate::parse::syntax::newline_of(src);
    Some(Edit::replace(
        start,
        statement.end_byte(),
        format!("async with {header} as {name}:{newline}{indent}{unit}{body}"),
    ))
}

/// `f()` → `await f()`, parenthesized where the value is used as a primary
/// (`(await f()).attr`, never `await f().attr`).
pub fn await_call(call: tree_sitter::Node) -> Vec<Edit> {
    if crate::parse::syntax::needs_parentheses(call) {
        vec![
            Edit::insert(call.start_byte(), "(await "),
            Edit::insert(call.end_byte(), ")"),
        ]
    } else {
        vec![Edit::insert(call.start_byte(), "await ")]
    }
}

/// Whether a fix keeps the program's behaviour in every case (`Safe`), or only in the common
/// case, with known differences that `explain` lists (`Unsafe`: applied with
/// `--unsafe-fixes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    #[default]
    Safe,
    Unsafe,
}

/// The edits of one rewrite, the modules it needs imported, and whether it is safe.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Fix {
    pub edits: Vec<Edit>,
    pub needs: Vec<&'static str>,
    pub applicability: Applicability,
}

/// Applies every fix that does not conflict with an earlier one (in the given order).
/// Returns the new text and the indices of the fixes applied.
pub fn apply(text: &str, fixes: &[Fix]) -> (String, Vec<usize>) {
    let mut taken: Vec<&Edit> = Vec::new();
    // The taken edits by start: they never conflict with each other, so an edit can only
    // conflict with its neighbours in this order.
    let mut by_start: std::collections::BTreeMap<usize, &Edit> = std::collections::BTreeMap::new();
    let conflicts_taken = |by_start: &std::collections::BTreeMap<usize, &Edit>, e: &Edit| {
        let before = by_start.range(..=e.start).next_back().map(|(_, t)| *t);
        let after = by_start.range(e.start..).next().map(|(_, t)| *t);
        before.is_some_and(|t| t.conflicts(e)) || after.is_some_and(|t| t.conflicts(e))
    };
    let mut applied = Vec::new();
    for (index, fix) in fixes.iter().enumerate() {
        let in_bounds = fix.edits.iter().all(|e| {
            e.start <= e.end
                && e.end <= text.len()
                && text.is_char_boundary(e.start)
                && text.is_char_boundary(e.end)
        });
        let self_overlap = fix
            .edits
            .iter()
            .enumerate()
            .any(|(i, a)| fix.edits.iter().skip(i + 1).any(|b| a.conflicts(b)));
        if !in_bounds || self_overlap {
            continue;
        }
        if fix.edits.iter().any(|e| conflicts_taken(&by_start, e)) {
            continue;
        }
        for e in &fix.edits {
            by_start.insert(e.start, e);
        }
        taken.extend(fix.edits.iter());
        applied.push(index);
    }
    taken.sort_by_key(|e| (e.start, e.end));
    (splice(text, &taken), applied)
}

/// The text of `node` with `edits` (positions in the whole source, all inside the node)
/// applied to it.
pub fn splice_within(src: &str, node: tree_sitter::Node, edits: &[Edit]) -> String {
    let start = node.start_byte();
    let mut shifted: Vec<Edit> = edits
        .iter()
        .map(|e| Edit::replace(e.start - start, e.end - start, e.text.clone()))
        .collect();
    shifted.sort_by_key(|e| (e.start, e.end));
    splice(
        crate::parse::syntax::text(node, src),
        &shifted.iter().collect::<Vec<_>>(),
    )
}

/// Applies edits sorted by position in one pass. An edit that overlaps an earlier one, or
/// falls outside the text, is skipped rather than trusted (callers re-parse the result).
pub fn splice(text: &str, edits: &[&Edit]) -> String {
    let extra: usize = edits.iter().map(|e| e.text.len()).sum();
    let mut out = String::with_capacity(text.len() + extra);
    let mut pos = 0;
    for edit in edits {
        let valid = pos <= edit.start
            && edit.start <= edit.end
            && edit.end <= text.len()
            && text.is_char_boundary(edit.start)
            && text.is_char_boundary(edit.end);
        if !valid {
            continue;
        }
        out.push_str(&text[pos..edit.start]);
        out.push_str(&edit.text);
        pos = edit.end;
    }
    out.push_str(&text[pos..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(edits: Vec<Edit>) -> Fix {
        Fix {
            edits,
            ..Fix::default()
        }
    }

    #[test]
    fn disjoint_fixes_all_apply() {
        let (out, applied) = apply(
            "f(x) + g(y)",
            &[
                fix(vec![Edit::insert(0, "await t("), Edit::replace(1, 2, ", ")]),
                fix(vec![Edit::insert(7, "await t("), Edit::replace(8, 9, ", ")]),
            ],
        );
        assert_eq!(out, "await t(f, x) + await t(g, y)");
        assert_eq!(applied, vec![0, 1]);
    }

    #[test]
    fn a_conflicting_fix_waits_whole() {
        let (out, applied) = apply(
            "abc",
            &[
                fix(vec![Edit::insert(0, "<"), Edit::insert(3, ">")]),
                fix(vec![Edit::insert(0, "["), Edit::replace(1, 2, "B")]),
            ],
        );
        assert_eq!(out, "<abc>");
        assert_eq!(applied, vec![0]);
    }

    #[test]
    fn insertion_inside_a_replacement_conflicts() {
        let (_, applied) = apply(
            "abcdef",
            &[
                fix(vec![Edit::replace(1, 4, "X")]),
                fix(vec![Edit::insert(2, "Y")]),
            ],
        );
        assert_eq!(applied, vec![0]);
    }

    #[test]
    fn splice_skips_overlapping_edits_instead_of_panicking() {
        let a = Edit::replace(0, 5, "X");
        let b = Edit::replace(2, 3, "Y");
        assert_eq!(splice("abcdefg", &[&a, &b]), "Xfg");
    }

    #[test]
    fn out_of_range_fix_is_skipped() {
        let (out, applied) = apply("ab", &[fix(vec![Edit::insert(5, "x")])]);
        assert_eq!(out, "ab");
        assert!(applied.is_empty());
    }
}
