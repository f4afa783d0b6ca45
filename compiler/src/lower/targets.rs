//! Targets: slowly following copies of a net's parameters. `target t = RULE(net, ...)`
//! creates the copies; after every training step the rule (`polyak`, `copy` in
//! stdlib/optim.rl, declared `for target`) gives each copy its new value from the net's
//! updated parameter.

use super::tracer::{R, Tracer, err};
use super::value::Value;
use crate::diag::{Code, Span};
use crate::ir::{Init, StateId, StateKind, StateVar};
use crate::syntax::ast::{Arg, ExprKind, TargetDecl};

/// A target copy of a net.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetSpec {
    /// Target name.
    pub name: String,
    /// The net it follows.
    pub net: String,
    /// The rule it follows the net by (`polyak`).
    pub rule: String,
    /// (target state, parameter state) pairs.
    pub pairs: Vec<(StateId, StateId)>,
}

/// The parts of `RULE(net, settings...)`: the rule's name and where it is written, the net
/// argument, and the settings.
pub(super) struct TargetCall<'a> {
    pub rule: &'a str,
    pub rule_span: Span,
    pub net: &'a Arg,
    pub settings: Vec<Arg>,
}

/// Splits a target's call; the net is the first positional argument or `net = ...`.
pub(super) fn target_call(td: &TargetDecl) -> R<TargetCall<'_>> {
    let bad = || {
        err(
            Code::BadArgument,
            "a target is `RULE(net, ...)`, e.g. `polyak(critic, tau)` or `copy(q, every)`",
            td.value.span,
            "not a target rule",
        )
    };
    let ExprKind::Call(f, args) = &td.value.kind else {
        return Err(bad());
    };
    let ExprKind::Name(rule) = &f.kind else {
        return Err(bad());
    };
    let at = args
        .iter()
        .position(|a| a.name.as_ref().is_some_and(|n| n.name == "net"))
        .or_else(|| args.iter().position(|a| a.name.is_none()))
        .ok_or_else(|| {
            err(
                Code::Arity,
                format!("`{rule}` needs the net the target follows"),
                td.value.span,
                format!("write `{rule}(net, ...)`"),
            )
        })?;
    let mut settings = args.clone();
    settings.remove(at);
    Ok(TargetCall {
        rule,
        rule_span: f.span,
        net: &args[at],
        settings,
    })
}

pub(super) fn add_target(t: &mut Tracer<'_, '_>, td: &TargetDecl) -> R<TargetSpec> {
    let call = target_call(td)?;
    let net = match t.eval(&call.net.value)? {
        Value::Net(n) => n,
        other => {
            return Err(err(
                Code::TypeMismatch,
                "a target copies a net",
                call.net.value.span,
                format!("this is {}", other.describe()),
            ));
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
        rule: call.rule.to_string(),
        pairs,
    })
}
