//! Sequence replay: a ring of fixed-length single-environment trajectories, for recurrent agents.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::columns::{Columns, Field};
use super::error::DataError;
use super::rollout::RolloutStorage;
use crate::error::RunError;
use crate::snapshot::{Resumable, SnapshotReader, SnapshotWriter};

/// A ring of `capacity` sequences of `length` (T) consecutive steps of one environment each.
///
/// Sequences are added a rollout at a time: a full `[T, N]` [`RolloutStorage`] with the same
/// fields contributes N sequences, environment 0's first. When full, each new sequence
/// overwrites the oldest. Sampled batches are time-major, `[T, B, ...shape]` per field, the layout
/// a recurrent network unrolls over.
///
/// Sequences live in *slots* `0..capacity` that fill in order, like [`super::ReplayBuffer`]'s;
/// [`SequenceReplay::sample_indices`] returns slots and [`SequenceReplay::gather`] takes them.
#[derive(Clone, Debug)]
pub struct SequenceReplay {
    /// Row `slot * T + t` holds step `t` of the sequence in `slot`, so a sequence is contiguous.
    cols: Columns,
    length: usize,
    capacity: usize,
    len: usize,
    /// The slot the next sequence is written to.
    next: usize,
}

impl SequenceReplay {
    /// An empty ring of `capacity` sequences of `length` steps, all storage allocated now. Fails
    /// if either is zero, `fields` is empty or has duplicate names, or the size overflows.
    pub fn new(fields: &[Field], capacity: usize, length: usize) -> Result<Self, DataError> {
        if capacity == 0 {
            return Err(DataError::ZeroCapacity {
                what: "sequence capacity",
            });
        }
        if length == 0 {
            return Err(DataError::ZeroCapacity {
                what: "sequence length",
            });
        }
        let rows = capacity.checked_mul(length).ok_or(DataError::SizeOverflow)?;
        Ok(SequenceReplay {
            cols: Columns::new(fields, rows)?,
            length,
            capacity,
            len: 0,
            next: 0,
        })
    }

    /// The fields, which rollouts pushed here must match exactly.
    pub fn fields(&self) -> &[Field] {
        self.cols.fields()
    }

    /// The index of the field called `name`.
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.cols.field_index(name)
    }

    /// The number of steps per sequence (T).
    pub fn length(&self) -> usize {
        self.length
    }

    /// The number of sequences the ring can hold.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The number of sequences stored.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no sequence is stored.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// True when the next sequence overwrites the oldest.
    pub fn is_full(&self) -> bool {
        self.len == self.capacity
    }

    /// The `T * numel` values of field `field` of the sequence in `slot`, step by step.
    ///
    /// # Panics
    /// If `field` or `slot` is out of range.
    pub fn sequence(&self, field: usize, slot: usize) -> &[f32] {
        let n = self.cols.numel(field) * self.length;
        &self.cols.column(field)[slot * n..(slot + 1) * n]
    }

    /// The storage, for code that mirrors it (e.g. on a device).
    pub(crate) fn columns(&self) -> &Columns {
        &self.cols
    }

    /// The slot the next sequence is written to (which holds the oldest once the ring is full).
    pub fn write_slot(&self) -> usize {
        self.next
    }

    /// Forgets every sequence (the storage is kept).
    pub fn clear(&mut self) {
        self.len = 0;
        self.next = 0;
    }

    /// The slot holding the `age`-th oldest stored sequence (`0` = oldest), or `None` if
    /// `age >= len()`.
    pub fn slot(&self, age: usize) -> Option<usize> {
        (age < self.len).then(|| (self.next + self.capacity - self.len + age) % self.capacity)
    }

    /// Stores each environment's trajectory of a full rollout as one sequence (N sequences,
    /// environment 0 first; if N exceeds the capacity only the last `capacity` are kept). Fails,
    /// storing nothing, if the rollout's fields differ from this buffer's, its step count is not
    /// `length()`, or it is not full.
    pub fn push_rollout(&mut self, rollout: &RolloutStorage) -> Result<(), DataError> {
        if rollout.fields() != self.fields() {
            return Err(DataError::FieldMismatch);
        }
        if rollout.steps() != self.length {
            return Err(DataError::SequenceLength {
                expected: self.length,
                got: rollout.steps(),
            });
        }
        if !rollout.is_full() {
            return Err(DataError::RolloutNotFull {
                len: rollout.len(),
                steps: rollout.steps(),
            });
        }
        let envs = rollout.envs();
        let src = rollout.columns();
        // Sequences a later environment of this same rollout would overwrite are never written.
        for env in envs.saturating_sub(self.capacity)..envs {
            let slot = self.next;
            for field in 0..self.cols.fields().len() {
                let to = self.cols.column_mut(field);
                for t in 0..self.length {
                    // Step t of environment `env` is rollout row `t * envs + env`.
                    src.copy_row_of(field, t * envs + env, to, slot * self.length + t);
                }
            }
            self.next = (self.next + 1) % self.capacity;
            self.len = (self.len + 1).min(self.capacity);
        }
        Ok(())
    }

    /// Writes `batch` sequences drawn uniformly with replacement into `out`, time-major: `out[f]`
    /// gets shape `[T, batch, ...shape]`, so step `t` of batch entry `b` starts at
    /// `(t * batch + b) * numel`. `out` must have one vector per field; each is resized only if
    /// its length differs. Draws the same slots as [`SequenceReplay::sample_indices`] would.
    pub fn sample(&self, rng: &mut ChaCha8Rng, batch: usize, out: &mut [Vec<f32>]) -> Result<(), DataError> {
        self.check_sample(batch)?;
        self.prepare_out(out, batch)?;
        for b in 0..batch {
            let slot = rng.random_range(0..self.len);
            self.copy_sequence(slot, b, batch, out);
        }
        Ok(())
    }

    /// Fills `indices` with slots drawn uniformly with replacement from `0..len()` (the batch
    /// size is `indices.len()`), for a later [`SequenceReplay::gather`].
    pub fn sample_indices(&self, rng: &mut ChaCha8Rng, indices: &mut [usize]) -> Result<(), DataError> {
        self.check_sample(indices.len())?;
        for index in indices.iter_mut() {
            *index = rng.random_range(0..self.len);
        }
        Ok(())
    }

    /// Writes the sequences in the given slots into `out`, laid out as in
    /// [`SequenceReplay::sample`] with `batch = indices.len()`. Every slot must be `< len()`; on
    /// error `out` is left as it was.
    pub fn gather(&self, indices: &[usize], out: &mut [Vec<f32>]) -> Result<(), DataError> {
        if let Some(&index) = indices.iter().find(|&&i| i >= self.len) {
            return Err(DataError::IndexOutOfRange { index, len: self.len });
        }
        self.prepare_out(out, indices.len())?;
        for (b, &slot) in indices.iter().enumerate() {
            self.copy_sequence(slot, b, indices.len(), out);
        }
        Ok(())
    }

    fn check_sample(&self, batch: usize) -> Result<(), DataError> {
        if self.len == 0 {
            return Err(DataError::Empty);
        }
        if batch == 0 {
            return Err(DataError::ZeroBatch);
        }
        Ok(())
    }

    /// Sizes `out` for `batch` sequences of `length` steps.
    fn prepare_out(&self, out: &mut [Vec<f32>], batch: usize) -> Result<(), DataError> {
        let items = batch.checked_mul(self.length).ok_or(DataError::SizeOverflow)?;
        self.cols.prepare_out(out, items)
    }

    /// Copies the sequence in `slot` into column `b` of the time-major `[T, batch]` output.
    fn copy_sequence(&self, slot: usize, b: usize, batch: usize, out: &mut [Vec<f32>]) {
        for (field, target) in out.iter_mut().enumerate() {
            for t in 0..self.length {
                self.cols
                    .copy_row_of(field, slot * self.length + t, target, t * batch + b);
            }
        }
    }
}

