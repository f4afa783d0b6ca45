//! A build without the `python` feature: a Gymnasium vector environment cannot exist (the
//! type has no values), so the code that steps one compiles unchanged and is never reached.

use super::super::env::EnvError;
use super::super::vec_env::StepBatch;

/// No value: `gym:` ids are refused before one would be made.
pub(crate) enum GymVec {}

impl GymVec {
    /// Unreachable: no `GymVec` exists.
    pub(crate) fn reset(&mut self, _obs: &mut [f32]) -> Result<(), EnvError> {
        match *self {}
    }

    /// Unreachable: no `GymVec` exists.
    pub(crate) fn step_discrete(
        &mut self,
        _: &[i32],
        _: &mut StepBatch,
        _: &mut [f64],
    ) -> Result<(), EnvError> {
        match *self {}
    }

    /// Unreachable: no `GymVec` exists.
    pub(crate) fn step_continuous(
        &mut self,
        _: &[f32],
        _: &mut StepBatch,
        _: &mut [f64],
    ) -> Result<(), EnvError> {
        match *self {}
    }
}
