//! Update rules written in the language (`rule` declarations, stdlib/optim.rl): the step an
//! `update NETS by RULE(...) on LOSS` applies to the nets' parameters.
//!
//! A rule has two parts. The outer part runs once per `update`: its `state` is shared by all
//! the parameters the update changes (Adam's step count), and it sees them all as the lists
//! `params` and `grads` (a global gradient norm). The `each (p, g)` part runs once per
//! parameter tensor with its gradient: its `state` is per parameter (Adam's moments) and its
//! result is the parameter's new value. State changes by `set`, as program state does: reads
//! see the value from before the training step, and every `set` takes effect when it ends.
//! The whole step stays in the training graph, so a rule costs what the same arithmetic
//! written in the compiler would.

use super::args::ArgVal;
use super::call::called_from;
use super::optim::ParamGrad;
use super::program_state::StateWrites;
use super::tracer::{R, Tracer, err};
use super::value::{Tv, Value};
use crate::check::{ModuleId, PRELUDE};
use crate::diag::{Code, Span, did_you_mean};
use crate::ir::{DType, Init, Op, StateId, StateKind, StateVar, TensorType};
use crate::syntax::ast::{Expr, ExprKind, RuleDecl, RuleEach, RulePart, RuleState, RuleStep};
use std::collections::HashMap;

/// The names a rule's outer part sees besides its hyperparameters: the parameter tensors of
/// the update and their gradients, as lists in the same order.
/// `loss` is the update's loss as a function of the parameters (`loss(ps)`,
/// `super::reevaluate`); target rules have none.
pub const RULE_LISTS: [&str; 3] = ["params", "grads", "loss"];

/// Where a rule is applied: its name and settings as written, and the prefix of the names of
/// its shared state (`opt/critic` for `update critic`, `target/critic_t` for a target).
pub(crate) struct RuleSite<'a> {
    /// The rule's name.
    pub name: &'a str,
    /// Where the name is written.
    pub name_span: Span,
    /// The settings (a target's net already removed).
    pub args: &'a [crate::syntax::ast::Arg],
    /// The whole call.
    pub call_span: Span,
    /// Whether a `target` applies it.
    pub for_target: bool,
    /// Prefix of shared state names.
    pub scope: String,
    /// The loss of the `update` (none for a target).
    pub loss: Option<&'a str>,
}

/// The rule states a `set` inside a rule may change: one scope for the outer part and one for
/// the current parameter, innermost last.
#[derive(Default)]
pub(crate) struct RuleScopes {
    scopes: Vec<HashMap<String, RuleSlot>>,
}

/// A rule state: one tensor, or a list of them (`state a = for p in params { ... }`, one per
/// parameter or layer: K-FAC's factors).
#[derive(Clone, Debug)]
pub(crate) enum RuleSlot {
    /// One state variable.
    One(StateId),
    /// A list of state variables, `NAME/0`, `NAME/1`, ...
    List(Vec<StateId>),
}

impl RuleScopes {
    /// True while a rule is being applied.
    pub(crate) fn active(&self) -> bool {
        !self.scopes.is_empty()
    }

    /// The state `name` names, and whether it belongs to an outer scope than the innermost.
    pub(crate) fn find(&self, name: &str) -> Option<(RuleSlot, bool)> {
        let n = self.scopes.len();
        self.scopes
            .iter()
            .enumerate()
            .rev()
            .find_map(|(i, s)| s.get(name).map(|slot| (slot.clone(), i + 1 < n)))
    }
}

