//! One storage per data declaration, built from its checked description.

use crate::data::{
    DataError, Field, PrioritizedConfig, PrioritizedReplay, ReplayBuffer, RolloutStorage, SequenceReplay,
};
use crate::error::RunError;
use crate::snapshot::{Resumable, SnapshotReader, SnapshotWriter};
use rlc_compiler::lower::DataSpec;
use rlc_compiler::syntax::ast::DataKind;

/// Storage for one data declaration.
pub enum Store {
    /// Uniform replay.
    Replay(ReplayBuffer),
    /// Proportional prioritized replay.
    Prioritized(PrioritizedReplay),
    /// On-policy rollout of `steps` x `envs`.
    Rollout(RolloutStorage),
    /// Sequences of `length` steps, collected through a rollout of that length.
    Sequence {
        /// The rollout being filled.
        collect: RolloutStorage,
        /// Completed sequences.
        replay: SequenceReplay,
    },
}

impl Store {
    /// Preallocates storage for `spec` with `envs` environment copies.
    pub fn new(spec: &DataSpec, envs: usize) -> Result<Store, DataError> {
        let fields: Vec<Field> = spec
            .fields
            .iter()
            .map(|f| Field::new(f.name.clone(), f.ty.shape.clone()))
            .collect();
        Ok(match spec.kind {
            DataKind::Replay => Store::Replay(ReplayBuffer::new(&fields, spec.capacity)?),
            DataKind::PrioritizedReplay => Store::Prioritized(PrioritizedReplay::new(
                &fields,
                spec.capacity,
                PrioritizedConfig {
                    alpha: spec.alpha,
                    beta_start: spec.beta,
                    beta_end: spec.beta_end,
                    beta_steps: spec.beta_steps as u64,
                    eps: 1e-6,
                },
            )?),
            DataKind::Rollout => Store::Rollout(RolloutStorage::new(&fields, spec.steps, envs)?),
            DataKind::SequenceReplay => Store::Sequence {
                collect: RolloutStorage::new(&fields, spec.steps, envs)?,
                replay: SequenceReplay::new(&fields, spec.capacity, spec.steps)?,
            },
        })
    }

    /// Adds one vector step (`n` transitions; one slice per field, in field order). Returns
    /// how many items entered a replay ring: `n` transitions, or the `n` sequences of a
    /// rollout that this step completed (0 for on-policy storage).
    pub fn push(&mut self, n: usize, values: &[&[f32]]) -> Result<usize, DataError> {
        match self {
            Store::Replay(r) => r.push_many(n, values).map(|_| n),
            Store::Prioritized(r) => r.push_many(n, values).map(|_| n),
            Store::Rollout(r) => r.push_step(values).map(|_| 0),
            Store::Sequence { collect, replay } => {
                collect.push_step(values)?;
                if collect.is_full() {
                    replay.push_rollout(collect)?;
                    collect.clear();
                    return Ok(n);
                }
                Ok(0)
            }
        }
    }

    /// Whether enough is stored to train: anything for replay, a full rollout on-policy.
    pub fn ready(&self) -> bool {
        match self {
            Store::Replay(r) => !r.is_empty(),
            Store::Prioritized(r) => !r.is_empty(),
            Store::Rollout(r) => r.is_full(),
            Store::Sequence { replay, .. } => !replay.is_empty(),
        }
    }

    /// True for on-policy storage (trained on when full, then cleared).
    pub fn on_policy(&self) -> bool {
        matches!(self, Store::Rollout(_))
    }
}

impl Resumable for Store {
    fn save(&self, prefix: &str, w: &mut SnapshotWriter) {
        match self {
            Store::Replay(r) => r.save(prefix, w),
            Store::Prioritized(r) => r.save(prefix, w),
            Store::Rollout(r) => r.save(prefix, w),
            Store::Sequence { collect, replay } => {
                collect.save(&format!("{prefix}/collect"), w);
                replay.save(prefix, w);
            }
        }
    }

    fn restore(&mut self, prefix: &str, r: &SnapshotReader<'_>) -> Result<(), RunError> {
        match self {
            Store::Replay(b) => b.restore(prefix, r),
            Store::Prioritized(b) => b.restore(prefix, r),
            Store::Rollout(b) => b.restore(prefix, r),
            Store::Sequence { collect, replay } => {
                collect.restore(&format!("{prefix}/collect"), r)?;
                replay.restore(prefix, r)
            }
        }
    }
}
