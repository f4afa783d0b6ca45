//! Run-time index checks: after each call of an entry point that has them, the trainer reads
//! the program's index-fault state and stops the run if an index left its axis
//! (`rlc_compiler::lower::bounds` says which indices are checked and how).

use crate::error::RunError;
use rlc_compiler::backend::{Backend, HostData};
use rlc_compiler::ir::StateId;
use rlc_compiler::lower::{Compiled, IndexCheck};

/// The index-fault state of a program with run-time index checks, and the checks.
#[derive(Clone, Debug)]
pub struct IndexGuard {
    state: StateId,
    checks: Vec<IndexCheck>,
}

impl IndexGuard {
    /// The guard of `program`, or `None` when every index was proven in range at compile time
    /// (then nothing is read after calls).
    pub fn of(program: &Compiled) -> Option<IndexGuard> {
        Some(IndexGuard {
            state: program.index_fault_state()?,
            checks: program.index_checks.clone(),
        })
    }

    /// An error when a check failed in the calls so far; `when` says which call
    /// (`acting at step 1200`), built only then (this runs after every call).
    pub fn check(&self, backend: &dyn Backend, when: impl FnOnce() -> String) -> Result<(), RunError> {
        let fault = match backend.read_state(self.state)? {
            HostData::I32(v) => v.first().copied().unwrap_or(0),
            HostData::F32(_) => return Err(RunError::Setup("the index-fault state is not i32".into())),
        };
        if fault == 0 {
            return Ok(());
        }
        let check = usize::try_from(fault)
            .ok()
            .and_then(|k| self.checks.get(k.wrapping_sub(1)))
            .cloned()
            .ok_or_else(|| RunError::Setup(format!("index fault {fault} names no check")))?;
        Err(RunError::IndexOutOfRange {
            message: format!("{} in {}: the run stopped", check.message(), when()),
            check,
        })
    }
}
