//! The values that cross the [`super::Backend`] interface: call inputs and outputs, host
//! copies of state, entry handles, errors and launch/transfer statistics.

use crate::ir::DType;
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
