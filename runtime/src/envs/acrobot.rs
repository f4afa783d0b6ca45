//! Acrobot-v1: swing a two-link chain, actuated at the middle joint, above a height
//! (Gymnasium's `AcrobotEnv`, "book" dynamics, no torque noise).

use std::f64::consts::PI;

use super::env::{Action, Env, EnvError, EnvRng, StepResult, check_len, clip, discrete_action, uniform};
use rlc_compiler::env_spec::{ActionSpace, EnvSpec};

/// Seconds per step (one RK4 step).
const DT: f64 = 0.2;
pub(crate) const LINK_LENGTH_1: f64 = 1.0;
/// The second link's length: only drawn (the dynamics use its centre of mass, as Gymnasium's do).
pub(crate) const LINK_LENGTH_2: f64 = 1.0;
const LINK_MASS_1: f64 = 1.0;
const LINK_MASS_2: f64 = 1.0;
const LINK_COM_POS_1: f64 = 0.5;
const LINK_COM_POS_2: f64 = 0.5;
const LINK_MOI: f64 = 1.0;
const G: f64 = 9.8;
const AVAIL_TORQUE: [f64; 3] = [-1.0, 0.0, 1.0];

/// Acrobot-v1. State `[theta1, theta2, dtheta1, dtheta2]`; observation
/// `[cos t1, sin t1, cos t2, sin t2, dt1, dt2]`; actions `0/1/2` = torque `-1/0/+1`;
/// reward -1 per step, 0 on the step that reaches the height.
#[derive(Clone, Debug)]
pub struct Acrobot {
    spec: EnvSpec,
    state: [f64; 4],
}

impl Acrobot {
    /// A new environment with the all-zero state (call `reset` to start an episode).
    pub fn new() -> Self {
        Acrobot {
            spec: Self::env_spec(),
            state: [0.0; 4],
        }
    }

    /// The registered spec: 6 observations, 3 discrete actions, 500 steps.
    pub fn env_spec() -> EnvSpec {
        EnvSpec {
            id: "Acrobot-v1".to_string(),
            obs_dim: 6,
            action: ActionSpace::Discrete { n: 3 },
            max_episode_steps: 500,
        }
    }

    fn write_obs(&self, obs: &mut [f32]) {
        let [t1, t2, dt1, dt2] = self.state;
        obs[0] = t1.cos() as f32;
        obs[1] = t1.sin() as f32;
        obs[2] = t2.cos() as f32;
        obs[3] = t2.sin() as f32;
        obs[4] = dt1 as f32;
        obs[5] = dt2 as f32;
    }
}

impl Default for Acrobot {
    fn default() -> Self {
        Self::new()
    }
}

/// Time derivative of `(theta1, theta2, dtheta1, dtheta2, torque)`, written term by term like
/// Gymnasium's `_dsdt` so the rounding is the same.
fn dsdt(s: &[f64; 5]) -> [f64; 5] {
    let m1 = LINK_MASS_1;
    let m2 = LINK_MASS_2;
    let l1 = LINK_LENGTH_1;
    let lc1 = LINK_COM_POS_1;
    let lc2 = LINK_COM_POS_2;
    let i1 = LINK_MOI;
    let i2 = LINK_MOI;
    let [theta1, theta2, dtheta1, dtheta2, a] = *s;

    let d1 = m1 * (lc1 * lc1) + m2 * (l1 * l1 + lc2 * lc2 + 2.0 * l1 * lc2 * theta2.cos()) + i1 + i2;
    let d2 = m2 * (lc2 * lc2 + l1 * lc2 * theta2.cos()) + i2;
    let phi2 = m2 * lc2 * G * (theta1 + theta2 - PI / 2.0).cos();
    let phi1 = -m2 * l1 * lc2 * (dtheta2 * dtheta2) * theta2.sin()
        - 2.0 * m2 * l1 * lc2 * dtheta2 * dtheta1 * theta2.sin()
        + (m1 * lc1 + m2 * l1) * G * (theta1 - PI / 2.0).cos()
        + phi2;
    // "book" variant: includes the dtheta1^2 term that the NIPS paper omits.
    let ddtheta2 = (a + d2 / d1 * phi1 - m2 * l1 * lc2 * (dtheta1 * dtheta1) * theta2.sin() - phi2)
        / (m2 * (lc2 * lc2) + i2 - (d2 * d2) / d1);
    let ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
    [dtheta1, dtheta2, ddtheta1, ddtheta2, 0.0]
}

