//! `check --add-noqa`: a `# noqa: UNBxxx` comment on the line of each finding, so that the
//! findings of today are suppressed and new ones still fail. Existing comments are kept; codes
//! are merged into an existing `# noqa:` list; a second run changes nothing (the findings are
//! suppressed by then). A line whose end is inside a string or after a `\` continuation gets
//! the comment on the first line of its statement instead (both lines are where suppression
//! comments are read); when neither can take one, the finding is left as it is.

use std::collections::{BTreeMap, BTreeSet};

use tree_sitter::Node;

use crate::parse::syntax::enclosing_statement;

/// Where a finding is: 1-based line, 1-based column in characters, and its code.
#[derive(Debug, Clone)]
pub struct Spot {
    pub line: usize,
    pub column: usize,
    pub code: String,
}

/// The text with the directives added, and how many lines got (or extended) one; `None` when
/// the text cannot be parsed.
pub fn add_noqa(text: &str, spots: &[Spot]) -> Option<(String, usize)> {
    // A lone `\r` ends a line for Python: analysed as `\n`, one byte for one.
    let lone_cr = crate::parse::lone_cr_as_lf(text);
    let parsed = crate::parse::parse_repairing(lone_cr.as_deref().unwrap_or(text)).ok()?;
    let (analysis, tree) = (parsed.text, parsed.tree);
    let root = tree.root_node();
    let lines = line_spans(&analysis);

    let mut codes: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    for spot in spots {
        let Some(&(start, end)) = lines.get(spot.line.wrapping_sub(1)) else {
            continue;
        };
        let column = analysis[start..end]
            .char_indices()
            .nth(spot.column.saturating_sub(1))
            .map_or(end, |(i, _)| start + i);
        let node = root
            .descendant_for_byte_range(column, column)
            .unwrap_or(root);
        let statement_row = enclosing_statement(root, node).start_position().row;
        let row = [spot.line - 1, statement_row]
            .into_iter()
            .find(|&row| takes_comment(root, &analysis, lines[row]));
        if let Some(row) = row {
            codes.entry(row).or_default().insert(spot.code.clone());
        }
    }

    let mut out = String::with_capacity(text.len() + codes.len() * 16);
    let mut copied = 0;
    let mut added = 0;
    for (row, wanted) in codes {
        let (start, end) = lines[row];
        let content_end = start + text[start..end].trim_end().len();
        match existing_codes(root, &analysis, lines[row]) {
            Existing::All => {}
            Existing::Codes {
                end: list_end,
                codes,
            } => {
                let new: Vec<&String> = wanted
                    .iter()
                    .filter(|c| !codes.iter().any(|e| e.eq_ignore_ascii_case(c)))
                    .collect();
                if !new.is_empty() {
                    out.push_str(&text[copied..list_end]);
                    for code in new {
                        out.push_str(", ");
                        out.push_str(code);
                    }
                    copied = list_end;
                    added += 1;
                }
            }
            Existing::None => {
                out.push_str(&text[copied..content_end]);
                out.push_str("  # noqa: ");
                out.push_str(&wanted.into_iter().collect::<Vec<_>>().join(", "));
                copied = end;
                added += 1;
            }
        }
    }
    out.push_str(&text[copied..]);
    Some((out, added))
}

/// The byte range of each line, without its line ending.
fn line_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = 0;
    for (i, b) in text.bytes().enumerate() {
        if b == b'\n' {
            let end = if i > start && text.as_bytes()[i - 1] == b'\r' {
                i - 1
            } else {
                i
            };
            spans.push((start, end));
            start = i + 1;
        }
    }
    spans.push((start, text.len()));
    spans
}

/// Whether a comment can go at the end of this line: it has code, it does not end inside a
/// string that goes on to the next line, and it does not end with a `\` continuation.
fn takes_comment(root: Node, text: &str, (start, end): (usize, usize)) -> bool {
    let content = text[start..end].trim_end();
    if content.trim().is_empty() || content.ends_with('\\') {
        return false;
    }
    let last = start + content.len() - 1;
    let mut node = root.descendant_for_byte_range(last, last + 1);
    while let Some(n) = node {
        if n.kind() == "string" && n.end_byte() > end {
            return false;
        }
        node = n.parent();
    }
    true
}

