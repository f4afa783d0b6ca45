//! Environments stepped through Python: any Gymnasium id as `gym:ID` (`--env gym:HalfCheetah-v5`,
//! or `gym:my_module:MyEnv-v0` to import the module that registers a custom environment).
//!
//! Only the `gym:` prefix reaches Gymnasium: a plain id is always rlc's own port, so which
//! implementation a run uses never depends on what happens to be installed. The bridge needs
//! the `python` cargo feature (pyo3, embedding the CPython it was built against) and Gymnasium
//! in the active virtual environment; without either, asking for a `gym:` id is an error that
//! says what to install.

#[cfg(not(feature = "python"))]
mod absent;
#[cfg(feature = "python")]
mod python;
#[cfg(feature = "python")]
mod vec;

use std::fmt;
use std::str::FromStr;

use super::env::EnvError;
use rlc_compiler::env_spec::EnvSpec;

#[cfg(not(feature = "python"))]
pub(crate) use absent::GymVec;
#[cfg(feature = "python")]
pub use python::{add_python_path, preload, register_object};
#[cfg(feature = "python")]
pub(crate) use vec::GymVec;

/// The prefix of ids stepped through Gymnasium.
pub const GYM_PREFIX: &str = "gym:";

/// True for an id stepped through Gymnasium (`gym:...`).
pub fn is_gym(id: &str) -> bool {
    id.starts_with(GYM_PREFIX)
}

/// The id as Gymnasium spells it (without rlc's `gym:` prefix).
#[cfg(feature = "python")]
pub(crate) fn gym_name(id: &str) -> &str {
    id.strip_prefix(GYM_PREFIX).unwrap_or(id)
}

/// How Gymnasium runs the copies of a `gym:` environment (`gymnasium.make_vec`'s
/// `vectorization_mode`). rlc's own environments ignore it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Vectorization {
    /// All copies in rlc's process, one after another (`SyncVectorEnv`): best for fast
    /// environments, where a process hop costs more than a step.
    #[default]
    Sync,
    /// One worker process per copy (`AsyncVectorEnv`): for environments slow enough that
    /// stepping them in parallel pays for the inter-process copies.
    Async,
}

impl Vectorization {
    /// Gymnasium's name for the mode.
    pub fn as_str(self) -> &'static str {
        match self {
            Vectorization::Sync => "sync",
            Vectorization::Async => "async",
        }
    }
}

impl fmt::Display for Vectorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Vectorization {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "sync" => Ok(Vectorization::Sync),
            "async" => Ok(Vectorization::Async),
            _ => Err(format!("unknown vectorization `{s}`: use `sync` or `async`")),
        }
    }
}

/// The spec of a `gym:` id, from one throwaway instance (cached: the compiler may ask twice).
///
/// # Errors
/// [`EnvError::Python`] as for [`GymVec::new`]; without the `python` feature, always
/// [`EnvError::Python`] saying how to build with it.
#[cfg(feature = "python")]
pub(crate) fn spec(id: &str) -> Result<EnvSpec, EnvError> {
    use pyo3::prelude::*;
    use std::collections::HashMap;
    use std::sync::Mutex;
    static SPECS: Mutex<Option<HashMap<String, EnvSpec>>> = Mutex::new(None);
    if let Some(known) = SPECS
        .lock()
        .ok()
        .and_then(|m| m.as_ref().and_then(|m| m.get(id).cloned()).map(Ok))
    {
        return known;
    }
    let bridge = python::bridge()?;
    let found = Python::attach(|py| {
        let described = bridge
            .bind(py)
            .getattr("describe")
            .and_then(|f| f.call1((gym_name(id),)))
            .map_err(|e| python::env_error(py, id, e))?;
        spec_from_python(py, id, &described)
    });
    // Only successes: a package installed after a failure is found on the next try.
    if let (Ok(spec), Ok(mut m)) = (&found, SPECS.lock()) {
        m.get_or_insert_with(HashMap::new)
            .insert(id.to_string(), spec.clone());
    }
    found
}

/// Without the `python` feature a `gym:` id cannot be stepped: say how to build rlc with it.
#[cfg(not(feature = "python"))]
pub(crate) fn spec(id: &str) -> Result<EnvSpec, EnvError> {
    Err(not_built(id))
}

/// The error for a `gym:` id in a build without the `python` feature.
#[cfg(not(feature = "python"))]
pub(crate) fn not_built(id: &str) -> EnvError {
    EnvError::Python(format!(
        "`{id}` is stepped through Python, and this rlc was built without it: build with \
         `cargo build --release --features python` (needs libpython, e.g. Debian's python3-dev)"
    ))
}

/// Reads the bridge's `(obs_dim, action, max_episode_steps)` into an [`EnvSpec`].
#[cfg(feature = "python")]
fn spec_from_python(
    py: pyo3::Python<'_>,
    id: &str,
    t: &pyo3::Bound<'_, pyo3::PyAny>,
) -> Result<EnvSpec, EnvError> {
    use pyo3::prelude::*;
    use python::item;
    use rlc_compiler::env_spec::ActionSpace;
    let obs_dim: usize = item(py, id, t, 0)?;
    let action: Bound<'_, PyAny> = item(py, id, t, 1)?;
    let kind: String = item(py, id, &action, 0)?;
    let max_episode_steps: usize = item(py, id, t, 2)?;
    let action = if kind == "discrete" {
        let n: usize = item(py, id, &action, 1)?;
        ActionSpace::Discrete { n }
    } else {
        let low: Vec<f64> = item(py, id, &action, 1)?;
        let high: Vec<f64> = item(py, id, &action, 2)?;
        ActionSpace::Continuous {
            dim: low.len(),
            low: low.iter().map(|&v| v as f32).collect(),
            high: high.iter().map(|&v| v as f32).collect(),
        }
    };
    Ok(EnvSpec {
        id: id.to_string(),
        obs_dim,
        action,
        max_episode_steps,
    })
}
