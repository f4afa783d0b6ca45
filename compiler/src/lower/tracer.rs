//! The tracer: evaluates the AST with real shapes, emitting IR nodes for tensor work and
//! computing everything else (sizes, lists, layer structure) at compile time.
//!
//! Tracing is where types and shapes are checked: every operation knows the types of its
//! operands and the spans they came from, so a mismatch is reported at both sides.

use super::args::ArgVal;
use super::builder::Builder;
use super::program::Lowerer;
use super::value::{FnRef, Tv, Value};
use crate::builtins::Builtin;
use crate::check::ModuleId;
use crate::diag::{Code, Diagnostic, Span, did_you_mean};
use crate::ir::{DType, Graph, NodeId, Origin, StateId, TensorType};
use crate::signature::{InputRole, OutputRole, Signature};
use crate::syntax::ast::*;
use std::collections::HashMap;

pub use super::builder::R;

/// Deepest nesting of expression evaluation, counting inlined calls and hyperparameters
/// (each level costs a few stack frames; 1024 of them fit the main thread's 8 MiB).
pub(crate) const MAX_EVAL_DEPTH: usize = 1024;
pub(crate) use super::builder::err;

/// A graph being built: the entry point (level 0) or a scan body.
pub(crate) struct Level {
    pub graph: Graph,
    /// Outer nodes imported as body inputs, in input order (after `t` and the carries).
    pub consts: Vec<NodeId>,
    pub import_map: HashMap<NodeId, NodeId>,
    /// A scan body's step counter and the range it runs over (for proving indices in bounds).
    pub counter: Option<(NodeId, (i64, i64))>,
}

/// A net being applied: layers inside it create or read its parameters.
#[derive(Clone, Debug)]
pub(crate) struct NetFrame {
    pub net: String,
    /// Reading a target's copies instead of the net's parameters.
    pub target: Option<String>,
    pub layers: usize,
    pub call_span: Span,
}

/// Lexical context for name lookup: which module and (optionally) algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ctx {
    pub module: ModuleId,
    pub alg: Option<usize>,
}

/// Traces expressions of one entry point into a graph.
pub struct Tracer<'m, 'l> {
    pub(crate) lw: &'l mut Lowerer<'m>,
    pub(crate) levels: Vec<Level>,
    pub(crate) locals: Vec<HashMap<String, Value>>,
    pub(crate) ctx: Ctx,
    pub(crate) calls: Vec<(String, Span)>,
    /// Nesting of [`Tracer::eval`] calls (bounded by [`MAX_EVAL_DEPTH`]).
    eval_depth: usize,
    pub(crate) nets: Vec<NetFrame>,
    pub(crate) state_cache: HashMap<StateId, NodeId>,
    pub(crate) key: Option<NodeId>,
    pub(crate) next_stream: u32,
    /// For tanh-normal samples: the pre-tanh value, so `log_prob` needs no `atanh`.
    pub(crate) pre_tanh: HashMap<(usize, NodeId), Tv>,
    /// New priorities for prioritized replay, registered by `priority(D, x)` in losses.
    pub(crate) priorities: Vec<(String, Tv, Span)>,
    /// What each input and output of the entry graph carries, in graph order.
    pub(crate) signature: Signature,
    /// Ranges the runtime guarantees for some entry inputs (stored discrete actions).
    pub(crate) guaranteed: HashMap<NodeId, (i64, i64)>,
    /// Run-time index checks of this entry: an i32 scalar (1 when an index was out of range)
    /// and what it guards.
    pub(crate) index_faults: Vec<(Tv, super::bounds::IndexCheck)>,
    /// Entry inputs whose leading axis is a batch of shuffled samples, and what they are
    /// (`super::time_axis`).
    pub(crate) shuffled: HashMap<NodeId, String>,
    /// Bodies (loss, policy, derive) whose `log` statements this entry outputs as metrics.
    pub(crate) log_scopes: Vec<Span>,
    /// The metrics recorded so far: name, scalar f32 value, the `log` statement.
    pub(crate) logs: Vec<(String, Tv, Span)>,
    /// Whether this entry may `set` program state, and the `set`s so far.
    pub(crate) sets: super::program_state::StateWrites,
    /// The states of the update rule being applied, which its `set`s change.
    pub(crate) rule_scopes: super::rule::RuleScopes,
    /// The batches each loss of this entry was traced on, so an update rule can evaluate it
    /// again at other parameters (`super::reevaluate`).
    pub(crate) loss_frames: HashMap<String, HashMap<String, Value>>,
    /// The parameters of the update whose rule is being applied, in the order of `params`.
    pub(crate) rule_params: Vec<StateId>,
    /// Values that reads of these states see instead of the state (a loss re-evaluated at
    /// candidate parameters).
    pub(crate) overrides: HashMap<StateId, Tv>,
    /// While `Some`, every `linear` layer applied at the top level records its weight, bias,
    /// input rows and pre-activation rows here (`L.layers()`, K-FAC's per-layer statistics).
    pub(crate) taps: Option<Vec<super::reevaluate::Tap>>,
}

