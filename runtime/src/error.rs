//! The error every fallible part of a run returns. It lives apart from the trainer so the
//! modules the trainer uses (metrics, checkpoints, curves) can return it without importing
//! the trainer.

use crate::data::DataError;
use crate::envs::EnvError;
use rlc_compiler::backend::BackendError;
use rlc_compiler::ir::Origin;
use std::fmt;

/// Why a run failed.
#[derive(Debug)]
pub enum RunError {
    /// The program and the runtime do not fit together (bad schedule, unsupported setup).
    Setup(String),
    /// An environment error.
    Env(EnvError),
    /// A backend error.
    Backend(BackendError),
    /// A data-buffer error.
    Data(DataError),
    /// A file could not be written or read.
    Io(String),
    /// A loss, parameter or other state became NaN or infinite: the run stops rather than
    /// train on (and checkpoint) garbage.
    NonFinite {
        /// What went bad, when, and what was kept.
        message: String,
        /// The operation that produced it (`--debug-nans` only).
        source: Option<FaultSource>,
    },
    /// An index computed at run time left its axis (a run-time index check failed).
    IndexOutOfRange {
        /// What, where and when.
        message: String,
        /// The check: the index expression and the axis.
        check: rlc_compiler::lower::IndexCheck,
    },
}

/// The operation a NaN or an infinity came from, found by `--debug-nans`.
#[derive(Clone, Debug)]
pub struct FaultSource {
    /// The entry point (`train`).
    pub entry: String,
    /// The node, as a line of `rlc graph`'s dump.
    pub node: String,
    /// The source expression it was built for, when known.
    pub origin: Option<Origin>,
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Setup(m) | RunError::Io(m) | RunError::IndexOutOfRange { message: m, .. } => {
                f.write_str(m)
            }
            RunError::NonFinite { message, source } => {
                f.write_str(message)?;
                if let Some(s) = source {
                    write!(f, "\n  first non-finite value: `{}` in `{}`", s.node, s.entry)?;
                }
                Ok(())
            }
            RunError::Env(e) => write!(f, "environment: {e}"),
            RunError::Backend(e) => write!(f, "backend: {e}"),
            RunError::Data(e) => write!(f, "data: {e}"),
        }
    }
}

impl std::error::Error for RunError {}

impl From<EnvError> for RunError {
    fn from(e: EnvError) -> RunError {
        RunError::Env(e)
    }
}
impl From<BackendError> for RunError {
    fn from(e: BackendError) -> RunError {
        RunError::Backend(e)
    }
}
impl From<DataError> for RunError {
    fn from(e: DataError) -> RunError {
        RunError::Data(e)
    }
}
