//! Program state: `state NAME[: TYPE] = INIT` declares a tensor that lives across calls and
//! is changed by `set NAME = EXPR` statements, never by gradients — adaptive coefficients
//! (PPO's KL penalty), running normalisers, counters.
//!
//! Semantics are those of every state: a call reads the values from before it, and a `set`
//! takes effect when the call ends. `set` is allowed where the runtime calls an entry point
//! as part of training — a loss (once per training call), a `derive` (once per rollout) and
//! an acting policy (once per vectorised step) — and refused in the evaluation policy (an
//! evaluation must not change the run) and inside loops (a loop body runs many times per call).

use super::tracer::{R, Tracer, err};
use super::value::{Tv, Value};
use crate::diag::{Code, Span};
use crate::ir::{DType, StateId, StateKind, StateVar, TensorType};
use crate::syntax::ast::{Decl, LearnableDecl, SetStmt};

/// Whether the entry being traced may change program state, and the changes so far.
pub(crate) enum StateWrites {
    /// Not here; the message says why.
    Refused(String),
    /// Allowed: (state, new value, the `set` statement).
    Open(Vec<(StateId, Tv, Span)>),
}

impl Default for StateWrites {
    fn default() -> StateWrites {
        StateWrites::Refused(
            "program state can only be set in a loss, a `derive` or a policy used for acting".into(),
        )
    }
}

/// Creates the state variable of a `state` declaration (f32 unless its type says i32).
pub(super) fn add_program_state(t: &mut Tracer<'_, '_>, d: &LearnableDecl) -> R<()> {
    let ty = match &d.ty {
        Some(te) => t.resolve_type(te)?,
        None => TensorType::f32(vec![]),
    };
    if ty.dtype == DType::Bool {
        return Err(err(
            Code::TypeMismatch,
            "program state is f32 or i32",
            d.span,
            "use 0/1 in an i32 for a flag",
        ));
    }
    super::budget::check_tensor(&ty, t.lw.options.budget, d.span)?;
    let init = super::states::constant_init(t, &d.init, &ty, &format!("state `{}`", d.name.name))?;
    t.lw.states.add(StateVar {
        name: d.name.name.clone(),
        ty,
        kind: StateKind::Program,
        init,
    });
    Ok(())
}

/// Records `set NAME = EXPR`: checks that NAME is program state, that this entry may change
/// it, that it is set once, and that the value has its type.
pub(super) fn set_state(t: &mut Tracer<'_, '_>, s: &SetStmt) -> R<()> {
    let name = &s.name.name;
    let rule_state = t.rule_scopes.find(name);
    if let Some((_, true)) = rule_state {
        return Err(err(
            Code::StateWrite,
            format!("`set {name}` inside `each`: `{name}` is shared by all the parameters of the update"),
            s.span,
            "this runs once per parameter",
        )
        .hint(format!(
            "set `{name}` before `each`, where it runs once per update"
        )));
    }
    if rule_state.is_none() && t.rule_scopes.active() {
        return Err(err(
            Code::UnknownName,
            format!("`{name}` is not a state of this update rule"),
            s.name.span,
            "set here",
        )
        .hint(format!("declare it in the rule: `state {name} = 0.0`")));
    }
    if let Some((super::rule::RuleSlot::List(ids), _)) = &rule_state {
        return set_state_list(t, s, ids);
    }
    let rule_id = match rule_state {
        Some((super::rule::RuleSlot::One(id), _)) => Some(id),
        _ => None,
    };
    let id = match t.lw.decl(name) {
        _ if rule_id.is_some() => rule_id.expect("checked"),
        Some(Decl::State(_)) => t.lw.states.find(name).expect("program states are created first"),
        Some(other) => {
            let why = match other {
                Decl::Learnable(_) | Decl::Net(_) => "it changes by its update rule (`update ... by`)",
                Decl::Param(_) => "hyperparameters are constants (`--set` changes them per run)",
                _ => "only `state` declarations hold values that `set` changes",
            };
            return Err(err(
                Code::StateWrite,
                format!("`{name}` is a {}, not program state: {why}", other.kind_word()),
                s.name.span,
                "set here",
            )
            .also(other.name().map_or(s.span, |n| n.span), "declared here")
            .hint("a value the program changes itself is declared with `state NAME = INIT`"));
        }
        None => {
            return Err(err(
                Code::UnknownName,
                format!("no program state named `{name}`"),
                s.name.span,
                "set here",
            )
            .hint(format!("declare it in the algorithm: `state {name} = 0.0`")));
        }
    };
    not_in_a_loop(t, s)?;
    let ty = t.lw.states.get(id).ty.clone();
    let v = match t.eval(&s.value)? {
        Value::Int(i) => t.fill(i as f64, ty.clone()),
        Value::Float(f) => t.fill(f, ty.clone()),
        Value::Tensor(tv) => tv,
        other => {
            return Err(err(
                Code::TypeMismatch,
                format!("`{name}` is a {ty} tensor; this is {}", other.describe()),
                s.value.span,
                "the new value",
            ));
        }
    };
    if v.ty != ty {
        let code = if v.ty.dtype == ty.dtype {
            Code::ShapeMismatch
        } else {
            Code::TypeMismatch
        };
        let hint = if v.ty.dtype == ty.dtype && v.ty.shape.len() > ty.shape.len() {
            "reduce it, e.g. `mean(x)` or `mean(x, axis = 0)`".to_string()
        } else {
            format!("state `{name}` is declared as {ty}")
        };
        return Err(err(
            code,
            format!("state `{name}` is {ty}, but the new value is {}", v.ty),
            s.value.span,
            format!("this is {}", v.ty),
        )
        .hint(hint));
    }
    let v = t.here(&v);
    record_set(t, s, id, v)
}

