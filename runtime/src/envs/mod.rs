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

mod acrobot;
mod cartpole;
mod mountain_car;
mod mountain_car_continuous;
mod pendulum;
pub mod vec_env;

use std::fmt;

use rand::RngExt;

use crate::{ActionSpace, EnvSpec};

pub use acrobot::Acrobot;
pub use cartpole::CartPole;
pub use mountain_car::MountainCar;
pub use mountain_car_continuous::MountainCarContinuous;
pub use pendulum::Pendulum;
pub use vec_env::{FinishedEpisode, StepBatch, VecEnv, copy_rng};

/// The random number generator environments draw their initial states from.
pub type EnvRng = rand_chacha::ChaCha8Rng;

/// One action, borrowed from the caller's buffer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Action<'a> {
    /// The index of a discrete action (`0..n`).
    Discrete(i64),
    /// The components of a continuous action (length = the action space's `dim`).
    Continuous(&'a [f32]),
}

impl Action<'_> {
    /// `"discrete"` or `"continuous"`, for error messages.
    fn kind(&self) -> &'static str {
        match self {
            Action::Discrete(_) => "discrete",
            Action::Continuous(_) => "continuous",
        }
    }
}

/// What one step returns besides the observation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepResult {
    /// The reward of the transition.
    pub reward: f64,
    /// True when the new state is terminal (the episode ended inside the MDP, not by a time limit).
    pub terminated: bool,
}

/// Everything that can go wrong when creating or driving an environment.
#[derive(Clone, Debug, PartialEq)]
pub enum EnvError {
    /// No environment with this id is registered.
    UnknownEnv {
        /// The id that was asked for.
        id: String,
        /// The closest registered id, if any is reasonably close.
        suggestion: Option<&'static str>,
    },
    /// A discrete action for a continuous environment, or the other way round.
    WrongActionKind {
        /// The environment's id.
        env: String,
        /// The kind the environment takes (`"discrete"` / `"continuous"`).
        expected: &'static str,
        /// The kind that was passed.
        got: &'static str,
    },
    /// A discrete action outside `0..n`.
    ActionOutOfRange {
        /// The environment's id.
        env: String,
        /// The action that was passed.
        action: i64,
        /// The number of actions.
        n: usize,
    },
    /// A buffer (observation, action, state or batch) of the wrong length.
    WrongLength {
        /// The environment's id.
        env: String,
        /// Which buffer (e.g. `"observation buffer"`).
        what: &'static str,
        /// The length the environment needs.
        expected: usize,
        /// The length that was passed.
        got: usize,
    },
    /// An argument that makes no sense (e.g. a vectorised environment with zero copies).
    InvalidArgument(String),
}

impl fmt::Display for EnvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvError::UnknownEnv { id, suggestion } => {
                write!(f, "unknown environment `{id}`")?;
                if let Some(s) = suggestion {
                    write!(f, "; did you mean `{s}`?")?;
                }
                write!(f, " known: {}", KNOWN_IDS.join(", "))
            }
            EnvError::WrongActionKind { env, expected, got } => {
                write!(f, "{env} takes {expected} actions, but a {got} action was given")
            }
            EnvError::ActionOutOfRange { env, action, n } => write!(
                f,
                "{env}: discrete action {action} is out of range (valid actions are 0..{n})"
            ),
            EnvError::WrongLength {
                env,
                what,
                expected,
                got,
            } => write!(f, "{env}: {what} has length {got}, but {expected} is required"),
            EnvError::InvalidArgument(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for EnvError {}

/// A Gymnasium environment: explicit state, `f32` observations, `f64` rewards.
///
/// Before the first [`Env::reset`] or [`Env::set_state`] the state is all zeros (Gymnasium refuses
/// to step there; we keep stepping well defined instead).
pub trait Env: Send {
    /// The static description: id, observation size, action space, time limit.
    fn spec(&self) -> &EnvSpec;

    /// Draws a new initial state from Gymnasium's reset distribution and writes its observation.
    ///
    /// # Errors
    /// [`EnvError::WrongLength`] if `obs` is not `obs_dim` long (the state is then unchanged).
    fn reset(&mut self, rng: &mut EnvRng, obs: &mut [f32]) -> Result<(), EnvError>;

    /// Applies one action, writes the new observation and returns reward and termination.
    ///
    /// # Errors
    /// [`EnvError::WrongActionKind`], [`EnvError::ActionOutOfRange`] or
    /// [`EnvError::WrongLength`] (action dimension or `obs` length); nothing changes then.
    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Result<StepResult, EnvError>;

    /// Writes the observation of the current state.
    ///
    /// # Errors
    /// [`EnvError::WrongLength`] if `obs` is not `obs_dim` long.
    fn observe(&self, obs: &mut [f32]) -> Result<(), EnvError>;

    /// The full state vector in Gymnasium's layout (`env.unwrapped.state`).
    fn state(&self) -> Vec<f64>;

    /// Replaces the state, like assigning `env.unwrapped.state` in Gymnasium.
    ///
    /// # Errors
    /// [`EnvError::WrongLength`] if `state` does not have the layout's length.
    fn set_state(&mut self, state: &[f64]) -> Result<(), EnvError>;
}

/// The registered ids, in registry order.
const KNOWN_IDS: &[&str] = &[
    "CartPole-v1",
    "Pendulum-v1",
    "MountainCarContinuous-v0",
    "MountainCar-v0",
    "Acrobot-v1",
];

/// The ids [`make`] and [`spec`] accept.
pub fn known_ids() -> &'static [&'static str] {
    KNOWN_IDS
}

