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
use super::gym::Vectorization;
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

/// N independent copies of one environment, stepped together: rlc's own ports, or a
/// Gymnasium vector environment for a `gym:` id.
pub struct VecEnv {
    spec: EnvSpec,
    copies: Copies,
    /// Steps taken in each copy's current episode (for the time limit).
    steps: Vec<usize>,
    /// Each copy's running episode return.
    returns: Vec<f64>,
    batch: StepBatch,
    /// Each copy's reward of the last step in f64 (episode returns add these up).
    rewards: Vec<f64>,
}

/// Who steps the copies.
enum Copies {
    /// rlc's own environments, one generator per copy.
    Native {
        envs: Vec<Box<dyn Env>>,
        rngs: Vec<EnvRng>,
    },
    /// A Gymnasium vector environment in the embedded interpreter (a type without values in
    /// builds without the `python` feature).
    #[cfg_attr(not(feature = "python"), allow(dead_code))]
    Gym(super::gym::GymVec),
}

impl std::fmt::Debug for VecEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VecEnv")
            .field("id", &self.spec.id)
            .field("num_envs", &self.steps.len())
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
    /// [`copy_rng`]`(seed, i)`; a `gym:` id runs its copies [`Vectorization::Sync`].
    ///
    /// # Errors
    /// [`EnvError::UnknownEnv`] for an unregistered id, [`EnvError::InvalidArgument`] for `n == 0`,
    /// [`EnvError::Python`] for a `gym:` id that cannot be made.
    pub fn new(id: &str, n: usize, seed: u64) -> Result<Self, EnvError> {
        Self::with_vectorization(id, n, seed, Vectorization::Sync)
    }

    /// [`VecEnv::new`], running the copies of a `gym:` id as `mode` says. Copy `i` of a `gym:`
    /// id is reset first with a seed drawn from [`copy_rng`]`(seed, i)`; its later resets
    /// continue its own generator (Gymnasium's), so the same seed gives the same episodes.
    ///
    /// # Errors
    /// As [`VecEnv::new`].
    pub fn with_vectorization(id: &str, n: usize, seed: u64, mode: Vectorization) -> Result<Self, EnvError> {
        if n == 0 {
            return Err(EnvError::InvalidArgument(format!(
                "a vectorised `{id}` needs at least one copy"
            )));
        }
        if super::gym::is_gym(id) {
            return Self::gym(id, n, seed, mode);
        }
        let envs = (0..n).map(|_| make(id)).collect::<Result<Vec<_>, _>>()?;
        let spec = envs[0].spec().clone();
        let rngs = (0..n).map(|i| copy_rng(seed, i)).collect();
        let mut venv = VecEnv::empty(spec, Copies::Native { envs, rngs }, n);
        venv.reset_all()?;
        Ok(venv)
    }

    #[cfg(feature = "python")]
    fn gym(id: &str, n: usize, seed: u64, mode: Vectorization) -> Result<Self, EnvError> {
        use rand::RngExt;
        // Gymnasium seeds numpy's generator from a non-negative integer.
        let seeds: Vec<u64> = (0..n).map(|i| copy_rng(seed, i).random::<u64>() >> 1).collect();
        let (gym, spec, obs) = super::gym::GymVec::new(id, mode, &seeds)?;
        let mut venv = VecEnv::empty(spec, Copies::Gym(gym), n);
        venv.batch.obs.copy_from_slice(&obs);
        venv.batch.final_obs.copy_from_slice(&obs);
        Ok(venv)
    }

    #[cfg(not(feature = "python"))]
    fn gym(id: &str, _n: usize, _seed: u64, _mode: Vectorization) -> Result<Self, EnvError> {
        Err(super::gym::not_built(id))
    }

    /// A vector of `n` copies with zeroed buffers (not reset yet).
    fn empty(spec: EnvSpec, copies: Copies, n: usize) -> Self {
        let d = spec.obs_dim;
        VecEnv {
            spec,
            copies,
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
            rewards: vec![0.0; n],
        }
    }

    /// The spec of the environment being copied.
    pub fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    /// The number of copies.
    pub fn num_envs(&self) -> usize {
        self.steps.len()
    }

    /// Starts a new episode in every copy (continuing each copy's random stream) and returns
    /// the observations, `[num_envs * obs_dim]`. Clears the last step's batch results.
    ///
    /// # Errors
    /// Only a `gym:` environment's reset can fail ([`EnvError::Python`]: an exception, a
    /// non-finite observation); rlc's own environments cannot.
    pub fn reset(&mut self) -> Result<&[f32], EnvError> {
        self.reset_all()?;
        Ok(&self.batch.obs)
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
        match &mut self.copies {
            Copies::Native { .. } => self.step_with(|i| Action::Discrete(i64::from(actions[i]))),
            Copies::Gym(g) => {
                g.step_discrete(actions, &mut self.batch, &mut self.rewards)?;
                Ok(self.count_episodes())
            }
        }
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
        match &mut self.copies {
            Copies::Native { .. } => self.step_with(|i| Action::Continuous(&actions[i * dim..(i + 1) * dim])),
            Copies::Gym(g) => {
                g.step_continuous(actions, &mut self.batch, &mut self.rewards)?;
                Ok(self.count_episodes())
            }
        }
    }

    fn check_actions_len(&self, got: usize, per_copy: usize) -> Result<(), EnvError> {
        check_len(&self.spec, "action batch", self.num_envs() * per_copy, got)
    }

    /// Episode bookkeeping after a step whose results are in the batch (Gymnasium reset the
    /// ended copies itself).
    fn count_episodes(&mut self) -> &StepBatch {
        let batch = &mut self.batch;
        batch.finished.clear();
        for i in 0..self.steps.len() {
            self.steps[i] += 1;
            self.returns[i] += self.rewards[i];
            if batch.terminated[i] || batch.truncated[i] {
                batch.finished.push(FinishedEpisode {
                    copy: i,
                    episode_return: self.returns[i],
                    length: self.steps[i],
                });
                self.steps[i] = 0;
                self.returns[i] = 0.0;
            }
        }
        &self.batch
    }

    /// Steps copy by copy, handling time limit, episode bookkeeping and auto-reset.
    fn step_with<'a>(&mut self, action_of: impl Fn(usize) -> Action<'a>) -> Result<&StepBatch, EnvError> {
        let d = self.spec.obs_dim;
        let limit = self.spec.max_episode_steps;
        let batch = &mut self.batch;
        batch.finished.clear();
        let Copies::Native { envs, rngs } = &mut self.copies else {
            unreachable!("step_with steps rlc's own environments only")
        };
        for (i, env) in envs.iter_mut().enumerate() {
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
                env.reset(&mut rngs[i], obs)?;
            }
        }
        Ok(&self.batch)
    }

    fn reset_all(&mut self) -> Result<(), EnvError> {
        let d = self.spec.obs_dim;
        let batch = &mut self.batch;
        match &mut self.copies {
            Copies::Native { envs, rngs } => {
                for (i, (env, rng)) in envs.iter_mut().zip(rngs).enumerate() {
                    env.reset(rng, &mut batch.obs[i * d..(i + 1) * d])?;
                }
            }
            Copies::Gym(g) => g.reset(&mut batch.obs)?,
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
    ///
    /// A Gymnasium environment's state lives in Python, where rlc cannot read it: only the
    /// counters are saved, and [`Resumable::restore`] refuses such a run.
    fn save(&self, prefix: &str, w: &mut SnapshotWriter) {
        if let Copies::Native { envs, rngs } = &self.copies {
            let states: Vec<f64> = envs.iter().flat_map(|e| e.state()).collect();
            w.f64s(&format!("{prefix}/states"), &states);
            for (i, rng) in rngs.iter().enumerate() {
                w.rng(&format!("{prefix}/rng{i}"), rng);
            }
        }
        w.usizes(&format!("{prefix}/episode_steps"), &self.steps);
        w.f64s(&format!("{prefix}/episode_returns"), &self.returns);
        w.f32s(&format!("{prefix}/obs"), &self.batch.obs);
    }

    fn restore(&mut self, prefix: &str, r: &SnapshotReader<'_>) -> Result<(), RunError> {
        let n = self.num_envs();
        let Copies::Native { envs, rngs } = &mut self.copies else {
            return Err(RunError::Setup(format!(
                "this run steps `{}` through Python, whose environment state rlc cannot save, so \
                 it cannot be resumed exactly; start a new run (the checkpoint holds the parameters)",
                self.spec.id
            )));
        };
        let per = envs[0].state().len();
        let states = r.f64s_of_len(&format!("{prefix}/states"), n * per)?;
        for (env, s) in envs.iter_mut().zip(states.chunks_exact(per)) {
            env.set_state(s)?;
        }
        for (i, rng) in rngs.iter_mut().enumerate() {
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
