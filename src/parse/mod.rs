//! Parsing: the tree-sitter grammar and the helpers over its trees ([`syntax`]), and the
//! repairs that let it read valid Python it does not know yet ([`newer_syntax`]).

pub mod newer_syntax;
pub mod syntax;

use tree_sitter::Tree;

/// A text parsed for analysis.
pub struct Parsed {
    /// The text the tree is of: the input, or with the syntax newer than the grammar blanked.
    pub text: String,
    pub tree: Tree,
    /// The blanked byte ranges, when the input needed the repair.
    pub blanked: Option<Vec<(usize, usize)>>,
}

/// Why a text could not be parsed for analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unparsed {
    /// The parser could not run.
    NoParser,
    /// A syntax error (1-based line and column) the repairs do not remove.
    Syntax { line: usize, column: usize },
}

/// Parses `text`, repairing syntax newer than the grammar (same offsets) when the first parse
/// has an error; an error the repairs leave is [`Unparsed::Syntax`] at the first error.
pub fn parse_repairing(text: &str) -> Result<Parsed, Unparsed> {
    let tree = syntax::parse(text).ok_or(Unparsed::NoParser)?;
    let Some((line, column)) = syntax::first_error(&tree) else {
        return Ok(Parsed {
            text: text.to_string(),
            tree,
            blanked: None,
        });
    };
    let (blanked_text, ranges) =
        newer_syntax::blank_newer_syntax(text).ok_or(Unparsed::Syntax { line, column })?;
    let repaired = syntax::parse(&blanked_text).ok_or(Unparsed::NoParser)?;
    if syntax::first_error(&repaired).is_some() {
        return Err(Unparsed::Syntax { line, column });
    }
    Ok(Parsed {
        text: blanked_text,
        tree: repaired,
        blanked: Some(ranges),
    })
}

/// A text whose lines all end in a lone `\r` (old Mac endings, which Python reads as newlines),
/// with `\n` for each: one byte for one, so every offset stays true. `None` for any other text.
pub fn lone_cr_as_lf(text: &str) -> Option<String> {
    (text.contains('\r') && !text.contains('\n')).then(|| text.replace('\r', "\n"))
}
