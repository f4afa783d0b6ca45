//! MountainCar-v0: drive an underpowered car up a hill with three discrete pushes
//! (Gymnasium's `MountainCarEnv`).

use super::env::{Action, Env, EnvError, EnvRng, StepResult, check_len, clip, discrete_action, uniform};
use rlc_compiler::env_spec::{ActionSpace, EnvSpec};

pub(crate) const MIN_POSITION: f64 = -1.2;
pub(crate) const MAX_POSITION: f64 = 0.6;
const MAX_SPEED: f64 = 0.07;
pub(crate) const GOAL_POSITION: f64 = 0.5;
const GOAL_VELOCITY: f64 = 0.0;
const FORCE: f64 = 0.001;
const GRAVITY: f64 = 0.0025;

/// MountainCar-v0. State `[position, velocity]`; observation = the state as `f32`; actions
/// `0` (left), `1` (none), `2` (right); reward -1 per step; terminates at position >= 0.5.
#[derive(Clone, Debug)]
pub struct MountainCar {
    spec: EnvSpec,
    state: [f64; 2],
}

impl MountainCar {
    /// A new environment with the all-zero state (call `reset` to start an episode).
    pub fn new() -> Self {
        MountainCar {
            spec: Self::env_spec(),
            state: [0.0; 2],
        }
    }

    /// The registered spec: 2 observations, 3 discrete actions, 200 steps.
    pub fn env_spec() -> EnvSpec {
        EnvSpec {
            id: "MountainCar-v0".to_string(),
            obs_dim: 2,
            action: ActionSpace::Discrete { n: 3 },
            max_episode_steps: 200,
        }
    }

    fn write_obs(&self, obs: &mut [f32]) {
        obs[0] = self.state[0] as f32;
        obs[1] = self.state[1] as f32;
    }
}

impl Default for MountainCar {
    fn default() -> Self {
        Self::new()
    }
}

impl Env for MountainCar {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn reset(&mut self, rng: &mut EnvRng, obs: &mut [f32]) -> Result<(), EnvError> {
        check_len(&self.spec, "observation buffer", 2, obs.len())?;
        self.state = [uniform(rng, -0.6, -0.4), 0.0];
        self.write_obs(obs);
        Ok(())
    }

    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Result<StepResult, EnvError> {
        let action = discrete_action(&self.spec, action)?;
        check_len(&self.spec, "observation buffer", 2, obs.len())?;

        let [position, velocity] = self.state;
        // `velocity += a + b` in Python adds the already-summed right-hand side.
        let push = (action as f64 - 1.0) * FORCE + (3.0 * position).cos() * (-GRAVITY);
        let velocity = clip(velocity + push, -MAX_SPEED, MAX_SPEED);
        let position = clip(position + velocity, MIN_POSITION, MAX_POSITION);
        // The left wall is inelastic.
        let velocity = if position == MIN_POSITION && velocity < 0.0 {
            0.0
        } else {
            velocity
        };
        self.state = [position, velocity];

        let terminated = position >= GOAL_POSITION && velocity >= GOAL_VELOCITY;
        self.write_obs(obs);
        Ok(StepResult {
            reward: -1.0,
            terminated,
        })
    }

    fn observe(&self, obs: &mut [f32]) -> Result<(), EnvError> {
        check_len(&self.spec, "observation buffer", 2, obs.len())?;
        self.write_obs(obs);
        Ok(())
    }

    fn state(&self) -> Vec<f64> {
        self.state.to_vec()
    }

    fn set_state(&mut self, state: &[f64]) -> Result<(), EnvError> {
        check_len(&self.spec, "state", 2, state.len())?;
        self.state.copy_from_slice(state);
        Ok(())
    }
}
