//! Building a trainer: each function below builds one part of it (the compiled entry points,
//! the storage, the device replays, the per-step buffers, ...), and [`Trainer::new`] calls
//! them in the order the backend sees them (compilation order fixes entry ids).

use super::feed::{self, Feed};
use super::{Derive, Src, Store, Trainer, keys};
use crate::envs::VecEnv;
use crate::error::RunError;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rlc_compiler::backend::{Backend, EntryId, ReplayId};
use rlc_compiler::ir::{DType, Graph};
use rlc_compiler::lower::{Compiled, EntryKind, FieldSource};

impl<'a> Trainer<'a> {
    /// Compiles the program's entry points on `backend`, initialises state from the seed,
    /// and allocates environments and storage.
    pub fn new(
        program: &'a Compiled,
        mut backend: Box<dyn Backend>,
        cfg: super::RunConfig,
    ) -> Result<Trainer<'a>, RunError> {
        let entries = compile_entries(program, backend.as_mut(), &cfg)?;
        let n = program.schedule.envs;
        let env = VecEnv::new(&program.env.id, n, keys::derive(cfg.seed, keys::Purpose::Env))?;
        let stores = stores(program, n)?;
        let into = schedule_targets(program);
        check_warmup(program, &into)?;
        let feed = Feed::plan(program, entries.train_graph, &stores)?;
        let on_device = device_replays(program, backend.as_mut(), &feed, &stores);
        let draws = feed::device_draws(&feed, &on_device);
        let plan = field_plan(program, &into, entries.act_graph)?;
        let (extras, extra_ints) = act_extras(entries.act_graph);
        let fields = field_buffers(program, &into, n);
        let train_out = output_buffers(entries.train_graph);
        let loss_outputs = loss_outputs(entries.train_graph);
        let derives = compile_derives(program, backend.as_mut())?;
        let priority_outputs = priority_outputs(program, entries.train_graph, &feed)?;
        let o = program.env.obs_dim;
        let a = program.env.action.flat_dim();
        Ok(Trainer {
            program,
            backend,
            act: entries.act,
            act_graph: entries.act_graph,
            eval: entries.eval,
            eval_graph: entries.eval_graph,
            train: entries.train,
            train_graph: entries.train_graph,
            env,
            stores,
            into,
            plan,
            feed,
            on_device,
            draws,
            rng: ChaCha8Rng::seed_from_u64(keys::derive(cfg.seed, keys::Purpose::Host)),
            obs: vec![0.0; n * o],
            act_f32: vec![0.0; n * a],
            act_i32: vec![0; n],
            extras,
            extra_ints,
            fields,
            train_out,
            loss_outputs,
            priority_outputs,
            derives,
            act_calls: 0,
            train_calls: 0,
            steps: 0,
            cfg,
        })
    }
}

/// The three entry points the schedule calls, compiled.
struct Entries<'a> {
    act: EntryId,
    act_graph: &'a Graph,
    eval: EntryId,
    eval_graph: &'a Graph,
    train: EntryId,
    train_graph: &'a Graph,
}

/// Finds the acting, evaluation and training entry points, checks the evaluation batch
/// against the configuration, initialises the backend's state from the seed and compiles the
/// three (in this order: act, eval, train).
fn compile_entries<'a>(
    program: &'a Compiled,
    backend: &mut dyn Backend,
    cfg: &super::RunConfig,
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
    let eval_batch = eval_entry.graph.ty(eval_entry.graph.inputs[0]).shape[0];
    if eval_batch != cfg.eval_episodes {
        return Err(RunError::Setup(format!(
            "the eval entry point was compiled for {eval_batch} episodes, not {}",
            cfg.eval_episodes
        )));
    }
    backend.init_state(&program.states, keys::derive(cfg.seed, keys::Purpose::Init))?;
    Ok(Entries {
        act: backend.compile(&act_name, &act_entry.graph)?,
        act_graph: &act_entry.graph,
        eval: backend.compile("eval", &eval_entry.graph)?,
        eval_graph: &eval_entry.graph,
        train: backend.compile("train", &train_entry.graph)?,
        train_graph: &train_entry.graph,
    })
}

/// The storage of every data declaration, for `n` environments.
fn stores(program: &Compiled, n: usize) -> Result<Vec<Store>, RunError> {
    program.data.iter().map(|d| Ok(Store::new(d, n)?)).collect()
}

/// The store index of each storage the schedule writes transitions into.
fn schedule_targets(program: &Compiled) -> Vec<usize> {
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
fn check_warmup(program: &Compiled, into: &[usize]) -> Result<(), RunError> {
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
fn device_replays(
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
            .replay_create(&numels, capacity, steps)
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
fn field_plan(program: &Compiled, into: &[usize], act_graph: &Graph) -> Result<Vec<Vec<Src>>, RunError> {
    let extras: Vec<&str> = act_graph
        .outputs
        .iter()
        .skip(1)
        .map(|(n, _)| n.as_str())
        .collect();
    into.iter()
        .map(|si| {
            program.data[*si]
                .fields
                .iter()
                .map(|f| match &f.source {
                    FieldSource::Env(name) => Ok(match name.as_str() {
                        "s" => Src::Obs,
                        "a" => Src::Action,
                        "r" => Src::Reward,
                        "s2" => Src::NextObs,
                        "done" | "terminated" => Src::Terminated,
                        "truncated" => Src::Truncated,
                        "end" => Src::End,
                        other => return Err(RunError::Setup(format!("unknown environment field `{other}`"))),
                    }),
                    FieldSource::Derived => Ok(Src::Derived),
                    FieldSource::Policy(name) => extras
                        .iter()
                        .position(|x| x == name)
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
fn act_extras(g: &Graph) -> (Vec<Vec<f32>>, Vec<Vec<i32>>) {
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
fn field_buffers(program: &Compiled, into: &[usize], n: usize) -> Vec<Vec<Vec<f32>>> {
    into.iter()
        .map(|i| {
            program.data[*i]
                .fields
                .iter()
                .map(|f| vec![0.0; n * f.ty.numel()])
                .collect()
        })
        .collect()
}

/// One float buffer per output of `g`.
fn output_buffers(g: &Graph) -> Vec<Vec<f32>> {
    g.outputs
        .iter()
        .map(|(_, id)| vec![0.0; g.ty(*id).numel()])
        .collect()
}

/// The training step's `loss/NAME` outputs: (name, output index).
fn loss_outputs(train: &Graph) -> Vec<(String, usize)> {
    train
        .outputs
        .iter()
        .enumerate()
        .filter_map(|(i, (name, _))| name.strip_prefix("loss/").map(|l| (l.to_string(), i)))
        .collect()
}

/// Compiles every rollout's derive entry point (in entry order) with its buffers.
fn compile_derives<'a>(
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
            derives.push((si, id, &e.graph, outs, ints));
        }
    }
    Ok(derives)
}

/// The training step's `priority/DATA` outputs as (output index, feed source) pairs; the
/// step must sample the storage it sends priorities for.
fn priority_outputs(program: &Compiled, train: &Graph, feed: &Feed) -> Result<Vec<(usize, usize)>, RunError> {
    let mut out = Vec::new();
    for (i, (name, _)) in train.outputs.iter().enumerate() {
        if let Some(d) = name.strip_prefix("priority/") {
            let si = program.data.iter().position(|x| x.name == d);
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
