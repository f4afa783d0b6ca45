//! Building a trainer: each function below builds one part of it (the compiled entry points,
//! the storage, the device replays, the per-step buffers, ...). `Trainer::new` calls them in
//! the order the backend sees them (compilation order fixes entry ids); they know nothing of
//! the trainer itself.

use super::feed::{self, Feed};
use super::keys;
use super::store::Store;
use crate::data::{NStepAdder, Part};
use crate::error::RunError;
use rlc_compiler::backend::{Backend, EntryId, ReplayId};
use rlc_compiler::ir::{DType, Graph};
use rlc_compiler::lower::{Compiled, DataSpec, EntryKind, FieldSource, FieldSpec};
use rlc_compiler::signature::{EnvField, InputRole, OutputRole, Signature};

/// A rollout's derive entry: (store index, entry, graph, signature, f32 output and i32
/// input buffers).
pub(super) type Derive<'a> = (
    usize,
    EntryId,
    &'a Graph,
    &'a Signature,
    Vec<Vec<f32>>,
    Vec<Vec<i32>>,
);

/// Where one stored field's values come from in a vector step.
#[derive(Clone, Copy, Debug)]
pub(super) enum Src {
    Obs,
    Action,
    Reward,
    NextObs,
    Terminated,
    Truncated,
    End,
    /// 1 for every step (an n-step window's `mask`; its padding is 0).
    One,
    Extra(usize),
    /// Filled in later by the rollout's `derive` entry point.
    Derived,
}

/// The three entry points the schedule calls, compiled.
pub(super) struct Entries<'a> {
    pub(super) act: EntryId,
    pub(super) act_graph: &'a Graph,
    pub(super) act_signature: &'a Signature,
    pub(super) eval: EntryId,
    pub(super) eval_signature: &'a Signature,
    pub(super) train: EntryId,
    pub(super) train_graph: &'a Graph,
    pub(super) train_signature: &'a Signature,
}

/// Finds the acting, evaluation and training entry points, checks the evaluation batch
/// against `eval_episodes`, initialises the backend's state from the run's `seed` and compiles
/// the three (in this order: act, eval, train).
pub(super) fn compile_entries<'a>(
    program: &'a Compiled,
    backend: &mut dyn Backend,
    eval_episodes: usize,
    seed: u64,
) -> Result<Entries<'a>, RunError> {
    let act_name = format!("act_{}", program.schedule.act);
    let act_entry = program
        .entry(&act_name)
        .ok_or_else(|| RunError::Setup(format!("no entry `{act_name}`")))?;
    let eval_entry = program
        .entry("eval")
        .ok_or_else(|| RunError::Setup("no entry `eval`".into()))?;
    let train_entry = program
        .entry("train")
        .ok_or_else(|| RunError::Setup("no entry `train`".into()))?;
    let obs = eval_entry
        .signature
        .input(&InputRole::Observation)
        .ok_or_else(|| RunError::Setup("the eval entry point reads no observations".into()))?;
    let eval_batch = eval_entry.graph.ty(eval_entry.graph.inputs[obs]).shape[0];
    if eval_batch != eval_episodes {
        return Err(RunError::Setup(format!(
            "the eval entry point was compiled for {eval_batch} episodes, not {}",
            eval_episodes
        )));
    }
    backend.init_state(&program.states, keys::derive(seed, keys::Purpose::Init))?;
    Ok(Entries {
        act: backend.compile(&act_name, &act_entry.graph)?,
        act_graph: &act_entry.graph,
        act_signature: &act_entry.signature,
        eval: backend.compile("eval", &eval_entry.graph)?,
        eval_signature: &eval_entry.signature,
        train: backend.compile("train", &train_entry.graph)?,
        train_graph: &train_entry.graph,
        train_signature: &train_entry.signature,
    })
}

/// The storage of every data declaration, for `n` environments.
pub(super) fn stores(program: &Compiled, n: usize) -> Result<Vec<Store>, RunError> {
    program.data.iter().map(|d| Ok(Store::new(d, n)?)).collect()
}

