//! Replay buffers in device memory, filled once per environment step and sampled on the
//! device: a training call moves its key and a few scalars in, never a batch.
//!
//! The ring follows the runtime's `ReplayBuffer` and `SequenceReplay` exactly (slots fill in
//! order, the oldest is overwritten once full; an item is one transition or a sequence of
//! `length` steps), and item `b` of a draw reads slot
//! [`crate::random::uniform_slot`]`(key, b, len)`, computed by the same Philox on the device.
//! Sequences are gathered time-major (`[T, batch, ..]`), as the runtime's sampler lays them.

use super::device::{Arg, Device, Kern, Mem, Prog};
use super::render::PRELUDE;
use crate::backend::replay::{Draw, ReplayId};
use crate::backend::types::BackendError;
use crate::ir::DType;

/// Gathers one field of a batch into an entry's input, time-major: work-item `i` writes
/// value `j` of step `t` of item `b`, where `i = (t * batch + b) * numel + j`; an item's steps
/// are contiguous in the ring.
const GATHER: &str = r#"
__kernel void rlc_replay_gather(__global const uint* src, __global uint* dst,
                                int numel, int len, int k0, int k1, int to_int,
                                int batch, int steps) {
  const uint i = get_global_id(0);
  const uint j = i % (uint)numel, row = i / (uint)numel;
  const uint b = row % (uint)batch, t = row / (uint)batch;
  const uint word = rlc_philox((uint4)(b, 0u, 0u, 0u), (uint2)((uint)k0, (uint)k1)).x;
  const uint slot = mul_hi(word, (uint)len);
  const uint v = src[((ulong)slot * (uint)steps + t) * (uint)numel + j];
  dst[i] = to_int ? (uint)(int)as_float(v) : v;
}
"#;

/// Index of the first `int` argument of the gather kernel.
const FIRST_INT: u32 = 2;

/// One buffer: a device array per field, `capacity` items of `steps` rows each.
struct Ring {
    /// Per field: the array and the values in one row.
    fields: Vec<(Mem, usize)>,
    capacity: usize,
    steps: usize,
    len: usize,
    next: usize,
}

/// Every replay buffer of one backend, and the gather kernels bound to them.
#[derive(Default)]
pub struct Replays {
    prog: Option<Prog>,
    rings: Vec<Ring>,
    /// Gather kernels bound to `(source field buffer, destination)`, made on first use.
    kernels: Vec<((Mem, Mem), Kern)>,
    scratch: Vec<u32>,
}

impl Replays {
    /// Allocates a buffer of `capacity` items of `steps` rows, with fields of `numels` values
    /// per row.
    pub fn create(
        &mut self,
        dev: &mut dyn Device,
        numels: &[usize],
        capacity: usize,
        steps: usize,
    ) -> Result<ReplayId, BackendError> {
        if capacity == 0 || steps == 0 || numels.is_empty() || numels.contains(&0) {
            return Err(BackendError(
                "a replay buffer needs a capacity, a length and fields of at least one value".into(),
            ));
        }
        if capacity > u32::MAX as usize {
            return Err(BackendError(format!(
                "replay capacity {capacity} exceeds the device sampler's 2^32 slots"
            )));
        }
        if self.prog.is_none() {
            self.prog = Some(dev.build(&format!("{PRELUDE}{GATHER}"))?);
        }
        let mut fields = Vec::with_capacity(numels.len());
        for &n in numels {
            let words = n
                .checked_mul(capacity)
                .and_then(|w| w.checked_mul(steps))
                .filter(|w| *w <= u32::MAX as usize)
                .ok_or_else(|| {
                    BackendError(format!(
                        "replay of {capacity} items of {steps}x{n} values is too large"
                    ))
                })?;
            fields.push((dev.alloc(words)?, n));
        }
        self.rings.push(Ring {
            fields,
            capacity,
            steps,
            len: 0,
            next: 0,
        });
        Ok(ReplayId(self.rings.len() - 1))
    }

