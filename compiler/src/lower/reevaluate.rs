//! A loss evaluated again at other parameters: inside an update rule, `loss(ps)` (the update's
//! own loss) or `kl(ps)` (a loss passed as a setting) is the loss's body traced once more on
//! the same batch with the update's parameters read as the tensors of `ps` — TRPO's line
//! search and its Fisher-vector products (`grad(kl(unflatten(theta, params)), theta)`).
//!
//! Why re-tracing: a loss is an expression of the parameters, and tracing it again with the
//! parameter reads substituted is the one-line way to get that expression at another point,
//! differentiable in the point, with no new kind of value in the graph. The batch is the one
//! the step already read; random draws in the loss (a reparameterised sample) are drawn
//! afresh. What the first trace recorded — metrics, program-state `set`s, priorities — is
//! not recorded again: a re-evaluation only asks "what would the loss be".

use super::args::ArgVal;
use super::tracer::{R, Tracer, err};
use super::value::{Tv, Value};
use crate::diag::{Code, Span};
use crate::syntax::ast::Decl;
use std::collections::HashMap;

impl Tracer<'_, '_> {
    /// `L(ps)`: loss `name` at the parameters `ps` (a list like the rule's `params`).
    pub(crate) fn reevaluate_loss(&mut self, name: &str, args: Vec<ArgVal>, whole: Span) -> R<Value> {
        if self.rule_params.is_empty() {
            return Err(err(
                Code::TypeMismatch,
                format!("the loss `{name}` can only be evaluated again inside an update rule"),
                whole,
                "called here",
            )
            .hint("a rule evaluates a loss at candidate parameters with `loss(ps)`; elsewhere, share the computation through a `fn`"));
        }
        if self.level() > 0 {
            return Err(err(
                Code::BadArgument,
                format!("the loss `{name}` is evaluated inside `scan`"),
                whole,
                "inside a loop body",
            )
            .hint("evaluate it in the rule's body or in a `for` loop, which is unrolled"));
        }
        let [arg] = <[ArgVal; 1]>::try_from(args).map_err(|a| {
            err(
                Code::Arity,
                format!(
                    "a loss takes one argument, the list of parameter values; {} given",
                    a.len()
                ),
                whole,
                "here",
            )
        })?;
        let points = self.candidate_params(name, &arg)?;
        let Some(Decl::Loss(decl)) = self.lw.decl(name) else {
            unreachable!("a loss value names a loss")
        };
        let frame = self.loss_frames[name].clone();
        let ctx = self.ctx_of(self.lw.module, Some(self.lw.alg_index));
        // What the first trace recorded is not recorded again; the update's own overrides
        // (a re-evaluation inside a re-evaluation) are replaced, not merged.
        let overrides = std::mem::replace(&mut self.overrides, points);
        let sets = std::mem::replace(
            &mut self.sets,
            super::program_state::StateWrites::Open(Vec::new()),
        );
        let scopes = std::mem::take(&mut self.rule_scopes);
        let log_scopes = std::mem::take(&mut self.log_scopes);
        let priorities = self.priorities.len();
        self.enter_call(name, decl.name.span, whole)?;
        let r = self.with_frame(ctx, frame, |t| t.eval(&decl.body));
        self.calls.pop();
        self.priorities.truncate(priorities);
        self.log_scopes = log_scopes;
        self.rule_scopes = scopes;
        self.sets = sets;
        self.overrides = overrides;
        r.map_err(|d| super::call::called_from(d, name, whole))
    }

    /// The override map of `L(ps)`: each parameter of the update to its item of `ps`.
    fn candidate_params(&mut self, name: &str, arg: &ArgVal) -> R<HashMap<crate::ir::StateId, Tv>> {
        let n = self.rule_params.len();
        let items = match &arg.value {
            Value::List(xs) if xs.len() == n => xs.clone(),
            other => {
                return Err(err(
                    Code::TypeMismatch,
                    format!(
                        "the loss `{name}`, evaluated at other parameters, takes a list of {n} parameter values (as the rule's `params`); this is {}",
                        other.describe()
                    ),
                    arg.span,
                    "not the parameters",
                ));
            }
        };
        let mut map = HashMap::new();
        for (i, (v, id)) in items.into_iter().zip(self.rule_params.clone()).enumerate() {
            let want = self.lw.states.get(id).ty.clone();
            match v {
                Value::Tensor(t) if t.ty == want && t.level == 0 => {
                    map.insert(id, t);
                }
                other => {
                    let pname = self.lw.states.get(id).name.clone();
                    return Err(err(
                        Code::TypeMismatch,
                        format!(
                            "item {i} of the parameters given to the loss `{name}` is {}, but `{pname}` is {want}",
                            match &other {
                                Value::Tensor(t) => format!("a {} tensor", t.ty),
                                o => o.describe(),
                            }
                        ),
                        arg.span,
                        "not the parameters",
                    ));
                }
            }
        }
        Ok(map)
    }
}