/// Creates a fresh environment by id (state all zeros until reset).
///
/// # Errors
/// [`EnvError::UnknownEnv`] (listing the known ids) for an unregistered id.
pub fn make(id: &str) -> Result<Box<dyn Env>, EnvError> {
    Ok(match id {
        "CartPole-v1" => Box::new(CartPole::new()),
        "Pendulum-v1" => Box::new(Pendulum::new()),
        "MountainCarContinuous-v0" => Box::new(MountainCarContinuous::new()),
        "MountainCar-v0" => Box::new(MountainCar::new()),
        "Acrobot-v1" => Box::new(Acrobot::new()),
        _ => return Err(unknown_env(id)),
    })
}

/// The spec of a registered environment, without creating it.
///
/// # Errors
/// [`EnvError::UnknownEnv`] (listing the known ids) for an unregistered id.
pub fn spec(id: &str) -> Result<EnvSpec, EnvError> {
    Ok(match id {
        "CartPole-v1" => CartPole::env_spec(),
        "Pendulum-v1" => Pendulum::env_spec(),
        "MountainCarContinuous-v0" => MountainCarContinuous::env_spec(),
        "MountainCar-v0" => MountainCar::env_spec(),
        "Acrobot-v1" => Acrobot::env_spec(),
        _ => return Err(unknown_env(id)),
    })
}

/// The error for an unregistered id, with the closest known id as a suggestion.
fn unknown_env(id: &str) -> EnvError {
    let wanted = id.to_ascii_lowercase();
    let best = KNOWN_IDS
        .iter()
        .map(|k| (edit_distance(&wanted, &k.to_ascii_lowercase()), *k))
        .min_by_key(|(d, _)| *d);
    // Only suggest when the typo is plausibly a typo: at most half the candidate changed.
    let suggestion = best.filter(|(d, k)| *d <= k.len() / 2).map(|(_, k)| k);
    EnvError::UnknownEnv {
        id: id.to_string(),
        suggestion,
    }
}

/// Levenshtein distance over chars (insert, delete, substitute all cost 1).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = substitute.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Checks that a caller's buffer has the length the environment needs.
pub(crate) fn check_len(
    spec: &EnvSpec,
    what: &'static str,
    expected: usize,
    got: usize,
) -> Result<(), EnvError> {
    if expected == got {
        Ok(())
    } else {
        Err(EnvError::WrongLength {
            env: spec.id.clone(),
            what,
            expected,
            got,
        })
    }
}

/// Extracts a discrete action index, checking kind and range against the spec.
pub(crate) fn discrete_action(spec: &EnvSpec, action: Action<'_>) -> Result<usize, EnvError> {
    let n = match spec.action {
        ActionSpace::Discrete { n } => n,
        ActionSpace::Continuous { .. } => return Err(wrong_kind(spec, "continuous", action)),
    };
    match action {
        Action::Discrete(a) => match usize::try_from(a) {
            Ok(i) if i < n => Ok(i),
            _ => Err(EnvError::ActionOutOfRange {
                env: spec.id.clone(),
                action: a,
                n,
            }),
        },
        Action::Continuous(_) => Err(wrong_kind(spec, "discrete", action)),
    }
}

/// Extracts a continuous action, checking kind and dimension against the spec.
///
/// Values are not clipped here: each environment clips exactly where Gymnasium does (some rewards
/// use the raw action).
pub(crate) fn continuous_action<'a>(spec: &EnvSpec, action: Action<'a>) -> Result<&'a [f32], EnvError> {
    let dim = match spec.action {
        ActionSpace::Continuous { dim, .. } => dim,
        ActionSpace::Discrete { .. } => return Err(wrong_kind(spec, "discrete", action)),
    };
    match action {
        Action::Continuous(a) => {
            check_len(spec, "continuous action", dim, a.len())?;
            Ok(a)
        }
        Action::Discrete(_) => Err(wrong_kind(spec, "continuous", action)),
    }
}

fn wrong_kind(spec: &EnvSpec, expected: &'static str, action: Action<'_>) -> EnvError {
    EnvError::WrongActionKind {
        env: spec.id.clone(),
        expected,
        got: action.kind(),
    }
}

/// A draw from Uniform[low, high) computed like numpy's `Generator.uniform`: `low + (high-low)*u`.
pub(crate) fn uniform(rng: &mut EnvRng, low: f64, high: f64) -> f64 {
    low + (high - low) * rng.random::<f64>()
}

/// numpy's `clip` / Python's `min(max(x, lo), hi)` for `lo <= hi`; a NaN passes through unchanged,
/// as in Gymnasium (and unlike `f64::clamp`, this never panics).
pub(crate) fn clip(x: f64, lo: f64, hi: f64) -> f64 {
    if x < lo {
        lo
    } else if x > hi {
        hi
    } else {
        x
    }
}
