//! Backends: compile an entry-point graph once, then call it many times on state that stays
//! resident in the backend (on a GPU: in device memory). The interpreter is one backend (and
//! the reference for all others); the trainer only talks to this trait.

mod api;
pub mod cost;
mod interp;
pub mod jit;
pub mod kernel;
#[cfg(feature = "opencl")]
pub mod opencl;
mod replay;
mod routine;
mod types;

pub use api::{Backend, require_replay};
pub use interp::InterpBackend;
pub use jit::JitBackend;
#[cfg(feature = "opencl")]
pub use opencl::OpenClBackend;
pub use replay::{DeviceReplay, Draw, ReplayId};
pub use types::{BackendError, EntryId, EntryStats, HostData, In, Out, Transfers};

/// The names of the available backends.
pub const BACKENDS: &[&str] = &[
    "jit",
    "interp",
    #[cfg(feature = "opencl")]
    "opencl",
];

/// Creates a backend by name.
pub fn create(name: &str) -> Result<Box<dyn Backend>, BackendError> {
    match name {
        "interp" => Ok(Box::new(InterpBackend::new())),
        "jit" => {
            jit::check_threads_setting().map_err(BackendError)?;
            Ok(Box::new(JitBackend::new()))
        }
        #[cfg(feature = "opencl")]
        "opencl" => Ok(Box::new(OpenClBackend::new()?)),
        #[cfg(not(feature = "opencl"))]
        "opencl" => Err(BackendError(
            "this rlc was built without the OpenCL backend (build with `--features opencl`)".into(),
        )),
        other => Err(BackendError(format!(
            "unknown backend `{other}`{}; available: {}",
            crate::diag::did_you_mean(other, BACKENDS.iter().copied())
                .map(|h| format!(" ({h})"))
                .unwrap_or_default(),
            BACKENDS.join(", ")
        ))),
    }
}
