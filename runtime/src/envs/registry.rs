//! The registry of environments by Gymnasium id: creating one, its spec, and a suggestion
//! for a mistyped id.

use super::acrobot::Acrobot;
use super::cartpole::CartPole;
use super::env::{Env, EnvError};
use super::mountain_car::MountainCar;
use super::mountain_car_continuous::MountainCarContinuous;
use super::pendulum::Pendulum;
use rlc_compiler::env_spec::EnvSpec;

/// One registered environment: how to create it and its spec.
struct Registered {
    id: &'static str,
    make: fn() -> Box<dyn Env>,
    spec: fn() -> EnvSpec,
}

/// Every environment, in the order they are listed to users. The one place an environment is
/// registered.
const REGISTRY: &[Registered] = &[
    Registered {
        id: "CartPole-v1",
        make: || Box::new(CartPole::new()),
        spec: CartPole::env_spec,
    },
    Registered {
        id: "Pendulum-v1",
        make: || Box::new(Pendulum::new()),
        spec: Pendulum::env_spec,
    },
    Registered {
        id: "MountainCarContinuous-v0",
        make: || Box::new(MountainCarContinuous::new()),
        spec: MountainCarContinuous::env_spec,
    },
    Registered {
        id: "MountainCar-v0",
        make: || Box::new(MountainCar::new()),
        spec: MountainCar::env_spec,
    },
    Registered {
        id: "Acrobot-v1",
        make: || Box::new(Acrobot::new()),
        spec: Acrobot::env_spec,
    },
];

/// The registered ids, in registry order (derived from [`REGISTRY`] once).
const KNOWN_IDS: &[&str] = &{
    let mut ids = [""; REGISTRY.len()];
    let mut i = 0;
    while i < REGISTRY.len() {
        ids[i] = REGISTRY[i].id;
        i += 1;
    }
    ids
};

/// The ids [`make`] and [`spec`] accept.
pub fn known_ids() -> &'static [&'static str] {
    KNOWN_IDS
}

fn lookup(id: &str) -> Result<&'static Registered, EnvError> {
    REGISTRY
        .iter()
        .find(|r| r.id == id)
        .ok_or_else(|| unknown_env(id))
}

/// Creates a fresh environment by id (state all zeros until reset).
///
/// # Errors
/// [`EnvError::UnknownEnv`] (listing the known ids) for an unregistered id.
pub fn make(id: &str) -> Result<Box<dyn Env>, EnvError> {
    lookup(id).map(|r| (r.make)())
}

/// The spec of a registered environment, without creating it; for a `gym:` id, the spec
/// Gymnasium gives (see [`super::gym`]).
///
/// # Errors
/// [`EnvError::UnknownEnv`] (listing the known ids) for an unregistered id; [`EnvError::Python`]
/// for a `gym:` id that cannot be made.
pub fn spec(id: &str) -> Result<EnvSpec, EnvError> {
    if super::gym::is_gym(id) {
        return super::gym::spec(id);
    }
    lookup(id).map(|r| (r.spec)())
}

/// [`spec`] as the compiler's environment resolver (`Driver::compile`): an unknown id with
/// the closest known one; an id that names an environment rlc cannot have (`gym:...`) with
/// the reason.
pub fn resolve(id: &str) -> Result<EnvSpec, rlc_compiler::driver::EnvLookupError> {
    spec(id).map_err(|e| {
        let (suggestion, reason) = match e {
            EnvError::UnknownEnv { suggestion, .. } => (suggestion.map(String::from), None),
            other => (None, Some(other.to_string())),
        };
        rlc_compiler::driver::EnvLookupError {
            suggestion,
            reason,
            known: KNOWN_IDS.iter().map(|s| s.to_string()).collect(),
        }
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
        known: KNOWN_IDS,
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
