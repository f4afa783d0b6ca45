//! Data declarations and the schedule, checked and turned into plain descriptions the
//! runtime's trainer follows.

use super::budget;
use super::noise::Noise;
use super::tracer::{R, Tracer, err};
use super::value::Value;
use crate::diag::{Code, Diagnostic, Span, did_you_mean};
use crate::ir::TensorType;
use crate::signature::EnvField;
use crate::syntax::ast::{DataDecl, DataKind, Decl, SchedStmt};

/// Where a stored field's values come from.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldSource {
    /// From the environment step.
    Env(EnvField),
    /// An extra output of the acting policy (a record field).
    Policy(String),
    /// Computed over the whole rollout by its `derive` declaration.
    Derived,
}

/// One stored field.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldSpec {
    /// Name.
    pub name: String,
    /// Type of one item (f32 or i32).
    pub ty: TensorType,
    /// Where it comes from.
    pub source: FieldSource,
}

/// A checked data declaration.
#[derive(Clone, Debug, PartialEq)]
pub struct DataSpec {
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: DataKind,
    /// Fields in declaration order.
    pub fields: Vec<FieldSpec>,
    /// Capacity in items (replay) or sequences (sequence replay).
    pub capacity: usize,
    /// Rollout steps T or sequence length T.
    pub steps: usize,
    /// Prioritized replay: alpha, beta at the start and at the end, steps to anneal over.
    pub alpha: f64,
    /// Initial importance-sampling exponent.
    pub beta: f64,
    /// Final importance-sampling exponent.
    pub beta_end: f64,
    /// Sample calls over which beta anneals.
    pub beta_steps: usize,
    /// Replay of n-step windows (`nstep N`): each item is a window of N steps from its
    /// start, per-step fields `[N]`; 0 for one-step transitions.
    pub nstep: usize,
}

impl DataSpec {
    /// Bytes the runtime allocates up front for this store with `n_envs` environments:
    /// `capacity` rows (replay), `steps x n_envs` (rollout) or `capacity x length` (sequence
    /// replay) rows of every field; `None` if that is more than 2^64.
    pub fn bytes(&self, n_envs: usize) -> Option<u64> {
        let rows = match self.kind {
            DataKind::Replay | DataKind::PrioritizedReplay => Some(self.capacity),
            DataKind::Rollout => self.steps.checked_mul(n_envs),
            DataKind::SequenceReplay => self.capacity.checked_mul(self.steps),
        };
        let row_bytes = self
            .fields
            .iter()
            .try_fold(0u64, |acc, f| acc.checked_add(f.ty.checked_bytes()?));
        u64::try_from(rows?).ok()?.checked_mul(row_bytes?)
    }
}

/// How the trainer interleaves acting and training.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    /// Environment copies stepped together.
    pub envs: usize,
    /// Environment steps with uniformly random actions before acting with the policy.
    pub warmup: usize,
    /// Policy used to act.
    pub act: String,
    /// Data sources transitions are stored into.
    pub into: Vec<String>,
    /// Training calls per trigger.
    pub train_count: usize,
    /// Environment steps between triggers (replay); rollouts trigger when full.
    pub train_every: usize,
    /// Passes over a rollout (on-policy).
    pub epochs: usize,
    /// Minibatches per epoch (on-policy).
    pub minibatches: usize,
    /// Environment steps before the first training call.
    pub train_after: usize,
    /// Policy used for evaluation.
    pub eval: String,
    /// Exploration noise the trainer adds to the acting policy's actions.
    pub noise: Option<Noise>,
}

fn span_of(stmt: &SchedStmt) -> Option<Span> {
    match stmt {
        SchedStmt::Envs(e) | SchedStmt::Warmup(e) => Some(e.span),
        SchedStmt::Act { span, .. } | SchedStmt::Train { span, .. } => Some(*span),
        SchedStmt::Eval(i) => Some(i.span),
    }
}

impl Tracer<'_, '_> {
    pub(super) fn const_usize(&mut self, e: &crate::syntax::ast::Expr, what: &str, min: usize) -> R<usize> {
        let v = self.const_int(e)?;
        if v < min as i64 {
            return Err(err(
                Code::BadArgument,
                format!("{what} must be at least {min}"),
                e.span,
                format!("this is {v}"),
            ));
        }
        Ok(v as usize)
    }

