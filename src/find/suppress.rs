//! Suppression comments: `# unblock: ignore`, `# unblock: ignore[UNB130, blocking-path]`,
//! `# noqa`, `# noqa: ASYNC210` (ASYNC codes map to rules through their aliases), on the line
//! of the call or the first line of its statement; and for the whole file, a comment on a line
//! of its own: `# unblock: skip-file`, `# ruff: noqa`, `# ruff: noqa: ASYNC251`, `# flake8: noqa`.

use std::collections::HashMap;

use tree_sitter::Node;

use crate::catalog::{Catalog, Rule};
use crate::find::selector::RuleSelector;
use crate::parse::syntax::{enclosing_statement, text};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Directive {
    All,
    Codes(Vec<String>),
}

/// The suppression directives of one file, by 0-based line.
#[derive(Debug, Default)]
pub struct Suppressions {
    lines: HashMap<usize, Vec<Directive>>,
    /// File-level directives (comments on a line of their own).
    file: Vec<Directive>,
}

impl Suppressions {
    pub fn collect(root: Node, src: &str) -> Suppressions {
        let bytes = src.as_bytes();
        let finder = |needle: &[u8]| memchr::memmem::find(bytes, needle).is_some();
        if !(finder(b"noqa") || finder(b"NOQA") || finder(b"unblock:")) {
            return Suppressions::default();
        }
        let mut lines: HashMap<usize, Vec<Directive>> = HashMap::new();
        let mut file = Vec::new();
        let mut stack = vec![root];
        while let Some(node) = stack.pop() {
            if node.kind() == "comment" {
                if own_line(node, src)
                    && let Some(directive) = parse_file_comment(text(node, src))
                {
                    file.push(directive);
                    continue;
                }
                let directives = parse_comment(text(node, src));
                if !directives.is_empty() {
                    lines
                        .entry(node.start_position().row)
                        .or_default()
                        .extend(directives);
                }
                continue;
            }
            let mut cursor = node.walk();
            stack.extend(node.children(&mut cursor));
        }
        Suppressions { lines, file }
    }

    pub fn is_suppressed(&self, root: Node, node: Node, index: usize, catalog: &Catalog) -> bool {
        let rule = &catalog.rules[index];
        let names = |d: &Directive| match d {
            Directive::All => true,
            Directive::Codes(codes) => codes.iter().any(|c| matches_rule(c, index, rule, catalog)),
        };
        if self.file.iter().any(names) {
            return true;
        }
        if self.lines.is_empty() {
            return false;
        }
        let rows = [
            node.start_position().row,
            enclosing_statement(root, node).start_position().row,
        ];
        rows.iter()
            .any(|row| self.lines.get(row).is_some_and(|ds| ds.iter().any(names)))
    }
}

/// Whether a comment is alone on its line (only blanks before it).
fn own_line(comment: Node, src: &str) -> bool {
    let start = comment.start_byte();
    let line_start = src[..start].rfind(['\n', '\r']).map_or(0, |i| i + 1);
    src[line_start..start].trim().is_empty()
}

/// A file-level directive: `# unblock: skip-file`, `# ruff: noqa`, `# ruff: noqa: CODES`,
/// `# flake8: noqa` (any case, as ruff reads them).
fn parse_file_comment(comment: &str) -> Option<Directive> {
    let body = comment.strip_prefix('#')?.trim();
    let lower = body.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("unblock:") {
        let rest = rest.trim();
        return (rest == "skip-file" || rest == "skip_file").then_some(Directive::All);
    }
    let (tool, rest) = lower.split_once(':')?;
    if tool != "ruff" && tool != "flake8" {
        return None;
    }
    let after = rest.trim_start();
    if !after.starts_with("noqa") {
        return None;
    }
    // The same reading as a line's `# noqa`, on what follows the tool's name.
    match noqa_in(&format!("# {}", &body[body.len() - after.len()..]))? {
        Noqa::All if after["noqa".len()..].trim().is_empty() => Some(Directive::All),
        Noqa::All => None,
        // `# flake8: noqa: E501` is not a file-level exemption (flake8 ignores it); ruff's is.
        Noqa::Codes { .. } if tool != "ruff" => None,
        Noqa::Codes { codes, .. } => (!codes.is_empty()).then_some(Directive::Codes(codes)),
    }
}

/// Whether a code in a comment names the rule; a code no rule has names none (as in ruff, an
/// unknown code in a `noqa` comment suppresses nothing).
fn matches_rule(code: &str, index: usize, rule: &Rule, catalog: &Catalog) -> bool {
    RuleSelector::parse(code, catalog).is_ok_and(|s| s.matches(index, rule))
}

