//! The pest parser and the conversion of its parse tree into the AST.

use super::ast::*;
use crate::diag::{Code, Diagnostic, FileId, Span};
use pest::Parser;
use pest::iterators::Pair;

mod builder;
mod errors;
mod exprs;
mod grammar;

use builder::{Builder, Res, inner};
use errors::syntax_error;
use grammar::{RlParser, Rule};

/// Parses a whole file.
pub fn parse_module(file: FileId, text: &str) -> Result<Module, Diagnostic> {
    check_nesting(file, text)?;
    pest::set_error_detail(true);
    let mut pairs = RlParser::parse(Rule::program, text).map_err(|e| syntax_error(file, text, e))?;
    let program = pairs.next().expect("pest returns the program rule");
    Builder::new(file).module(program)
}

/// Parses a single expression (used by the REPL's `:eval`).
pub fn parse_expr(file: FileId, text: &str) -> Result<Expr, Diagnostic> {
    check_nesting(file, text)?;
    pest::set_error_detail(true);
    let mut pairs = RlParser::parse(Rule::repl_expr, text).map_err(|e| syntax_error(file, text, e))?;
    let top = pairs.next().expect("pest returns the repl_expr rule");
    let b = Builder::new(file);
    let expr = top
        .into_inner()
        .find(|p| p.as_rule() == Rule::expr)
        .expect("grammar");
    b.expr(expr)
}

/// Deepest bracket nesting accepted; deeper input would exhaust the parser's stack.
const MAX_NESTING: usize = 200;

/// Rejects absurdly deep nesting before the recursive-descent parser sees it. Brackets in
/// `//` comments and in string literals are text, not nesting, so they do not count.
fn check_nesting(file: FileId, text: &str) -> Result<(), Diagnostic> {
    let mut depth = 0usize;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '/' if chars.peek().map(|p| p.1) == Some('/') => {
                // A comment runs to the end of the line.
                while chars.next_if(|p| p.1 != '\n').is_some() {}
            }
            '/' if chars.peek().map(|p| p.1) == Some('*') => {
                // A block comment runs to `*/` (or to the end of an unterminated one).
                chars.next();
                let mut prev = ' ';
                for (_, c) in chars.by_ref() {
                    if prev == '*' && c == '/' {
                        break;
                    }
                    prev = c;
                }
            }
            '"' => {
                // A string ends at its closing quote (or, unterminated, at the line's end).
                while chars.next_if(|p| p.1 != '"' && p.1 != '\n').is_some() {}
                chars.next_if(|p| p.1 == '"');
            }
            '(' | '[' | '{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(Diagnostic::new(
                        Code::Syntax,
                        format!("brackets are nested more than {MAX_NESTING} deep"),
                    )
                    .at(Span::new(file, i, i + 1), "too deep"));
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

