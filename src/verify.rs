//! Verification of a rewrite before anything is written: the fixed text must parse cleanly.

use thiserror::Error;
use tree_sitter::Tree;

use crate::syntax::{first_error, parse};

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_broken_text() {
        assert!(verify("x = (1,\n").is_err());
        assert!(verify("x = 1\n").is_ok());
    }
}