/// A finished entry-point graph and the roles of its inputs and outputs.
pub(crate) struct Lowered {
    /// The graph.
    pub graph: Graph,
    /// Its signature: one role per graph input and output, in order.
    pub signature: Signature,
}

impl<'m, 'l> Tracer<'m, 'l> {
    /// A tracer with an empty entry graph, looking names up in the algorithm's scope.
    pub fn new(lw: &'l mut Lowerer<'m>) -> Tracer<'m, 'l> {
        let ctx = Ctx {
            module: lw.module,
            alg: Some(lw.alg_index),
        };
        Tracer {
            lw,
            levels: vec![Level {
                graph: Graph::new(),
                consts: Vec::new(),
                import_map: HashMap::new(),
                counter: None,
            }],
            locals: vec![HashMap::new()],
            ctx,
            calls: Vec::new(),
            eval_depth: 0,
            nets: Vec::new(),
            state_cache: HashMap::new(),
            key: None,
            next_stream: 0,
            pre_tanh: HashMap::new(),
            priorities: Vec::new(),
            signature: Signature::default(),
            guaranteed: HashMap::new(),
            index_faults: Vec::new(),
            shuffled: HashMap::new(),
            log_scopes: Vec::new(),
            logs: Vec::new(),
            sets: Default::default(),
            rule_scopes: Default::default(),
            loss_frames: HashMap::new(),
            rule_params: Vec::new(),
            overrides: HashMap::new(),
            taps: None,
        }
    }

    /// The finished entry graph (with its run-time index checks) and its signature.
    pub(crate) fn finish(mut self) -> R<Lowered> {
        super::program_state::assign_sets(&mut self)?;
        self.finish_index_checks()?;
        Ok(Lowered {
            graph: std::mem::take(&mut self.levels[0].graph),
            signature: std::mem::take(&mut self.signature),
        })
    }

    /// The graph at the current level.
    pub(crate) fn g(&mut self) -> &mut Graph {
        &mut self.levels.last_mut().expect("level 0 always exists").graph
    }

    /// The current nesting level.
    pub(crate) fn level(&self) -> usize {
        self.levels.len() - 1
    }