/// `set` inside a loop body would run once per iteration: an error.
fn not_in_a_loop(t: &Tracer<'_, '_>, s: &SetStmt) -> R<()> {
    if t.level() > 0 {
        return Err(err(
            Code::StateWrite,
            format!("`set {}` inside a loop body", s.name.name),
            s.span,
            "this runs once per iteration",
        )
        .hint("compute the new value in the loop (as a carry) and set it after the loop"));
    }
    Ok(())
}

/// Records the new value of one state for `set`: refused where this entry may not change
/// state, and an error when the state was already set in this entry.
fn record_set(t: &mut Tracer<'_, '_>, s: &SetStmt, id: StateId, v: Tv) -> R<()> {
    let name = &s.name.name;
    match &mut t.sets {
        StateWrites::Refused(why) => Err(err(
            Code::StateWrite,
            format!("`set {name}` here: {why}"),
            s.span,
            "not here",
        )),
        StateWrites::Open(sets) => {
            if let Some((_, _, first)) = sets.iter().find(|(i, _, _)| *i == id) {
                return Err(err(
                    Code::DoubleAssign,
                    format!("state `{name}` is set twice in one entry point"),
                    s.span,
                    "second `set`",
                )
                .also(*first, "first `set`")
                .note("all `set`s take effect together when the call ends, so only one can count"));
            }
            sets.push((id, v, s.span));
            Ok(())
        }
    }
}

/// `set NAME = LIST` for a rule state that is a list: one new value per item, each of its
/// state's type.
fn set_state_list(t: &mut Tracer<'_, '_>, s: &SetStmt, ids: &[StateId]) -> R<()> {
    let name = &s.name.name;
    not_in_a_loop(t, s)?;
    let items = match t.eval(&s.value)? {
        Value::List(items) if items.len() == ids.len() => items,
        other => {
            return Err(err(
                Code::TypeMismatch,
                format!(
                    "`{name}` is a list of {} states; this is {}",
                    ids.len(),
                    other.describe()
                ),
                s.value.span,
                "the new value",
            ));
        }
    };
    for (k, (v, id)) in items.into_iter().zip(ids).enumerate() {
        let ty = t.lw.states.get(*id).ty.clone();
        let v = match v {
            Value::Tensor(tv) if tv.ty == ty => t.here(&tv),
            other => {
                return Err(err(
                    Code::TypeMismatch,
                    format!(
                        "item {k} of `{name}` is a {ty} state; the new value is {}",
                        match &other {
                            Value::Tensor(x) => format!("a {} tensor", x.ty),
                            o => o.describe(),
                        }
                    ),
                    s.value.span,
                    "the new value",
                ));
            }
        };
        record_set(t, s, *id, v)?;
    }
    Ok(())
}

/// Writes the recorded `set`s as the entry's state assignments.
pub(super) fn assign_sets(t: &mut Tracer<'_, '_>) -> R<()> {
    let sets = match &mut t.sets {
        StateWrites::Open(sets) => std::mem::take(sets),
        StateWrites::Refused(_) => return Ok(()),
    };
    for (id, v, span) in sets {
        t.gb(span).assign(id, &v)?;
    }
    Ok(())
}
