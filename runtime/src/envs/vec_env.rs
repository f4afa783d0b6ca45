//! Vectorised stepping of N copies of one environment, with time limits and auto-reset.
//!
//! The semantics follow Stable-Baselines3's `DummyVecEnv` over Gymnasium's `TimeLimit`: a copy
//! whose episode ends (terminated, or truncated by the time limit) is reset inside the same
//! `step` call, so `obs` always holds the observation to act on next, and the true last
//! observation of the ended episode is kept in `final_obs` for bootstrapping.

use rand::SeedableRng;

use crate::error::RunError;
use crate::snapshot::{Resumable, SnapshotReader, SnapshotWriter};

use super::env::{Action, Env, EnvError, EnvRng, check_len};
use super::registry::make;
use rlc_compiler::env_spec::{ActionSpace, EnvSpec};

/// A finished episode, reported by the step that ended it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FinishedEpisode {
    /// Which copy (`0..num_envs`) the episode ran in.
    pub copy: usize,
    /// The undiscounted sum of its rewards (accumulated in f64).
    pub episode_return: f64,
    /// Its number of steps.
    pub length: usize,
}

/// The outcome of one vectorised step. All vectors are preallocated and reused across steps.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StepBatch {
    /// Observations to act on next, `[num_envs * obs_dim]` (reset observations for ended copies).
    pub obs: Vec<f32>,
    /// The observation each copy reached with this step, `[num_envs * obs_dim]`: the true last
    /// observation for copies whose episode ended, otherwise equal to `obs`.
    pub final_obs: Vec<f32>,
    /// Rewards of this step, `[num_envs]`.
    pub reward: Vec<f32>,
    /// True where the episode ended in a terminal state, `[num_envs]`.
    pub terminated: Vec<bool>,
    /// True where the episode was cut by the time limit without terminating, `[num_envs]`.
    pub truncated: Vec<bool>,
    /// Episodes that ended in this step, in copy order.
    pub finished: Vec<FinishedEpisode>,
}

/// N independent copies of one registered environment, stepped together.
pub struct VecEnv {
    spec: EnvSpec,
    envs: Vec<Box<dyn Env>>,
    rngs: Vec<EnvRng>,
    /// Steps taken in each copy's current episode (for the time limit).
    steps: Vec<usize>,
    /// Each copy's running episode return.
    returns: Vec<f64>,
    batch: StepBatch,
}

impl std::fmt::Debug for VecEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VecEnv")
            .field("id", &self.spec.id)
            .field("num_envs", &self.envs.len())
            .field("steps", &self.steps)
            .finish_non_exhaustive()
    }
}

/// The generator of copy `index` in a [`VecEnv`] built with `seed`.
///
/// Every copy uses the same ChaCha key (from `seed`) on its own stream (`index`), so the copies'
/// draws are independent and never collide across indices.
pub fn copy_rng(seed: u64, index: usize) -> EnvRng {
    let mut rng = EnvRng::seed_from_u64(seed);
    rng.set_stream(index as u64);
    rng
}

impl VecEnv {
    /// Creates `n` copies of environment `id` and resets them all, seeding copy `i` with
    /// [`copy_rng`]`(seed, i)`.
    ///
    /// # Errors
    /// [`EnvError::UnknownEnv`] for an unregistered id, [`EnvError::InvalidArgument`] for `n == 0`.
    pub fn new(id: &str, n: usize, seed: u64) -> Result<Self, EnvError> {
        if n == 0 {
            return Err(EnvError::InvalidArgument(format!(
                "a vectorised `{id}` needs at least one copy"
            )));
        }
        let envs = (0..n).map(|_| make(id)).collect::<Result<Vec<_>, _>>()?;
        let spec = envs[0].spec().clone();
        let d = spec.obs_dim;
        let mut venv = VecEnv {
            spec,
            envs,
            rngs: (0..n).map(|i| copy_rng(seed, i)).collect(),
            steps: vec![0; n],
            returns: vec![0.0; n],
            batch: StepBatch {
                obs: vec![0.0; n * d],
                final_obs: vec![0.0; n * d],
                reward: vec![0.0; n],
                terminated: vec![false; n],
                truncated: vec![false; n],
                // At most one episode per copy ends in a step.
                finished: Vec::with_capacity(n),
            },
        };
        venv.reset_all()?;
        Ok(venv)
    }

