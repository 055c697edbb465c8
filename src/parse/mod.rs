//! Parsing: the tree-sitter grammar and the helpers over its trees ([`syntax`]), and the
//! repairs that let it read valid Python it does not know yet ([`newer_syntax`]).

pub mod newer_syntax;
pub mod syntax;