impl<'m> Tracer<'m, '_> {
    /// The rule `name` as the current algorithm's module sees it: its own rules, rules it
    /// imports by name, then the standard library's (stdlib/optim.rl).
    fn find_rule(&self, name: &str) -> Option<(ModuleId, &'m RuleDecl)> {
        let mods = self.lw.mods;
        let here = self.lw.module;
        let m = mods.get(here);
        if let Some(r) = m.find_rule(name) {
            return Some((here, r));
        }
        for (imp, res) in m.ast.imports.iter().zip(&m.imports) {
            if let (Some(names), Some(target)) = (&imp.names, res)
                && names.iter().any(|n| n.name == name)
                && let Some(r) = mods.get(*target).find_rule(name)
            {
                return Some((*target, r));
            }
        }
        let p = m.prelude?;
        mods.get(p).find_rule(name).map(|r| (p, r))
    }

    /// Every rule name of this kind the current module can use, for "did you mean".
    fn rule_names(&self, for_target: bool) -> Vec<&'m str> {
        let mods = self.lw.mods;
        let m = mods.get(self.lw.module);
        let mut rules: Vec<&'m RuleDecl> = m.ast.rules.iter().collect();
        if let Some(p) = m.prelude {
            rules.extend(mods.get(p).ast.rules.iter());
        }
        rules
            .into_iter()
            .filter(|r| r.for_target == for_target)
            .map(|r| r.name.name.as_str())
            .collect()
    }

    /// Applies the update rule `call` (`adam(lr = 1e-3)`) of `update NETS` to `params`;
    /// returns every state to assign with its new value: the rule's states, then the
    /// parameters.
    pub(crate) fn apply_rule(
        &mut self,
        call: &Expr,
        params: &[ParamGrad],
        update: &str,
        loss: &str,
        span: Span,
    ) -> R<Vec<(StateId, Tv)>> {
        let (name, args, nspan) = match &call.kind {
            ExprKind::Call(f, args) => match &f.kind {
                ExprKind::Name(n) => (n.as_str(), args.as_slice(), f.span),
                _ => return Err(not_a_rule(call.span)),
            },
            ExprKind::Name(n) => (n.as_str(), &[][..], call.span),
            _ => return Err(not_a_rule(call.span)),
        };
        let site = RuleSite {
            name,
            name_span: nspan,
            args,
            call_span: call.span,
            for_target: false,
            scope: format!("opt/{update}"),
            loss: Some(loss),
        };
        self.apply_rule_at(&site, params, span)
    }

    /// Applies the rule a `target` follows its net by (`polyak(critic, tau)`, the net already
    /// taken out of `args`) to `(target tensor, the net's new parameter)` pairs, given as
    /// `ParamGrad { id: target, param: target's value, grad: parameter }`.
    pub(crate) fn apply_target_rule(
        &mut self,
        site: &RuleSite<'_>,
        pairs: &[ParamGrad],
        span: Span,
    ) -> R<Vec<(StateId, Tv)>> {
        self.apply_rule_at(site, pairs, span)
    }

    fn apply_rule_at(
        &mut self,
        site: &RuleSite<'_>,
        params: &[ParamGrad],
        span: Span,
    ) -> R<Vec<(StateId, Tv)>> {
        let (name, args, nspan) = (site.name, site.args, site.name_span);
        let Some((module, rule)) = self.find_rule(name) else {
            let mut d = err(
                Code::UnknownName,
                format!(
                    "unknown {} `{name}`",
                    if site.for_target {
                        "target rule"
                    } else {
                        "update rule"
                    }
                ),
                nspan,
                "not a rule",
            )
            .maybe_hint(did_you_mean(name, self.rule_names(site.for_target)));
            if self.lw.mods.get(self.lw.module).prelude.is_none() {
                d = d.note(format!(
                    "the standard rules are in the standard library's `{PRELUDE}.rl`, which was not found: set RLC_STDLIB"
                ));
            }
            return Err(d);
        };
        if rule.for_target != site.for_target {
            let (is, used) = if rule.for_target {
                (
                    "a target rule (`for target`)",
                    "in a `target` declaration: `target t = NAME(net, ...)`",
                )
            } else {
                ("an update rule", "in `update NETS by NAME(...) on LOSS`")
            };
            return Err(err(
                Code::TypeMismatch,
                format!("`{name}` is {is}"),
                nspan,
                "used here",
            )
            .also(rule.name.span, "declared here")
            .hint(format!("use it {}", used.replace("NAME", name))));
        }
        let call_span = site.call_span;
        let update = site.scope.clone();
        // Hyperparameters are evaluated where the `update` is written (they may name params).
        let mut vals = Vec::with_capacity(args.len());
        for a in args {
            let v = self.eval(&a.value)?;
            check_hyperparameter(&v, a.value.span)?;
            vals.push(ArgVal {
                name: a.name.clone(),
                value: v,
                span: a.value.span,
            });
        }
        let ctx = self.ctx_of(module, None);
        self.enter_call(name, rule.name.span, call_span)?;
        let saved = std::mem::replace(&mut self.sets, StateWrites::Open(Vec::new()));
        // A target rule's `params` are the targets' tensors, which no loss reads as parameters.
        let rule_params = if site.for_target {
            Vec::new()
        } else {
            params.iter().map(|p| p.id).collect()
        };
        let outer_params = std::mem::replace(&mut self.rule_params, rule_params);
        let r = (|| {
            let mut frame = self.bind_args(name, &rule.params, rule.name.span, ctx, vals, call_span)?;
            let reads: Vec<Value> = params.iter().map(|p| Value::Tensor(p.param.clone())).collect();
            let grads: Vec<Value> = params.iter().map(|p| Value::Tensor(p.grad.clone())).collect();
            frame.insert(RULE_LISTS[0].into(), Value::List(reads));
            frame.insert(RULE_LISTS[1].into(), Value::List(grads));
            if let Some(l) = site.loss {
                frame.insert(RULE_LISTS[2].into(), Value::Loss(l.to_string()));
            }
            self.with_frame(ctx, frame, |t| t.rule_body(rule, params, &update, span))
        })();
        let sets = std::mem::replace(&mut self.sets, saved);
        self.rule_params = outer_params;
        self.calls.pop();
        let mut news = r.map_err(|d| called_from(d, name, call_span))?;
        if let StateWrites::Open(sets) = sets {
            // The rule's states first, so the parameters come last, as the old optimisers did.
            let mut all: Vec<(StateId, Tv)> = sets.into_iter().map(|(id, v, _)| (id, v)).collect();
            all.append(&mut news);
            news = all;
        }
        Ok(news)
    }

    /// The outer part, then `each` for every parameter; returns the parameters' new values
    /// (the states' come from `set`).
    fn rule_body(
        &mut self,
        rule: &'m RuleDecl,
        params: &[ParamGrad],
        update: &str,
        span: Span,
    ) -> R<Vec<(StateId, Tv)>> {
        let rname = rule.name.name.as_str();
        self.rule_scopes.scopes.push(HashMap::new());
        let r = (|| {
            self.rule_part(&rule.shared, rname, None, |s| format!("{update}/{rname}.{s}"))?;
            match &rule.step {
                RuleStep::Each(each) => self.rule_each(each, rname, params, span),
                RuleStep::All(e) => {
                    let v = self.eval(e)?;
                    let items = match v {
                        Value::List(items) if items.len() == params.len() => items,
                        other => {
                            return Err(err(
                                Code::TypeMismatch,
                                format!(
                                    "the rule's result must be a list of {} new parameter values, as `params`; this is {}",
                                    params.len(),
                                    other.describe()
                                ),
                                e.span,
                                "the rule's result",
                            )
                            .also(span, "in this update")
                            .hint("e.g. `unflatten(flatten(params) - step, params)`"));
                        }
                    };
                    let mut out = Vec::new();
                    for (v, p) in items.into_iter().zip(params) {
                        out.push((p.id, self.new_param_value(v, p, e.span, span, false)?));
                    }
                    Ok(out)
                }
            }
        })();
        self.rule_scopes.scopes.pop();
        r
    }

    /// `each (p, g) { ... }` for every parameter.
    fn rule_each(
        &mut self,
        each: &'m RuleEach,
        rname: &str,
        params: &[ParamGrad],
        span: Span,
    ) -> R<Vec<(StateId, Tv)>> {
        let mut out = Vec::new();
        for p in params {
            self.locals.push(HashMap::new());
            self.rule_scopes.scopes.push(HashMap::new());
            let r = (|| {
                self.bind(&each.param.name, Value::Tensor(p.param.clone()));
                self.bind(&each.grad.name, Value::Tensor(p.grad.clone()));
                let pname = self.lw.states.get(p.id).name.clone();
                self.rule_part(&each.part, rname, Some(p), |s| format!("{pname}/{rname}.{s}"))?;
                self.eval(&each.result)
            })();
            self.rule_scopes.scopes.pop();
            self.locals.pop();
            let v = r?;
            out.push((p.id, self.new_param_value(v, p, each.result.span, span, true)?));
        }
        Ok(out)
    }

    /// A parameter's new value, checked to have the parameter's type.
    fn new_param_value(&mut self, v: Value, p: &ParamGrad, at: Span, update: Span, each: bool) -> R<Tv> {
        match v {
            Value::Tensor(tv) if tv.ty == p.param.ty => Ok(self.here(&tv)),
            other => {
                let want = &p.param.ty;
                let pname = &self.lw.states.get(p.id).name;
                Err(err(
                    Code::TypeMismatch,
                    format!(
                        "the new value of parameter `{pname}` ({want}) is {}",
                        match &other {
                            Value::Tensor(t) => t.ty.to_string(),
                            o => o.describe(),
                        }
                    ),
                    at,
                    if each {
                        "the result of `each`"
                    } else {
                        "an item of the rule's result"
                    },
                )
                .also(update, "in this update")
                .hint(if each {
                    format!("the result of `each` is the parameter's new value, a {want} tensor")
                } else {
                    format!("a parameter's new value is a {want} tensor")
                }))
            }
        }
    }

    /// Creates the states of a part (binding each to its current value), then runs its
    /// statements.
    fn rule_part(
        &mut self,
        part: &'m RulePart,
        rule: &str,
        param: Option<&ParamGrad>,
        state_name: impl Fn(&str) -> String,
    ) -> R<()> {
        for st in &part.states {
            let name = state_name(&st.name.name);
            let (slot, value) = match self.eval(&st.init)? {
                // A list of initial values: one state per item.
                Value::List(items) => {
                    let mut ids = Vec::with_capacity(items.len());
                    let mut reads = Vec::with_capacity(items.len());
                    for (k, item) in items.into_iter().enumerate() {
                        let id = self.rule_state(item, st, rule, param, &format!("{name}/{k}"))?;
                        ids.push(id);
                        reads.push(Value::Tensor(self.state(id)));
                    }
                    (RuleSlot::List(ids), Value::List(reads))
                }
                v => {
                    let id = self.rule_state(v, st, rule, param, &name)?;
                    (RuleSlot::One(id), Value::Tensor(self.state(id)))
                }
            };
            self.rule_scopes
                .scopes
                .last_mut()
                .expect("a scope")
                .insert(st.name.name.clone(), slot);
            self.bind(&st.name.name, value);
        }
        for st in &part.stmts {
            self.stmt(st)?;
        }
        Ok(())
    }

    /// The state variable of `state NAME = INIT`: found by name if an earlier update made it
    /// (the same parameter updated by two losses shares its moments), else created.
    fn rule_state(
        &mut self,
        v: Value,
        st: &RuleState,
        rule: &str,
        param: Option<&ParamGrad>,
        name: &str,
    ) -> R<StateId> {
        let (ty, init) = match v {
            Value::Int(i) => (TensorType::scalar(DType::I32), Init::Fill(i as f64)),
            Value::Float(f) => (TensorType::f32(vec![]), Init::Fill(f)),
            Value::Tensor(tv) if param.is_some_and(|p| p.param.node == tv.node && tv.level == 0) => {
                (tv.ty.clone(), Init::CopyOf(param.expect("checked").id))
            }
            Value::Tensor(tv) => match &{
                let n = self.node(&tv);
                self.g().node(n).op.clone()
            } {
                Op::Const { values } if tv.ty.dtype != DType::Bool => {
                    let init = if values.len() == 1 {
                        Init::Fill(values[0])
                    } else {
                        Init::Values(values.clone())
                    };
                    (tv.ty.clone(), init)
                }
                _ => {
                    return Err(bad_state_init(
                        st,
                        &format!("a {} tensor computed in the graph", tv.ty),
                    ));
                }
            },
            other => return Err(bad_state_init(st, &other.describe())),
        };
        super::budget::check_tensor(&ty, self.lw.options.budget, st.span)?;
        if let Some(id) = self.lw.states.find(name) {
            if self.lw.states.get(id).ty != ty {
                return Err(err(
                    Code::TypeMismatch,
                    format!("rule state `{name}` already exists with another type"),
                    st.span,
                    "declared here",
                ));
            }
            return Ok(id);
        }
        Ok(self.lw.states.add(StateVar {
            name: name.to_string(),
            ty,
            kind: StateKind::Rule {
                rule: rule.to_string(),
                of: param.map(|p| p.id),
                slot: st.name.name.clone(),
            },
            init,
        }))
    }
}

