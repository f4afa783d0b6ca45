//! Name resolution over every function and declaration, used or not: unknown names (with
//! "did you mean"), duplicate definitions and duplicate parameters.
//!
//! Types and shapes are checked later, when entry points are traced with real sizes; this pass
//! makes sure that code nobody calls yet is still free of typos.

use super::loader::{ModuleId, Modules};
use crate::builtins::{Builtin, Form};
use crate::diag::{Code, Diagnostic, Span, did_you_mean};
use crate::syntax::ast::*;
use std::collections::HashMap;

/// Names usable in every expression, besides builtins and declarations.
const AMBIENT: [&str; 1] = ["env"];

/// Resolves names in one module (and its algorithms); returns all problems found.
pub fn resolve_module(mods: &Modules, id: ModuleId) -> Vec<Diagnostic> {
    let m = mods.get(id);
    let mut diags = Vec::new();
    let mut globals: HashMap<String, Span> = HashMap::new();
    for f in &m.ast.fns {
        if let Some(first) = globals.get(&f.name.name) {
            diags.push(duplicate(&f.name, *first));
        } else {
            globals.insert(f.name.name.clone(), f.name.span);
        }
    }
    // Rules live in their own namespace (they are named only by `update ... by`), but two
    // rules of one name would make `by NAME` ambiguous.
    let mut rules: HashMap<&str, Span> = HashMap::new();
    for r in &m.ast.rules {
        if let Some(first) = rules.get(r.name.name.as_str()) {
            diags.push(duplicate(&r.name, *first));
        } else {
            rules.insert(&r.name.name, r.name.span);
        }
    }
    for (imp, res) in m.ast.imports.iter().zip(&m.imports) {
        match (&imp.names, res) {
            (Some(names), _) => {
                for n in names {
                    globals.entry(n.name.clone()).or_insert(n.span);
                }
            }
            (None, _) => {
                if let Some(last) = imp.path.last() {
                    globals.entry(last.name.clone()).or_insert(last.span);
                }
            }
        }
    }
    for f in &m.ast.fns {
        Resolver::new(&globals, &mut diags).fn_decl(f);
    }
    for r in &m.ast.rules {
        Resolver::new(&globals, &mut diags).rule_decl(r);
    }
    for alg in &m.ast.algorithms {
        let mut scope = globals.clone();
        let mut first_def: HashMap<String, Span> = HashMap::new();
        for d in &alg.decls {
            if let Some(n) = d.name() {
                if let Some(first) = first_def.get(&n.name) {
                    diags.push(duplicate(n, *first));
                } else {
                    first_def.insert(n.name.clone(), n.span);
                    scope.insert(n.name.clone(), n.span);
                }
            }
        }
        let mut r = Resolver::new(&scope, &mut diags);
        r.rules = m.ast.rules.iter().map(|x| x.name.name.clone()).collect();
        if let Some(p) = m.prelude {
            r.rules
                .extend(mods.get(p).ast.rules.iter().map(|x| x.name.name.clone()));
        }
        for d in &alg.decls {
            r.decl(d);
        }
    }
    diags.extend(super::logs::check_module(&m.ast));
    diags
}

fn duplicate(name: &Ident, first: Span) -> Diagnostic {
    Diagnostic::new(
        Code::Duplicate,
        format!("`{}` is defined more than once", name.name),
    )
    .at(name.span, "defined again here")
    .also(first, "first defined here")
}

struct Resolver<'a> {
    globals: &'a HashMap<String, Span>,
    locals: Vec<Vec<String>>,
    diags: &'a mut Vec<Diagnostic>,
    /// Update rules this module can use: not callable, but worth a hint when called.
    rules: Vec<String>,
}

