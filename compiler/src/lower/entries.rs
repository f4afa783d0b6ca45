//! Lowering a checked algorithm to its entry points: `act_<policy>`, `eval`, `train` (forward,
//! backward, optimiser steps and target updates in one graph) and `net_<name>` helpers.

use super::call::ArgVal;
use super::optim::ParamGrad;
use super::program::{LowerOptions, Lowerer};
use super::schedule::{DataSpec, FieldSource, FieldSpec, Schedule};
use super::tracer::{R, Tracer, err, ir_err};
use super::value::{Tv, Value};
use crate::check::{ModuleId, Modules};
use crate::diag::{Code, Diagnostic, Span, did_you_mean};
use crate::env_spec::{ActionSpace, EnvSpec};
use crate::ir::{BinaryOp, DType, Graph, Init, StateId, StateKind, StateTable, StateVar, TensorType, verify};
use crate::syntax::ast::{DataKind, Decl, ExprKind};
use std::collections::HashMap;

/// What an entry point is for.
#[derive(Clone, Debug, PartialEq)]
pub enum EntryKind {
    /// Acting with a policy on a batch of observations (`obs: f32[N, O]`).
    Act {
        /// The policy.
        policy: String,
    },
    /// Greedy evaluation (the schedule's eval policy) at the evaluation batch size.
    Eval {
        /// The policy.
        policy: String,
    },
    /// One training step: every loss, its gradients, the optimiser steps, the targets.
    Train,
    /// Computing a rollout's derived fields over the whole rollout.
    Derive {
        /// The rollout.
        data: String,
    },
    /// Applying a net to one item (batch 1), for inspection.
    Net {
        /// The net.
        net: String,
    },
}

/// A compiled entry point.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Name (`act_explore`, `train`, `eval`, `net_critic`).
    pub name: String,
    /// Role.
    pub kind: EntryKind,
    /// The graph.
    pub graph: Graph,
}

/// How a target follows its net.
#[derive(Clone, Debug, PartialEq)]
pub enum TargetRule {
    /// `t = (1 - tau) t + tau p` every training step.
    Polyak(f64),
    /// `t = p` every k training steps.
    Copy(usize),
}

/// A target copy of a net.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetSpec {
    /// Target name.
    pub name: String,
    /// The net it follows.
    pub net: String,
    /// How.
    pub rule: TargetRule,
    /// (target state, parameter state) pairs.
    pub pairs: Vec<(StateId, StateId)>,
}

/// A fully lowered algorithm.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// Algorithm name.
    pub name: String,
    /// The environment it was compiled for.
    pub env: EnvSpec,
    /// All state.
    pub states: StateTable,
    /// Entry points.
    pub entries: Vec<Entry>,
    /// Data declarations.
    pub data: Vec<DataSpec>,
    /// The schedule.
    pub schedule: Schedule,
    /// Loss names, in declaration order.
    pub losses: Vec<String>,
    /// Hyperparameter values used, in declaration order.
    pub params: Vec<(String, String)>,
    /// Targets.
    pub targets: Vec<TargetSpec>,
    /// How the training step reads each data source it uses.
    pub reads: Vec<(String, BatchMode)>,
}

impl Compiled {
    /// The entry with this name.
    pub fn entry(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.name == name)
    }

    /// Data declaration by name.
    pub fn data_spec(&self, name: &str) -> Option<&DataSpec> {
        self.data.iter().find(|d| d.name == name)
    }

    /// Total number of trainable parameters (net parameters and learnables).
    pub fn parameter_count(&self) -> usize {
        self.states
            .iter()
            .filter(|(_, v)| matches!(v.kind, StateKind::Param { .. } | StateKind::Learnable))
            .map(|(_, v)| v.ty.numel())
            .sum()
    }
}

