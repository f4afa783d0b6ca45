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

/// A `linear` layer applied while a loss is traced for `L.layers()`: its weight and bias, its
/// input rows and its pre-activation rows.
pub(crate) struct Tap {
    /// The layer's weight.
    pub w: crate::ir::StateId,
    /// The layer's bias.
    pub b: crate::ir::StateId,
    /// Its input rows `[rows, in]`.
    pub x: Tv,
    /// Its pre-activation rows `[rows, out]`.
    pub y: Tv,
}

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
        self.retrace_loss(name, points, whole)
    }

    /// The body of loss `name` traced again on its batch, the update's parameters read as
    /// `points` (empty: as they are).
    fn retrace_loss(&mut self, name: &str, points: HashMap<crate::ir::StateId, Tv>, whole: Span) -> R<Value> {
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

    /// `L.layers()`: for each parameter of the update, in the order of `params`, a record
    /// `{ x, d }` — for the weight of a `linear` layer that loss `L` applies, the layer's
    /// input rows `x` [rows, in] and the gradients `d` [rows, out] of `L` at its
    /// pre-activations (one row per input row); for its bias, `x` is a column of ones. These
    /// are the statistics of K-FAC (Martens & Grosse, 2015): a layer's gradient is `x' d`.
    pub(crate) fn loss_layers(&mut self, name: &str, args: Vec<ArgVal>, whole: Span) -> R<Value> {
        if self.rule_params.is_empty() || self.level() > 0 {
            return Err(err(
                Code::TypeMismatch,
                format!("`{name}.layers()` is for update rules (outside any `scan`)"),
                whole,
                "called here",
            ));
        }
        if !args.is_empty() {
            return Err(err(Code::Arity, "`layers()` takes no arguments", whole, "here"));
        }
        let outer = self.taps.replace(Vec::new());
        let current = self.overrides.clone();
        let r = self.retrace_loss(name, current, whole);
        let taps = std::mem::replace(&mut self.taps, outer).unwrap_or_default();
        let loss = match r? {
            Value::Tensor(t) if t.ty.shape.is_empty() => t,
            other => {
                return Err(err(
                    Code::ShapeMismatch,
                    format!("loss `{name}` must be a scalar, found {}", other.describe()),
                    whole,
                    "here",
                ));
            }
        };
        let mine: Vec<&Tap> = taps
            .iter()
            .filter(|t| self.rule_params.contains(&t.w) || self.rule_params.contains(&t.b))
            .collect();
        let ys: Vec<crate::ir::NodeId> = mine.iter().map(|t| t.y.node).collect();
        let grads = self.gb(whole).grad(&loss, &ys)?;
        let mut out = Vec::new();
        for id in self.rule_params.clone() {
            let mut xs = Vec::new();
            let mut ds = Vec::new();
            for (tap, g) in mine.iter().zip(&grads) {
                if tap.w != id && tap.b != id {
                    continue;
                }
                let d = match g {
                    Some(g) => g.clone(),
                    None => self.fill(0.0, tap.y.ty.clone()),
                };
                let x = if tap.w == id {
                    tap.x.clone()
                } else {
                    self.fill(1.0, crate::ir::TensorType::f32(vec![tap.x.ty.shape[0], 1]))
                };
                xs.push(x);
                ds.push(d);
            }
            if xs.is_empty() {
                let pname = self.lw.states.get(id).name.clone();
                return Err(err(
                    Code::BadArgument,
                    format!("`{pname}` is not the weight or bias of a `linear` layer that loss `{name}` applies"),
                    whole,
                    "per-layer statistics asked for here",
                )
                .hint("`L.layers()` covers the parameters of `linear` layers the loss calls; update other parameters by a separate rule"));
            }
            // A layer applied more than once (to several batches) contributes all its rows.
            let join = |t: &mut Self, mut v: Vec<Tv>| -> R<Tv> {
                if v.len() == 1 {
                    Ok(v.remove(0))
                } else {
                    t.gb(whole).concat(&v, 0)
                }
            };
            let x = join(self, xs)?;
            let d = join(self, ds)?;
            out.push(Value::Record(vec![
                ("x".into(), Value::Tensor(x)),
                ("d".into(), Value::Tensor(d)),
            ]));
        }
        Ok(Value::List(out))
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