    pub(super) fn const_f64(&mut self, e: &crate::syntax::ast::Expr) -> R<f64> {
        match self.eval(e)? {
            Value::Int(i) => Ok(i as f64),
            Value::Float(f) => Ok(f),
            other => Err(err(
                Code::NotConstant,
                "expected a constant number",
                e.span,
                format!("this is {}", other.describe()),
            )),
        }
    }

    /// Checks a data declaration (fields resolved with the environment; options known).
    pub(crate) fn data_spec(
        &mut self,
        d: &DataDecl,
        policy_fields: &[(String, TensorType)],
        n_envs: usize,
    ) -> R<DataSpec> {
        let allowed: &[&str] = match d.kind {
            DataKind::Replay => &["capacity", "nstep"],
            DataKind::PrioritizedReplay => &["capacity", "alpha", "beta", "beta_end", "beta_steps", "nstep"],
            DataKind::Rollout => &["steps"],
            DataKind::SequenceReplay => &["capacity", "length"],
        };
        let mut spec = DataSpec {
            name: d.name.name.clone(),
            kind: d.kind,
            fields: Vec::new(),
            capacity: 0,
            steps: 0,
            alpha: 0.6,
            beta: 0.4,
            beta_end: 1.0,
            beta_steps: 100_000,
            nstep: 0,
        };
        for (k, v) in &d.options {
            match k.name.as_str() {
                "capacity" if allowed.contains(&"capacity") => {
                    spec.capacity = self.const_usize(v, "capacity", 1)?
                }
                "steps" | "length" if allowed.contains(&k.name.as_str()) => {
                    spec.steps = self.const_usize(v, &k.name, 1)?
                }
                "alpha" | "beta" | "beta_end" if allowed.contains(&k.name.as_str()) => {
                    let x = self.const_f64(v)?;
                    if !(0.0..=1.0).contains(&x) && k.name != "alpha" || x < 0.0 {
                        return Err(err(
                            Code::BadArgument,
                            format!("`{}` out of range", k.name),
                            v.span,
                            "invalid",
                        ));
                    }
                    match k.name.as_str() {
                        "alpha" => spec.alpha = x,
                        "beta" => spec.beta = x,
                        _ => spec.beta_end = x,
                    }
                }
                "beta_steps" if allowed.contains(&"beta_steps") => {
                    spec.beta_steps = self.const_usize(v, "beta_steps", 0)?
                }
                "nstep" if allowed.contains(&"nstep") => spec.nstep = self.const_usize(v, "nstep", 1)?,
                other => {
                    return Err(err(
                        Code::UnknownField,
                        format!("{} `{}` has no option `{other}`", d.kind.word(), d.name.name),
                        k.span,
                        "unknown option",
                    )
                    .maybe_hint(did_you_mean(other, allowed.iter().copied()))
                    .note(format!("options: {}", allowed.join(", "))));
                }
            }
        }
        let need = match d.kind {
            DataKind::Rollout | DataKind::SequenceReplay if spec.steps == 0 => {
                Some(if d.kind == DataKind::Rollout {
                    "steps"
                } else {
                    "length"
                })
            }
            DataKind::Replay | DataKind::PrioritizedReplay | DataKind::SequenceReplay
                if spec.capacity == 0 =>
            {
                Some("capacity")
            }
            _ => None,
        };
        if let Some(n) = need {
            return Err(err(
                Code::Missing,
                format!("{} `{}` needs `{n}`", d.kind.word(), d.name.name),
                d.name.span,
                format!("add `{n} ...`"),
            ));
        }
        let _ = n_envs;
        for (name, te) in &d.fields {
            if spec.fields.iter().any(|f| f.name == name.name) {
                return Err(err(
                    Code::Duplicate,
                    format!("field `{}` is declared twice", name.name),
                    name.span,
                    "again",
                ));
            }
            let ty = self.resolve_type(te)?;
            if ty.dtype == crate::ir::DType::Bool {
                return Err(err(
                    Code::TypeMismatch,
                    "stored fields are f32 or i32",
                    te.span,
                    "bool",
                )
                .hint("store flags as `f32` (1.0 / 0.0)"));
            }
            let source = if let Some(field) = EnvField::from_name(&name.name) {
                if field == EnvField::Mask && spec.nstep == 0 {
                    return Err(err(
                        Code::DataField,
                        format!(
                            "`mask` is a field of n-step replay, and `{}` has no `nstep`",
                            d.name.name
                        ),
                        name.span,
                        "only in an n-step window",
                    )
                    .hint("declare `replay D capacity C nstep N of (..., mask: f32[N])`"));
                }
                let want = match field {
                    EnvField::S | EnvField::S2 => self.resolve_type(&type_named("obs", te.span))?,
                    EnvField::A => self.resolve_type(&type_named("act", te.span))?,
                    // An n-step window holds the next N of each per-step field (time axis last).
                    f if f.per_step() && spec.nstep > 0 => TensorType::f32(vec![spec.nstep]),
                    _ => TensorType::f32(vec![]),
                };
                if want != ty {
                    let e = err(
                        Code::TypeMismatch,
                        format!(
                            "field `{}` holds {} from the environment, not {ty}",
                            name.name, want
                        ),
                        te.span,
                        format!("declared as {ty}"),
                    );
                    return Err(if spec.nstep > 0 && field.per_step() {
                        e.note(format!(
                            "`nstep {}` stores the next {} values of each per-step field",
                            spec.nstep, spec.nstep
                        ))
                    } else {
                        e
                    });
                }
                FieldSource::Env(field)
            } else {
                match policy_fields.iter().find(|(n, _)| *n == name.name) {
                    Some((_, pty)) if *pty == ty => FieldSource::Policy(name.name.clone()),
                    Some((_, pty)) => {
                        return Err(err(
                            Code::TypeMismatch,
                            format!(
                                "the acting policy outputs `{}` as {pty}, but it is declared as {ty}",
                                name.name
                            ),
                            te.span,
                            "declared here",
                        ));
                    }
                    None => {
                        let env_fields: Vec<&str> = EnvField::ALL.iter().map(|f| f.name()).collect();
                        let mut known = env_fields.clone();
                        known.extend(policy_fields.iter().map(|(n, _)| n.as_str()));
                        return Err(err(
                            Code::DataField,
                            format!("nothing provides field `{}` of `{}`", name.name, d.name.name),
                            name.span,
                            "not provided",
                        )
                        .maybe_hint(did_you_mean(&name.name, known.iter().copied()))
                        .note(format!("environment fields: {}", env_fields.join(", ")))
                        .note("other fields must be outputs of the acting policy: `policy p(s) = { action: ..., mu: ... }`"));
                    }
                }
            };
            spec.fields.push(FieldSpec {
                name: name.name.clone(),
                ty,
                source,
            });
        }
        self.check_data_size(d, &spec, n_envs)?;
        Ok(spec)
    }