/// The store index of each storage the schedule writes transitions into.
pub(super) fn schedule_targets(program: &Compiled) -> Vec<usize> {
    program
        .schedule
        .into
        .iter()
        .map(|name| {
            program
                .data
                .iter()
                .position(|d| d.name == *name)
                .expect("checked by the compiler")
        })
        .collect()
}

/// Random warm-up actions come from no policy, so they cannot fill fields the acting policy
/// outputs.
pub(super) fn check_warmup(program: &Compiled, into: &[usize]) -> Result<(), RunError> {
    let uses_policy_fields = into.iter().any(|i| {
        program.data[*i]
            .fields
            .iter()
            .any(|f| matches!(f.source, FieldSource::Policy(_)))
    });
    if program.schedule.warmup > 0 && uses_policy_fields {
        return Err(RunError::Setup(
            "random warm-up actions cannot provide the acting policy's extra outputs; remove `warmup`".into(),
        ));
    }
    Ok(())
}

/// Per store: the backend's own replay buffer mirroring it, when training samples it and the
/// backend keeps replays (`None` otherwise).
pub(super) fn device_replays(
    program: &Compiled,
    backend: &mut dyn Backend,
    feed: &Feed,
    stores: &[Store],
) -> Vec<Option<ReplayId>> {
    // Uniform and sequence replay that training samples go to the backend when it keeps
    // its own (OpenCL: device memory), so batches are drawn there instead of copied in.
    let mut on_device = vec![None; stores.len()];
    for src in &feed.sources {
        let (numels, capacity, steps): (Vec<usize>, _, _) = match (src.mode, &stores[src.store]) {
            (feed::Mode::Sample(_), Store::Replay(r)) => (
                (0..r.fields().len()).map(|f| r.columns().numel(f)).collect(),
                r.capacity(),
                1,
            ),
            (feed::Mode::Sequences(_), Store::Sequence { replay, .. }) => (
                (0..replay.fields().len())
                    .map(|f| replay.columns().numel(f))
                    .collect(),
                replay.capacity(),
                replay.length(),
            ),
            _ => continue,
        };
        // A buffer the device cannot hold (a GPU's largest allocation) stays on the host,
        // sampled there and copied in per call as on the CPU backends.
        on_device[src.store] = backend
            .device_replay()
            .map_or(Ok(None), |r| r.replay_create(&numels, capacity, steps))
            .unwrap_or_else(|e| {
                eprintln!(
                    "note: replay `{}` stays on the host ({e})",
                    program.data[src.store].name
                );
                None
            });
    }
    on_device
}

/// The source of every field of every storage the schedule writes to.
pub(super) fn field_plan(
    program: &Compiled,
    into: &[usize],
    act: &Signature,
) -> Result<Vec<Vec<Src>>, RunError> {
    // The acting entry's outputs after the action, in order (the trainer's extra buffers).
    let extras: Vec<&OutputRole> = act.outputs.iter().skip(1).collect();
    into.iter()
        .map(|si| {
            program.data[*si]
                .fields
                .iter()
                .map(|f| match &f.source {
                    FieldSource::Env(field) => Ok(match field {
                        EnvField::S => Src::Obs,
                        EnvField::A => Src::Action,
                        EnvField::R => Src::Reward,
                        EnvField::S2 => Src::NextObs,
                        EnvField::Done | EnvField::Terminated => Src::Terminated,
                        EnvField::Truncated => Src::Truncated,
                        EnvField::End => Src::End,
                        EnvField::Mask => Src::One,
                    }),
                    FieldSource::Derived => Ok(Src::Derived),
                    FieldSource::Policy(name) => extras
                        .iter()
                        .position(|x| matches!(x, OutputRole::Extra { field } if field == name))
                        .map(Src::Extra)
                        .ok_or_else(|| {
                            RunError::Setup(format!("the acting policy does not output `{name}`"))
                        }),
                })
                .collect()
        })
        .collect()
}

