//! Fixtures shared by the data-buffer tests (`data_replay`, `data_rollouts`,
//! `data_steady_state`): a seeded RNG and items whose every value traces back to its id.

// Each test binary includes this module and uses only some of it.
#![allow(dead_code)]

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rlc_runtime::data::{Field, ReplayBuffer};

/// The RNG every sampling test draws from, seeded.
pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// An observation of 3 values, a scalar action and a scalar reward.
pub fn transition_fields() -> Vec<Field> {
    vec![
        Field::new("obs", [3]),
        Field::scalar("action"),
        Field::scalar("reward"),
    ]
}

/// Pushes item `i` with obs `[i, i + 0.25, i + 0.5]`, action `i % 4`, reward `-i`, so every
/// field of a sampled item can be traced back to `i`.
pub fn push_item(buffer: &mut ReplayBuffer, i: usize) {
    let x = i as f32;
    buffer
        .push(&[&[x, x + 0.25, x + 0.5], &[(i % 4) as f32], &[-x]])
        .unwrap();
}

/// Rollout fields: a 2x2 observation and a scalar reward.
pub fn rollout_fields() -> Vec<Field> {
    vec![Field::new("obs", [2, 2]), Field::scalar("reward")]
}
