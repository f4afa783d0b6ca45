//! Expressions: operator precedence (Pratt), postfix calls, indexing and fields, primaries,
//! `let` blocks and loops.

use super::builder::{Builder, Res, inner, pratt};
use super::grammar::Rule;
use crate::diag::{Code, Diagnostic};
use crate::syntax::ast::*;
use pest::iterators::{Pair, Pairs};

impl Builder {
    pub(super) fn expr(&self, pair: Pair<'_, Rule>) -> Res<Expr> {
        debug_assert_eq!(pair.as_rule(), Rule::expr);
        let span = self.span(&pair);
        let pairs = pair.into_inner();
        // Operators (not operands) each add at most one level to the tree.
        let ops = pairs
            .clone()
            .filter(|p| p.as_rule() != Rule::postfix_expr)
            .count();
        self.deeper(ops + 1, span, || self.pratt(pairs))
    }

    fn pratt(&self, pairs: Pairs<'_, Rule>) -> Res<Expr> {
        pratt()
            .map_primary(|p| self.postfix_expr(p))
            .map_prefix(|op, rhs| {
                let rhs = rhs?;
                let span = self.span(&op).to(rhs.span);
                let op = if op.as_rule() == Rule::neg {
                    UnOp::Neg
                } else {
                    UnOp::Not
                };
                // Fold `-literal` so that `-1` is a literal, not an operation.
                let kind = match (&op, &rhs.kind) {
                    (UnOp::Neg, ExprKind::Int(v)) if *v != i64::MIN => ExprKind::Int(-v),
                    (UnOp::Neg, ExprKind::Float(v)) => ExprKind::Float(-v),
                    _ => ExprKind::Unary(op, Box::new(rhs)),
                };
                Ok(Expr { kind, span })
            })
            .map_infix(|lhs, op, rhs| {
                let (lhs, rhs) = (lhs?, rhs?);
                let op = match op.as_rule() {
                    Rule::or => BinOp::Or,
                    Rule::and => BinOp::And,
                    Rule::eq => BinOp::Eq,
                    Rule::ne => BinOp::Ne,
                    Rule::lt => BinOp::Lt,
                    Rule::le => BinOp::Le,
                    Rule::gt => BinOp::Gt,
                    Rule::ge => BinOp::Ge,
                    Rule::add => BinOp::Add,
                    Rule::sub => BinOp::Sub,
                    Rule::mul => BinOp::Mul,
                    Rule::div => BinOp::Div,
                    Rule::rem => BinOp::Rem,
                    Rule::pow => BinOp::Pow,
                    r => unreachable!("unexpected infix {r:?}"),
                };
                let span = lhs.span.to(rhs.span);
                Ok(Expr {
                    kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
                    span,
                })
            })
            .parse(pairs)
    }

    pub(super) fn postfix_expr(&self, pair: Pair<'_, Rule>) -> Res<Expr> {
        debug_assert_eq!(pair.as_rule(), Rule::postfix_expr);
        let span = self.span(&pair);
        let posts = pair.clone().into_inner().count().saturating_sub(1);
        self.deeper(posts, span, || self.postfix_chain(pair))
    }

    /// A primary followed by calls, indices and fields (depth already accounted).
    fn postfix_chain(&self, pair: Pair<'_, Rule>) -> Res<Expr> {
        let mut it = pair.into_inner();
        let mut e = self.primary(it.next().expect("grammar"))?;
        for post in it {
            let pspan = self.span(&post);
            let span = e.span.to(pspan);
            e = match post.as_rule() {
                Rule::call_args => {
                    let mut args = Vec::new();
                    for a in inner(post) {
                        let mut ai = inner(a).peekable();
                        let name = if ai.peek().map(|p| p.as_rule()) == Some(Rule::ident) {
                            Some(self.ident(ai.next().expect("peeked")))
                        } else {
                            None
                        };
                        let value = self.expr(ai.next().expect("grammar"))?;
                        args.push(Arg { name, value });
                    }
                    Expr {
                        kind: ExprKind::Call(Box::new(e), args),
                        span,
                    }
                }
                Rule::index => {
                    let mut items = Vec::new();
                    for i in inner(post) {
                        items.push(match i.as_rule() {
                            Rule::ellipsis => IndexItem::Ellipsis(self.span(&i)),
                            Rule::slice => {
                                let mut a = None;
                                let mut b = None;
                                for s in inner(i) {
                                    let v = Some(self.expr(inner(s.clone()).next().expect("grammar"))?);
                                    if s.as_rule() == Rule::slice_start {
                                        a = v;
                                    } else {
                                        b = v;
                                    }
                                }
                                IndexItem::Slice(a, b)
                            }
                            _ => IndexItem::At(self.expr(i)?),
                        });
                    }
                    Expr {
                        kind: ExprKind::Index(Box::new(e), items),
                        span,
                    }
                }
                Rule::field => {
                    let name = self.ident(inner(post).next().expect("grammar"));
                    Expr {
                        kind: ExprKind::Field(Box::new(e), name),
                        span,
                    }
                }
                r => unreachable!("unexpected postfix {r:?}"),
            };
        }
        Ok(e)
    }