enum Existing {
    /// No `# noqa` on the line.
    None,
    /// A bare `# noqa`: everything on the line is suppressed already.
    All,
    /// `# noqa: A, B` whose list ends at byte `end`.
    Codes { end: usize, codes: Vec<String> },
}

/// The `# noqa` directive of the comment that ends this line, if any.
fn existing_codes(root: Node, text: &str, (start, end): (usize, usize)) -> Existing {
    let content = text[start..end].trim_end();
    if content.is_empty() {
        return Existing::None;
    }
    let last = start + content.len() - 1;
    let Some(comment) = root
        .descendant_for_byte_range(last, last + 1)
        .filter(|n| n.kind() == "comment")
    else {
        return Existing::None;
    };
    match crate::find::suppress::noqa_in(&text[comment.start_byte()..comment.end_byte()]) {
        Some(crate::find::suppress::Noqa::All) => Existing::All,
        // `# noqa:` with nothing a code suppresses nothing: a new comment is added.
        Some(crate::find::suppress::Noqa::Codes { codes, .. }) if codes.is_empty() => {
            Existing::None
        }
        Some(crate::find::suppress::Noqa::Codes { codes, end }) => Existing::Codes {
            end: comment.start_byte() + end,
            codes,
        },
        None => Existing::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spot(line: usize, column: usize, code: &str) -> Spot {
        Spot {
            line,
            column,
            code: code.to_string(),
        }
    }

    fn added(text: &str, spots: &[Spot]) -> String {
        add_noqa(text, spots).expect("parses").0
    }

    #[test]
    fn appends_merges_and_keeps_comments() {
        let src = "async def f(p):\n    time.sleep(1)\n    os.path.exists(p)  # why\n    time.sleep(2)  # noqa: E501\n    time.sleep(3)  # noqa\n";
        let out = added(
            src,
            &[
                spot(2, 5, "UNB100"),
                spot(3, 5, "UNB120"),
                spot(4, 5, "UNB100"),
                spot(5, 5, "UNB100"),
            ],
        );
        assert_eq!(
            out,
            "async def f(p):\n    time.sleep(1)  # noqa: UNB100\n    os.path.exists(p)  # why  # noqa: UNB120\n    time.sleep(2)  # noqa: E501, UNB100\n    time.sleep(3)  # noqa\n"
        );
    }

    #[test]
    fn the_code_list_ends_at_the_first_word_that_is_no_code() {
        let src = "async def f():\n    time.sleep(1)  # noqa: E501 long line\n    time.sleep(2)  # noqa: blocking-path\n";
        let out = added(src, &[spot(2, 5, "UNB100"), spot(3, 5, "UNB100")]);
        assert_eq!(
            out,
            "async def f():\n    time.sleep(1)  # noqa: E501, UNB100 long line\n    time.sleep(2)  # noqa: blocking-path  # noqa: UNB100\n"
        );
    }

    #[test]
    fn several_codes_on_one_line_and_crlf() {
        let src = "async def f(p):\r\n    x = os.path.exists(time.sleep(1))   \r\n";
        let (out, n) =
            add_noqa(src, &[spot(2, 9, "UNB120"), spot(2, 24, "UNB100")]).expect("parses");
        assert_eq!(
            out,
            "async def f(p):\r\n    x = os.path.exists(time.sleep(1))  # noqa: UNB100, UNB120\r\n"
        );
        assert_eq!(n, 1);
    }

    #[test]
    fn a_line_ending_inside_a_string_or_continued_uses_the_statement_line() {
        let src = "async def f():\n    x = g(\n        time.sleep(1), \"\"\"a\n    b\"\"\")\n    y = [\n        time.sleep(2) + \\\n        2]\n";
        let out = added(src, &[spot(3, 9, "UNB100"), spot(6, 9, "UNB100")]);
        assert_eq!(
            out,
            "async def f():\n    x = g(  # noqa: UNB100\n        time.sleep(1), \"\"\"a\n    b\"\"\")\n    y = [  # noqa: UNB100\n        time.sleep(2) + \\\n        2]\n"
        );
        // A statement of one line that ends inside a string cannot take one: left as it is.
        let src = "async def f():\n    x = g(time.sleep(1), \"\"\"a\n    b\"\"\")\n";
        let (out, n) = add_noqa(src, &[spot(2, 11, "UNB100")]).expect("parses");
        assert_eq!((out.as_str(), n), (src, 0));
    }
}
