//! Targets: slowly following copies of a net's parameters (`polyak`, `copy`).

use super::args::Args;
use super::tracer::{R, Tracer, err};
use super::value::Value;
use crate::builtins::{Builtin, Declaration, Form};
use crate::diag::{Code, Diagnostic, did_you_mean};
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
    let rules = || Builtin::names_of(Form::Declaration(Declaration::Target));
    let rule = match Builtin::from_name(kind) {
        Some(b) if b.form() == Form::Declaration(Declaration::Target) => b,
        _ => {
            return Err(err(
                Code::UnknownName,
                format!("unknown target rule `{kind}`"),
                f.span,
                "not a target rule",
            )
            .maybe_hint(did_you_mean(kind, rules())));
        }
    };
    let a = Args::bind(rule.name(), rule.params(), args.iter().collect(), td.value.span)?;
    let Some(first) = a.opt(0) else {
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
    let second = a.opt(1).ok_or_else(|| {
        err(
            Code::Arity,
            format!("`{kind}` needs a second argument ({})", a.names[1]),
            td.value.span,
            "missing",
        )
    })?;
    let rule = match rule {
        Builtin::Polyak => {
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
        Builtin::Copy => {
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
        other => {
            return Err(
                Diagnostic::internal(format!("`{}` is not a target rule", other.name())).at(f.span, "here"),
            );
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
