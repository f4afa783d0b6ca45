//! rlc's runtime: Gymnasium-exact environments, data buffers, the trainer and its outputs.

pub use rlc_compiler::env_spec::{ActionSpace, EnvSpec};

pub mod data;
pub mod envs;