    fn primary(&self, pair: Pair<'_, Rule>) -> Res<Expr> {
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::int_lit => {
                let digits: String = pair.as_str().chars().filter(|c| *c != '_').collect();
                match digits.parse::<i64>() {
                    Ok(v) => ExprKind::Int(v),
                    Err(_) => {
                        return Err(Diagnostic::new(Code::Syntax, "integer literal is too large")
                            .at(span, "does not fit in 64 bits"));
                    }
                }
            }
            Rule::float_lit => {
                let digits: String = pair.as_str().chars().filter(|c| *c != '_').collect();
                match digits.parse::<f64>() {
                    Ok(v) if v.is_finite() => ExprKind::Float(v),
                    _ => {
                        return Err(Diagnostic::new(Code::Syntax, "number literal is out of range")
                            .at(span, "not a finite number"));
                    }
                }
            }
            Rule::true_lit => ExprKind::Bool(true),
            Rule::false_lit => ExprKind::Bool(false),
            Rule::string_lit => {
                ExprKind::Str(pair.into_inner().next().map_or("", |s| s.as_str()).to_string())
            }
            Rule::ident => ExprKind::Name(pair.as_str().to_string()),
            Rule::tensor_lit => ExprKind::List(inner(pair).map(|e| self.expr(e)).collect::<Res<_>>()?),
            Rule::record_lit => {
                let mut fields = Vec::new();
                for f in inner(pair) {
                    let mut fi = inner(f);
                    let k = self.ident(fi.next().expect("grammar"));
                    let v = self.expr(fi.next().expect("grammar"))?;
                    fields.push((k, v));
                }
                ExprKind::Record(fields)
            }
            Rule::block => {
                let mut lets = Vec::new();
                let mut result = None;
                for p in inner(pair) {
                    match p.as_rule() {
                        Rule::let_stmt => lets.push(Stmt::Let(self.let_stmt(p)?)),
                        Rule::log_stmt => lets.push(Stmt::Let(self.log_stmt(p)?)),
                        Rule::set_stmt => lets.push(Stmt::Set(self.set_stmt(p)?)),
                        _ => result = Some(self.expr(p)?),
                    }
                }
                ExprKind::Block(lets, Box::new(result.expect("grammar")))
            }
            Rule::if_expr => {
                let mut it = inner(pair);
                let c = self.expr(it.next().expect("grammar"))?;
                let t = self.expr(it.next().expect("grammar"))?;
                let e = self.expr(it.next().expect("grammar"))?;
                ExprKind::If(Box::new(c), Box::new(t), Box::new(e))
            }
            Rule::scan_expr => ExprKind::Scan(Box::new(self.loop_expr(pair)?)),
            Rule::for_expr => ExprKind::For(Box::new(self.loop_expr(pair)?)),
            Rule::paren => {
                let mut items: Vec<Expr> = inner(pair).map(|e| self.expr(e)).collect::<Res<_>>()?;
                // `(x)` groups; one-element tuples are never needed, so `(x,)` groups too.
                if items.len() == 1 {
                    let mut e = items.pop().expect("one item");
                    e.span = span;
                    return Ok(e);
                }
                ExprKind::Tuple(items)
            }
            r => unreachable!("unexpected primary {r:?}"),
        };
        Ok(Expr { kind, span })
    }

    /// `set NAME = EXPR`.
    pub(super) fn set_stmt(&self, pair: Pair<'_, Rule>) -> Res<SetStmt> {
        let span = self.span(&pair);
        let mut it = inner(pair);
        let name = self.ident(it.next().expect("grammar"));
        let value = self.expr(it.next().expect("grammar"))?;
        Ok(SetStmt { name, value, span })
    }

    pub(super) fn let_stmt(&self, pair: Pair<'_, Rule>) -> Res<Let> {
        let span = self.span(&pair);
        let mut it = inner(pair);
        let pattern = self.pattern(it.next().expect("grammar"));
        let sample = it.next().expect("grammar").as_rule() == Rule::let_sample;
        let value = self.expr(it.next().expect("grammar"))?;
        Ok(Let {
            pattern,
            sample,
            log: false,
            value,
            span,
        })
    }

    /// `log NAME = EXPR`: a binding of one name that is also logged.
    fn log_stmt(&self, pair: Pair<'_, Rule>) -> Res<Let> {
        let span = self.span(&pair);
        let mut it = inner(pair).filter(|p| p.as_rule() != Rule::let_eq);
        let name = self.ident(it.next().expect("grammar"));
        let value = self.expr(it.next().expect("grammar"))?;
        Ok(Let {
            pattern: Pattern::Name(name),
            sample: false,
            log: true,
            value,
            span,
        })
    }

    pub(super) fn pattern(&self, pair: Pair<'_, Rule>) -> Pattern {
        let span = self.span(&pair);
        let mut items: Vec<Pair<'_, Rule>> = inner(pair).collect();
        if items.len() == 1 && items[0].as_rule() == Rule::ident {
            return Pattern::Name(self.ident(items.remove(0)));
        }
        Pattern::Tuple(items.into_iter().map(|p| self.pattern(p)).collect(), span)
    }

    pub(super) fn loop_expr(&self, pair: Pair<'_, Rule>) -> Res<Loop> {
        let mut reverse = false;
        let mut var = None;
        let mut over = None;
        let mut carries = Vec::new();
        let mut body = None;
        for p in inner(pair) {
            match p.as_rule() {
                Rule::reverse_kw => reverse = true,
                Rule::ident => var = Some(self.ident(p)),
                Rule::expr => over = Some(self.expr(p)?),
                Rule::carry => {
                    let mut ci = inner(p);
                    let n = self.ident(ci.next().expect("grammar"));
                    let v = self.expr(ci.next().expect("grammar"))?;
                    carries.push((n, v));
                }
                Rule::block => body = Some(self.primary(p)?),
                r => unreachable!("unexpected rule {r:?} in loop"),
            }
        }
        Ok(Loop {
            reverse,
            var: var.expect("grammar"),
            over: over.expect("grammar"),
            carries,
            body: body.expect("grammar"),
        })
    }
}
