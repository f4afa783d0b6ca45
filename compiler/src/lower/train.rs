//! The `train` entry: losses on sampled data, their gradients, optimiser steps and target
//! updates in one graph.

use super::program::Lowerer;
use super::schedule::{DataSpec, Schedule};
use super::targets::TargetSpec;
use super::tracer::{Lowered, R, Tracer, err};
use super::update::lower_update;
use super::value::{Tv, Value};
use crate::diag::{Code, Diagnostic, Span, did_you_mean};
use crate::ir::{BinaryOp, DType, StateId, TensorType};
use crate::signature::{InputRole, OutputRole};
use crate::syntax::ast::{DataKind, Decl, ExprKind};
use std::collections::HashMap;

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

pub(super) fn lower_train(
    lw: &mut Lowerer<'_>,
    data: &[DataSpec],
    sch: &Schedule,
    targets: &[TargetSpec],
    reads: &mut Vec<(String, BatchMode)>,
) -> Result<Lowered, Vec<Diagnostic>> {
    let alg = lw.alg;
    let mut t = Tracer::new(lw);
    t.sets = super::program_state::StateWrites::Open(Vec::new());
    let mut errors = Vec::new();
    let mut batches: HashMap<String, (BatchMode, Value, Span)> = HashMap::new();
    let mut loss_nodes: HashMap<String, Tv> = HashMap::new();
    t.log_scopes = alg
        .decls
        .iter()
        .filter_map(|d| match d {
            Decl::Loss(l) => Some(l.body.span),
            _ => None,
        })
        .collect();
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
            let batches_of_loss = frame.clone();
            let v = t.with_frame(ctx, frame, |t| t.eval(&l.body))?;
            t.loss_frames.insert(l.name.name.clone(), batches_of_loss);
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
                t.output(
                    OutputRole::Loss {
                        name: l.name.name.clone(),
                    },
                    n,
                );
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
        let p = t.here(&p);
        let n = t.gb(span).stop_grad(&p).map_err(|e| vec![e])?;
        t.output(OutputRole::Priority { data: d.clone() }, n.node);
    }
    if let Err(e) = t.output_metrics() {
        errors.push(e);
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
        let r = (|| -> R<Vec<(StateId, Tv)>> {
            let Some(Decl::Target(td)) = t.lw.decl(&tg.name) else {
                return Err(Diagnostic::internal(format!(
                    "target `{}` has no declaration",
                    tg.name
                )));
            };
            let call = super::targets::target_call(td)?;
            let mut pairs = Vec::new();
            for (tid, pid) in &tg.pairs {
                let told = t.state(*tid);
                // The target follows the parameter as this step's updates leave it.
                let pnew = match assigned.get(pid) {
                    Some((v, _)) => v.clone(),
                    None => t.state(*pid),
                };
                pairs.push(super::optim::ParamGrad {
                    id: *tid,
                    param: told,
                    grad: pnew,
                });
            }
            let site = super::rule::RuleSite {
                name: call.rule,
                name_span: call.rule_span,
                args: &call.settings,
                call_span: td.value.span,
                for_target: true,
                scope: format!("target/{}", tg.name),
                loss: None,
            };
            t.apply_target_rule(&site, &pairs, td.span)
        })();
        match r {
            Ok(mut v) => assigns.append(&mut v),
            Err(e) => errors.push(e),
        }
    }
    let one = t.fill(1.0, TensorType::scalar(DType::I32));
    match t.gb(span).binary(BinaryOp::Add, &step, &one) {
        Ok(s) => assigns.push((step_id, s)),
        Err(e) => errors.push(e),
    }
    let mut all: Vec<(StateId, Tv)> = assigned.into_iter().map(|(k, (v, _))| (k, v)).collect();
    all.extend(assigns);
    all.sort_by_key(|(k, _)| *k);
    for (id, v) in all {
        let v = t.here(&v);
        if let Err(e) = t.gb(span).assign(id, &v) {
            errors.push(e);
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    t.finish().map_err(|e| vec![e])
}

/// The record a loss parameter is bound to: one input per stored field.
pub(super) fn batch_value(
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
        // A batch is an input the runtime allocates: `D.sample(10^12)` is refused here.
        super::budget::check_bytes(
            &format!("batch field `{}` ({})", f.name, f.ty.with_shape(shape.clone())),
            f.ty.with_shape(shape.clone()).checked_bytes(),
            t.lw.options.budget,
            src.span,
        )?;
        let x = t.input(
            InputRole::Field {
                data: dname.to_string(),
                field: f.name.clone(),
            },
            f.ty.with_shape(shape),
        );
        t.guarantee_stored_action(f, &x);
        match (&spec.kind, &mode) {
            (DataKind::Rollout, BatchMode::Minibatch(_)) => {
                t.mark_shuffled(x.node, format!("a minibatch of rollout `{dname}`"))
            }
            (DataKind::Replay | DataKind::PrioritizedReplay, BatchMode::Sample(_)) => {
                t.mark_shuffled(x.node, format!("a batch sampled from replay `{dname}`"))
            }
            _ => {}
        }
        fields.push((f.name.clone(), Value::Tensor(x)));
    }
    if spec.kind == DataKind::PrioritizedReplay {
        let w = t.input(
            InputRole::Weights {
                data: dname.to_string(),
            },
            TensorType::f32(lead.clone()),
        );
        fields.push(("weight".into(), Value::Tensor(w)));
    }
    let v = Value::Record(fields);
    batches.insert(dname, (mode, v.clone(), src.span));
    Ok(v)
}