impl<'a> Resolver<'a> {
    fn new(globals: &'a HashMap<String, Span>, diags: &'a mut Vec<Diagnostic>) -> Resolver<'a> {
        Resolver {
            globals,
            locals: Vec::new(),
            diags,
            rules: Vec::new(),
        }
    }

    fn bind(&mut self, name: &str) {
        if let Some(s) = self.locals.last_mut() {
            s.push(name.to_string());
        }
    }

    fn known(&self, name: &str) -> bool {
        self.locals.iter().any(|s| s.iter().any(|n| n == name))
            || self.globals.contains_key(name)
            || Builtin::from_name(name).is_some()
            || AMBIENT.contains(&name)
    }

    fn unknown(&mut self, name: &str, span: Span) {
        let mut cands: Vec<&str> = self.locals.iter().flatten().map(String::as_str).collect();
        cands.extend(self.globals.keys().map(String::as_str));
        // Only what an expression can call: optimisers, target rules and noise (`sgd`,
        // `polyak`, `ou`) belong in their declarations, so `std(x)` must not suggest `sgd`.
        for n in Builtin::names() {
            if !matches!(
                Builtin::from_name(n).map(Builtin::form),
                Some(Form::Declaration(_))
            ) {
                cands.push(n);
            }
        }
        cands.extend(AMBIENT);
        // Statistics people reach for that are one line of the language instead.
        let hint = match name {
            _ if self.rules.iter().any(|r| r == name) => Some(format!(
                "`{name}` is an update rule: it is applied by `update NET by {name}(lr = ...) on LOSS`"
            )),
            "std" => Some("there is no `std`: write `sqrt(mean((x - mean(x))^2))`".to_string()),
            "var" => Some("there is no `var`: write `mean((x - mean(x))^2)`".to_string()),
            _ => did_you_mean(name, cands),
        };
        self.diags.push(
            Diagnostic::new(Code::UnknownName, format!("cannot find `{name}` in this scope"))
                .at(span, "not defined")
                .maybe_hint(hint),
        );
    }

    fn params(&mut self, params: &[FnParam]) {
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for p in params {
            if let Some(first) = seen.get(p.name.name.as_str()) {
                self.diags.push(
                    Diagnostic::new(
                        Code::Duplicate,
                        format!("parameter `{}` is declared twice", p.name.name),
                    )
                    .at(p.name.span, "declared again here")
                    .also(*first, "first declared here"),
                );
            }
            seen.insert(&p.name.name, p.name.span);
            if let Some(d) = &p.default {
                self.expr(d);
            }
            if let Some(t) = &p.ty {
                self.ty(t);
            }
        }
        for p in params {
            self.bind(&p.name.name);
        }
    }

    fn fn_decl(&mut self, f: &FnDecl) {
        self.locals.push(Vec::new());
        self.params(&f.params);
        if let Some(t) = &f.ret {
            self.ty(t);
        }
        self.expr(&f.body);
        self.locals.pop();
    }

    fn stmts(&mut self, stmts: &[Stmt]) {
        for st in stmts {
            match st {
                Stmt::Let(l) => {
                    self.expr(&l.value);
                    self.pattern(&l.pattern);
                }
                Stmt::Set(s) => {
                    self.expr(&s.value);
                    if !self.known(&s.name.name) {
                        self.unknown(&s.name.name, s.name.span);
                    }
                }
                Stmt::Require(r) => self.expr(&r.cond),
            }
        }
    }

    /// A rule's part: its states (each may use the ones before it), then its statements.
    fn rule_part(&mut self, part: &RulePart) {
        for st in &part.states {
            self.expr(&st.init);
            self.bind(&st.name.name);
        }
        self.stmts(&part.stmts);
    }

    fn rule_decl(&mut self, r: &RuleDecl) {
        self.locals.push(Vec::new());
        self.params(&r.params);
        for n in crate::lower::RULE_LISTS {
            self.bind(n);
        }
        self.rule_part(&r.shared);
        match &r.step {
            RuleStep::Each(each) => {
                self.locals.push(Vec::new());
                self.bind(&each.param.name);
                self.bind(&each.grad.name);
                self.rule_part(&each.part);
                self.expr(&each.result);
                self.locals.pop();
            }
            RuleStep::All(e) => self.expr(e),
        }
        self.locals.pop();
    }

    fn ty(&mut self, t: &TypeExpr) {
        if let Some(dims) = &t.shape {
            for d in dims {
                self.expr(d);
            }
        }
    }

    fn decl(&mut self, d: &Decl) {
        match d {
            Decl::Param(p) => self.expr(&p.value),
            Decl::Env(_) => {}
            Decl::Net(f) | Decl::Policy(f) | Decl::Fn(f) => self.fn_decl(f),
            Decl::Target(t) => self.call_args_only(&t.value),
            Decl::Learnable(l) | Decl::State(l) => {
                if let Some(t) = &l.ty {
                    self.ty(t);
                }
                self.expr(&l.init);
            }
            Decl::Data(dd) => {
                for (_, e) in &dd.options {
                    self.expr(e);
                }
                for (_, t) in &dd.fields {
                    self.ty(t);
                }
            }
            Decl::Loss(l) => {
                self.locals.push(Vec::new());
                for (n, src) in &l.params {
                    if let Some(s) = src {
                        self.expr(s);
                    }
                    self.bind(&n.name);
                }
                self.expr(&l.body);
                self.locals.pop();
            }
            Decl::Update(u) => {
                for t in &u.targets {
                    if !self.globals.contains_key(&t.name) {
                        self.unknown(&t.name, t.span);
                    }
                }
                if !self.globals.contains_key(&u.loss.name) {
                    self.unknown(&u.loss.name, u.loss.span);
                }
                self.call_args_only(&u.optimiser);
                if let Some(e) = &u.every {
                    self.expr(e);
                }
            }
            Decl::Derive(dd) => {
                if !self.globals.contains_key(&dd.data.name) {
                    self.unknown(&dd.data.name, dd.data.span);
                }
                self.locals.push(vec![dd.param.name.clone()]);
                self.expr(&dd.body);
                self.locals.pop();
            }
            Decl::Schedule(s) => {
                for st in &s.stmts {
                    match st {
                        SchedStmt::Envs(e) | SchedStmt::Warmup(e) => self.expr(e),
                        SchedStmt::Act {
                            policy, into, noise, ..
                        } => {
                            for n in std::iter::once(policy).chain(into) {
                                if !self.globals.contains_key(&n.name) {
                                    self.unknown(&n.name, n.span);
                                }
                            }
                            if let Some(e) = noise {
                                self.call_args_only(e);
                            }
                        }
                        SchedStmt::Train { count, options, .. } => {
                            if let Some(c) = count {
                                self.expr(c);
                            }
                            for (_, e) in options {
                                self.expr(e);
                            }
                        }
                        SchedStmt::Eval(p) => {
                            if !self.globals.contains_key(&p.name) {
                                self.unknown(&p.name, p.span);
                            }
                        }
                    }
                }
            }
        }
    }

    /// For `polyak(actor, tau)` and `adam(lr = ...)`: the callee is a keyword-like name
    /// checked by the declaration's own rules; only the arguments are resolved here.
    fn call_args_only(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Call(_, args) => {
                for a in args {
                    self.expr(&a.value);
                }
            }
            ExprKind::Name(_) => {}
            _ => self.expr(e),
        }
    }

    fn pattern(&mut self, p: &Pattern) {
        match p {
            Pattern::Name(n) => self.bind(&n.name),
            Pattern::Tuple(ps, _) => {
                for p in ps {
                    self.pattern(p);
                }
            }
        }
    }

    fn expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Bool(_) | ExprKind::Str(_) => {}
            ExprKind::Name(n) => {
                if !self.known(n) {
                    self.unknown(n, e.span);
                }
            }
            ExprKind::Unary(_, x) => self.expr(x),
            ExprKind::Binary(_, a, b) => {
                self.expr(a);
                self.expr(b);
            }
            ExprKind::Call(f, args) => {
                self.expr(f);
                for a in args {
                    self.expr(&a.value);
                }
            }
            ExprKind::Index(x, items) => {
                self.expr(x);
                for it in items {
                    match it {
                        IndexItem::At(i) => self.expr(i),
                        IndexItem::Slice(a, b) => {
                            for x in [a, b].into_iter().flatten() {
                                self.expr(x);
                            }
                        }
                        IndexItem::Ellipsis(_) => {}
                    }
                }
            }
            ExprKind::Field(x, _) => self.expr(x),
            ExprKind::List(xs) | ExprKind::Tuple(xs) => {
                for x in xs {
                    self.expr(x);
                }
            }
            ExprKind::Record(fs) => {
                for (_, x) in fs {
                    self.expr(x);
                }
            }
            ExprKind::Block(lets, res) => {
                self.locals.push(Vec::new());
                self.stmts(lets);
                self.expr(res);
                self.locals.pop();
            }
            ExprKind::If(c, a, b) => {
                self.expr(c);
                self.expr(a);
                self.expr(b);
            }
            ExprKind::Scan(l) | ExprKind::For(l) => {
                self.expr(&l.over);
                for (_, init) in &l.carries {
                    self.expr(init);
                }
                self.locals.push(vec![l.var.name.clone()]);
                for (n, _) in &l.carries {
                    self.bind(&n.name);
                }
                self.expr(&l.body);
                self.locals.pop();
            }
        }
    }
}