/// Lowers algorithm `alg_index` of `module` for `env`.
pub fn lower_algorithm(
    mods: &Modules,
    module: ModuleId,
    alg_index: usize,
    env: EnvSpec,
    options: LowerOptions,
) -> Result<Compiled, Vec<Diagnostic>> {
    let mut lw = Lowerer::new(mods, module, alg_index, env, options)?;
    let mut errors = Vec::new();
    check_env_decl(&lw, &mut errors);
    // Hyperparameters first: everything else may depend on them.
    let mut params = Vec::new();
    for d in &lw.alg.decls {
        if let Decl::Param(p) = d {
            let mut t = Tracer::new(&mut lw);
            match t.param_value(&p.name.name, p.name.span) {
                Ok(v) => params.push((p.name.name.clone(), v.to_string())),
                Err(e) => errors.push(e),
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    // Parameters are created by building each net from its declared input types.
    lw.instantiating = true;
    for d in &lw.alg.decls {
        if let Decl::Net(n) = d {
            let mut t = Tracer::new(&mut lw);
            if let Err(e) = instantiate_net(&mut t, &n.name.name, n.name.span) {
                errors.push(e);
            }
        }
    }
    lw.instantiating = false;
    for d in &lw.alg.decls {
        if let Decl::Learnable(l) = d {
            let mut t = Tracer::new(&mut lw);
            if let Err(e) = add_learnable(&mut t, l) {
                errors.push(e);
            }
        }
    }
    let mut targets = Vec::new();
    for d in &lw.alg.decls {
        if let Decl::Target(td) = d {
            let mut t = Tracer::new(&mut lw);
            match add_target(&mut t, td) {
                Ok(s) => targets.push(s),
                Err(e) => errors.push(e),
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let schedule = {
        let mut t = Tracer::new(&mut lw);
        t.schedule()
    };
    let schedule = match schedule {
        Ok(s) => s,
        Err(e) => {
            errors.push(e);
            return Err(errors);
        }
    };
    let mut entries = Vec::new();
    // Acting entries (the acting policy's extra outputs decide which fields data can store).
    let mut policy_fields = Vec::new();
    for d in &lw.alg.decls {
        if let Decl::Policy(p) = d {
            match lower_policy(&mut lw, &p.name.name, schedule.envs, p.name.span) {
                Ok((graph, extras)) => {
                    if p.name.name == schedule.act {
                        policy_fields = extras;
                    }
                    entries.push(Entry {
                        name: format!("act_{}", p.name.name),
                        kind: EntryKind::Act {
                            policy: p.name.name.clone(),
                        },
                        graph,
                    });
                }
                Err(e) => errors.push(e),
            }
        }
    }
    let mut data = Vec::new();
    for d in &lw.alg.decls {
        if let Decl::Data(dd) = d {
            let mut t = Tracer::new(&mut lw);
            match t.data_spec(dd, &policy_fields, schedule.envs) {
                Ok(s) => data.push(s),
                Err(e) => errors.push(e),
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    for d in &lw.alg.decls {
        if let Decl::Derive(dd) = d {
            match lower_derive(&mut lw, dd, &mut data, &schedule) {
                Ok(graph) => entries.push(Entry {
                    name: format!("derive_{}", dd.data.name),
                    kind: EntryKind::Derive {
                        data: dd.data.name.clone(),
                    },
                    graph,
                }),
                Err(e) => errors.push(e),
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut reads = Vec::new();
    match lower_train(&mut lw, &data, &schedule, &targets, &mut reads) {
        Ok(graph) => entries.push(Entry {
            name: "train".into(),
            kind: EntryKind::Train,
            graph,
        }),
        Err(mut e) => errors.append(&mut e),
    }
    let (eval_batch, alg_span) = (lw.options.eval_batch, lw.alg.name.span);
    match lower_policy(&mut lw, &schedule.eval, eval_batch, alg_span) {
        Ok((graph, _)) => entries.push(Entry {
            name: "eval".into(),
            kind: EntryKind::Eval {
                policy: schedule.eval.clone(),
            },
            graph,
        }),
        Err(e) => errors.push(e),
    }
    for d in &lw.alg.decls {
        if let Decl::Net(n) = d {
            match lower_net_entry(&mut lw, &n.name.name, n.name.span) {
                Ok(graph) => entries.push(Entry {
                    name: format!("net_{}", n.name.name),
                    kind: EntryKind::Net {
                        net: n.name.name.clone(),
                    },
                    graph,
                }),
                Err(e) => errors.push(e),
            }
        }
    }
    for e in &entries {
        if let Err(v) = verify(&e.graph) {
            errors.push(Diagnostic::internal(format!(
                "entry `{}` fails verification: {}",
                e.name, v.0
            )));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let losses = lw
        .alg
        .decls
        .iter()
        .filter_map(|d| match d {
            Decl::Loss(l) => Some(l.name.name.clone()),
            _ => None,
        })
        .collect();
    Ok(Compiled {
        name: lw.alg.name.name.clone(),
        env: lw.env.clone(),
        states: lw.states,
        entries,
        data,
        schedule,
        losses,
        params,
        targets,
        reads,
    })
}

fn check_env_decl(lw: &Lowerer<'_>, errors: &mut Vec<Diagnostic>) {
    for d in &lw.alg.decls {
        if let Decl::Env(e) = d {
            let kind = e.kind.name.as_str();
            let want_discrete = match kind {
                "discrete" => Some(true),
                "continuous" => Some(false),
                "any" => None,
                other => {
                    errors.push(
                        err(
                            Code::UnknownName,
                            format!("unknown action-space kind `{other}`"),
                            e.kind.span,
                            "not a kind",
                        )
                        .maybe_hint(did_you_mean(other, ["discrete", "continuous", "any"])),
                    );
                    continue;
                }
            };
            if let Some(w) = want_discrete
                && w != lw.env.action.is_discrete()
            {
                let have = match &lw.env.action {
                    ActionSpace::Discrete { n } => format!("{n} discrete actions"),
                    ActionSpace::Continuous { dim, .. } => {
                        format!("a continuous action space of dimension {dim}")
                    }
                };
                errors.push(
                    err(
                        Code::ActionSpaceKind,
                        format!(
                            "`{}` needs a {kind} action space, but `{}` has {have}",
                            lw.alg.name.name, lw.env.id
                        ),
                        e.kind.span,
                        format!("requires {kind} actions"),
                    )
                    .note(format!(
                        "choose another environment with --env, or an algorithm for {}",
                        if w {
                            "continuous control"
                        } else {
                            "discrete actions"
                        }
                    )),
                );
            }
        }
    }
}

fn instantiate_net(t: &mut Tracer<'_, '_>, name: &str, span: Span) -> R<()> {
    let Some(Decl::Net(decl)) = t.lw.decl(name) else {
        unreachable!("net decl")
    };
    let mut args = Vec::new();
    for p in &decl.params {
        let Some(te) = &p.ty else {
            return Err(err(
                Code::Missing,
                format!("parameter `{}` of net `{name}` needs a type", p.name.name),
                p.name.span,
                "add e.g. `: obs` or `: [4]`",
            )
            .note("a net's parameter shapes are fixed by the per-item types of its inputs"));
        };
        let ty = t.resolve_type(te)?;
        let x = t.input(&p.name.name, ty);
        args.push(ArgVal {
            name: None,
            value: Value::Tensor(x),
            span: p.name.span,
        });
    }
    t.call_net(name, None, args, span)?;
    Ok(())
}

fn add_learnable(t: &mut Tracer<'_, '_>, l: &crate::syntax::ast::LearnableDecl) -> R<()> {
    let ty = match &l.ty {
        Some(te) => t.resolve_type(te)?,
        None => TensorType::f32(vec![]),
    };
    if ty.dtype != DType::F32 {
        return Err(err(Code::TypeMismatch, "learnables are f32", l.span, "not f32"));
    }
    let init = match t.eval(&l.init)? {
        Value::Int(i) => Init::Fill(i as f64),
        Value::Float(f) => Init::Fill(f),
        v @ Value::List(_) => {
            let tv = t.tensor_of(v, l.init.span, Some(DType::F32))?;
            if tv.ty.shape != ty.shape {
                return Err(err(
                    Code::ShapeMismatch,
                    format!("initial value {} for a learnable of type {ty}", tv.ty),
                    l.init.span,
                    "wrong shape",
                ));
            }
            match &t.g().node(tv.node).op {
                crate::ir::Op::Const { values } => Init::Values(values.clone()),
                _ => unreachable!("constant lists become constants"),
            }
        }
        other => {
            return Err(err(
                Code::NotConstant,
                "a learnable starts from a constant",
                l.init.span,
                format!("this is {}", other.describe()),
            ));
        }
    };
    t.lw.states.add(StateVar {
        name: l.name.name.clone(),
        ty,
        kind: StateKind::Learnable,
        init,
    });
    Ok(())
}

fn add_target(t: &mut Tracer<'_, '_>, td: &crate::syntax::ast::TargetDecl) -> R<TargetSpec> {
    let bad = || {
        err(
            Code::BadArgument,
            "a target is `polyak(net, tau)` or `copy(net, every = K)`",
            td.value.span,
            "not a target rule",
        )
    };
    let ExprKind::Call(f, args) = &td.value.kind else {
        return Err(bad());
    };
    let ExprKind::Name(kind) = &f.kind else {
        return Err(bad());
    };
    if !matches!(kind.as_str(), "polyak" | "copy") {
        return Err(err(
            Code::UnknownName,
            format!("unknown target rule `{kind}`"),
            f.span,
            "not a target rule",
        )
        .maybe_hint(did_you_mean(kind, ["polyak", "copy"])));
    }
    let Some(first) = args.first() else {
        return Err(bad());
    };
    let net = match t.eval(&first.value)? {
        Value::Net(n) => n,
        other => {
            return Err(err(
                Code::TypeMismatch,
                "a target copies a net",
                first.value.span,
                format!("this is {}", other.describe()),
            ));
        }
    };
    let second = args.get(1).ok_or_else(|| {
        err(
            Code::Arity,
            format!(
                "`{kind}` needs a second argument ({})",
                if kind == "polyak" { "tau" } else { "every" }
            ),
            td.value.span,
            "missing",
        )
    })?;
    if args.len() > 2 {
        return Err(err(
            Code::Arity,
            format!("`{kind}` takes two arguments"),
            args[2].value.span,
            "extra",
        ));
    }
    let rule = match kind.as_str() {
        "polyak" => {
            let tau = match t.eval(&second.value)? {
                Value::Int(i) => i as f64,
                Value::Float(f) => f,
                other => {
                    return Err(err(
                        Code::NotConstant,
                        "tau must be a constant",
                        second.value.span,
                        format!("this is {}", other.describe()),
                    ));
                }
            };
            if !(tau > 0.0 && tau <= 1.0) {
                return Err(err(
                    Code::BadArgument,
                    format!("tau must be in (0, 1], got {tau}"),
                    second.value.span,
                    "out of range",
                ));
            }
            TargetRule::Polyak(tau)
        }
        _ => {
            let k = t.const_int(&second.value)?;
            if k < 1 {
                return Err(err(
                    Code::BadArgument,
                    "`every` must be at least 1",
                    second.value.span,
                    "too small",
                ));
            }
            TargetRule::Copy(k as usize)
        }
    };
    let name = td.name.name.clone();
    let mut pairs = Vec::new();
    for pid in t.lw.states.params_of(&net) {
        let p = t.lw.states.get(pid).clone();
        let suffix = p
            .name
            .strip_prefix(&format!("{net}/"))
            .unwrap_or(&p.name)
            .to_string();
        let tid = t.lw.states.add(StateVar {
            name: format!("{name}/{suffix}"),
            ty: p.ty.clone(),
            kind: StateKind::Target {
                target: name.clone(),
                of: pid,
            },
            init: Init::CopyOf(pid),
        });
        pairs.push((tid, pid));
    }
    Ok(TargetSpec {
        name,
        net,
        rule,
        pairs,
    })
}

/// The acting entry of a policy for `batch` observations; returns the graph and the extra
/// record fields it outputs (name, per-item type).
fn lower_policy(
    lw: &mut Lowerer<'_>,
    policy: &str,
    batch: usize,
    span: Span,
) -> R<(Graph, Vec<(String, TensorType)>)> {
    let Some(Decl::Policy(decl)) = lw.decl(policy) else {
        return Err(err(
            Code::UnknownName,
            format!("`{policy}` is not a policy"),
            span,
            "here",
        ));
    };
    if decl.params.len() != 1 {
        return Err(err(
            Code::Arity,
            format!(
                "a policy takes one argument (the observation); `{policy}` takes {}",
                decl.params.len()
            ),
            decl.name.span,
            "defined here",
        ));
    }
    let env = lw.env.clone();
    let mut t = Tracer::new(lw);
    let obs = t.input("obs", TensorType::f32(vec![batch, env.obs_dim]));
    let out = t.call(
        Value::Policy(policy.to_string()),
        decl.name.span,
        vec![ArgVal {
            name: None,
            value: Value::Tensor(obs),
            span: decl.params[0].name.span,
        }],
        decl.body.span,
    )?;
    let (action, extras) = match out {
        Value::Record(fields) => {
            let mut action = None;
            let mut extras = Vec::new();
            for (k, v) in fields {
                if k == "action" {
                    action = Some(v);
                } else {
                    extras.push((k, v));
                }
            }
            let Some(a) = action else {
                return Err(err(
                    Code::PolicyOutput,
                    format!("policy `{policy}` returns a record without an `action` field"),
                    decl.body.span,
                    "add `action: ...`",
                ));
            };
            (a, extras)
        }
        other => (other, Vec::new()),
    };
    let action = match action {
        Value::Dist(_) => t.sample_value(action, decl.body.span)?,
        v => v,
    };
    let a = match action {
        Value::Tensor(a) => a,
        other => {
            return Err(err(
                Code::PolicyOutput,
                format!(
                    "policy `{policy}` must return an action tensor, found {}",
                    other.describe()
                ),
                decl.body.span,
                "returned here",
            ));
        }
    };
    let want = match env.action {
        ActionSpace::Discrete { .. } => TensorType::new(DType::I32, vec![batch]),
        ActionSpace::Continuous { dim, .. } => TensorType::f32(vec![batch, dim]),
    };
    if a.ty != want {
        let hint = match (&env.action, a.ty.dtype) {
            (ActionSpace::Discrete { .. }, DType::F32) => {
                "for discrete actions return `argmax(q)` or a `categorical(logits)` distribution"
            }
            (ActionSpace::Continuous { .. }, DType::I32) => "continuous actions are f32 vectors",
            _ => "the batch axis comes first: [N] for discrete, [N, act_dim] for continuous actions",
        };
        return Err(err(
            Code::PolicyOutput,
            format!(
                "policy `{policy}` returns {} but `{}` needs {want} for {batch} observation{}",
                a.ty,
                env.id,
                super::call::plural(batch)
            ),
            decl.body.span,
            format!("returns {}", a.ty),
        )
        .also(decl.name.span, "policy defined here")
        .hint(hint));
    }
    let an = t.node(&a);
    t.g().output("action", an);
    let mut fields = Vec::new();
    for (k, v) in extras {
        let tv = t.tensor_of(v, decl.body.span, None)?;
        if tv.ty.shape.first() != Some(&batch) || tv.ty.dtype == DType::Bool {
            return Err(err(
                Code::PolicyOutput,
                format!(
                    "policy output `{k}` must be an f32 or i32 tensor with the batch axis first, found {}",
                    tv.ty
                ),
                decl.body.span,
                "returned here",
            ));
        }
        let n = t.node(&tv);
        t.g().output(k.clone(), n);
        fields.push((k, tv.ty.with_shape(tv.ty.shape[1..].to_vec())));
    }
    Ok((t.finish(), fields))
}

/// The entry computing a rollout's derived fields; adds them to the rollout's description.
fn lower_derive(
    lw: &mut Lowerer<'_>,
    dd: &crate::syntax::ast::DeriveDecl,
    data: &mut [DataSpec],
    sch: &Schedule,
) -> R<Graph> {
    let Some(spec) = data.iter_mut().find(|d| d.name == dd.data.name) else {
        return Err(err(
            Code::TypeMismatch,
            format!("`{}` is not a data source", dd.data.name),
            dd.data.span,
            "not data",
        ));
    };
    if spec.kind != DataKind::Rollout {
        return Err(err(
            Code::TypeMismatch,
            format!(
                "only rollouts have derived fields; `{}` is a {}",
                dd.data.name,
                spec.kind.word()
            ),
            dd.data.span,
            "not a rollout",
        ));
    }
    if spec.fields.iter().any(|f| f.source == FieldSource::Derived) {
        return Err(err(
            Code::Duplicate,
            format!("`{}` is derived twice", dd.data.name),
            dd.span,
            "second derive",
        ));
    }
    let lead = vec![spec.steps, sch.envs];
    let mut t = Tracer::new(lw);
    let mut fields = Vec::new();
    for f in &spec.fields {
        let mut shape = lead.clone();
        shape.extend(&f.ty.shape);
        let x = t.input(&format!("{}.{}", spec.name, f.name), f.ty.with_shape(shape));
        fields.push((f.name.clone(), Value::Tensor(x)));
    }
    let mut frame = HashMap::new();
    frame.insert(dd.param.name.clone(), Value::Record(fields));
    let ctx = t.ctx;
    let v = t.with_frame(ctx, frame, |t| t.eval(&dd.body))?;
    let Value::Record(out) = v else {
        return Err(err(
            Code::TypeMismatch,
            "`derive` returns a record of new fields, e.g. `{ adv: ..., ret: ... }`",
            dd.body.span,
            format!("this is {}", v.describe()),
        ));
    };
    let mut derived = Vec::new();
    for (name, v) in out {
        let tv = t.tensor_of(v, dd.body.span, None)?;
        if tv.ty.dtype != DType::F32 || tv.ty.shape.len() < 2 || tv.ty.shape[..2] != lead[..] {
            return Err(err(
                Code::ShapeMismatch,
                format!(
                    "derived field `{name}` must be f32 with leading axes [{}, {}], found {}",
                    lead[0], lead[1], tv.ty
                ),
                dd.body.span,
                "returned here",
            ));
        }
        if spec.fields.iter().any(|f| f.name == name) {
            return Err(err(
                Code::Duplicate,
                format!("`{name}` is already a field of `{}`", spec.name),
                dd.body.span,
                "derived here",
            ));
        }
        let n = t.node(&tv);
        t.g().output(name.clone(), n);
        derived.push(FieldSpec {
            name,
            ty: tv.ty.with_shape(tv.ty.shape[2..].to_vec()),
            source: FieldSource::Derived,
        });
    }
    spec.fields.extend(derived);
    Ok(t.finish())
}

fn lower_net_entry(lw: &mut Lowerer<'_>, net: &str, span: Span) -> R<Graph> {
    let Some(Decl::Net(decl)) = lw.decl(net) else {
        unreachable!("net decl")
    };
    let mut t = Tracer::new(lw);
    let mut args = Vec::new();
    for p in &decl.params {
        let ty = t.resolve_type(p.ty.as_ref().expect("checked when instantiating"))?;
        let mut shape = vec![1];
        shape.extend(&ty.shape);
        let x = t.input(&p.name.name, ty.with_shape(shape));
        args.push(ArgVal {
            name: None,
            value: Value::Tensor(x),
            span: p.name.span,
        });
    }
    let out = t.call_net(net, None, args, span)?;
    let mut outs: Vec<(String, Value)> = Vec::new();
    match out {
        Value::Tuple(items) => {
            outs.extend(items.into_iter().enumerate().map(|(i, v)| (format!("out{i}"), v)))
        }
        Value::Dist(d) => match &*d {
            super::value::Dist::Normal { mean, std } | super::value::Dist::TanhNormal { mean, std } => {
                outs.push(("mean".into(), Value::Tensor(mean.clone())));
                outs.push(("std".into(), Value::Tensor(std.clone())));
            }
            super::value::Dist::Categorical { logits } => {
                outs.push(("logits".into(), Value::Tensor(logits.clone())))
            }
        },
        v => outs.push(("out".into(), v)),
    }
    for (k, v) in outs {
        if let Value::Tensor(tv) = v {
            let n = t.node(&tv);
            t.g().output(k, n);
        }
    }
    Ok(t.finish())
}

/// How the training step reads a data source.
#[derive(Clone, Debug, PartialEq)]
pub enum BatchMode {
    /// `D.sample(n)`: n items (sequence replay: n sequences) drawn from replay.
    Sample(usize),
    /// `R`: the whole rollout `[T, N, ..]`.
    All,
    /// `R.minibatch(m)`: shuffled minibatches of m transitions.
    Minibatch(usize),
}

fn lower_train(
    lw: &mut Lowerer<'_>,
    data: &[DataSpec],
    sch: &Schedule,
    targets: &[TargetSpec],
    reads: &mut Vec<(String, BatchMode)>,
) -> Result<Graph, Vec<Diagnostic>> {
    let alg = lw.alg;
    let mut t = Tracer::new(lw);
    let mut errors = Vec::new();
    let mut batches: HashMap<String, (BatchMode, Value, Span)> = HashMap::new();
    let mut loss_nodes: HashMap<String, Tv> = HashMap::new();
    for d in &alg.decls {
        let Decl::Loss(l) = d else { continue };
        let r = (|| -> R<Tv> {
            let mut frame = HashMap::new();
            for (pname, src) in &l.params {
                let Some(src) = src else {
                    return Err(err(
                        Code::Missing,
                        format!("loss parameter `{}` needs a data source", pname.name),
                        pname.span,
                        "write e.g. `b ~ D.sample(batch)`",
                    ));
                };
                let v = batch_value(&mut t, src, data, sch, &mut batches)?;
                frame.insert(pname.name.clone(), v);
            }
            let ctx = t.ctx;
            let v = t.with_frame(ctx, frame, |t| t.eval(&l.body))?;
            match v {
                Value::Tensor(tv) if tv.ty == TensorType::f32(vec![]) => Ok(tv),
                other => Err(err(
                    Code::ShapeMismatch,
                    format!(
                        "loss `{}` must be a scalar f32, found {}",
                        l.name.name,
                        other.describe()
                    ),
                    l.body.span,
                    "reduce it with `mean(...)` or `sum(...)`",
                )),
            }
        })();
        match r {
            Ok(tv) => {
                let n = t.node(&tv);
                t.g().output(format!("loss/{}", l.name.name), n);
                loss_nodes.insert(l.name.name.clone(), tv);
            }
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut used: Vec<(String, BatchMode)> = batches
        .iter()
        .map(|(k, (m, _, _))| (k.clone(), m.clone()))
        .collect();
    used.sort_by(|a, b| a.0.cmp(&b.0));
    *reads = used;
    // New priorities, one per sampled item, fed back to prioritized replay by the trainer.
    for (d, p, span) in std::mem::take(&mut t.priorities) {
        let Some(spec) = data.iter().find(|s| s.name == d) else {
            continue;
        };
        let batch = batches.get(&d).map(|(m, _, _)| m.clone());
        let ok = spec.kind == DataKind::PrioritizedReplay
            && matches!(batch, Some(BatchMode::Sample(n)) if p.ty.shape == vec![n]);
        if !ok {
            let want = match batch {
                Some(BatchMode::Sample(n)) => format!("f32[{n}]"),
                _ => "one value per sampled item".into(),
            };
            errors.push(err(
                Code::ShapeMismatch,
                format!(
                    "`priority({d}, ...)` needs a prioritized replay buffer sampled in this step and {want}"
                ),
                span,
                format!("this is {}", p.ty),
            ));
            continue;
        }
        let n = t.node(&p);
        let n = t.g().stop_grad(n).map_err(|e| vec![ir_err(e, span)])?;
        t.g().output(format!("priority/{d}"), n);
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let step_id = t.counter("train/step", DType::I32);
    let step = t.state(step_id);
    let mut assigned: HashMap<StateId, (Tv, Span)> = HashMap::new();
    let mut n_updates = 0;
    for d in &alg.decls {
        let Decl::Update(u) = d else { continue };
        n_updates += 1;
        if let Err(e) = lower_update(&mut t, u, &loss_nodes, &step, &mut assigned) {
            errors.push(e);
        }
    }
    if n_updates == 0 {
        errors.push(err(
            Code::Missing,
            format!(
                "algorithm `{}` has no `update`, so it never learns",
                alg.name.name
            ),
            alg.name.span,
            "add `update NET by adam(lr = ...) on LOSS`",
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let span = alg.name.span;
    let mut assigns: Vec<(StateId, Tv)> = Vec::new();
    for tg in targets {
        for (tid, pid) in &tg.pairs {
            let told = t.state(*tid);
            let pnew = match assigned.get(pid) {
                Some((v, _)) => v.clone(),
                None => t.state(*pid),
            };
            let r = (|| -> R<Tv> {
                match tg.rule {
                    TargetRule::Polyak(tau) => {
                        let a = t.fill(1.0 - tau, TensorType::f32(vec![]));
                        let b = t.fill(tau, TensorType::f32(vec![]));
                        let x = t.b(BinaryOp::Mul, &a, &told, span)?;
                        let y = t.b(BinaryOp::Mul, &b, &pnew, span)?;
                        t.b(BinaryOp::Add, &x, &y, span)
                    }
                    TargetRule::Copy(k) => {
                        let one = t.fill(1.0, TensorType::scalar(DType::I32));
                        let s1 = t.b(BinaryOp::Add, &step, &one, span)?;
                        let kk = t.fill(k as f64, TensorType::scalar(DType::I32));
                        let m = t.b(BinaryOp::Rem, &s1, &kk, span)?;
                        let z = t.fill(0.0, TensorType::scalar(DType::I32));
                        let c = t.b(BinaryOp::Eq, &m, &z, span)?;
                        let cb = t
                            .g()
                            .broadcast_to(c.node, &told.ty.shape)
                            .map_err(|e| ir_err(e, span))?;
                        let cb = t.tv(cb);
                        t.sel(&cb, &pnew, &told, span)
                    }
                }
            })();
            match r {
                Ok(v) => assigns.push((*tid, v)),
                Err(e) => errors.push(e),
            }
        }
    }
    let one = t.fill(1.0, TensorType::scalar(DType::I32));
    match t.b(BinaryOp::Add, &step, &one, span) {
        Ok(s) => assigns.push((step_id, s)),
        Err(e) => errors.push(e),
    }
    let mut all: Vec<(StateId, Tv)> = assigned.into_iter().map(|(k, (v, _))| (k, v)).collect();
    all.extend(assigns);
    all.sort_by_key(|(k, _)| *k);
    for (id, v) in all {
        let n = t.node(&v);
        if let Err(e) = t.g().assign(id, n) {
            errors.push(ir_err(e, span));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(t.finish())
}

fn lower_update(
    t: &mut Tracer<'_, '_>,
    u: &crate::syntax::ast::UpdateDecl,
    losses: &HashMap<String, Tv>,
    step: &Tv,
    assigned: &mut HashMap<StateId, (Tv, Span)>,
) -> R<()> {
    let Some(loss) = losses.get(&u.loss.name) else {
        let what =
            t.lw.decl(&u.loss.name)
                .map(|d| format!("a {}", d.kind_word()))
                .unwrap_or_else(|| "not defined".into());
        let cands: Vec<&str> = losses.keys().map(String::as_str).collect();
        return Err(err(
            Code::TypeMismatch,
            format!("`{}` is not a loss", u.loss.name),
            u.loss.span,
            what,
        )
        .maybe_hint(did_you_mean(&u.loss.name, cands.iter().copied())));
    };
    let mut params: Vec<StateId> = Vec::new();
    for tg in &u.targets {
        match t.lw.decl(&tg.name) {
            Some(Decl::Net(_)) | Some(Decl::Learnable(_)) => params.extend(t.lw.states.params_of(&tg.name)),
            Some(d) => {
                return Err(err(
                    Code::TypeMismatch,
                    format!(
                        "only nets and learnables can be updated; `{}` is a {}",
                        tg.name,
                        d.kind_word()
                    ),
                    tg.span,
                    "not trainable",
                )
                .maybe_hint(matches!(d, Decl::Target(_)).then(|| {
                    "targets follow their net by their own rule; update the net instead".to_string()
                })));
            }
            None => {
                return Err(err(
                    Code::UnknownName,
                    format!("cannot find `{}`", tg.name),
                    tg.span,
                    "not defined",
                ));
            }
        }
    }
    let spec = t.parse_optimiser(&u.optimiser)?;
    let reads: Vec<Tv> = params.iter().map(|p| t.state(*p)).collect();
    let nodes: Vec<_> = reads.iter().map(|r| r.node).collect();
    let grads = crate::autodiff::grad(t.g(), loss.node, &nodes).map_err(|e| ir_err(e, u.span))?;
    if grads.iter().all(Option::is_none) {
        let names: Vec<&str> = u.targets.iter().map(|x| x.name.as_str()).collect();
        return Err(err(
            Code::NoGradient,
            format!(
                "loss `{}` does not depend on any parameter of {}",
                u.loss.name,
                names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            u.span,
            "this update would change nothing",
        )
        .hint("check that the loss calls the net and that `stop(...)` is not around every use"));
    }
    let mut pg = Vec::new();
    for ((id, read), g) in params.iter().zip(reads).zip(grads) {
        let grad = match g {
            Some(g) => t.tv(g),
            None => t.fill(0.0, read.ty.clone()),
        };
        pg.push(ParamGrad {
            id: *id,
            param: read,
            grad,
        });
    }
    let prefix = format!(
        "opt/{}",
        u.targets
            .iter()
            .map(|x| x.name.as_str())
            .collect::<Vec<_>>()
            .join("+")
    );
    let mut news = t.optimiser_step(&spec, &pg, &prefix, u.span)?;
    if let Some(e) = &u.every {
        let k = t.const_int(e)?;
        if k < 1 {
            return Err(err(
                Code::BadArgument,
                "`every` must be at least 1",
                e.span,
                "too small",
            ));
        }
        let kk = t.fill(k as f64, TensorType::scalar(DType::I32));
        let m = t.b(BinaryOp::Rem, step, &kk, u.span)?;
        let z = t.fill(0.0, TensorType::scalar(DType::I32));
        let c = t.b(BinaryOp::Eq, &m, &z, u.span)?;
        for (id, v) in &mut news {
            let old = t.state(*id);
            let cb = t
                .g()
                .broadcast_to(c.node, &old.ty.shape)
                .map_err(|e| ir_err(e, u.span))?;
            let cb = t.tv(cb);
            *v = t.sel(&cb, v, &old, u.span)?;
        }
    }
    for (id, v) in news {
        if let Some((_, first)) = assigned.get(&id) {
            let name = t.lw.states.get(id).name.clone();
            return Err(err(
                Code::DoubleAssign,
                format!("`{name}` is updated twice in one training step"),
                u.span,
                "second update",
            )
            .also(*first, "first update")
            .hint("update each net by exactly one `update`; to combine losses, add them in one loss"));
        }
        assigned.insert(id, (v, u.span));
    }
    Ok(())
}

/// The record a loss parameter is bound to: one input per stored field.
fn batch_value(
    t: &mut Tracer<'_, '_>,
    src: &crate::syntax::ast::Expr,
    data: &[DataSpec],
    sch: &Schedule,
    batches: &mut HashMap<String, (BatchMode, Value, Span)>,
) -> R<Value> {
    let (dname, mode) = match &src.kind {
        ExprKind::Name(n) => (n.clone(), BatchMode::All),
        ExprKind::Call(f, args) => match &f.kind {
            ExprKind::Field(base, m) => match &base.kind {
                ExprKind::Name(n) => {
                    let arg = |t: &mut Tracer<'_, '_>| -> R<usize> {
                        match args.first() {
                            Some(a) if args.len() == 1 => {
                                let v = t.const_int(&a.value)?;
                                if v < 1 {
                                    return Err(err(
                                        Code::BadArgument,
                                        "batch sizes are positive",
                                        a.value.span,
                                        "too small",
                                    ));
                                }
                                Ok(v as usize)
                            }
                            _ => Err(err(
                                Code::Arity,
                                format!("`{}` takes one batch size", m.name),
                                src.span,
                                "here",
                            )),
                        }
                    };
                    match m.name.as_str() {
                        "sample" => (n.clone(), BatchMode::Sample(arg(t)?)),
                        "minibatch" => (n.clone(), BatchMode::Minibatch(arg(t)?)),
                        "all" => (n.clone(), BatchMode::All),
                        other => {
                            return Err(err(
                                Code::UnknownField,
                                format!("data sources have no method `{other}`"),
                                m.span,
                                "unknown",
                            )
                            .maybe_hint(did_you_mean(other, ["sample", "minibatch", "all"])));
                        }
                    }
                }
                _ => {
                    return Err(err(
                        Code::BadArgument,
                        "expected `D.sample(n)`, `R` or `R.minibatch(m)`",
                        src.span,
                        "here",
                    ));
                }
            },
            _ => {
                return Err(err(
                    Code::BadArgument,
                    "expected `D.sample(n)`, `R` or `R.minibatch(m)`",
                    src.span,
                    "here",
                ));
            }
        },
        _ => {
            return Err(err(
                Code::BadArgument,
                "expected `D.sample(n)`, `R` or `R.minibatch(m)`",
                src.span,
                "here",
            ));
        }
    };
    let Some(spec) = data.iter().find(|d| d.name == dname) else {
        let cands: Vec<&str> = data.iter().map(|d| d.name.as_str()).collect();
        return Err(err(
            Code::UnknownName,
            format!("`{dname}` is not a data source"),
            src.span,
            "not data",
        )
        .maybe_hint(did_you_mean(&dname, cands.iter().copied())));
    };
    if let Some((m, v, first)) = batches.get(&dname) {
        if *m == mode {
            return Ok(v.clone());
        }
        return Err(err(
            Code::BadArgument,
            format!("`{dname}` is read in two different ways in one training step"),
            src.span,
            "here",
        )
        .also(*first, "first use")
        .note("every loss that reads a data source sees the same batch"));
    }
    let lead: Vec<usize> = match (&spec.kind, &mode) {
        (DataKind::Replay | DataKind::PrioritizedReplay, BatchMode::Sample(n)) => vec![*n],
        (DataKind::SequenceReplay, BatchMode::Sample(n)) => vec![spec.steps, *n],
        (DataKind::Rollout, BatchMode::All) => vec![spec.steps, sch.envs],
        (DataKind::Rollout, BatchMode::Minibatch(m)) => {
            let total = spec.steps * sch.envs;
            if *m > total {
                return Err(err(
                    Code::BadArgument,
                    format!("minibatches of {m} from a rollout of {total} transitions"),
                    src.span,
                    "too large",
                ));
            }
            vec![*m]
        }
        (k, _) => {
            let how = match k {
                DataKind::Rollout => "read a rollout whole (`b ~ R`) or in minibatches (`R.minibatch(m)`)",
                _ => "sample a batch from a replay buffer (`b ~ D.sample(n)`)",
            };
            return Err(err(
                Code::BadArgument,
                format!("`{dname}` is a {} and cannot be read this way", k.word()),
                src.span,
                "here",
            )
            .hint(how));
        }
    };
    let mut fields = Vec::new();
    for f in &spec.fields {
        let mut shape = lead.clone();
        shape.extend(&f.ty.shape);
        let x = t.input(&format!("{dname}.{}", f.name), f.ty.with_shape(shape));
        fields.push((f.name.clone(), Value::Tensor(x)));
    }
    if spec.kind == DataKind::PrioritizedReplay {
        let w = t.input(&format!("{dname}.weight"), TensorType::f32(lead.clone()));
        fields.push(("weight".into(), Value::Tensor(w)));
    }
    let v = Value::Record(fields);
    batches.insert(dname, (mode, v.clone(), src.span));
    Ok(v)
}
