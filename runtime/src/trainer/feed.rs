//! Feeding the training entry point: which stored fields go to which inputs, sampled how.

use super::keys;
use super::store::Store;
use crate::data::DataError;
use crate::error::RunError;
use rand_chacha::ChaCha8Rng;
use rlc_compiler::backend::{Draw, In, ReplayId};
use rlc_compiler::ir::{DType, Graph};
use rlc_compiler::lower::{BatchMode, Compiled, DataSpec};
use rlc_compiler::signature::{InputRole, Signature};
use rlc_compiler::syntax::ast::DataKind;

/// How a data source is read by one training call.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mode {
    /// `n` items drawn uniformly (or by priority) from replay.
    Sample(usize),
    /// `n` sequences from sequence replay, time-major `[T, n, ..]`.
    Sequences(usize),
    /// The whole rollout `[T, N, ..]`.
    Whole,
    /// Shuffled minibatches of `m` transitions from the rollout.
    Minibatch(usize),
}

/// One data source's part of the training inputs.
pub struct SourceFeed {
    /// Index of the store.
    pub store: usize,
    /// Read mode.
    pub mode: Mode,
    /// `(graph input, field index)` pairs.
    pub fields: Vec<(usize, usize)>,
    /// Input receiving importance weights (prioritized replay).
    pub weights_input: Option<usize>,
    /// Sampled values per field of the store.
    pub scratch: Vec<Vec<f32>>,
    /// Sampled slots (prioritized replay).
    pub indices: Vec<usize>,
    /// Importance weights (prioritized replay).
    pub weights: Vec<f32>,
}

/// The plan for all inputs of the training entry point.
pub struct Feed {
    /// Per data source.
    pub sources: Vec<SourceFeed>,
    /// Input receiving the random key.
    pub key_input: Option<usize>,
    /// Input receiving the environment step count.
    pub step_input: Option<usize>,
    /// Element type and size of each input.
    pub inputs: Vec<(DType, usize)>,
    /// i32 conversion buffers, per input (empty for f32 inputs).
    pub ints: Vec<Vec<i32>>,
    /// Shuffled rollout indices (on-policy minibatches).
    pub perm: Vec<usize>,
}

impl Feed {
    /// Builds the plan from the training entry's graph and the roles of its inputs.
    pub fn plan(
        c: &Compiled,
        train: &Graph,
        signature: &Signature,
        stores: &[Store],
    ) -> Result<Feed, RunError> {
        let mut sources: Vec<SourceFeed> = Vec::new();
        let mut key_input = None;
        let mut step_input = None;
        let mut inputs = Vec::new();
        for (i, (id, role)) in train.inputs.iter().zip(&signature.inputs).enumerate() {
            let ty = train.ty(*id);
            inputs.push((ty.dtype, ty.numel()));
            // The data source read and the field (`None`: a prioritized replay's weights).
            let (dname, field) = match role {
                InputRole::Key => {
                    key_input = Some(i);
                    continue;
                }
                InputRole::Step => {
                    step_input = Some(i);
                    continue;
                }
                InputRole::Field { data, field } => (data.as_str(), Some(field.as_str())),
                InputRole::Weights { data } => (data.as_str(), None),
                InputRole::Observation | InputRole::Argument { .. } => {
                    return Err(RunError::Setup(format!("unexpected training input `{role}`")));
                }
            };
            let si =
                c.data.iter().position(|d| d.name == dname).ok_or_else(|| {
                    RunError::Setup(format!("training input `{role}` names no data source"))
                })?;
            let spec: &DataSpec = &c.data[si];
            let src = match sources.iter_mut().position(|s| s.store == si) {
                Some(p) => &mut sources[p],
                None => {
                    let read = c
                        .reads
                        .iter()
                        .find(|(d, _)| d == dname)
                        .map(|(_, m)| m.clone())
                        .ok_or_else(|| {
                            RunError::Setup(format!("the compiler recorded no read of `{dname}`"))
                        })?;
                    let mode = match (spec.kind, read) {
                        (DataKind::SequenceReplay, BatchMode::Sample(n)) => Mode::Sequences(n),
                        (_, BatchMode::Sample(n)) => Mode::Sample(n),
                        (_, BatchMode::All) => Mode::Whole,
                        (_, BatchMode::Minibatch(m)) => Mode::Minibatch(m),
                    };
                    sources.push(SourceFeed {
                        store: si,
                        mode,
                        fields: Vec::new(),
                        weights_input: None,
                        scratch: vec![Vec::new(); spec.fields.len()],
                        indices: Vec::new(),
                        weights: Vec::new(),
                    });
                    sources.last_mut().expect("just pushed")
                }
            };
            let Some(field) = field else {
                if spec.kind != DataKind::PrioritizedReplay {
                    return Err(RunError::Setup(format!(
                        "training input `{role}`: `{dname}` is not a prioritized replay"
                    )));
                }
                src.weights_input = Some(i);
                continue;
            };
            let fi = spec.fields.iter().position(|f| f.name == field).ok_or_else(|| {
                RunError::Setup(format!("training input `{role}` names no field of `{dname}`"))
            })?;
            src.fields.push((i, fi));
        }
        for s in &mut sources {
            if let Mode::Sample(n) = s.mode {
                s.indices = vec![0; n];
                s.weights = vec![0.0; n];
            }
            if let (Mode::Minibatch(m), Store::Rollout(r)) = (s.mode, &stores[s.store]) {
                let total = r.steps() * r.envs();
                if total % m != 0 {
                    return Err(RunError::Setup(format!(
                        "rollout `{}` holds {total} transitions, which minibatches of {m} do not divide",
                        c.data[s.store].name
                    )));
                }
            }
        }
        let ints = inputs
            .iter()
            .map(|(d, n)| if *d == DType::I32 { vec![0; *n] } else { Vec::new() })
            .collect();
        Ok(Feed {
            sources,
            key_input,
            step_input,
            inputs,
            ints,
            perm: Vec::new(),
        })
    }

