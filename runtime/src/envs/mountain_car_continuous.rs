//! MountainCarContinuous-v0: drive an underpowered car up a hill with a continuous force
//! (Gymnasium's `Continuous_MountainCarEnv`).

use super::env::{Action, Env, EnvError, EnvRng, StepResult, check_len, clip, continuous_action, uniform};
use rlc_compiler::env_spec::{ActionSpace, EnvSpec};

const MIN_ACTION: f64 = -1.0;
const MAX_ACTION: f64 = 1.0;
const MIN_POSITION: f64 = -1.2;
const MAX_POSITION: f64 = 0.6;
const MAX_SPEED: f64 = 0.07;
/// Lower than MountainCar-v0's 0.5.
pub(crate) const GOAL_POSITION: f64 = 0.45;
const GOAL_VELOCITY: f64 = 0.0;
const POWER: f64 = 0.0015;

/// MountainCarContinuous-v0. State `[position, velocity]` (stored as `f32` values after every
/// step, like Gymnasium); observation = the state; one force action in `[-1, 1]`; reward
/// `100` on reaching position >= 0.45 minus `0.1 * action^2` of the *unclipped* action.
#[derive(Clone, Debug)]
pub struct MountainCarContinuous {
    spec: EnvSpec,
    state: [f64; 2],
}

impl MountainCarContinuous {
    /// A new environment with the all-zero state (call `reset` to start an episode).
    pub fn new() -> Self {
        MountainCarContinuous {
            spec: Self::env_spec(),
            state: [0.0; 2],
        }
    }

    /// The registered spec: 2 observations, one force in `[-1, 1]`, 999 steps.
    pub fn env_spec() -> EnvSpec {
        EnvSpec {
            id: "MountainCarContinuous-v0".to_string(),
            obs_dim: 2,
            action: ActionSpace::Continuous {
                dim: 1,
                low: vec![MIN_ACTION as f32],
                high: vec![MAX_ACTION as f32],
            },
            max_episode_steps: 999,
        }
    }

    fn write_obs(&self, obs: &mut [f32]) {
        obs[0] = self.state[0] as f32;
        obs[1] = self.state[1] as f32;
    }
}

impl Default for MountainCarContinuous {
    fn default() -> Self {
        Self::new()
    }
}

impl Env for MountainCarContinuous {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn reset(&mut self, rng: &mut EnvRng, obs: &mut [f32]) -> Result<(), EnvError> {
        check_len(&self.spec, "observation buffer", 2, obs.len())?;
        // Kept in f64 until the first step, as in Gymnasium.
        self.state = [uniform(rng, -0.6, -0.4), 0.0];
        self.write_obs(obs);
        Ok(())
    }

    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Result<StepResult, EnvError> {
        let action = continuous_action(&self.spec, action)?;
        check_len(&self.spec, "observation buffer", 2, obs.len())?;

        let raw = f64::from(action[0]);
        let [position, velocity] = self.state;
        let force = clip(raw, MIN_ACTION, MAX_ACTION);
        // `velocity += a - b` in Python adds the already-computed right-hand side.
        let velocity = velocity + (force * POWER - 0.0025 * (3.0 * position).cos());
        let velocity = clip(velocity, -MAX_SPEED, MAX_SPEED);
        let position = clip(position + velocity, MIN_POSITION, MAX_POSITION);
        // The left wall is inelastic; tested in f64 before the f32 store below.
        let velocity = if position == MIN_POSITION && velocity < 0.0 {
            0.0
        } else {
            velocity
        };

        let terminated = position >= GOAL_POSITION && velocity >= GOAL_VELOCITY;
        let bonus = if terminated { 100.0 } else { 0.0 };
        // The control penalty deliberately uses the raw action, out-of-bounds values included.
        let reward = bonus - raw * raw * 0.1;

        // Gymnasium stores `np.array([position, velocity], dtype=np.float32)`.
        self.state = [f64::from(position as f32), f64::from(velocity as f32)];
        self.write_obs(obs);
        Ok(StepResult { reward, terminated })
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
