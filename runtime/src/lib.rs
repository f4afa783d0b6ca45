//! rlc's runtime: Gymnasium-exact environments, data buffers, the trainer and its outputs
//! (metrics, TensorBoard event files, checkpoints, learning curves, progress).

pub use rlc_compiler::env_spec::{ActionSpace, EnvSpec};

pub mod aggregate;
pub mod aggregate_curve;
pub mod bench;
pub mod checkpoint;
pub mod curve;
pub mod data;
pub mod envs;
pub mod error;
pub mod metrics;
pub mod progress;
pub mod render;
pub mod snapshot;
pub mod stats;
pub mod tensorboard;
pub mod tick_label;
pub mod trainer;
