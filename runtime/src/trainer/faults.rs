//! The trainer's run-time faults: a failed index check, a NaN or an infinity in a loss or in
//! the state. Each stops the run with an error saying what, when and what was kept.

use super::Trainer;
use crate::error::{FaultSource, RunError};
use rlc_compiler::ir::DType;

impl Trainer<'_> {
    /// Stops the run when a run-time index check failed in the call just made (`what`).
    pub(super) fn check_indices(&self, what: &str) -> Result<(), RunError> {
        match &self.index_guard {
            Some(g) => g.check(self.backend.as_ref(), || format!("{what} at step {}", self.steps)),
            None => Ok(()),
        }
    }

    /// The first floating-point state holding a NaN or an infinity, described.
    pub(super) fn non_finite_state(&self) -> Result<Option<String>, RunError> {
        for (id, v) in self.program.states.iter() {
            if v.ty.dtype != DType::F32 {
                continue;
            }
            if let rlc_compiler::backend::HostData::F32(x) = self.backend.read_state(id)?
                && let Some(i) = x.iter().position(|f| !f.is_finite())
            {
                return Ok(Some(format!("state `{}` holds {} (element {i})", v.name, x[i])));
            }
        }
        Ok(None)
    }

    /// The error that stops a run on a NaN or infinity, saying where and what is kept.
    pub(super) fn non_finite(&self, what: &str, source: Option<FaultSource>) -> RunError {
        let kept = match &self.cfg.checkpoint {
            Some(dir) if dir.join("checkpoint.safetensors").exists() => format!(
                "; the last good checkpoint, `{}`, is kept",
                dir.join("checkpoint.safetensors").display()
            ),
            _ => String::new(),
        };
        let hint = if self.cfg.debug_nans {
            ""
        } else {
            ". Rerun with --debug-nans to find the operation that produced it"
        };
        RunError::NonFinite {
            message: format!(
                "{what} after training call {} (step {}): the run stopped{kept}{hint}",
                self.train_calls, self.steps
            ),
            source,
        }
    }
}
