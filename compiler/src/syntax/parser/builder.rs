//! The state and helpers shared by the parse-tree-to-AST conversion: the [`Builder`], its
//! result type, keyword-free child iteration and the operator-precedence table.

use super::errors::is_keyword_token;
use super::grammar::Rule;
use crate::diag::{Code, Diagnostic, FileId, Span};
use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op, PrattParser};
use std::cell::Cell;
use std::sync::OnceLock;

/// The operator-precedence table for binary and prefix operators, built once.
pub(super) fn pratt() -> &'static PrattParser<Rule> {
    static P: OnceLock<PrattParser<Rule>> = OnceLock::new();
    P.get_or_init(|| {
        PrattParser::new()
            .op(Op::infix(Rule::or, Assoc::Left))
            .op(Op::infix(Rule::and, Assoc::Left))
            .op(Op::infix(Rule::eq, Assoc::Left)
                | Op::infix(Rule::ne, Assoc::Left)
                | Op::infix(Rule::lt, Assoc::Left)
                | Op::infix(Rule::le, Assoc::Left)
                | Op::infix(Rule::gt, Assoc::Left)
                | Op::infix(Rule::ge, Assoc::Left))
            .op(Op::infix(Rule::add, Assoc::Left) | Op::infix(Rule::sub, Assoc::Left))
            .op(Op::infix(Rule::mul, Assoc::Left)
                | Op::infix(Rule::div, Assoc::Left)
                | Op::infix(Rule::rem, Assoc::Left))
            .op(Op::prefix(Rule::neg) | Op::prefix(Rule::not))
            .op(Op::infix(Rule::pow, Assoc::Right))
    })
}

/// Children of a pair without keyword tokens.
pub(super) fn inner(pair: Pair<'_, Rule>) -> impl Iterator<Item = Pair<'_, Rule>> {
    pair.into_inner().filter(|p| !is_keyword_token(p.as_rule()))
}

/// Deepest expression tree the parser builds. Every later walk over an expression (name
/// resolution, lowering, printing) recurses once per level, so this bound is what keeps them
/// within the stack; stdlib's deepest expression is about 15 levels.
pub const MAX_EXPR_DEPTH: usize = 256;

/// Converts pest pairs of one file into AST nodes.
pub(super) struct Builder {
    pub(super) file: FileId,
    /// An upper bound on the depth of the expression tree being built at this point.
    depth: Cell<usize>,
}

impl Builder {
    /// A builder for `file`.
    pub(super) fn new(file: FileId) -> Builder {
        Builder {
            file,
            depth: Cell::new(0),
        }
    }

    /// Builds with `levels` more levels of expression depth (an operator chain of n
    /// operators is at most n + 1 deep, a chain of n postfix calls or indices n deep),
    /// refusing to go past [`MAX_EXPR_DEPTH`] before any of it is built.
    pub(super) fn deeper<T>(&self, levels: usize, span: Span, f: impl FnOnce() -> Res<T>) -> Res<T> {
        let depth = self.depth.get().saturating_add(levels);
        if depth > MAX_EXPR_DEPTH {
            return Err(Diagnostic::new(
                Code::Syntax,
                format!("expression nested deeper than {MAX_EXPR_DEPTH} levels"),
            )
            .at(span, "too deep")
            .hint("split it into smaller parts with `let`, or sum a list with `sum(...)`"));
        }
        self.depth.set(depth);
        let r = f();
        self.depth.set(depth - levels);
        r
    }
}

/// The result of building one AST node.
pub(super) type Res<T> = Result<T, Diagnostic>;