impl Tracer<'_, '_> {
    /// `require COND, "message"`: an error at the condition (the caller adds the `update` that
    /// applied the rule) when it is false at compile time. A condition on a setting computed
    /// in the graph (a learning-rate schedule) is not known before the run: it is not checked.
    pub(crate) fn require(&mut self, r: &crate::syntax::ast::Require) -> R<()> {
        match self.eval(&r.cond)? {
            Value::Bool(true) => Ok(()),
            Value::Bool(false) => Err(err(
                Code::BadArgument,
                r.message.clone(),
                r.cond.span,
                "does not hold",
            )),
            Value::Tensor(t) if t.ty.dtype == DType::Bool => Ok(()),
            other => Err(err(
                Code::NotConstant,
                "the condition of `require` must be a boolean",
                r.cond.span,
                format!("this is {}", other.describe()),
            )),
        }
    }
}

fn not_a_rule(span: Span) -> crate::diag::Diagnostic {
    err(
        Code::BadArgument,
        "expected an update rule such as `adam(lr = 1e-3)`",
        span,
        "here",
    )
}

fn bad_state_init(st: &RuleState, what: &str) -> crate::diag::Diagnostic {
    err(
        Code::NotConstant,
        format!("rule state `{}` starts from {what}", st.name.name),
        st.init.span,
        "not a constant",
    )
    .hint("a rule's state starts from a constant (`0.0`, `zeros_like(p)`) or a copy of the parameter (`p`)")
}

/// A hyperparameter is a finite number or a scalar f32 tensor (a schedule computed each step,
/// e.g. a learning rate decaying with `step_count()`).
fn check_hyperparameter(v: &Value, span: Span) -> R<()> {
    match v {
        Value::Int(_) | Value::Bool(_) => Ok(()),
        Value::Float(f) if f.is_finite() => Ok(()),
        Value::Float(_) => Err(err(
            Code::BadArgument,
            "an update rule's setting must be finite",
            span,
            "not finite",
        )),
        Value::Tensor(t) if t.ty == TensorType::f32(vec![]) => Ok(()),
        // A loss the rule evaluates at candidate parameters (TRPO's KL constraint).
        Value::Loss(_) => Ok(()),
        other => Err(err(
            Code::NotConstant,
            format!(
                "an update rule's settings are numbers or scalar f32 tensors; this is {}",
                match other {
                    Value::Tensor(t) => format!("a {} tensor", t.ty),
                    o => o.describe(),
                }
            ),
            span,
            "not a setting",
        )),
    }
}
