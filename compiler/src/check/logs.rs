//! Where `log NAME = EXPR` may stand, and that each logged name is unique in its algorithm.
//!
//! A logged value is an extra output of the entry point that computes it, read once per call:
//! so a `log` belongs to the body of a loss (the `train` entry), a policy (its `act_` entry)
//! or a derive (its `derive_` entry), where it is traced exactly once per call. Inside a
//! `fn`, a net or a parameter it would be traced once per use; inside `scan`/`for` once per
//! step; inside an `if` branch maybe never: each is refused here (E0031), before any tracing.

use crate::diag::{Code, Diagnostic, Span};
use crate::syntax::ast::*;
use std::collections::HashMap;

/// Every misplaced or repeated `log` statement of a module.
pub(super) fn check_module(m: &Module) -> Vec<Diagnostic> {
    let mut w = Walker::default();
    for f in &m.fns {
        w.expr(&f.body, Some("a `fn`"));
    }
    for alg in &m.algorithms {
        w.seen.clear();
        for d in &alg.decls {
            match d {
                Decl::Loss(l) => w.expr(&l.body, None),
                Decl::Policy(p) => w.expr(&p.body, None),
                Decl::Derive(dd) => w.expr(&dd.body, None),
                Decl::Param(p) => w.expr(&p.value, Some("a `param`")),
                Decl::Net(n) => w.expr(&n.body, Some("a `net`")),
                Decl::Fn(f) => w.expr(&f.body, Some("a `fn`")),
                Decl::Target(t) => w.expr(&t.value, Some("a `target`")),
                Decl::Learnable(l) => w.expr(&l.init, Some("a `learnable`")),
                Decl::State(l) => w.expr(&l.init, Some("a `state`")),
                Decl::Env(_) | Decl::Data(_) | Decl::Update(_) | Decl::Schedule(_) => {}
            }
        }
    }
    w.diags
}

#[derive(Default)]
struct Walker {
    /// Logged names of the current algorithm, with where each is first logged.
    seen: HashMap<String, Span>,
    diags: Vec<Diagnostic>,
}

impl Walker {
    /// Walks `e`; `refused` says why a `log` cannot stand here (`None`: it can).
    fn expr(&mut self, e: &Expr, refused: Option<&str>) {
        match &e.kind {
            ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Bool(_)
            | ExprKind::Str(_)
            | ExprKind::Name(_) => {}
            ExprKind::Unary(_, x) | ExprKind::Field(x, _) => self.expr(x, refused),
            ExprKind::Binary(_, a, b) => {
                self.expr(a, refused);
                self.expr(b, refused);
            }
            ExprKind::Call(f, args) => {
                self.expr(f, refused);
                for a in args {
                    self.expr(&a.value, refused);
                }
            }
            ExprKind::Index(x, items) => {
                self.expr(x, refused);
                for i in items {
                    match i {
                        IndexItem::At(x) => self.expr(x, refused),
                        IndexItem::Slice(a, b) => {
                            for x in [a, b].into_iter().flatten() {
                                self.expr(x, refused);
                            }
                        }
                        IndexItem::Ellipsis(_) => {}
                    }
                }
            }
            ExprKind::List(xs) | ExprKind::Tuple(xs) => {
                for x in xs {
                    self.expr(x, refused);
                }
            }
            ExprKind::Record(fs) => {
                for (_, x) in fs {
                    self.expr(x, refused);
                }
            }
            ExprKind::Block(lets, res) => {
                for st in lets {
                    match st {
                        Stmt::Let(l) => {
                            if l.log {
                                self.log(l, refused);
                            }
                            self.expr(&l.value, refused);
                        }
                        Stmt::Set(set) => self.expr(&set.value, refused),
                        Stmt::Require(r) => self.expr(&r.cond, refused),
                    }
                }
                self.expr(res, refused);
            }
            ExprKind::If(c, a, b) => {
                self.expr(c, refused);
                let branch = refused.or(Some("a branch of `if`"));
                self.expr(a, branch);
                self.expr(b, branch);
            }
            ExprKind::Scan(l) | ExprKind::For(l) => {
                self.expr(&l.over, refused);
                for (_, init) in &l.carries {
                    self.expr(init, refused);
                }
                self.expr(&l.body, refused.or(Some("a loop body")));
            }
        }
    }

    fn log(&mut self, l: &Let, refused: Option<&str>) {
        let Pattern::Name(name) = &l.pattern else {
            return;
        };
        if let Some(place) = refused {
            self.diags.push(
                Diagnostic::new(Code::Metric, format!("`log {}` in {place}", name.name))
                    .at(l.span, "logged here")
                    .note("a logged value is computed once per call of a loss, policy or derive")
                    .hint(format!(
                        "log it in the loss, policy or derive body that uses it (`log {} = ...` \
                         there), or bind it with `let`",
                        name.name
                    )),
            );
            return;
        }
        if let Some(first) = self.seen.get(&name.name) {
            self.diags.push(
                Diagnostic::new(Code::Duplicate, format!("metric `{}` is logged twice", name.name))
                    .at(name.span, "logged again here")
                    .also(*first, "first logged here")
                    .hint("each logged name is one column of metrics.jsonl: rename one of them"),
            );
            return;
        }
        self.seen.insert(name.name.clone(), name.span);
    }
}
