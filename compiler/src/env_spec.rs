//! What the compiler needs to know about an environment: observation size and action space.
//!
//! The runtime's environment registry produces these; the compiler only reads them, so that
//! `rlc check` and `rlc graph` can fix every shape without running anything.

/// The action space of an environment.
#[derive(Clone, Debug, PartialEq)]
pub enum ActionSpace {
    /// `n` discrete actions, numbered `0..n`.
    Discrete {
        /// Number of actions.
        n: usize,
    },
    /// A box of `dim` real actions with per-dimension bounds.
    Continuous {
        /// Number of action dimensions.
        dim: usize,
        /// Lower bound per dimension.
        low: Vec<f32>,
        /// Upper bound per dimension.
        high: Vec<f32>,
    },
}

impl ActionSpace {
    /// True for a discrete action space.
    pub fn is_discrete(&self) -> bool {
        matches!(self, ActionSpace::Discrete { .. })
    }

    /// The number of values one action takes in a flat buffer (1 for discrete spaces).
    pub fn flat_dim(&self) -> usize {
        match self {
            ActionSpace::Discrete { .. } => 1,
            ActionSpace::Continuous { dim, .. } => *dim,
        }
    }
}

/// The static description of an environment.
#[derive(Clone, Debug, PartialEq)]
pub struct EnvSpec {
    /// Registry id, e.g. `CartPole-v1`.
    pub id: String,
    /// Length of the (flat, f32) observation vector.
    pub obs_dim: usize,
    /// The action space.
    pub action: ActionSpace,
    /// Time limit of the registered environment (episodes are truncated after this many steps).
    pub max_episode_steps: usize,
}
