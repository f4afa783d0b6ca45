//! Lowering a checked algorithm to its entry points: `act_<policy>`, `eval`, `train` (forward,
//! backward, optimiser steps and target updates in one graph) and `net_<name>` helpers.

use super::derive::lower_derive;
use super::policy::{lower_net_entry, lower_policy};
use super::program::{LowerOptions, Lowerer};
use super::schedule::{DataSpec, Schedule};
use super::states::{add_learnable, instantiate_net};
use super::targets::{TargetSpec, add_target};
use super::tracer::{Lowered, Tracer, err};
use super::train::{BatchMode, lower_train};
use crate::check::{ModuleId, Modules};
use crate::diag::{Code, Diagnostic, did_you_mean};
use crate::env_spec::{ActionSpace, EnvSpec};
use crate::ir::{Graph, StateKind, StateTable, verify};
use crate::signature::Signature;
use crate::syntax::ast::Decl;

/// What an entry point is for.
#[derive(Clone, Debug, PartialEq)]
pub enum EntryKind {
    /// Acting with a policy on a batch of observations (`obs: f32[N, O]`).
    Act {
        /// The policy.
        policy: String,
    },
    /// Greedy evaluation (the schedule's eval policy) at the evaluation batch size.
    Eval {
        /// The policy.
        policy: String,
    },
    /// One training step: every loss, its gradients, the optimiser steps, the targets.
    Train,
    /// Computing a rollout's derived fields over the whole rollout.
    Derive {
        /// The rollout.
        data: String,
    },
    /// Applying a net to one item (batch 1), for inspection.
    Net {
        /// The net.
        net: String,
    },
}

/// A compiled entry point.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Name (`act_explore`, `train`, `eval`, `net_critic`).
    pub name: String,
    /// Role.
    pub kind: EntryKind,
    /// The graph.
    pub graph: Graph,
    /// What each input and output of the graph carries, in graph order: the runtime feeds and
    /// reads entries by these roles.
    pub signature: Signature,
}

/// A fully lowered algorithm.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// Algorithm name.
    pub name: String,
    /// The environment it was compiled for.
    pub env: EnvSpec,
    /// All state.
    pub states: StateTable,
    /// Entry points.
    pub entries: Vec<Entry>,
    /// Data declarations.
    pub data: Vec<DataSpec>,
    /// The schedule.
    pub schedule: Schedule,
    /// Loss names, in declaration order.
    pub losses: Vec<String>,
    /// Hyperparameter values used, in declaration order.
    pub params: Vec<(String, String)>,
    /// Targets.
    pub targets: Vec<TargetSpec>,
    /// How the training step reads each data source it uses.
    pub reads: Vec<(String, BatchMode)>,
    /// The run-time index checks (`super::bounds`); check `k` failing sets the
    /// [`super::bounds::INDEX_FAULT_STATE`] state to `k` (1-based).
    pub index_checks: Vec<super::bounds::IndexCheck>,
}

impl Compiled {
    /// The run-time index check a nonzero index-fault state value names.
    pub fn index_check(&self, fault: i32) -> Option<&super::bounds::IndexCheck> {
        usize::try_from(fault)
            .ok()
            .and_then(|k| k.checked_sub(1))
            .and_then(|k| self.index_checks.get(k))
    }

    /// The index-fault state, when some entry has run-time index checks.
    pub fn index_fault_state(&self) -> Option<crate::ir::StateId> {
        self.states.find(super::bounds::INDEX_FAULT_STATE)
    }

    /// The entry with this name.
    pub fn entry(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.name == name)
    }

    /// Data declaration by name.
    pub fn data_spec(&self, name: &str) -> Option<&DataSpec> {
        self.data.iter().find(|d| d.name == name)
    }

    /// Total number of trainable parameters (net parameters and learnables).
    pub fn parameter_count(&self) -> usize {
        self.states
            .iter()
            .filter(|(_, v)| matches!(v.kind, StateKind::Param { .. } | StateKind::Learnable))
            .map(|(_, v)| v.ty.numel())
            .sum()
    }
}