impl Builder {
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        // Rules can end in implicit whitespace; diagnostics should not underline it.
        let trimmed = pair.as_str().trim_end().len();
        Span::new(self.file, s.start(), s.start() + trimmed)
    }

    fn ident(&self, pair: Pair<'_, Rule>) -> Ident {
        debug_assert_eq!(pair.as_rule(), Rule::ident);
        Ident {
            name: pair.as_str().to_string(),
            span: self.span(&pair),
        }
    }

    fn module(&self, program: Pair<'_, Rule>) -> Res<Module> {
        let mut module = Module::default();
        let mut docs = Vec::new();
        for item in inner(program) {
            match item.as_rule() {
                Rule::docs => docs = self.docs(item),
                Rule::import_decl => module.imports.push(self.import(item)),
                Rule::fn_decl => module.fns.push(self.fn_decl(item, std::mem::take(&mut docs))?),
                Rule::rule_decl => module
                    .rules
                    .push(self.rule_decl(item, std::mem::take(&mut docs))?),
                Rule::algorithm => module
                    .algorithms
                    .push(self.algorithm(item, std::mem::take(&mut docs))?),
                Rule::EOI => {}
                r => unreachable!("unexpected rule {r:?} in program"),
            }
        }
        Ok(module)
    }

    fn docs(&self, pair: Pair<'_, Rule>) -> Vec<String> {
        pair.into_inner()
            .map(|l| {
                let t = l.into_inner().next().map_or("", |t| t.as_str());
                t.strip_prefix(' ').unwrap_or(t).trim_end().to_string()
            })
            .collect()
    }

    fn import(&self, pair: Pair<'_, Rule>) -> Import {
        let span = self.span(&pair);
        let mut path = Vec::new();
        let mut names = None;
        for p in inner(pair) {
            match p.as_rule() {
                Rule::module_path => path = inner(p).map(|i| self.ident(i)).collect(),
                Rule::import_names => names = Some(inner(p).map(|i| self.ident(i)).collect()),
                _ => {}
            }
        }
        Import { path, names, span }
    }

    fn algorithm(&self, pair: Pair<'_, Rule>, docs: Vec<String>) -> Res<Algorithm> {
        let span = self.span(&pair);
        let mut it = inner(pair);
        let name = self.ident(it.next().expect("grammar"));
        let mut decls = Vec::new();
        let mut pending_docs = Vec::new();
        for d in it {
            let decl = match d.as_rule() {
                Rule::docs => {
                    pending_docs = self.docs(d);
                    continue;
                }
                Rule::param_decl => {
                    let span = self.span(&d);
                    let mut it = inner(d);
                    let name = self.ident(it.next().expect("grammar"));
                    let value = self.expr(it.next().expect("grammar"))?;
                    Decl::Param(ParamDecl { name, value, span })
                }
                Rule::env_decl => {
                    let span = self.span(&d);
                    let mut it = inner(d);
                    let kind = self.ident(it.next().expect("grammar"));
                    let default = it.next().map(|s| {
                        let sp = self.span(&s);
                        (s.into_inner().next().map_or("", |i| i.as_str()).to_string(), sp)
                    });
                    Decl::Env(EnvDecl { kind, default, span })
                }
                Rule::net_decl => Decl::Net(self.fn_decl(d, std::mem::take(&mut pending_docs))?),
                Rule::policy_decl => Decl::Policy(self.fn_decl(d, std::mem::take(&mut pending_docs))?),
                Rule::fn_decl => Decl::Fn(self.fn_decl(d, std::mem::take(&mut pending_docs))?),
                Rule::target_decl => {
                    let span = self.span(&d);
                    let mut it = inner(d);
                    let name = self.ident(it.next().expect("grammar"));
                    let value = self.expr(it.next().expect("grammar"))?;
                    Decl::Target(TargetDecl { name, value, span })
                }
                Rule::learnable_decl | Rule::state_decl => {
                    let state = d.as_rule() == Rule::state_decl;
                    let span = self.span(&d);
                    let mut it = inner(d);
                    let name = self.ident(it.next().expect("grammar"));
                    let mut ty = None;
                    let mut init = None;
                    for p in it {
                        match p.as_rule() {
                            Rule::type_expr => ty = Some(self.type_expr(p)?),
                            _ => init = Some(self.expr(p)?),
                        }
                    }
                    let decl = LearnableDecl {
                        name,
                        ty,
                        init: init.expect("grammar"),
                        span,
                    };
                    if state {
                        Decl::State(decl)
                    } else {
                        Decl::Learnable(decl)
                    }
                }
                Rule::data_decl => Decl::Data(self.data_decl(d)?),
                Rule::loss_decl => {
                    let span = self.span(&d);
                    let mut it = inner(d);
                    let name = self.ident(it.next().expect("grammar"));
                    let mut params = Vec::new();
                    let mut body = None;
                    for p in it {
                        match p.as_rule() {
                            Rule::loss_param => {
                                let mut pi = inner(p);
                                let n = self.ident(pi.next().expect("grammar"));
                                let src = pi.next().map(|e| self.expr(e)).transpose()?;
                                params.push((n, src));
                            }
                            _ => body = Some(self.expr(p)?),
                        }
                    }
                    Decl::Loss(LossDecl {
                        name,
                        docs: std::mem::take(&mut pending_docs),
                        params,
                        body: body.expect("grammar"),
                        span,
                    })
                }
                Rule::update_decl => {
                    let span = self.span(&d);
                    let mut it = inner(d);
                    let targets = inner(it.next().expect("grammar"))
                        .map(|i| self.ident(i))
                        .collect();
                    let optimiser = self.postfix_expr(it.next().expect("grammar"))?;
                    let loss = self.ident(it.next().expect("grammar"));
                    let every = match it.next() {
                        Some(_kw) => Some(self.expr(it.next().expect("grammar"))?),
                        None => None,
                    };
                    Decl::Update(UpdateDecl {
                        targets,
                        optimiser,
                        loss,
                        every,
                        span,
                    })
                }
                Rule::schedule_decl => Decl::Schedule(self.schedule(d)?),
                Rule::derive_decl => {
                    let span = self.span(&d);
                    let mut it = inner(d);
                    let data = self.ident(it.next().expect("grammar"));
                    let param = self.ident(it.next().expect("grammar"));
                    let body = self.expr(it.next().expect("grammar"))?;
                    Decl::Derive(DeriveDecl {
                        data,
                        param,
                        body,
                        span,
                    })
                }
                r => unreachable!("unexpected rule {r:?} in algorithm"),
            };
            pending_docs.clear();
            decls.push(decl);
        }
        Ok(Algorithm {
            name,
            docs,
            decls,
            span,
        })
    }

    fn fn_params(&self, pair: Pair<'_, Rule>) -> Res<Vec<FnParam>> {
        let mut params = Vec::new();
        for fp in inner(pair) {
            let mut pi = inner(fp);
            let pname = self.ident(pi.next().expect("grammar"));
            let mut ty = None;
            let mut default = None;
            for x in pi {
                match x.as_rule() {
                    Rule::type_expr => ty = Some(self.type_expr(x)?),
                    _ => default = Some(self.expr(x)?),
                }
            }
            params.push(FnParam {
                name: pname,
                ty,
                default,
            });
        }
        Ok(params)
    }

    fn rule_decl(&self, pair: Pair<'_, Rule>, docs: Vec<String>) -> Res<RuleDecl> {
        let span = self.span(&pair);
        let mut it = inner(pair);
        let name = self.ident(it.next().expect("grammar"));
        let params = self.fn_params(it.next().expect("grammar"))?;
        let mut body = it.next().expect("grammar");
        let for_target = body.as_rule() == Rule::rule_for_target;
        if for_target {
            body = it.next().expect("grammar");
        }
        let mut shared = RulePart::default();
        let mut step = None;
        for p in inner(body) {
            match p.as_rule() {
                Rule::rule_each => {
                    let espan = self.span(&p);
                    let mut ei = inner(p);
                    let param = self.ident(ei.next().expect("grammar"));
                    let grad = self.ident(ei.next().expect("grammar"));
                    let mut part = RulePart::default();
                    let mut result = None;
                    for q in ei {
                        if !self.rule_item(q.clone(), &mut part)? {
                            result = Some(self.expr(q)?);
                        }
                    }
                    step = Some(RuleStep::Each(RuleEach {
                        param,
                        grad,
                        part,
                        result: result.expect("grammar"),
                        span: espan,
                    }));
                }
                _ => {
                    if !self.rule_item(p.clone(), &mut shared)? {
                        step = Some(RuleStep::All(self.expr(p)?));
                    }
                }
            }
        }
        Ok(RuleDecl {
            name,
            docs,
            params,
            for_target,
            shared,
            step: step.expect("grammar"),
            span,
        })
    }

    /// Adds a rule's `state`, `let` or `set` to `part`; false for anything else.
    fn rule_item(&self, p: Pair<'_, Rule>, part: &mut RulePart) -> Res<bool> {
        match p.as_rule() {
            Rule::rule_state => {
                let span = self.span(&p);
                let mut it = inner(p);
                let name = self.ident(it.next().expect("grammar"));
                let init = self.expr(it.next().expect("grammar"))?;
                part.states.push(RuleState { name, init, span });
            }
            Rule::let_stmt => part.stmts.push(Stmt::Let(self.let_stmt(p)?)),
            Rule::set_stmt => part.stmts.push(Stmt::Set(self.set_stmt(p)?)),
            Rule::require_stmt => {
                let span = self.span(&p);
                let mut it = inner(p);
                let cond = self.expr(it.next().expect("grammar"))?;
                let s = it.next().expect("grammar");
                let message = inner(s).next().map_or("", |t| t.as_str()).to_string();
                part.stmts.push(Stmt::Require(Require { cond, message, span }));
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn fn_decl(&self, pair: Pair<'_, Rule>, docs: Vec<String>) -> Res<FnDecl> {
        let span = self.span(&pair);
        let mut it = inner(pair);
        let name = self.ident(it.next().expect("grammar"));
        let mut params = Vec::new();
        let mut ret = None;
        let mut body = None;
        for p in it {
            match p.as_rule() {
                Rule::fn_params => params = self.fn_params(p)?,
                Rule::type_expr => ret = Some(self.type_expr(p)?),
                _ => body = Some(self.expr(p)?),
            }
        }
        Ok(FnDecl {
            name,
            docs,
            params,
            ret,
            body: body.expect("grammar"),
            span,
        })
    }

    fn type_expr(&self, pair: Pair<'_, Rule>) -> Res<TypeExpr> {
        let span = self.span(&pair);
        let mut base = None;
        let mut shape = None;
        for p in inner(pair) {
            match p.as_rule() {
                Rule::ident => base = Some(self.ident(p)),
                Rule::shape_expr => shape = Some(inner(p).map(|e| self.expr(e)).collect::<Res<Vec<_>>>()?),
                r => unreachable!("unexpected rule {r:?} in type"),
            }
        }
        Ok(TypeExpr { base, shape, span })
    }

    fn data_decl(&self, pair: Pair<'_, Rule>) -> Res<DataDecl> {
        let span = self.span(&pair);
        let mut it = inner(pair);
        let kind_pair = it.next().expect("grammar");
        let kind = match kind_pair.into_inner().next().map(|p| p.as_rule()) {
            Some(Rule::replay_kw) => DataKind::Replay,
            Some(Rule::prioritized_kw) => DataKind::PrioritizedReplay,
            Some(Rule::rollout_kw) => DataKind::Rollout,
            _ => DataKind::SequenceReplay,
        };
        let name = self.ident(it.next().expect("grammar"));
        let mut options = Vec::new();
        let mut fields = Vec::new();
        for p in it {
            match p.as_rule() {
                Rule::data_opt => {
                    let mut oi = inner(p);
                    let k = self.ident(oi.next().expect("grammar"));
                    let v = self.postfix_expr(oi.next().expect("grammar"))?;
                    options.push((k, v));
                }
                Rule::field_decl => {
                    let mut fi = inner(p);
                    let k = self.ident(fi.next().expect("grammar"));
                    let t = self.type_expr(fi.next().expect("grammar"))?;
                    fields.push((k, t));
                }
                r => unreachable!("unexpected rule {r:?} in data"),
            }
        }
        Ok(DataDecl {
            kind,
            name,
            options,
            fields,
            span,
        })
    }

    fn schedule(&self, pair: Pair<'_, Rule>) -> Res<ScheduleDecl> {
        let span = self.span(&pair);
        let mut stmts = Vec::new();
        for s in inner(pair) {
            let sspan = self.span(&s);
            let stmt = match s.as_rule() {
                Rule::sched_envs => SchedStmt::Envs(self.expr(inner(s).next().expect("grammar"))?),
                Rule::sched_warmup => SchedStmt::Warmup(self.expr(inner(s).next().expect("grammar"))?),
                Rule::sched_eval => SchedStmt::Eval(self.ident(inner(s).next().expect("grammar"))),
                Rule::sched_act => {
                    let mut it = inner(s);
                    let policy = self.ident(it.next().expect("grammar"));
                    let into = inner(it.next().expect("grammar"))
                        .map(|i| self.ident(i))
                        .collect();
                    // `noise` is a keyword token; the expression after it is the process.
                    let noise = match it.nth(1) {
                        Some(e) => Some(self.postfix_expr(e)?),
                        None => None,
                    };
                    SchedStmt::Act {
                        policy,
                        into,
                        noise,
                        span: sspan,
                    }
                }
                Rule::sched_train => {
                    let mut count = None;
                    let mut options = Vec::new();
                    for p in inner(s) {
                        match p.as_rule() {
                            Rule::expr => count = Some(self.expr(p)?),
                            Rule::sched_train_opt => {
                                let mut oi = p.into_inner();
                                let kw = oi.next().expect("grammar");
                                let k = Ident {
                                    name: kw.as_str().to_string(),
                                    span: self.span(&kw),
                                };
                                let v = self.expr(oi.next().expect("grammar"))?;
                                options.push((k, v));
                            }
                            r => unreachable!("unexpected rule {r:?} in train"),
                        }
                    }
                    SchedStmt::Train {
                        count,
                        options,
                        span: sspan,
                    }
                }
                r => unreachable!("unexpected rule {r:?} in schedule"),
            };
            stmts.push(stmt);
        }
        Ok(ScheduleDecl { stmts, span })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(src: &str) -> Module {
        parse_module(FileId(0), src).unwrap_or_else(|d| panic!("{d:?}"))
    }

    fn e(src: &str) -> Expr {
        parse_expr(FileId(0), src).unwrap_or_else(|d| panic!("{d:?}"))
    }

    fn show(e: &Expr) -> String {
        match &e.kind {
            ExprKind::Int(v) => v.to_string(),
            ExprKind::Float(v) => format!("{v:?}"),
            ExprKind::Name(n) => n.clone(),
            ExprKind::Unary(op, x) => format!("({op:?} {})", show(x)),
            ExprKind::Binary(op, a, b) => format!("({} {} {})", show(a), op.symbol(), show(b)),
            ExprKind::Call(f, args) => format!(
                "{}({})",
                show(f),
                args.iter().map(|a| show(&a.value)).collect::<Vec<_>>().join(", ")
            ),
            ExprKind::Field(x, n) => format!("{}.{}", show(x), n.name),
            ExprKind::Index(x, items) => format!("{}[{}]", show(x), items.len()),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn precedence_and_associativity() {
        assert_eq!(show(&e("1 + 2 * 3")), "(1 + (2 * 3))");
        assert_eq!(show(&e("1 - 2 - 3")), "((1 - 2) - 3)");
        assert_eq!(show(&e("a / b / c")), "((a / b) / c)");
        assert_eq!(show(&e("-x^2")), "(Neg (x ^ 2))");
        assert_eq!(show(&e("2^3^2")), "(2 ^ (3 ^ 2))");
        assert_eq!(show(&e("a < b && c || d")), "(((a < b) && c) || d)");
        assert_eq!(show(&e("-1")), "-1");
        assert_eq!(show(&e("f(x).y[0] * 2")), "(f(x).y[1] * 2)");
        assert_eq!(show(&e("1_000_000 + 1e-3")), "(1000000 + 0.001)");
    }

    #[test]
    fn parses_a_whole_algorithm() {
        let m = p(r#"
            import nets.{mlp}
            /// Deep deterministic policy gradient.
            algorithm ddpg {
              param gamma = 0.99; param batch = 256
              env: continuous default "Pendulum-v1"
              net actor(s: obs) = env.act_high * tanh(mlp(s, [64, 64], env.act_dim))
              net critic(s: obs, a: act) = mlp(concat(s, a), [64, 64], 1)
              target actor_t = polyak(actor, 0.005)
              replay D capacity 1_000_000 of (s: obs, a: act, r: f32, s2: obs, done: f32)
              policy explore(s) = clip(actor(s) + 0.1 * randn_like(actor(s)), -2, 2)
              loss critic_loss(b ~ D.sample(batch)) = {
                let y = stop(b.r + gamma * (1 - b.done) * critic(b.s2, actor_t(b.s2)))
                mean((critic(b.s, b.a) - y)^2)
              }
              update critic by adam(lr = 1e-3) on critic_loss
              schedule { envs 1; warmup 1000; act explore into D; train 1 every 1; eval explore }
            }
        "#);
        assert_eq!(m.imports.len(), 1);
        let a = &m.algorithms[0];
        assert_eq!(a.name.name, "ddpg");
        assert_eq!(a.docs, vec!["Deep deterministic policy gradient."]);
        assert_eq!(a.decls.len(), 11);
    }

    #[test]
    fn parses_scan_and_for() {
        let m = p(r#"
            fn returns(r, d, b) = scan reverse t in len(r) with g = b { r[t] + d[t] * g }
            fn mlp(x, hidden, out) = linear(for h in hidden with y = x { relu(linear(y, h)) }, out)
        "#);
        assert_eq!(m.fns.len(), 2);
        assert!(matches!(m.fns[0].body.kind, ExprKind::Scan(ref l) if l.reverse));
    }

    #[test]
    fn keywords_need_a_boundary() {
        // `paramx` is not `param x`.
        assert!(parse_module(FileId(0), "algorithm a { paramx = 1 }").is_err());
        // Declaration words remain usable as names inside expressions.
        e("target + loss * net");
    }

    #[test]
    fn syntax_errors_are_located() {
        let d = parse_module(FileId(0), "algorithm a { param = 1 }").unwrap_err();
        assert_eq!(d.code, Code::Syntax);
        let l = d.primary.unwrap();
        assert_eq!(l.span.start, 20);
        assert!(d.message.contains("expected a name"), "{}", d.message);
    }
}
