//! The backend trait: what the trainer and tools call on every backend.

use super::replay::DeviceReplay;
use super::types::{BackendError, EntryId, EntryStats, HostData, In, Out, Transfers};
use crate::ir::{Graph, StateId, StateTable};

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

/// The backend's device replay, or an error naming a backend that keeps no replay buffers.
pub fn require_replay(backend: &mut dyn Backend) -> Result<&mut dyn DeviceReplay, BackendError> {
    let name = backend.name();
    backend
        .device_replay()
        .ok_or_else(|| BackendError(format!("the {name} backend keeps no replay buffers")))
}
