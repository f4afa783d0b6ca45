//! Backends: compile an entry-point graph once, then call it many times on state that stays
//! resident in the backend (on a GPU: in device memory). The interpreter is one backend (and
//! the reference for all others); the trainer only talks to this trait.

pub mod cost;
mod interp;
pub mod jit;
pub mod kernel;
#[cfg(feature = "opencl")]
pub mod opencl;
mod replay;

pub use interp::InterpBackend;
pub use jit::JitBackend;
#[cfg(feature = "opencl")]
pub use opencl::OpenClBackend;
pub use replay::{DeviceReplay, Draw, ReplayId, require_replay};

use crate::ir::{DType, Graph, StateId, StateTable};
use std::fmt;

/// A call input: borrowed host data in the graph input's element type.
#[derive(Clone, Copy, Debug)]
pub enum In<'a> {
    /// f32 data.
    F32(&'a [f32]),
    /// i32 data.
    I32(&'a [i32]),
}

/// A call output buffer, filled by the backend.
#[derive(Debug)]
pub enum Out<'a> {
    /// f32 data.
    F32(&'a mut [f32]),
    /// i32 data.
    I32(&'a mut [i32]),
}

/// Owned host data of one tensor (state read back for checkpoints).
#[derive(Clone, Debug, PartialEq)]
pub enum HostData {
    /// f32 data.
    F32(Vec<f32>),
    /// i32 data.
    I32(Vec<i32>),
}

impl HostData {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            HostData::F32(v) => v.len(),
            HostData::I32(v) => v.len(),
        }
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Element type.
    pub fn dtype(&self) -> DType {
        match self {
            HostData::F32(_) => DType::F32,
            HostData::I32(_) => DType::I32,
        }
    }
}

/// A backend failure (bad call arguments, a missing entry, a device error).
#[derive(Clone, Debug, PartialEq)]
pub struct BackendError(pub String);

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BackendError {}

/// Handle of a compiled entry point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EntryId(pub usize);

/// A compute backend.
pub trait Backend {
    /// Short name (`interp`, `jit`, `opencl`).
    fn name(&self) -> &'static str;
    /// Allocates the program's state and sets it to its initial values for `seed`.
    fn init_state(&mut self, states: &StateTable, seed: u64) -> Result<(), BackendError>;
    /// Compiles an entry point.
    fn compile(&mut self, name: &str, graph: &Graph) -> Result<EntryId, BackendError>;
    /// Runs an entry point: inputs and outputs in graph order; assigned state is updated.
    fn call(
        &mut self,
        entry: EntryId,
        inputs: &[In<'_>],
        outputs: &mut [Out<'_>],
    ) -> Result<(), BackendError>;
    /// Copies a state variable to the host.
    fn read_state(&self, id: StateId) -> Result<HostData, BackendError>;
    /// Overwrites a state variable from the host.
    fn write_state(&mut self, id: StateId, data: &HostData) -> Result<(), BackendError>;
    /// The generated code of a compiled entry (Cranelift IR, OpenCL C), for inspection;
    /// `None` for backends that generate none.
    fn code(&self, _entry: EntryId) -> Option<String> {
        None
    }
    /// Launch and transfer counts of a compiled entry, for backends that launch kernels.
    fn stats(&self, _entry: EntryId) -> Option<EntryStats> {
        None
    }
    /// Bytes moved between host and device so far, for backends with separate memory.
    fn transfers(&self) -> Option<Transfers> {
        None
    }
    /// Replay buffers kept in the backend's own memory, for backends that can keep them
    /// (a GPU's); `None` for those that share memory with the runtime (the CPU backends).
    fn device_replay(&mut self) -> Option<&mut dyn DeviceReplay> {
        None
    }
}

/// Bytes a backend has moved between host and device memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Transfers {
    /// Host to device.
    pub to_device: u64,
    /// Device to host.
    pub to_host: u64,
}

impl Transfers {
    /// Both directions together.
    pub fn total(&self) -> u64 {
        self.to_device + self.to_host
    }
}

/// What one call of an entry costs a kernel-launching backend.
#[derive(Clone, Debug, PartialEq)]
pub struct EntryStats {
    /// Distinct kernels compiled.
    pub kernels: usize,
    /// Kernel launches per call (scan bodies count once per step).
    pub launches_per_call: usize,
    /// Bytes copied host to device per call (the inputs; those the last call drew from
    /// device replay excluded).
    pub bytes_in: usize,
    /// Bytes copied device to host per call (the outputs).
    pub bytes_out: usize,
    /// Compile time, milliseconds (including the device compiler).
    pub compile_ms: f64,
}

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
        "jit" => Ok(Box::new(JitBackend::new())),
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