    /// Refuses a data store larger than the memory budget: the runtime allocates `capacity`
    /// rows (replay), `steps x n_envs` rows (rollout) or `capacity x length` rows (sequence
    /// replay) of every field up front.
    fn check_data_size(&self, d: &DataDecl, spec: &DataSpec, n_envs: usize) -> R<()> {
        let what = format!("{} `{}`", d.kind.word(), d.name.name);
        budget::check_bytes(&what, spec.bytes(n_envs), self.lw.options.budget, d.name.span)
    }

    /// Checks the schedule against the program's policies and data.
    pub(crate) fn schedule(&mut self) -> R<Schedule> {
        let alg = self.lw.alg;
        let scheds: Vec<&crate::syntax::ast::ScheduleDecl> = alg
            .decls
            .iter()
            .filter_map(|d| match d {
                Decl::Schedule(s) => Some(s),
                _ => None,
            })
            .collect();
        let Some(s) = scheds.first() else {
            return Err(err(
                Code::Schedule,
                format!("algorithm `{}` has no schedule", alg.name.name),
                alg.name.span,
                "add `schedule { act POLICY into DATA; train }`",
            ));
        };
        if let Some(second) = scheds.get(1) {
            return Err(Diagnostic::new(Code::Duplicate, "more than one schedule")
                .at(second.span, "second schedule")
                .also(s.span, "first schedule"));
        }
        let mut sch = Schedule {
            envs: 1,
            warmup: 0,
            act: String::new(),
            into: Vec::new(),
            train_count: 0,
            train_every: 1,
            epochs: 1,
            minibatches: 1,
            train_after: 0,
            eval: String::new(),
            noise: None,
        };
        let mut have_train = false;
        let mut train_options: &[(crate::syntax::ast::Ident, crate::syntax::ast::Expr)] = &[];
        for st in &s.stmts {
            match st {
                SchedStmt::Envs(e) => sch.envs = self.const_usize(e, "envs", 1)?,
                SchedStmt::Warmup(e) => sch.warmup = self.const_usize(e, "warmup", 0)?,
                SchedStmt::Act {
                    policy, into, noise, ..
                } => {
                    if !matches!(self.lw.decl(&policy.name), Some(Decl::Policy(_))) {
                        return Err(self.not_a("policy", policy));
                    }
                    sch.act = policy.name.clone();
                    for d in into {
                        if !matches!(self.lw.decl(&d.name), Some(Decl::Data(_))) {
                            return Err(self.not_a("data source", d));
                        }
                        sch.into.push(d.name.clone());
                    }
                    if let Some(e) = noise {
                        sch.noise = Some(self.noise(e, into)?);
                    }
                }
                SchedStmt::Train { count, options, .. } => {
                    have_train = true;
                    train_options = options.as_slice();
                    sch.train_count = match count {
                        Some(c) => self.const_usize(c, "the number of training calls", 1)?,
                        None => 1,
                    };
                    for (k, v) in options {
                        match k.name.as_str() {
                            "every" => sch.train_every = self.const_usize(v, "every", 1)?,
                            "epochs" => sch.epochs = self.const_usize(v, "epochs", 1)?,
                            "minibatches" => sch.minibatches = self.const_usize(v, "minibatches", 1)?,
                            _ => sch.train_after = self.const_usize(v, "after", 0)?,
                        }
                    }
                }
                SchedStmt::Eval(p) => {
                    if !matches!(self.lw.decl(&p.name), Some(Decl::Policy(_))) {
                        return Err(self.not_a("policy", p));
                    }
                    sch.eval = p.name.clone();
                }
            }
        }
        let _ = span_of;
        if sch.act.is_empty() {
            return Err(err(
                Code::Schedule,
                "the schedule never acts",
                s.span,
                "add `act POLICY into DATA`",
            ));
        }
        if !have_train {
            return Err(err(
                Code::Schedule,
                "the schedule never trains",
                s.span,
                "add `train` (e.g. `train 1 every 1`)",
            ));
        }
        self.check_train_options(&sch, train_options)?;
        if sch.eval.is_empty() {
            sch.eval = if matches!(self.lw.decl("greedy"), Some(Decl::Policy(_))) {
                "greedy".into()
            } else {
                sch.act.clone()
            };
        }
        Ok(sch)
    }

    fn not_a(&self, what: &str, name: &crate::syntax::ast::Ident) -> Diagnostic {
        let cands: Vec<&str> = self
            .lw
            .alg
            .decls
            .iter()
            .filter(|d| match what {
                "policy" => matches!(d, Decl::Policy(_)),
                _ => matches!(d, Decl::Data(_)),
            })
            .filter_map(|d| d.name().map(|n| n.name.as_str()))
            .collect();
        let found = self
            .lw
            .decl(&name.name)
            .map(|d| format!("a {}", d.kind_word()))
            .unwrap_or_else(|| "not defined".into());
        err(
            Code::Schedule,
            format!("`{}` is not a {what}", name.name),
            name.span,
            found,
        )
        .maybe_hint(did_you_mean(&name.name, cands.iter().copied()))
    }
}

fn type_named(n: &str, span: Span) -> crate::syntax::ast::TypeExpr {
    crate::syntax::ast::TypeExpr {
        base: Some(crate::syntax::ast::Ident { name: n.into(), span }),
        shape: None,
        span,
    }
}