    /// A builder emitting into the current level's graph, blaming `span` for internal errors.
    pub(crate) fn gb(&mut self, span: Span) -> Builder<'_> {
        let level = self.level();
        let budget = self.lw.options.budget;
        Builder::new(self.g(), level, span, budget)
    }

    /// A tensor of one value in the current level.
    pub(crate) fn fill(&mut self, v: f64, ty: TensorType) -> Tv {
        self.gb(Span::default()).fill(v, ty)
    }

    /// A tensor of an outer level (or this one) as a tensor of the current level.
    pub(crate) fn here(&mut self, t: &Tv) -> Tv {
        let n = self.node(t);
        self.tv(n)
    }

    /// Wraps a node of the current level.
    pub(crate) fn tv(&mut self, node: NodeId) -> Tv {
        let ty = self.g().ty(node).clone();
        Tv {
            node,
            level: self.level(),
            ty,
        }
    }

    /// The node of a tensor in the current level, importing it from outer levels if needed.
    pub(crate) fn node(&mut self, t: &Tv) -> NodeId {
        self.node_at(t, self.level())
    }

    fn node_at(&mut self, t: &Tv, level: usize) -> NodeId {
        if t.level >= level {
            return t.node;
        }
        let outer = self.node_at(t, level - 1);
        let lv = &mut self.levels[level];
        if let Some(n) = lv.import_map.get(&outer) {
            return *n;
        }
        let name = format!("k{}", lv.consts.len());
        let n = lv.graph.input(name, t.ty.clone());
        lv.consts.push(outer);
        lv.import_map.insert(outer, n);
        n
    }

    /// Adds an entry-point input carrying `role` (named after it in the graph).
    pub(crate) fn input(&mut self, role: InputRole, ty: TensorType) -> Tv {
        let n = self.levels[0].graph.input(role.to_string(), ty.clone());
        self.signature.inputs.push(role);
        Tv {
            node: n,
            level: 0,
            ty,
        }
    }

    /// Makes `node` (of the entry graph) the next entry-point output, carrying `role`.
    pub(crate) fn output(&mut self, role: OutputRole, node: NodeId) {
        self.levels[0].graph.output(role.to_string(), node);
        self.signature.outputs.push(role);
    }

    /// The random key input of the entry point (created on first use).
    pub(crate) fn key(&mut self, span: Span) -> R<NodeId> {
        if self.level() > 0 {
            return Err(err(
                Code::BadArgument,
                "random numbers cannot be drawn inside `scan`",
                span,
                "draws random numbers",
            )
            .hint("draw them before the scan and index them with the loop variable"));
        }
        if let Some(k) = self.key {
            return Ok(k);
        }
        let k = self
            .input(InputRole::Key, TensorType::new(DType::I32, vec![2]))
            .node;
        self.key = Some(k);
        Ok(k)
    }

    /// The `step` input of the entry point (environment steps so far, i32), created on first use.
    pub(crate) fn step_input(&mut self) -> Tv {
        if let Some(i) = self.signature.input(&InputRole::Step) {
            return Tv {
                node: self.levels[0].graph.inputs[i],
                level: 0,
                ty: TensorType::scalar(DType::I32),
            };
        }
        self.input(InputRole::Step, TensorType::scalar(DType::I32))
    }

    /// Reads a state variable (one read per entry point, imported into scan bodies).
    pub(crate) fn state(&mut self, id: StateId) -> Tv {
        if let Some(v) = self.overrides.get(&id) {
            return v.clone();
        }
        let ty = self.lw.states.get(id).ty.clone();
        let node = match self.state_cache.get(&id) {
            Some(n) => *n,
            None => {
                let n = self.levels[0].graph.state(id, ty.clone());
                let name = self.lw.states.get(id).name.clone();
                self.levels[0].graph.set_label(n, name);
                self.state_cache.insert(id, n);
                n
            }
        };
        Tv { node, level: 0, ty }
    }

    // ------------------------------------------------------------ names

    /// Binds a local name in the innermost frame.
    pub fn bind(&mut self, name: &str, v: Value) {
        self.locals
            .last_mut()
            .expect("a frame")
            .insert(name.to_string(), v);
    }

    /// Looks a name up: locals, the algorithm's declarations, the module, builtins.
    pub(crate) fn lookup(&mut self, name: &str, span: Span) -> R<Value> {
        for frame in self.locals.iter().rev() {
            if let Some(v) = frame.get(name) {
                return Ok(v.clone());
            }
        }
        if self.ctx.module == self.lw.module
            && self.ctx.alg == Some(self.lw.alg_index)
            && let Some(v) = self.lookup_decl(name, span)?
        {
            return Ok(v);
        }
        let m = self.lw.mods.get(self.ctx.module);
        if let Some(i) = m.ast.fns.iter().position(|f| f.name.name == name) {
            return Ok(Value::Fn(FnRef {
                module: self.ctx.module,
                alg: None,
                index: i,
            }));
        }
        for (imp, res) in m.ast.imports.iter().zip(&m.imports) {
            let Some(target) = res else { continue };
            match &imp.names {
                Some(names) if names.iter().any(|n| n.name == name) => {
                    let tm = self.lw.mods.get(*target);
                    if let Some(i) = tm.ast.fns.iter().position(|f| f.name.name == name) {
                        return Ok(Value::Fn(FnRef {
                            module: *target,
                            alg: None,
                            index: i,
                        }));
                    }
                }
                None if imp.path.last().is_some_and(|l| l.name == name) => return Ok(Value::Module(*target)),
                _ => {}
            }
        }
        if name == "env" {
            return Ok(Value::Env);
        }
        if let Some(b) = Builtin::from_name(name) {
            return Ok(Value::Builtin(b));
        }
        Err(self.unknown_name(name, span))
    }

    fn unknown_name(&self, name: &str, span: Span) -> Diagnostic {
        let mut cands: Vec<String> = self.locals.iter().flat_map(|f| f.keys().cloned()).collect();
        if self.ctx.alg.is_some() {
            cands.extend(self.lw.decls.keys().cloned());
        }
        cands.extend(self.lw.mods.get(self.ctx.module).fn_names().map(String::from));
        cands.extend(Builtin::names().map(String::from));
        err(
            Code::UnknownName,
            format!("cannot find `{name}` in this scope"),
            span,
            "not defined",
        )
        .maybe_hint(did_you_mean(name, cands.iter().map(String::as_str)))
    }

    fn lookup_decl(&mut self, name: &str, span: Span) -> R<Option<Value>> {
        let Some(decl) = self.lw.decl(name) else {
            return Ok(None);
        };
        Ok(Some(match decl {
            Decl::Param(_) => self.param_value(name, span)?,
            Decl::Net(_) => Value::Net(name.to_string()),
            Decl::Target(_) => Value::Target(name.to_string()),
            Decl::Policy(_) => Value::Policy(name.to_string()),
            Decl::Fn(_) => Value::Fn(FnRef {
                module: self.lw.module,
                alg: Some(self.lw.alg_index),
                index: self.lw.decls[name],
            }),
            Decl::Learnable(l) | Decl::State(l) => match self.lw.states.find(name) {
                Some(id) => Value::Tensor(self.state(id)),
                None => {
                    return Err(err(
                        Code::UnknownName,
                        format!("learnable `{name}` is used before it is defined"),
                        span,
                        "used here",
                    )
                    .also(l.span, "defined here")
                    .note("learnables cannot depend on each other"));
                }
            },
            Decl::Data(_) => Value::Data(name.to_string()),
            Decl::Loss(_) if self.loss_frames.contains_key(name) => Value::Loss(name.to_string()),
            Decl::Loss(l) => {
                return Err(err(
                    Code::TypeMismatch,
                    format!("`{name}` is a loss, which cannot be used as a value"),
                    span,
                    "a loss",
                )
                .also(l.name.span, "declared here")
                .hint("move the shared computation into a `fn` and call it from both places"));
            }
            Decl::Env(_) | Decl::Update(_) | Decl::Schedule(_) | Decl::Derive(_) => return Ok(None),
        }))
    }

    /// The value of a hyperparameter (evaluated once, overrides first).
    pub(crate) fn param_value(&mut self, name: &str, span: Span) -> R<Value> {
        if let Some(v) = self.lw.params.get(name) {
            return Ok(v.clone());
        }
        let Some(Decl::Param(p)) = self.lw.decl(name) else {
            return Err(self.unknown_name(name, span));
        };
        if self.lw.evaluating.iter().any(|n| n == name) {
            return Err(err(
                Code::Recursion,
                format!("hyperparameter `{name}` depends on itself"),
                p.value.span,
                "this refers back to it",
            )
            .note(format!("cycle: {} -> {name}", self.lw.evaluating.join(" -> "))));
        }
        self.lw.evaluating.push(name.to_string());
        // Params are evaluated in the algorithm scope with no locals.
        let saved_locals = std::mem::replace(&mut self.locals, vec![HashMap::new()]);
        let saved_ctx = self.ctx;
        self.ctx = Ctx {
            module: self.lw.module,
            alg: Some(self.lw.alg_index),
        };
        let v = self.eval(&p.value);
        self.locals = saved_locals;
        self.ctx = saved_ctx;
        self.lw.evaluating.pop();
        let v = v?;
        if !v.is_constant() {
            return Err(err(
                Code::NotConstant,
                format!("hyperparameter `{name}` must be a compile-time constant"),
                p.value.span,
                format!("this is {}", v.describe()),
            ));
        }
        self.lw.params.insert(name.to_string(), v.clone());
        Ok(v)
    }

    // ------------------------------------------------------------ expressions

    /// Evaluates an expression; the nodes it builds (and does not leave to a subexpression)
    /// remember its span as their origin. The parser bounds one expression's depth; calls
    /// inline other bodies and hyperparameters other expressions, so the depth of evaluation
    /// is bounded here too (a located error, never a stack overflow).
    pub fn eval(&mut self, e: &Expr) -> R<Value> {
        if self.eval_depth >= MAX_EVAL_DEPTH {
            return Err(err(
                Code::Recursion,
                format!(
                    "evaluation nested deeper than {MAX_EVAL_DEPTH} levels (through calls and hyperparameters)"
                ),
                e.span,
                "too deep here",
            ));
        }
        let origin = Some(Origin {
            span: e.span,
            gradient: false,
        });
        let outer = self.g().set_origin(origin);
        self.eval_depth += 1;
        let r = self.eval_here(e);
        self.eval_depth -= 1;
        self.g().set_origin(outer);
        r
    }

    fn eval_here(&mut self, e: &Expr) -> R<Value> {
        match &e.kind {
            ExprKind::Int(v) => Ok(Value::Int(*v)),
            ExprKind::Float(v) => Ok(Value::Float(*v)),
            ExprKind::Bool(v) => Ok(Value::Bool(*v)),
            ExprKind::Str(s) => Ok(Value::Str(s.clone())),
            ExprKind::Name(n) => self.lookup(n, e.span),
            ExprKind::Unary(op, x) => {
                let v = self.eval(x)?;
                self.unary(*op, v, x.span, e.span)
            }
            ExprKind::Binary(op, a, b) => {
                let va = self.eval(a)?;
                // `&&`/`||` on compile-time booleans short-circuit.
                if let (BinOp::And, Value::Bool(false)) | (BinOp::Or, Value::Bool(true)) = (op, &va) {
                    return Ok(va);
                }
                let vb = self.eval(b)?;
                self.binary(*op, va, a.span, vb, b.span, e.span)
            }
            ExprKind::Call(f, args) => {
                let callee = self.eval(f)?;
                let mut vals = Vec::with_capacity(args.len());
                for a in args {
                    vals.push(ArgVal {
                        name: a.name.clone(),
                        value: self.eval(&a.value)?,
                        span: a.value.span,
                    });
                }
                self.call(callee, f.span, vals, e.span)
            }
            ExprKind::Index(x, items) => {
                let v = self.eval(x)?;
                self.index(v, x.span, items, e.span)
            }
            ExprKind::Field(x, name) => {
                let v = self.eval(x)?;
                self.field(v, x.span, name)
            }
            ExprKind::List(items) => {
                let mut vals = Vec::with_capacity(items.len());
                for i in items {
                    vals.push((self.eval(i)?, i.span));
                }
                self.list(vals, e.span)
            }
            ExprKind::Tuple(items) => {
                let mut vals = Vec::with_capacity(items.len());
                for i in items {
                    vals.push(self.eval(i)?);
                }
                Ok(Value::Tuple(vals))
            }
            ExprKind::Record(fields) => {
                let mut vals = Vec::with_capacity(fields.len());
                for (n, x) in fields {
                    if vals.iter().any(|(k, _): &(String, Value)| *k == n.name) {
                        return Err(err(
                            Code::Duplicate,
                            format!("field `{}` appears twice", n.name),
                            n.span,
                            "repeated",
                        ));
                    }
                    vals.push((n.name.clone(), self.eval(x)?));
                }
                Ok(Value::Record(vals))
            }
            ExprKind::Block(lets, result) => {
                self.locals.push(HashMap::new());
                let r = self.block(lets, result);
                self.locals.pop();
                r
            }
            ExprKind::If(c, a, b) => {
                let cv = self.eval(c)?;
                match cv {
                    Value::Bool(true) => self.eval(a),
                    Value::Bool(false) => self.eval(b),
                    Value::Tensor(ct) if ct.ty.dtype == DType::Bool => {
                        let va = self.eval(a)?;
                        let vb = self.eval(b)?;
                        self.where_(Value::Tensor(ct), c.span, va, a.span, vb, b.span, e.span)
                    }
                    other => Err(err(
                        Code::TypeMismatch,
                        "the condition of `if` must be a boolean",
                        c.span,
                        format!("this is {}", other.describe()),
                    )),
                }
            }
            ExprKind::Scan(l) => self.scan(l, e.span),
            ExprKind::For(l) => self.for_loop(l, e.span),
        }
    }

    fn block(&mut self, stmts: &[Stmt], result: &Expr) -> R<Value> {
        for st in stmts {
            self.stmt(st)?;
        }
        self.eval(result)
    }

    /// Runs one statement of a block (or of an update rule).
    pub(crate) fn stmt(&mut self, st: &Stmt) -> R<()> {
        let l = match st {
            Stmt::Let(l) => l,
            Stmt::Set(s) => return super::program_state::set_state(self, s),
            Stmt::Require(r) => return self.require(r),
        };
        let mut v = self.eval(&l.value)?;
        if l.sample {
            v = self.sample_value(v, l.value.span)?;
        }
        if l.log {
            self.log_metric(l, &v)?;
        }
        self.bind_pattern(&l.pattern, v, l.value.span)
    }

    /// Binds a `let` pattern, destructuring tuples.
    pub(crate) fn bind_pattern(&mut self, p: &Pattern, v: Value, span: Span) -> R<()> {
        match p {
            Pattern::Name(n) => {
                if let Value::Tensor(t) = &v
                    && t.level == self.level()
                {
                    let node = t.node;
                    let g = self.g();
                    if g.node(node).label.is_none() {
                        g.set_label(node, n.name.clone());
                    }
                }
                self.bind(&n.name, v);
                Ok(())
            }
            Pattern::Tuple(ps, pspan) => {
                let items = match v {
                    Value::Tuple(items) if items.len() == ps.len() => items,
                    other => {
                        return Err(err(
                            Code::TypeMismatch,
                            format!("cannot unpack {} into {} names", other.describe(), ps.len()),
                            span,
                            format!("this is {}", other.describe()),
                        )
                        .also(*pspan, "pattern"));
                    }
                };
                for (p, v) in ps.iter().zip(items) {
                    self.bind_pattern(p, v, span)?;
                }
                Ok(())
            }
        }
    }

    /// Evaluates a function body in its own lexical context with bound parameters.
    pub(crate) fn with_frame<T>(
        &mut self,
        ctx: Ctx,
        frame: HashMap<String, Value>,
        f: impl FnOnce(&mut Self) -> R<T>,
    ) -> R<T> {
        let saved_locals = std::mem::replace(&mut self.locals, vec![frame]);
        let saved_ctx = std::mem::replace(&mut self.ctx, ctx);
        let r = f(self);
        self.locals = saved_locals;
        self.ctx = saved_ctx;
        r
    }

    /// The lexical context of a function body in `module` (and algorithm `alg`).
    pub(crate) fn ctx_of(&self, module: ModuleId, alg: Option<usize>) -> Ctx {
        Ctx { module, alg }
    }

    /// Pushes a call onto the call stack, failing on recursion.
    pub(crate) fn enter_call(&mut self, name: &str, def_span: Span, call_span: Span) -> R<()> {
        if self.calls.iter().any(|(n, s)| n == name && *s == def_span) {
            let chain: Vec<&str> = self.calls.iter().map(|(n, _)| n.as_str()).collect();
            return Err(err(
                Code::Recursion,
                format!("`{name}` calls itself"),
                call_span,
                "recursive call",
            )
            .also(def_span, "defined here")
            .note(format!("call chain: {} -> {name}", chain.join(" -> ")))
            .hint("rlc unrolls functions at compile time; use `scan` or `for` to iterate"));
        }
        if self.calls.len() > 64 {
            return Err(err(
                Code::Recursion,
                "calls are nested too deeply",
                call_span,
                "here",
            ));
        }
        self.calls.push((name.to_string(), def_span));
        Ok(())
    }
}
