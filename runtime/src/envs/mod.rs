//! Classic-control environments, step-for-step identical to Gymnasium 1.4.
//!
//! Every environment keeps its state in `f64` and evaluates the step function with the same
//! operations in the same order as Gymnasium/numpy, so a transition from a given state matches
//! Gymnasium's to the last bit (or within one ulp where numpy's `sin`/`cos` differ from the
//! system libm). Observations are `f32`, like Gymnasium's. Only the *reset* draws differ: they
//! follow Gymnasium's stated initial-state distributions but use our [`EnvRng`], because numpy's
//! PCG64 stream cannot be reproduced.
//!
//! The reference for all of this is `shared/conformance/envs/*.json`; the integration tests in
//! `runtime/tests/env_reference.rs` replay every case in those files (`env_vec.rs` tests the
//! vectorised wrapper).

pub(crate) mod acrobot;
pub(crate) mod cartpole;
mod env;
pub mod gym;
pub(crate) mod mountain_car;
pub(crate) mod mountain_car_continuous;
mod pendulum;
mod registry;
pub mod vec_env;

pub use acrobot::Acrobot;
pub use cartpole::CartPole;
pub use env::{Action, Env, EnvError, EnvRng, StepResult};
pub use gym::{Vectorization, is_gym};
pub use mountain_car::MountainCar;
pub use mountain_car_continuous::MountainCarContinuous;
pub use pendulum::Pendulum;
pub use registry::{known_ids, make, resolve, spec};
pub use vec_env::{FinishedEpisode, StepBatch, VecEnv, copy_rng};
