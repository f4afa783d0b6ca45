//! CartPole-v1: balance a pole on a cart pushed left or right (Gymnasium's `CartPoleEnv`).

use super::env::{Action, Env, EnvError, EnvRng, StepResult, check_len, discrete_action, uniform};
use rlc_compiler::env_spec::{ActionSpace, EnvSpec};

const GRAVITY: f64 = 9.8;
const MASSCART: f64 = 1.0;
const MASSPOLE: f64 = 0.1;
/// Half the pole's length.
pub(crate) const LENGTH: f64 = 0.5;
const FORCE_MAG: f64 = 10.0;
/// Seconds per step.
const TAU: f64 = 0.02;
pub(crate) const X_THRESHOLD: f64 = 2.4;

/// CartPole-v1. State `[x, x_dot, theta, theta_dot]`; observation = the state as `f32`;
/// actions `0` (push left) and `1` (push right); reward 1 per step.
#[derive(Clone, Debug)]
pub struct CartPole {
    spec: EnvSpec,
    state: [f64; 4],
    /// Gymnasium's `steps_beyond_terminated is not None`: stepping past termination pays 0.
    terminated_before: bool,
}

impl CartPole {
    /// A new environment with the all-zero state (call `reset` to start an episode).
    pub fn new() -> Self {
        CartPole {
            spec: Self::env_spec(),
            state: [0.0; 4],
            terminated_before: false,
        }
    }

    /// The registered spec: 4 observations, 2 discrete actions, 500 steps.
    pub fn env_spec() -> EnvSpec {
        EnvSpec {
            id: "CartPole-v1".to_string(),
            obs_dim: 4,
            action: ActionSpace::Discrete { n: 2 },
            max_episode_steps: 500,
        }
    }

    fn write_obs(&self, obs: &mut [f32]) {
        for (o, s) in obs.iter_mut().zip(self.state) {
            *o = s as f32;
        }
    }
}

impl Default for CartPole {
    fn default() -> Self {
        Self::new()
    }
}

impl Env for CartPole {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn reset(&mut self, rng: &mut EnvRng, obs: &mut [f32]) -> Result<(), EnvError> {
        check_len(&self.spec, "observation buffer", 4, obs.len())?;
        for s in &mut self.state {
            *s = uniform(rng, -0.05, 0.05);
        }
        self.terminated_before = false;
        self.write_obs(obs);
        Ok(())
    }

    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Result<StepResult, EnvError> {
        let action = discrete_action(&self.spec, action)?;
        check_len(&self.spec, "observation buffer", 4, obs.len())?;

        // Derived constants computed the way Gymnasium computes them in `__init__`.
        let total_mass = MASSPOLE + MASSCART;
        let polemass_length = MASSPOLE * LENGTH;
        let theta_threshold = 12.0 * 2.0 * std::f64::consts::PI / 360.0;

        let [x, x_dot, theta, theta_dot] = self.state;
        let force = if action == 1 { FORCE_MAG } else { -FORCE_MAG };
        let costheta = theta.cos();
        let sintheta = theta.sin();
        let temp = (force + polemass_length * (theta_dot * theta_dot) * sintheta) / total_mass;
        let thetaacc = (GRAVITY * sintheta - costheta * temp)
            / (LENGTH * (4.0 / 3.0 - MASSPOLE * (costheta * costheta) / total_mass));
        let xacc = temp - polemass_length * thetaacc * costheta / total_mass;

        // Explicit Euler: positions advance with the *old* velocities.
        let x = x + TAU * x_dot;
        let x_dot = x_dot + TAU * xacc;
        let theta = theta + TAU * theta_dot;
        let theta_dot = theta_dot + TAU * thetaacc;
        self.state = [x, x_dot, theta, theta_dot];

        // Gymnasium's four strict comparisons, kept as written: a NaN state does not terminate,
        // which `!(-X..=X).contains(&x)` would change.
        #[allow(clippy::manual_range_contains)]
        let terminated =
            x < -X_THRESHOLD || x > X_THRESHOLD || theta < -theta_threshold || theta > theta_threshold;
        // Gymnasium pays 1.0 up to and including the terminating step, 0.0 on steps after it.
        let reward = if !terminated {
            1.0
        } else if !self.terminated_before {
            self.terminated_before = true;
            1.0
        } else {
            0.0
        };

        self.write_obs(obs);
        Ok(StepResult { reward, terminated })
    }

    fn observe(&self, obs: &mut [f32]) -> Result<(), EnvError> {
        check_len(&self.spec, "observation buffer", 4, obs.len())?;
        self.write_obs(obs);
        Ok(())
    }

    fn state(&self) -> Vec<f64> {
        self.state.to_vec()
    }

    fn set_state(&mut self, state: &[f64]) -> Result<(), EnvError> {
        check_len(&self.spec, "state", 4, state.len())?;
        self.state.copy_from_slice(state);
        // A freshly placed state starts a new history, as on Gymnasium's fresh env in the tests.
        self.terminated_before = false;
        Ok(())
    }
}