/// Lowers algorithm `alg_index` of `module` for `env`.
pub fn lower_algorithm(
    mods: &Modules,
    module: ModuleId,
    alg_index: usize,
    env: EnvSpec,
    options: LowerOptions,
) -> Result<Compiled, Vec<Diagnostic>> {
    let mut lw = Lowerer::new(mods, module, alg_index, env, options)?;
    let mut errors = Vec::new();
    check_env_decl(&lw, &mut errors);
    // Hyperparameters first: everything else may depend on them.
    let mut params = Vec::new();
    for d in &lw.alg.decls {
        if let Decl::Param(p) = d {
            let mut t = Tracer::new(&mut lw);
            match t.param_value(&p.name.name, p.name.span) {
                Ok(v) => params.push((p.name.name.clone(), v.to_string())),
                Err(e) => errors.push(e),
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    // Parameters are created by building each net from its declared input types.
    lw.instantiating = true;
    for d in &lw.alg.decls {
        if let Decl::Net(n) = d {
            let mut t = Tracer::new(&mut lw);
            if let Err(e) = instantiate_net(&mut t, &n.name.name, n.name.span) {
                errors.push(e);
            }
        }
    }
    lw.instantiating = false;
    for d in &lw.alg.decls {
        let mut t = Tracer::new(&mut lw);
        let r = match d {
            Decl::Learnable(l) => add_learnable(&mut t, l),
            Decl::State(s) => super::program_state::add_program_state(&mut t, s),
            _ => Ok(()),
        };
        if let Err(e) = r {
            errors.push(e);
        }
    }
    let mut targets = Vec::new();
    for d in &lw.alg.decls {
        if let Decl::Target(td) = d {
            let mut t = Tracer::new(&mut lw);
            match add_target(&mut t, td) {
                Ok(s) => targets.push(s),
                Err(e) => errors.push(e),
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let schedule = {
        let mut t = Tracer::new(&mut lw);
        t.schedule()
    };
    let schedule = match schedule {
        Ok(s) => s,
        Err(e) => {
            errors.push(e);
            return Err(errors);
        }
    };
    let mut entries = Vec::new();
    // Acting entries (the acting policy's extra outputs decide which fields data can store).
    let mut policy_fields = Vec::new();
    for d in &lw.alg.decls {
        if let Decl::Policy(p) = d {
            match lower_policy(&mut lw, &p.name.name, schedule.envs, true, p.name.span) {
                Ok((Lowered { graph, signature }, extras)) => {
                    if p.name.name == schedule.act {
                        policy_fields = extras;
                    }
                    entries.push(Entry {
                        name: format!("act_{}", p.name.name),
                        kind: EntryKind::Act {
                            policy: p.name.name.clone(),
                        },
                        graph,
                        signature,
                    });
                }
                Err(e) => errors.push(e),
            }
        }
    }
    let mut data = Vec::new();
    for d in &lw.alg.decls {
        if let Decl::Data(dd) = d {
            let mut t = Tracer::new(&mut lw);
            match t.data_spec(dd, &policy_fields, schedule.envs) {
                Ok(s) => data.push(s),
                Err(e) => errors.push(e),
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    for d in &lw.alg.decls {
        if let Decl::Derive(dd) = d {
            match lower_derive(&mut lw, dd, &mut data, &schedule) {
                Ok(Lowered { graph, signature }) => entries.push(Entry {
                    name: format!("derive_{}", dd.data.name),
                    kind: EntryKind::Derive {
                        data: dd.data.name.clone(),
                    },
                    graph,
                    signature,
                }),
                Err(e) => errors.push(e),
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut reads = Vec::new();
    match lower_train(&mut lw, &data, &schedule, &targets, &mut reads) {
        Ok(Lowered { graph, signature }) => entries.push(Entry {
            name: "train".into(),
            kind: EntryKind::Train,
            graph,
            signature,
        }),
        Err(mut e) => errors.append(&mut e),
    }
    let (eval_batch, alg_span) = (lw.options.eval_batch, lw.alg.name.span);
    match lower_policy(&mut lw, &schedule.eval, eval_batch, false, alg_span) {
        Ok((Lowered { graph, signature }, _)) => entries.push(Entry {
            name: "eval".into(),
            kind: EntryKind::Eval {
                policy: schedule.eval.clone(),
            },
            graph,
            signature,
        }),
        Err(e) => errors.push(e),
    }
    for d in &lw.alg.decls {
        if let Decl::Net(n) = d {
            match lower_net_entry(&mut lw, &n.name.name, n.name.span) {
                Ok(Lowered { graph, signature }) => entries.push(Entry {
                    name: format!("net_{}", n.name.name),
                    kind: EntryKind::Net {
                        net: n.name.name.clone(),
                    },
                    graph,
                    signature,
                }),
                Err(e) => errors.push(e),
            }
        }
    }
    for e in &entries {
        if let Err(v) = verify(&e.graph) {
            errors.push(Diagnostic::internal(format!(
                "entry `{}` fails verification: {}",
                e.name, v.0
            )));
        }
        if let Err(v) = e.signature.check(&e.graph) {
            errors.push(Diagnostic::internal(format!(
                "entry `{}` has a signature that does not fit its graph: {v}",
                e.name
            )));
        }
    }
    // Each tensor and store fits the budget; together they must too (parameters, optimiser
    // and target state, and every data store live for the whole run).
    let states = lw.states.iter().map(|(_, v)| v.ty.checked_bytes());
    let stores = data.iter().map(|d| d.bytes(schedule.envs));
    let total = states.chain(stores).try_fold(0u64, |acc, b| acc.checked_add(b?));
    if let Err(e) = super::budget::check_bytes(
        "the program's parameters, state and data stores together",
        total,
        lw.options.budget,
        lw.alg.name.span,
    ) {
        errors.push(e);
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let losses = lw
        .alg
        .decls
        .iter()
        .filter_map(|d| match d {
            Decl::Loss(l) => Some(l.name.name.clone()),
            _ => None,
        })
        .collect();
    Ok(Compiled {
        name: lw.alg.name.name.clone(),
        env: lw.env.clone(),
        states: lw.states,
        entries,
        data,
        schedule,
        losses,
        params,
        targets,
        reads,
        index_checks: lw.index_checks,
    })
}

fn check_env_decl(lw: &Lowerer<'_>, errors: &mut Vec<Diagnostic>) {
    for d in &lw.alg.decls {
        if let Decl::Env(e) = d {
            let kind = e.kind.name.as_str();
            let want_discrete = match kind {
                "discrete" => Some(true),
                "continuous" => Some(false),
                "any" => None,
                other => {
                    errors.push(
                        err(
                            Code::UnknownName,
                            format!("unknown action-space kind `{other}`"),
                            e.kind.span,
                            "not a kind",
                        )
                        .maybe_hint(did_you_mean(other, ["discrete", "continuous", "any"])),
                    );
                    continue;
                }
            };
            if let Some(w) = want_discrete
                && w != lw.env.action.is_discrete()
            {
                let have = match &lw.env.action {
                    ActionSpace::Discrete { n } => format!("{n} discrete actions"),
                    ActionSpace::Continuous { dim, .. } => {
                        format!("a continuous action space of dimension {dim}")
                    }
                };
                errors.push(
                    err(
                        Code::ActionSpaceKind,
                        format!(
                            "`{}` needs a {kind} action space, but `{}` has {have}",
                            lw.alg.name.name, lw.env.id
                        ),
                        e.kind.span,
                        format!("requires {kind} actions"),
                    )
                    .note(format!(
                        "choose another environment with --env, or an algorithm for {}",
                        if w {
                            "continuous control"
                        } else {
                            "discrete actions"
                        }
                    )),
                );
            }
        }
    }
}