    /// True if any source is an on-policy rollout.
    pub fn on_policy(&self, stores: &[Store]) -> bool {
        self.sources.iter().any(|s| stores[s.store].on_policy())
    }

    /// Whether every source can provide a batch.
    pub fn ready(&self, stores: &[Store]) -> bool {
        self.sources.iter().all(|s| stores[s.store].ready())
    }

    /// Draws the batches of all replay sources for one call, except those of stores the
    /// backend samples itself (`on_device[store]`).
    pub fn sample(
        &mut self,
        stores: &mut [Store],
        on_device: &[Option<ReplayId>],
        rng: &mut ChaCha8Rng,
    ) -> Result<(), DataError> {
        for s in &mut self.sources {
            if on_device[s.store].is_some() {
                continue;
            }
            match (s.mode, &mut stores[s.store]) {
                (Mode::Sample(n), Store::Replay(r)) => r.sample(rng, n, &mut s.scratch)?,
                (Mode::Sample(n), Store::Prioritized(r)) => {
                    r.sample(rng, n, &mut s.scratch, &mut s.indices, &mut s.weights)?
                }
                (Mode::Sequences(n), Store::Sequence { replay, .. }) => {
                    replay.sample(rng, n, &mut s.scratch)?
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Gathers minibatch `k` (of size `m`) of the current shuffle for on-policy sources.
    pub fn gather_minibatch(&mut self, stores: &[Store], k: usize) -> Result<(), DataError> {
        for s in &mut self.sources {
            if let (Mode::Minibatch(m), Store::Rollout(r)) = (s.mode, &stores[s.store]) {
                r.gather_flat(&self.perm[k * m..(k + 1) * m], &mut s.scratch)?;
            }
        }
        Ok(())
    }

    /// Shuffles the rollout for a new epoch; returns the number of minibatches.
    pub fn shuffle(&mut self, stores: &[Store], rng: &mut ChaCha8Rng) -> Result<usize, DataError> {
        for s in &self.sources {
            if let (Mode::Minibatch(m), Store::Rollout(r)) = (s.mode, &stores[s.store]) {
                r.minibatch_indices(rng, m, &mut self.perm)?;
                return Ok(self.perm.len() / m);
            }
        }
        Ok(1)
    }

    /// The input slices for one call (integer fields converted in place).
    pub fn inputs<'a>(
        &'a mut self,
        stores: &'a [Store],
        key: &'a [i32; 2],
        step: &'a [i32; 1],
    ) -> Vec<In<'a>> {
        // Convert integer fields first (needs `&mut self.ints`).
        for s in &self.sources {
            for (input, field) in &s.fields {
                if self.inputs[*input].0 == DType::I32 {
                    let src: &[f32] = match (s.mode, &stores[s.store]) {
                        (Mode::Whole, Store::Rollout(r)) => r.column(*field),
                        _ => &s.scratch[*field],
                    };
                    for (d, x) in self.ints[*input].iter_mut().zip(src) {
                        *d = *x as i32;
                    }
                }
            }
        }
        let mut out: Vec<In<'a>> = vec![In::F32(&[]); self.inputs.len()];
        if let Some(k) = self.key_input {
            out[k] = In::I32(&key[..]);
        }
        if let Some(k) = self.step_input {
            out[k] = In::I32(&step[..]);
        }
        for s in &self.sources {
            for (input, field) in &s.fields {
                out[*input] = if self.inputs[*input].0 == DType::I32 {
                    In::I32(&self.ints[*input])
                } else {
                    match (s.mode, &stores[s.store]) {
                        (Mode::Whole, Store::Rollout(r)) => In::F32(r.column(*field)),
                        _ => In::F32(&s.scratch[*field]),
                    }
                };
            }
            if let Some(w) = s.weights_input {
                out[w] = In::F32(&s.weights);
            }
        }
        out
    }
}

/// The draws of one training call for the sources whose store the backend keeps
/// (`on_device[store]`), with placeholder keys (set per call by [`set_draw_keys`]).
pub fn device_draws(feed: &Feed, on_device: &[Option<ReplayId>]) -> Vec<Draw> {
    feed.sources
        .iter()
        .filter_map(|s| match (s.mode, on_device[s.store]) {
            (Mode::Sample(n) | Mode::Sequences(n), Some(replay)) => Some(Draw {
                replay,
                batch: n,
                key: [0, 0],
                fields: s.fields.clone(),
            }),
            _ => None,
        })
        .collect()
}

/// Gives the draws of training call `n` their keys (one independent stream per draw).
pub fn set_draw_keys(draws: &mut [Draw], seed: u64, n: u64) {
    for (i, d) in draws.iter_mut().enumerate() {
        let k = keys::call_key(seed ^ keys::mix(i as u64), keys::Purpose::DeviceSample, n);
        d.key = [k[0] as u32, k[1] as u32];
    }
}

/// Key of training call `n`.
pub fn train_key(seed: u64, n: u64) -> [i32; 2] {
    keys::call_key(seed, keys::Purpose::Train, n)
}