/// `y + h * k`, component-wise (numpy's `y0 + dt2 * k1`).
fn axpy(y: &[f64; 5], h: f64, k: &[f64; 5]) -> [f64; 5] {
    std::array::from_fn(|i| y[i] + h * k[i])
}

/// One classic RK4 step over `[0, DT]`, as Gymnasium's `rk4(derivs, y0, [0, dt])`.
fn rk4(y0: &[f64; 5]) -> [f64; 5] {
    let dt = DT - 0.0;
    let dt2 = dt / 2.0;
    let k1 = dsdt(y0);
    let k2 = dsdt(&axpy(y0, dt2, &k1));
    let k3 = dsdt(&axpy(y0, dt2, &k2));
    let k4 = dsdt(&axpy(y0, dt, &k3));
    std::array::from_fn(|i| y0[i] + dt / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]))
}

/// Gymnasium's `wrap(x, -pi, pi)`: shift by 2*pi until inside; `+-pi` itself stays.
fn wrap(x: f64) -> f64 {
    let diff = PI - (-PI);
    // Gymnasium loops forever on infinities and takes ~|x|/2pi iterations; a state that far out
    // can only come from `set_state`, so reduce it first to keep the loop short. NaN falls
    // through both loops unchanged, as in Gymnasium.
    let mut x = if x.is_finite() && x.abs() > 1e3 {
        (x + PI).rem_euclid(diff) - PI
    } else if x.is_infinite() {
        f64::NAN
    } else {
        x
    };
    while x > PI {
        x -= diff;
    }
    while x < -PI {
        x += diff;
    }
    x
}

impl Env for Acrobot {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn reset(&mut self, rng: &mut EnvRng, obs: &mut [f32]) -> Result<(), EnvError> {
        check_len(&self.spec, "observation buffer", 6, obs.len())?;
        // Gymnasium: uniform(-0.1, 0.1, size=4).astype(np.float32).
        for s in &mut self.state {
            *s = f64::from(uniform(rng, -0.1, 0.1) as f32);
        }
        self.write_obs(obs);
        Ok(())
    }

    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Result<StepResult, EnvError> {
        let action = discrete_action(&self.spec, action)?;
        check_len(&self.spec, "observation buffer", 6, obs.len())?;

        let [t1, t2, dt1, dt2] = self.state;
        // The torque rides along as a fifth state component with zero derivative.
        let ns = rk4(&[t1, t2, dt1, dt2, AVAIL_TORQUE[action]]);
        let max_vel_1 = 4.0 * PI;
        let max_vel_2 = 9.0 * PI;
        // Only the final RK4 result is wrapped/clipped, never the intermediate stages.
        self.state = [
            wrap(ns[0]),
            wrap(ns[1]),
            clip(ns[2], -max_vel_1, max_vel_1),
            clip(ns[3], -max_vel_2, max_vel_2),
        ];

        let [t1, t2, _, _] = self.state;
        let terminated = -t1.cos() - (t2 + t1).cos() > 1.0;
        let reward = if terminated { 0.0 } else { -1.0 };
        self.write_obs(obs);
        Ok(StepResult { reward, terminated })
    }

    fn observe(&self, obs: &mut [f32]) -> Result<(), EnvError> {
        check_len(&self.spec, "observation buffer", 6, obs.len())?;
        self.write_obs(obs);
        Ok(())
    }

    fn state(&self) -> Vec<f64> {
        self.state.to_vec()
    }

    fn set_state(&mut self, state: &[f64]) -> Result<(), EnvError> {
        check_len(&self.spec, "state", 4, state.len())?;
        self.state.copy_from_slice(state);
        Ok(())
    }
}