    /// The spec of the environment being copied.
    pub fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    /// The number of copies.
    pub fn num_envs(&self) -> usize {
        self.envs.len()
    }

    /// Starts a new episode in every copy (continuing each copy's random stream) and returns
    /// the observations, `[num_envs * obs_dim]`. Clears the last step's batch results.
    pub fn reset(&mut self) -> &[f32] {
        // Cannot fail: every buffer was sized from the spec in `new`.
        let _ = self.reset_all();
        &self.batch.obs
    }

    /// The observations to act on next, `[num_envs * obs_dim]`.
    pub fn obs(&self) -> &[f32] {
        &self.batch.obs
    }

    /// The result of the last step (after `new`/`reset`: current observations, nothing ended).
    pub fn last_batch(&self) -> &StepBatch {
        &self.batch
    }

    /// Steps every copy of a discrete environment; `actions[i]` is copy `i`'s action index.
    ///
    /// # Errors
    /// [`EnvError::WrongActionKind`] for a continuous environment, [`EnvError::WrongLength`]
    /// unless `actions.len() == num_envs`, [`EnvError::ActionOutOfRange`] for any bad index. The
    /// whole batch is validated before any copy moves, so on error nothing has changed.
    pub fn step_discrete(&mut self, actions: &[i32]) -> Result<&StepBatch, EnvError> {
        let n = match self.spec.action {
            ActionSpace::Discrete { n } => n,
            ActionSpace::Continuous { .. } => {
                return Err(EnvError::WrongActionKind {
                    env: self.spec.id.clone(),
                    expected: "continuous",
                    got: "discrete",
                });
            }
        };
        self.check_actions_len(actions.len(), 1)?;
        let in_range = |a: i32| usize::try_from(a).is_ok_and(|i| i < n);
        if let Some(&bad) = actions.iter().find(|&&a| !in_range(a)) {
            return Err(EnvError::ActionOutOfRange {
                env: self.spec.id.clone(),
                action: i64::from(bad),
                n,
            });
        }
        self.step_with(|i| Action::Discrete(i64::from(actions[i])))
    }

    /// Steps every copy of a continuous environment; `actions` is `[num_envs * act_dim]`,
    /// copy-major. Values are passed on unclipped (each environment clips like Gymnasium).
    ///
    /// # Errors
    /// [`EnvError::WrongActionKind`] for a discrete environment, [`EnvError::WrongLength`] unless
    /// `actions.len() == num_envs * act_dim`, [`EnvError::NonFiniteAction`] for a NaN or infinite
    /// value; nothing has changed then.
    pub fn step_continuous(&mut self, actions: &[f32]) -> Result<&StepBatch, EnvError> {
        let dim = match self.spec.action {
            ActionSpace::Continuous { dim, .. } => dim,
            ActionSpace::Discrete { .. } => {
                return Err(EnvError::WrongActionKind {
                    env: self.spec.id.clone(),
                    expected: "discrete",
                    got: "continuous",
                });
            }
        };
        self.check_actions_len(actions.len(), dim)?;
        if let Some(i) = actions.iter().position(|a| !a.is_finite()) {
            return Err(EnvError::NonFiniteAction {
                env: self.spec.id.clone(),
                copy: i / dim.max(1),
                value: actions[i],
            });
        }
        self.step_with(|i| Action::Continuous(&actions[i * dim..(i + 1) * dim]))
    }

