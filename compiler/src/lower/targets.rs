//! Targets: slowly following copies of a net's parameters (`polyak`, `copy`).

use super::tracer::{R, Tracer, err};
use super::value::Value;
use crate::diag::{Code, did_you_mean};
use crate::ir::{Init, StateId, StateKind, StateVar};
use crate::syntax::ast::ExprKind;

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

pub(super) fn add_target(t: &mut Tracer<'_, '_>, td: &crate::syntax::ast::TargetDecl) -> R<TargetSpec> {
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