impl Resumable for SequenceReplay {
    fn save(&self, prefix: &str, w: &mut SnapshotWriter) {
        w.usizes(&format!("{prefix}/len_next"), &[self.len, self.next]);
        // Filled slots are `0..len`, as in the transition ring.
        self.cols.save_rows(prefix, self.len * self.length, w);
    }

    fn restore(&mut self, prefix: &str, r: &SnapshotReader<'_>) -> Result<(), RunError> {
        let v = r.usizes_of_len(&format!("{prefix}/len_next"), 2)?;
        let (len, next, cap) = (v[0], v[1], self.capacity);
        if len > cap || next >= cap || (len < cap && next != len) {
            return Err(r.error(format!(
                "`{prefix}` says {len} sequences, next slot {next}: not a ring of {cap} slots"
            )));
        }
        self.cols.restore_rows(prefix, len * self.length, r)?;
        self.len = len;
        self.next = next;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_rollout_errors_store_nothing() {
        let fields = [Field::scalar("x")];
        let mut seq = SequenceReplay::new(&fields, 4, 2).unwrap();
        let mut rollout = RolloutStorage::new(&fields, 2, 3).unwrap();
        rollout.push_step(&[&[0.0, 1.0, 2.0]]).unwrap();
        assert_eq!(
            seq.push_rollout(&rollout).unwrap_err(),
            DataError::RolloutNotFull { len: 1, steps: 2 }
        );
        let long = RolloutStorage::new(&fields, 3, 3).unwrap();
        assert_eq!(
            seq.push_rollout(&long).unwrap_err(),
            DataError::SequenceLength { expected: 2, got: 3 }
        );
        let other = RolloutStorage::new(&[Field::new("x", [1])], 2, 3).unwrap();
        assert_eq!(seq.push_rollout(&other).unwrap_err(), DataError::FieldMismatch);
        assert!(seq.is_empty());
        assert!(matches!(
            SequenceReplay::new(&fields, 0, 2),
            Err(DataError::ZeroCapacity { .. })
        ));
        assert!(matches!(
            SequenceReplay::new(&fields, 2, 0),
            Err(DataError::ZeroCapacity { .. })
        ));
    }

    #[test]
    fn more_envs_than_capacity_keeps_the_last() {
        let fields = [Field::scalar("x")];
        let mut seq = SequenceReplay::new(&fields, 2, 2).unwrap();
        let mut rollout = RolloutStorage::new(&fields, 2, 3).unwrap();
        rollout.push_step(&[&[0.0, 1.0, 2.0]]).unwrap();
        rollout.push_step(&[&[10.0, 11.0, 12.0]]).unwrap();
        seq.push_rollout(&rollout).unwrap();
        assert_eq!(seq.len(), 2);
        let mut out = vec![Vec::new()];
        let oldest = seq.slot(0).unwrap();
        let newest = seq.slot(1).unwrap();
        seq.gather(&[oldest, newest], &mut out).unwrap();
        // [T, B]: env 1's trajectory then env 2's, interleaved by step.
        assert_eq!(out[0], [1.0, 2.0, 11.0, 12.0]);
    }
}
