//! Pendulum-v1: swing a torque-limited pendulum up and keep it upright (Gymnasium's `PendulumEnv`).

use std::f64::consts::PI;

use super::env::{Action, Env, EnvError, EnvRng, StepResult, check_len, clip, continuous_action, uniform};
use rlc_compiler::env_spec::{ActionSpace, EnvSpec};

const MAX_SPEED: f64 = 8.0;
const MAX_TORQUE: f64 = 2.0;
const DT: f64 = 0.05;
const G: f64 = 10.0;
const M: f64 = 1.0;
const L: f64 = 1.0;

/// Pendulum-v1. State `[theta, theta_dot]` (theta never wrapped); observation
/// `[cos theta, sin theta, theta_dot]`; one torque action in `[-2, 2]`; never terminates.
#[derive(Clone, Debug)]
pub struct Pendulum {
    spec: EnvSpec,
    state: [f64; 2],
}

impl Pendulum {
    /// A new environment with the all-zero state (call `reset` to start an episode).
    pub fn new() -> Self {
        Pendulum {
            spec: Self::env_spec(),
            state: [0.0; 2],
        }
    }

    /// The registered spec: 3 observations, one torque in `[-2, 2]`, 200 steps.
    pub fn env_spec() -> EnvSpec {
        EnvSpec {
            id: "Pendulum-v1".to_string(),
            obs_dim: 3,
            action: ActionSpace::Continuous {
                dim: 1,
                low: vec![-MAX_TORQUE as f32],
                high: vec![MAX_TORQUE as f32],
            },
            max_episode_steps: 200,
        }
    }

    fn write_obs(&self, obs: &mut [f32]) {
        let [theta, theta_dot] = self.state;
        obs[0] = theta.cos() as f32;
        obs[1] = theta.sin() as f32;
        obs[2] = theta_dot as f32;
    }
}

impl Default for Pendulum {
    fn default() -> Self {
        Self::new()
    }
}

/// `((x + pi) % (2 pi)) - pi` with numpy's floor-modulo (sign of the divisor), i.e. in `[-pi, pi)`.
fn angle_normalize(x: f64) -> f64 {
    (x + PI).rem_euclid(2.0 * PI) - PI
}

impl Env for Pendulum {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn reset(&mut self, rng: &mut EnvRng, obs: &mut [f32]) -> Result<(), EnvError> {
        check_len(&self.spec, "observation buffer", 3, obs.len())?;
        // Gymnasium: high = [pi, 1]; state = uniform(-high, high), component by component.
        let theta = uniform(rng, -PI, PI);
        let theta_dot = uniform(rng, -1.0, 1.0);
        self.state = [theta, theta_dot];
        self.write_obs(obs);
        Ok(())
    }

    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Result<StepResult, EnvError> {
        let action = continuous_action(&self.spec, action)?;
        check_len(&self.spec, "observation buffer", 3, obs.len())?;

        let [th, thdot] = self.state;
        // The clipped torque drives both the dynamics and the cost.
        let u = clip(f64::from(action[0]), -MAX_TORQUE, MAX_TORQUE);
        let an = angle_normalize(th);
        // The cost is charged on the state *before* the step.
        let costs = an * an + 0.1 * (thdot * thdot) + 0.001 * (u * u);

        let newthdot = thdot + (3.0 * G / (2.0 * L) * th.sin() + 3.0 / (M * (L * L)) * u) * DT;
        let newthdot = clip(newthdot, -MAX_SPEED, MAX_SPEED);
        // Semi-implicit Euler: the angle advances with the new (clipped) velocity.
        let newth = th + newthdot * DT;
        self.state = [newth, newthdot];

        self.write_obs(obs);
        Ok(StepResult {
            reward: -costs,
            terminated: false,
        })
    }

    fn observe(&self, obs: &mut [f32]) -> Result<(), EnvError> {
        check_len(&self.spec, "observation buffer", 3, obs.len())?;
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
