//! The front end: grammar, AST and parser.

pub mod ast;
mod parser;

pub use parser::{parse_expr, parse_module};
