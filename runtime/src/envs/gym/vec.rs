//! A Gymnasium vector environment stepped from Rust: one crossing into Python per batch.

use numpy::{PyArray1, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;

use super::super::env::EnvError;
use super::super::vec_env::StepBatch;
use super::python::{bridge, env_error, item};
use super::{Vectorization, gym_name, spec_from_python};
use rlc_compiler::env_spec::EnvSpec;

/// `n` copies of a Gymnasium environment (`gymnasium.make_vec`, same-step autoreset).
///
/// The interpreter is attached only while a call crosses into Python, so it is free while rlc
/// computes (Gymnasium's async workers keep running then).
pub(crate) struct GymVec {
    id: String,
    n: usize,
    obs_dim: usize,
    /// The bridge's `Vec` object.
    vec: Py<PyAny>,
}

impl GymVec {
    /// Makes the vector environment and resets copy `i` with `seeds[i]`; returns it, its spec
    /// (the trainer checks it against the spec the program was compiled for) and the first
    /// observations.
    ///
    /// # Errors
    /// [`EnvError::Python`] when Python, Gymnasium or the environment cannot be loaded, or its
    /// spaces do not fit rlc.
    pub(crate) fn new(
        id: &str,
        mode: Vectorization,
        seeds: &[u64],
    ) -> Result<(GymVec, EnvSpec, Vec<f32>), EnvError> {
        let bridge = bridge()?;
        let name = gym_name(id);
        Python::attach(|py| {
            let made = bridge
                .bind(py)
                .getattr("Vec")
                .and_then(|cls| cls.call1((name, seeds.len(), mode.as_str(), seeds.to_vec())))
                .map_err(|e| env_error(py, id, e))?;
            let spec_tuple = made.getattr("spec").map_err(|e| env_error(py, id, e))?;
            let spec = spec_from_python(py, id, &spec_tuple)?;
            let vec = GymVec {
                id: id.to_string(),
                n: seeds.len(),
                obs_dim: spec.obs_dim,
                vec: made.unbind(),
            };
            let mut obs = vec![0.0; vec.n * vec.obs_dim];
            let first = vec
                .vec
                .bind(py)
                .getattr("obs")
                .map_err(|e| env_error(py, id, e))?;
            vec.copy_obs(py, &first, &mut obs)?;
            Ok((vec, spec, obs))
        })
    }

    /// Starts new episodes in every copy (each copy's generator continues) into `obs`.
    pub(crate) fn reset(&mut self, obs: &mut [f32]) -> Result<(), EnvError> {
        Python::attach(|py| {
            let o = self
                .vec
                .bind(py)
                .call_method0("reset")
                .map_err(|e| env_error(py, &self.id, e))?;
            self.copy_obs(py, &o, obs)
        })
    }

    /// Steps every copy with discrete actions (`0..n`, already checked).
    pub(crate) fn step_discrete(
        &mut self,
        actions: &[i32],
        batch: &mut StepBatch,
        rewards: &mut [f64],
    ) -> Result<(), EnvError> {
        let wide: Vec<i64> = actions.iter().map(|&a| i64::from(a)).collect();
        Python::attach(|py| {
            let a = PyArray1::from_slice(py, &wide);
            self.step(py, a.into_any(), batch, rewards)
        })
    }

    /// Steps every copy with continuous actions (`[n * dim]`, copy-major, already checked).
    pub(crate) fn step_continuous(
        &mut self,
        actions: &[f32],
        batch: &mut StepBatch,
        rewards: &mut [f64],
    ) -> Result<(), EnvError> {
        Python::attach(|py| {
            let a = PyArray1::from_slice(py, actions);
            self.step(py, a.into_any(), batch, rewards)
        })
    }

    fn step<'py>(
        &self,
        py: Python<'py>,
        actions: Bound<'py, PyAny>,
        batch: &mut StepBatch,
        rewards: &mut [f64],
    ) -> Result<(), EnvError> {
        let err = |e: PyErr| env_error(py, &self.id, e);
        let out = self.vec.bind(py).call_method1("step", (actions,)).map_err(err)?;
        self.copy_obs(py, &out.get_item(0).map_err(err)?, &mut batch.obs)?;
        self.copy_obs(py, &out.get_item(1).map_err(err)?, &mut batch.final_obs)?;
        let r: PyReadonlyArray1<'_, f64> = item(py, &self.id, &out, 2)?;
        let terminated: PyReadonlyArray1<'_, bool> = item(py, &self.id, &out, 3)?;
        let truncated: PyReadonlyArray1<'_, bool> = item(py, &self.id, &out, 4)?;
        let r = self.slice(&r, "rewards")?;
        if let Some(i) = r.iter().position(|x| !x.is_finite()) {
            return Err(EnvError::Python(format!(
                "`{}` returned the reward {} (copy {i}), which is not a finite number",
                self.id, r[i]
            )));
        }
        rewards.copy_from_slice(r);
        for (dst, &src) in batch.reward.iter_mut().zip(r) {
            *dst = src as f32;
        }
        batch
            .terminated
            .copy_from_slice(self.slice(&terminated, "terminated flags")?);
        batch
            .truncated
            .copy_from_slice(self.slice(&truncated, "truncated flags")?);
        Ok(())
    }

    /// Copies a batch of float32 observation rows into `dst`, checking size and finiteness.
    fn copy_obs(&self, py: Python<'_>, src: &Bound<'_, PyAny>, dst: &mut [f32]) -> Result<(), EnvError> {
        let rows: PyReadonlyArray2<'_, f32> = src.extract().map_err(|e: PyErr| env_error(py, &self.id, e))?;
        let flat = rows.as_slice().map_err(|_| {
            EnvError::Python(format!(
                "`{}`: the bridge gave non-contiguous observations",
                self.id
            ))
        })?;
        if flat.len() != dst.len() {
            return Err(EnvError::WrongLength {
                env: self.id.clone(),
                what: "observation batch from Python",
                expected: dst.len(),
                got: flat.len(),
            });
        }
        if let Some(i) = flat.iter().position(|x| !x.is_finite()) {
            return Err(EnvError::Python(format!(
                "`{}` returned an observation with {} (copy {}, component {}), which is not a finite number",
                self.id,
                flat[i],
                i / self.obs_dim.max(1),
                i % self.obs_dim.max(1)
            )));
        }
        dst.copy_from_slice(flat);
        Ok(())
    }

    fn slice<'a, T: numpy::Element>(
        &self,
        a: &'a PyReadonlyArray1<'_, T>,
        what: &str,
    ) -> Result<&'a [T], EnvError> {
        let s = a
            .as_slice()
            .map_err(|_| EnvError::Python(format!("`{}`: the bridge gave non-contiguous {what}", self.id)))?;
        if s.len() != self.n {
            return Err(EnvError::Python(format!(
                "`{}` returned {} {what} for {} copies",
                self.id,
                s.len(),
                self.n
            )));
        }
        Ok(s)
    }
}

impl Drop for GymVec {
    /// Closes the environments (Gymnasium's async workers end with it).
    fn drop(&mut self) {
        // Nothing to report to: a failing close leaves at worst a worker process that exits
        // with rlc.
        let _ = Python::try_attach(|py| self.vec.bind(py).call_method0("close").map(drop));
    }
}