    /// Appends `n` items (`values[f]`: field `f`'s items back to back, each `steps` rows)
    /// as if one at a time, like `ReplayBuffer::push_many`; on a malformed call nothing is
    /// written. A device error part-way leaves the ring's contents undefined (the run that
    /// owns it stops on that error).
    pub fn push(
        &mut self,
        dev: &mut dyn Device,
        id: ReplayId,
        n: usize,
        values: &[&[f32]],
    ) -> Result<(), BackendError> {
        let ring = self
            .rings
            .get_mut(id.0)
            .ok_or_else(|| BackendError(format!("no replay buffer #{}", id.0)))?;
        if values.len() != ring.fields.len() {
            return Err(BackendError(format!(
                "replay push of {} fields into a buffer of {}",
                values.len(),
                ring.fields.len()
            )));
        }
        for (f, (v, (_, numel))) in values.iter().zip(&ring.fields).enumerate() {
            // An item's size fits in u32 (checked at creation); `n` comes from the caller.
            let want = n.checked_mul(ring.steps * numel);
            if want != Some(v.len()) {
                return Err(BackendError(format!(
                    "replay push: field {f} needs {} values per item for {n} items, got {}",
                    ring.steps * numel,
                    v.len()
                )));
            }
        }
        let cap = ring.capacity;
        // Items a later item of this call would overwrite are never written.
        let skip = n.saturating_sub(cap);
        for (v, (mem, row)) in values.iter().zip(&ring.fields) {
            let numel = row * ring.steps;
            let mut cursor = (ring.next + skip % cap) % cap;
            let mut src = skip;
            while src < n {
                // At most two contiguous runs: to the end of the ring, then from its start.
                let run = (n - src).min(cap - cursor);
                let words = &v[src * numel..(src + run) * numel];
                self.scratch.clear();
                self.scratch.extend(words.iter().map(|x| x.to_bits()));
                dev.write(*mem, cursor * numel, &self.scratch)?;
                cursor = (cursor + run) % cap;
                src += run;
            }
        }
        ring.next = (ring.next + n) % cap;
        ring.len = (ring.len + n).min(cap);
        Ok(())
    }

    /// Launches the gathers of `draw` into the entry's input buffers; `inputs[k]` is input
    /// `k`'s device buffer (none when the entry never reads it), type and length.
    pub fn gather(
        &mut self,
        dev: &mut dyn Device,
        draw: &Draw,
        inputs: &[(Option<Mem>, DType, usize)],
    ) -> Result<(), BackendError> {
        let ring = self
            .rings
            .get(draw.replay.0)
            .ok_or_else(|| BackendError(format!("no replay buffer #{}", draw.replay.0)))?;
        if ring.len == 0 {
            return Err(BackendError("cannot sample an empty replay buffer".into()));
        }
        if draw.batch == 0 || draw.batch > u32::MAX as usize {
            return Err(BackendError(format!("cannot draw a batch of {}", draw.batch)));
        }
        for &(k, f) in &draw.fields {
            let (src, numel) = *ring
                .fields
                .get(f)
                .ok_or_else(|| BackendError(format!("replay buffer #{} has no field {f}", draw.replay.0)))?;
            let (dst, dtype, n) = *inputs
                .get(k)
                .ok_or_else(|| BackendError(format!("no input {k} to draw into")))?;
            if draw.batch.checked_mul(ring.steps * numel) != Some(n) {
                return Err(BackendError(format!(
                    "input {k} holds {n} values, not {} items of {} values (field {f})",
                    draw.batch,
                    ring.steps * numel
                )));
            }
            let Some(dst) = dst else { continue };
            let kern = match self.kernels.iter().find(|(b, _)| *b == (src, dst)) {
                Some((_, k)) => *k,
                None => {
                    let prog = self.prog.expect("built with the first buffer");
                    let mut args = vec![Arg::Mem(src), Arg::Mem(dst)];
                    args.extend([Arg::Int(0); 7]);
                    let k = dev.kernel(prog, "rlc_replay_gather", &args)?;
                    self.kernels.push(((src, dst), k));
                    k
                }
            };
            let ints = [
                (FIRST_INT, numel as i32),
                (FIRST_INT + 1, ring.len as i32),
                (FIRST_INT + 2, draw.key[0] as i32),
                (FIRST_INT + 3, draw.key[1] as i32),
                (FIRST_INT + 4, i32::from(dtype != DType::F32)),
                (FIRST_INT + 5, draw.batch as i32),
                (FIRST_INT + 6, ring.steps as i32),
            ];
            dev.launch(kern, [n, 1], None, &ints)?;
        }
        Ok(())
    }
}
