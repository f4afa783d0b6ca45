//! The registry of environments by Gymnasium id: creating one, its spec, and a suggestion
//! for a mistyped id.

use super::acrobot::Acrobot;
use super::cartpole::CartPole;
use super::env::{Env, EnvError, KNOWN_IDS};
use super::mountain_car::MountainCar;
use super::mountain_car_continuous::MountainCarContinuous;
use super::pendulum::Pendulum;
use rlc_compiler::env_spec::EnvSpec;

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
