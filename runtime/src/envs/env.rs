//! What every environment is: the [`Env`] trait, its actions, step results and errors, and
//! the checks and helpers the environments share.

use std::fmt;

use rand::RngExt;

use rlc_compiler::env_spec::{ActionSpace, EnvSpec};

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
        /// Every registered id, in registry order (for the message).
        known: &'static [&'static str],
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
    /// A continuous action that is NaN or infinite (Gymnasium would clip it to a bound, or
    /// propagate NaN into the state: either is a silently wrong episode).
    NonFiniteAction {
        /// The environment's id.
        env: String,
        /// Which copy of the vectorised environment.
        copy: usize,
        /// The offending value.
        value: f32,
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
    /// A `gym:` environment could not be made or stepped through Python (Python, Gymnasium or
    /// an extra missing, an id Gymnasium does not know, a space rlc cannot map, an exception
    /// inside the environment); the message says which and what fixes it.
    Python(String),
}

impl fmt::Display for EnvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvError::UnknownEnv {
                id,
                suggestion,
                known,
            } => {
                write!(f, "unknown environment `{id}`")?;
                if let Some(s) = suggestion {
                    write!(f, "; did you mean `{s}`?")?;
                }
                write!(f, " known: {}", known.join(", "))
            }
            EnvError::WrongActionKind { env, expected, got } => {
                write!(f, "{env} takes {expected} actions, but a {got} action was given")
            }
            EnvError::ActionOutOfRange { env, action, n } => write!(
                f,
                "{env}: discrete action {action} is out of range (valid actions are 0..{n})"
            ),
            EnvError::NonFiniteAction { env, copy, value } => write!(
                f,
                "{env}: continuous action {value} (copy {copy}) is not a finite number; the policy produced it"
            ),
            EnvError::WrongLength {
                env,
                what,
                expected,
                got,
            } => write!(f, "{env}: {what} has length {got}, but {expected} is required"),
            EnvError::InvalidArgument(msg) | EnvError::Python(msg) => f.write_str(msg),
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