fn parse_comment(comment: &str) -> Vec<Directive> {
    let mut out = Vec::new();
    for part in comment.split('#').skip(1) {
        let part = part.trim();
        let lower = part.to_ascii_lowercase();
        if lower.starts_with("noqa") {
            match noqa_in(&format!("# {part}")) {
                Some(Noqa::All) => out.push(Directive::All),
                Some(Noqa::Codes { codes, .. }) => out.push(Directive::Codes(codes)),
                None => {}
            }
        } else if let Some(rest) = lower.strip_prefix("unblock:") {
            let rest_orig = part["unblock:".len()..].trim_start();
            if rest.trim_start().starts_with("ignore") {
                let after = rest_orig["ignore".len()..].trim_start();
                match after.strip_prefix('[').and_then(|a| a.split_once(']')) {
                    Some((codes, _)) => out.push(Directive::Codes(split_codes(codes))),
                    None => out.push(Directive::All),
                }
            }
        }
    }
    out
}

/// A `# noqa` directive, as ruff reads one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Noqa {
    /// A bare `# noqa`: everything on the line.
    All,
    /// `# noqa: A, B`: these codes, the list ending at byte `end` of the comment. The list
    /// ends at the first word that is not a code (`# noqa: E501 long URL`); it may be empty.
    Codes { codes: Vec<String>, end: usize },
}

/// The first `# noqa` directive of a comment, if it has one. What suppression reads and what
/// `--add-noqa` extends.
pub fn noqa_in(comment: &str) -> Option<Noqa> {
    let lower = comment.to_ascii_lowercase();
    let mut from = 0;
    while let Some(at) = lower[from..].find("noqa") {
        let at = from + at;
        from = at + 4;
        if !lower[..at].trim_end().ends_with('#') {
            continue;
        }
        let rest = &comment[at + 4..];
        let Some(list) = rest.trim_start().strip_prefix(':') else {
            if rest.is_empty() || rest.starts_with(char::is_whitespace) {
                return Some(Noqa::All);
            }
            continue;
        };
        // Codes (`E501`, `UNB100`, `ASYNC251`: letters then digits), between commas and spaces.
        let bytes = comment.as_bytes();
        let mut codes = Vec::new();
        let mut i = comment.len() - list.len();
        let mut end = i;
        while i < bytes.len() {
            if matches!(bytes[i], b',' | b' ' | b'\t') {
                i += 1;
                continue;
            }
            let word_start = i;
            while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
                i += 1;
            }
            let word = &comment[word_start..i];
            if !is_code(word) || bytes.get(i).is_some_and(|b| !b", \t".contains(b)) {
                break;
            }
            codes.push(word.to_string());
            end = i;
        }
        return Some(Noqa::Codes { codes, end });
    }
    None
}

/// Whether a word is a rule code: letters, then digits (`E501`, `UNB100`, `ASYNC251`).
fn is_code(word: &str) -> bool {
    let letters = word.bytes().take_while(u8::is_ascii_alphabetic).count();
    letters > 0 && letters < word.len() && word[letters..].bytes().all(|b| b.is_ascii_digit())
}

fn split_codes(list: &str) -> Vec<String> {
    list.split(|c: char| c == ',' || c.is_whitespace())
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_forms() {
        assert_eq!(parse_comment("# noqa"), vec![Directive::All]);
        assert_eq!(
            parse_comment("# NOQA: ASYNC210, E501"),
            vec![Directive::Codes(vec!["ASYNC210".into(), "E501".into()])]
        );
        assert_eq!(parse_comment("# unblock: ignore"), vec![Directive::All]);
        assert_eq!(
            parse_comment("# type: ignore  # unblock: ignore[UNB130, blocking-path] because"),
            vec![Directive::Codes(vec![
                "UNB130".into(),
                "blocking-path".into()
            ])]
        );
        assert!(parse_comment("# noqanope").is_empty());
        assert!(parse_comment("# a plain comment").is_empty());
    }

    #[test]
    fn a_noqa_list_ends_at_the_first_word_that_is_no_code() {
        assert!(is_code("E501") && is_code("ASYNC251") && is_code("UNB1"));
        assert!(!is_code("E") && !is_code("501") && !is_code("long") && !is_code("E5x"));
        assert_eq!(
            parse_comment("# noqa: E501 long line"),
            vec![Directive::Codes(vec!["E501".to_string()])]
        );
        assert_eq!(
            noqa_in("# noqa: A1, B2 why"),
            Some(Noqa::Codes {
                codes: vec!["A1".to_string(), "B2".to_string()],
                end: "# noqa: A1, B2".len()
            })
        );
    }

    #[test]
    fn file_level_forms() {
        assert_eq!(
            parse_file_comment("# unblock: skip-file"),
            Some(Directive::All)
        );
        assert_eq!(parse_file_comment("# ruff: noqa"), Some(Directive::All));
        assert_eq!(parse_file_comment("# Flake8: NOQA"), Some(Directive::All));
        assert_eq!(
            parse_file_comment("# ruff: noqa: ASYNC251, UNB120"),
            Some(Directive::Codes(vec!["ASYNC251".into(), "UNB120".into()]))
        );
        assert_eq!(parse_file_comment("# flake8: noqa: E501"), None);
        assert_eq!(parse_file_comment("# noqa"), None);
        assert_eq!(parse_file_comment("# unblock: ignore"), None);
        assert_eq!(parse_file_comment("# ruff: isort: skip"), None);
    }
}