/// Buffers for the acting entry point's outputs after the action (the policy's extras): as
/// floats, and, for integer outputs, as integers too (empty for float outputs).
pub(super) fn act_extras(g: &Graph) -> (Vec<Vec<f32>>, Vec<Vec<i32>>) {
    let extras = g
        .outputs
        .iter()
        .skip(1)
        .map(|(_, id)| vec![0.0; g.ty(*id).numel()])
        .collect();
    let extra_ints = g
        .outputs
        .iter()
        .skip(1)
        .map(|(_, id)| {
            if g.ty(*id).dtype == DType::I32 {
                vec![0; g.ty(*id).numel()]
            } else {
                Vec::new()
            }
        })
        .collect();
    (extras, extra_ints)
}

/// Per storage the schedule writes into, one buffer per field holding a vector step.
pub(super) fn field_buffers(program: &Compiled, into: &[usize], n: usize) -> Vec<Vec<Vec<f32>>> {
    into.iter()
        .map(|i| {
            let spec = &program.data[*i];
            spec.fields
                .iter()
                .map(|f| vec![0.0; n * step_part(spec, f).1])
                .collect()
        })
        .collect()
}

/// How an n-step item's field is made from its window, and the field's per-step width (an
/// n-step item holds `[N]` of each per-step field, but one step brings one value).
fn step_part(spec: &DataSpec, f: &FieldSpec) -> (Part, usize) {
    match &f.source {
        FieldSource::Env(EnvField::S2) => (Part::Last, f.ty.numel()),
        FieldSource::Env(e) if e.per_step() && spec.nstep > 0 => (Part::Series, 1),
        _ => (Part::First, f.ty.numel()),
    }
}

/// Per store: the n-step windows that turn its steps into items (`None` for one-step data).
pub(super) fn nstep_adders(program: &Compiled, n: usize) -> Result<Vec<Option<NStepAdder>>, RunError> {
    program
        .data
        .iter()
        .map(|spec| {
            if spec.nstep == 0 {
                return Ok(None);
            }
            let parts = spec.fields.iter().map(|f| step_part(spec, f)).collect();
            Ok(Some(NStepAdder::new(spec.nstep, n, parts)?))
        })
        .collect()
}

/// One float buffer per output of `g`.
pub(super) fn output_buffers(g: &Graph) -> Vec<Vec<f32>> {
    g.outputs
        .iter()
        .map(|(_, id)| vec![0.0; g.ty(*id).numel()])
        .collect()
}

/// The training step's loss outputs: (name, output index).
pub(super) fn loss_outputs(train: &Signature) -> Vec<(String, usize)> {
    train.losses().map(|(name, i)| (name.to_string(), i)).collect()
}

/// Compiles every rollout's derive entry point (in entry order) with its buffers.
pub(super) fn compile_derives<'a>(
    program: &'a Compiled,
    backend: &mut dyn Backend,
) -> Result<Vec<Derive<'a>>, RunError> {
    let mut derives = Vec::new();
    for e in &program.entries {
        if let EntryKind::Derive { data } = &e.kind {
            let si = program
                .data
                .iter()
                .position(|d| d.name == *data)
                .expect("checked by the compiler");
            let id = backend.compile(&e.name, &e.graph)?;
            let outs = output_buffers(&e.graph);
            let ints = e
                .graph
                .inputs
                .iter()
                .map(|i| {
                    let t = e.graph.ty(*i);
                    if t.dtype == DType::I32 {
                        vec![0; t.numel()]
                    } else {
                        Vec::new()
                    }
                })
                .collect();
            derives.push((si, id, &e.graph, &e.signature, outs, ints));
        }
    }
    Ok(derives)
}

/// The training step's `priority/DATA` outputs as (output index, feed source) pairs; the
/// step must sample the storage it sends priorities for.
pub(super) fn priority_outputs(
    program: &Compiled,
    train: &Signature,
    feed: &Feed,
) -> Result<Vec<(usize, usize)>, RunError> {
    let mut out = Vec::new();
    for (i, role) in train.outputs.iter().enumerate() {
        if let OutputRole::Priority { data: d } = role {
            let si = program.data.iter().position(|x| x.name == *d);
            let src = feed.sources.iter().position(|s| Some(s.store) == si);
            match src {
                Some(k) => out.push((i, k)),
                None => {
                    return Err(RunError::Setup(format!(
                        "priorities for `{d}`, which this step does not sample"
                    )));
                }
            }
        }
    }
    Ok(out)
}