    fn check_actions_len(&self, got: usize, per_copy: usize) -> Result<(), EnvError> {
        check_len(&self.spec, "action batch", self.envs.len() * per_copy, got)
    }

    /// Steps copy by copy, handling time limit, episode bookkeeping and auto-reset.
    fn step_with<'a>(&mut self, action_of: impl Fn(usize) -> Action<'a>) -> Result<&StepBatch, EnvError> {
        let d = self.spec.obs_dim;
        let limit = self.spec.max_episode_steps;
        let batch = &mut self.batch;
        batch.finished.clear();
        for (i, env) in self.envs.iter_mut().enumerate() {
            let obs = &mut batch.obs[i * d..(i + 1) * d];
            let r = env.step(action_of(i), obs)?;
            self.steps[i] += 1;
            self.returns[i] += r.reward;
            let truncated = !r.terminated && self.steps[i] >= limit;

            batch.reward[i] = r.reward as f32;
            batch.terminated[i] = r.terminated;
            batch.truncated[i] = truncated;
            batch.final_obs[i * d..(i + 1) * d].copy_from_slice(obs);

            if r.terminated || truncated {
                batch.finished.push(FinishedEpisode {
                    copy: i,
                    episode_return: self.returns[i],
                    length: self.steps[i],
                });
                self.steps[i] = 0;
                self.returns[i] = 0.0;
                env.reset(&mut self.rngs[i], obs)?;
            }
        }
        Ok(&self.batch)
    }

    fn reset_all(&mut self) -> Result<(), EnvError> {
        let d = self.spec.obs_dim;
        let batch = &mut self.batch;
        for (i, (env, rng)) in self.envs.iter_mut().zip(&mut self.rngs).enumerate() {
            env.reset(rng, &mut batch.obs[i * d..(i + 1) * d])?;
        }
        batch.final_obs.copy_from_slice(&batch.obs);
        batch.reward.fill(0.0);
        batch.terminated.fill(false);
        batch.truncated.fill(false);
        batch.finished.clear();
        self.steps.fill(0);
        self.returns.fill(0.0);
        Ok(())
    }
}

impl Resumable for VecEnv {
    /// Each copy's state in Gymnasium's layout, its generator position, and its episode's step
    /// count and return. Between vectorised steps a copy is never past termination (an ended
    /// episode is reset within the step), so the state vector is the whole environment.
    fn save(&self, prefix: &str, w: &mut SnapshotWriter) {
        let states: Vec<f64> = self.envs.iter().flat_map(|e| e.state()).collect();
        w.f64s(&format!("{prefix}/states"), &states);
        for (i, rng) in self.rngs.iter().enumerate() {
            w.rng(&format!("{prefix}/rng{i}"), rng);
        }
        w.usizes(&format!("{prefix}/episode_steps"), &self.steps);
        w.f64s(&format!("{prefix}/episode_returns"), &self.returns);
        w.f32s(&format!("{prefix}/obs"), &self.batch.obs);
    }

    fn restore(&mut self, prefix: &str, r: &SnapshotReader<'_>) -> Result<(), RunError> {
        let n = self.envs.len();
        let per = self.envs[0].state().len();
        let states = r.f64s_of_len(&format!("{prefix}/states"), n * per)?;
        for (env, s) in self.envs.iter_mut().zip(states.chunks_exact(per)) {
            env.set_state(s)?;
        }
        for (i, rng) in self.rngs.iter_mut().enumerate() {
            *rng = r.rng(&format!("{prefix}/rng{i}"))?;
        }
        self.steps = r.usizes_of_len(&format!("{prefix}/episode_steps"), n)?;
        self.returns = r.f64s_of_len(&format!("{prefix}/episode_returns"), n)?;
        let obs = r.f32s_of_len(&format!("{prefix}/obs"), self.batch.obs.len())?;
        self.batch.obs.copy_from_slice(&obs);
        self.batch.final_obs.copy_from_slice(&obs);
        Ok(())
    }
}
