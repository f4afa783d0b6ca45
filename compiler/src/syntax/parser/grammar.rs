//! The pest parser generated from `grammar.pest`, and its `Rule` enum.

#[derive(pest_derive::Parser)]
#[grammar = "syntax/grammar.pest"]
pub(super) struct RlParser;
