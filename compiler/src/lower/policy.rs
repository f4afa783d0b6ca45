//! Entries that apply nets: `act_<policy>` (acting) and `net_<name>` (a net on its own).

use super::args::ArgVal;
use super::program::Lowerer;
use super::program_state::StateWrites;
use super::tracer::{Lowered, R, Tracer, err};
use super::value::Value;
use crate::diag::{Code, Span};
use crate::env_spec::ActionSpace;
use crate::ir::{DType, TensorType};
use crate::signature::{InputRole, OutputRole};
use crate::syntax::ast::Decl;

/// The acting entry of a policy for `batch` observations (`acting`: used to collect
/// experience, so it may change program state; otherwise the evaluation entry); returns the
/// graph and the extra record fields it outputs (name, per-item type). An acting entry
/// also outputs the policy's `log` statements (after the extras); evaluation leaves them out.
pub(super) fn lower_policy(
    lw: &mut Lowerer<'_>,
    policy: &str,
    batch: usize,
    acting: bool,
    span: Span,
) -> R<(Lowered, Vec<(String, TensorType)>)> {
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
    t.sets = if acting {
        StateWrites::Open(Vec::new())
    } else {
        StateWrites::Refused(format!(
            "`{policy}` is the evaluation policy, and an evaluation must not change the run \
             (evaluate with a policy that reads the state without setting it)"
        ))
    };
    // `batch` is the number of environments (or the eval batch): refuse absurd ones here,
    // before anything is sized by it.
    let obs_ty = TensorType::f32(vec![batch, env.obs_dim]);
    super::budget::check_tensor(&obs_ty, t.lw.options.budget, decl.name.span)?;
    let obs = t.input(InputRole::Observation, obs_ty);
    if acting {
        t.log_scopes = vec![decl.body.span];
    }
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
                super::args::plural(batch)
            ),
            decl.body.span,
            format!("returns {}", a.ty),
        )
        .also(decl.name.span, "policy defined here")
        .hint(hint));
    }
    let an = t.node(&a);
    t.output(OutputRole::Action, an);
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
        t.output(OutputRole::Extra { field: k.clone() }, n);
        fields.push((k, tv.ty.with_shape(tv.ty.shape[1..].to_vec())));
    }
    t.output_metrics()?;
    Ok((t.finish()?, fields))
}

pub(super) fn lower_net_entry(lw: &mut Lowerer<'_>, net: &str, span: Span) -> R<Lowered> {
    let Some(Decl::Net(decl)) = lw.decl(net) else {
        unreachable!("net decl")
    };
    let mut t = Tracer::new(lw);
    let mut args = Vec::new();
    for p in &decl.params {
        let ty = t.resolve_type(p.ty.as_ref().expect("checked when instantiating"))?;
        let mut shape = vec![1];
        shape.extend(&ty.shape);
        let x = t.input(
            InputRole::Argument {
                name: p.name.name.clone(),
            },
            ty.with_shape(shape),
        );
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
            t.output(OutputRole::Value { name: k }, n);
        }
    }
    t.finish()
}
