//! Experience storage: replay buffers, rollout storage and sequence replay.
//!
//! Every buffer is *columnar* and *preallocated*: it is described by a list of [`Field`]s, and
//! each field owns one `Vec<f32>` sized for the buffer's whole capacity when the buffer is built.
//! Pushing and sampling then only copy floats; they never allocate (sampling resizes the caller's
//! output vectors only when their length differs from what the batch needs, so a reused output
//! allocates nothing after the first call).
//!
//! All values are `f32`. Discrete actions, `done` flags and the like are stored as exact small
//! integers in `f32`; converting is the caller's business. Sampling takes the caller's seeded
//! [`ChaCha8Rng`](rand_chacha::ChaCha8Rng), so a run is deterministic for a seed.
//!
//! - [`ReplayBuffer`]: uniform replay over a ring of transitions (DQN, SAC, TD3).
//! - [`PrioritizedReplay`]: proportional prioritized replay (Schaul et al. 2016), built on the
//!   [`SumTree`] and [`MinTree`] of [`sum_tree`].
//! - [`RolloutStorage`]: a `[T, N]` on-policy rollout with minibatch shuffling (A2C, PPO).
//! - [`SequenceReplay`]: replay of fixed-length per-environment trajectories (recurrent agents).
//! - [`NStepAdder`]: per-environment windows of N steps, turned into the items of an n-step
//!   replay (uniform or prioritized) before they enter its ring (D4PG).
//!
//! Bad input (wrong slice lengths, an empty buffer, a zero batch, non-finite priorities) is
//! reported as a [`DataError`], never a panic. The only panics are documented out-of-range field
//! indices in accessors that return slices, like slice indexing.

mod columns;
mod error;
pub mod nstep;
pub mod prioritized;
pub mod replay;
pub mod rollout;
pub mod sequence;
pub mod sum_tree;

pub use columns::{Columns, Field};
pub use error::DataError;
pub use nstep::{NStepAdder, Part};
pub use prioritized::{PrioritizedConfig, PrioritizedReplay};
pub use replay::ReplayBuffer;
pub use rollout::RolloutStorage;
pub use sequence::SequenceReplay;
pub use sum_tree::{MinTree, SumTree};
