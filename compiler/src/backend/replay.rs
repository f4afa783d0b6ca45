//! Device replay: a capability beside [`super::Backend`], not part of it. A backend with
//! memory of its own (a GPU's) can keep uniform replay buffers there, append to them, and fill
//! a call's inputs by sampling them on the device, so a training step copies no batch from the
//! host. Backends that share memory with the runtime leave
//! [`super::Backend::device_replay`] at `None` and the runtime samples its own host buffers.

use super::types::{BackendError, EntryId, In, Out};

/// Replay buffers kept by a backend in its own memory.
pub trait DeviceReplay {
    /// Creates a uniform replay buffer of `capacity` items, each `steps` rows (1 for
    /// transitions, T for sequences) whose fields have `numels` values per row; `None` when
    /// the backend keeps this one on the host after all.
    fn replay_create(
        &mut self,
        numels: &[usize],
        capacity: usize,
        steps: usize,
    ) -> Result<Option<ReplayId>, BackendError>;
    /// Appends `n` items to a replay buffer (`values[f]`: field `f`'s `n` items back to back,
    /// each `steps` rows), overwriting the oldest once full: the same slots as pushing them
    /// one at a time into the runtime's ring buffers (`push_many`).
    fn replay_push(&mut self, replay: ReplayId, n: usize, values: &[&[f32]]) -> Result<(), BackendError>;
    /// Like [`super::Backend::call`], but the inputs named in `draws` are filled on the backend
    /// by sampling its replay buffers (their entries in `inputs` are ignored).
    fn call_drawn(
        &mut self,
        entry: EntryId,
        inputs: &[In<'_>],
        draws: &[Draw],
        outputs: &mut [Out<'_>],
    ) -> Result<(), BackendError>;
}

/// Handle of a replay buffer kept by a backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplayId(pub usize);

/// A batch a backend draws from one of its replay buffers for one call: item `b` of the batch
/// is the stored item in slot [`crate::random::uniform_slot`]`(key, b, len)`, the same for
/// every field. Items of several steps (sequences) arrive time-major, `[steps, batch, ..]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Draw {
    /// The buffer.
    pub replay: ReplayId,
    /// Items drawn.
    pub batch: usize,
    /// The Philox key of this draw.
    pub key: [u32; 2],
    /// `(entry input, field)` pairs: the input receives the field's `batch` items (converted
    /// to integers when the input is i32).
    pub fields: Vec<(usize, usize)>,
}
