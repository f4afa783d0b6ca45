//! Uniform experience replay over a fixed-capacity ring of items.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::columns::{Columns, Field};
use super::error::DataError;
use crate::error::RunError;
use crate::snapshot::{Resumable, SnapshotReader, SnapshotWriter};

/// A ring buffer of items (usually transitions) sampled uniformly with replacement.
///
/// Items live in *slots* `0..capacity`. Slots fill in order, so while the buffer is not full the
/// stored items are exactly slots `0..len`; once full, each push overwrites the oldest slot. The
/// indices that [`ReplayBuffer::sample_indices`] returns and [`ReplayBuffer::gather`] takes are
/// slots (always `< len`); [`ReplayBuffer::slot`] maps age order to slots.
#[derive(Clone, Debug)]
pub struct ReplayBuffer {
    cols: Columns,
    len: usize,
    /// The slot the next push writes.
    next: usize,
}

impl ReplayBuffer {
    /// An empty buffer of `capacity` items with the given fields, all storage allocated now.
    ///
    /// Fails if `capacity` is zero, `fields` is empty or has duplicate names, or the storage
    /// size overflows.
    pub fn new(fields: &[Field], capacity: usize) -> Result<Self, DataError> {
        if capacity == 0 {
            return Err(DataError::ZeroCapacity {
                what: "replay capacity",
            });
        }
        Ok(ReplayBuffer {
            cols: Columns::new(fields, capacity)?,
            len: 0,
            next: 0,
        })
    }

    /// The fields, in the order values are pushed and sampled.
    pub fn fields(&self) -> &[Field] {
        self.cols.fields()
    }

    /// The index of the field called `name`.
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.cols.field_index(name)
    }

    /// The number of items the buffer can hold.
    pub fn capacity(&self) -> usize {
        self.cols.rows()
    }

    /// The number of items stored (at most the capacity).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// True when the next push overwrites the oldest item.
    pub fn is_full(&self) -> bool {
        self.len == self.capacity()
    }

    /// Forgets every item (the storage is kept).
    pub fn clear(&mut self) {
        self.len = 0;
        self.next = 0;
    }

    /// The slot the next push writes (which holds the oldest item once the buffer is full).
    pub fn write_slot(&self) -> usize {
        self.next
    }

    /// The slot holding the `age`-th oldest stored item (`0` = oldest), or `None` if
    /// `age >= len()`.
    pub fn slot(&self, age: usize) -> Option<usize> {
        if age >= self.len {
            return None;
        }
        let cap = self.capacity();
        // The oldest item sits at `next - len` (mod capacity).
        Some((self.next + cap - self.len + age) % cap)
    }

    /// The stored items of field `field`, slot by slot: `len() * numel` values, item `s` at
    /// `[s * numel..(s + 1) * numel]`.
    ///
    /// # Panics
    /// If `field >= fields().len()`.
    pub fn column(&self, field: usize) -> &[f32] {
        &self.cols.column(field)[..self.len * self.cols.numel(field)]
    }

    /// Adds one item: `values[f]` holds field `f`'s item. On error nothing is written.
    pub fn push(&mut self, values: &[&[f32]]) -> Result<(), DataError> {
        self.push_many(1, values)
    }

    /// Adds `n` items at once (e.g. one per environment): `values[f]` holds field `f`'s `n` items
    /// back to back. The result is the same as pushing them one at a time in order, so when
    /// `n > capacity` only the last `capacity` survive. On error nothing is written.
    pub fn push_many(&mut self, n: usize, values: &[&[f32]]) -> Result<(), DataError> {
        self.cols.check_values(values, n)?;
        let cap = self.capacity();
        // Items that a later item of this same call would overwrite are never written.
        let skip = n.saturating_sub(cap);
        let mut cursor = (self.next + skip % cap) % cap;
        let mut src = skip;
        let mut remaining = n - skip;
        while remaining > 0 {
            // At most two contiguous runs: up to the end of the ring, then from its start.
            let run = remaining.min(cap - cursor);
            self.cols.write(cursor, values, src, run);
            cursor = (cursor + run) % cap;
            src += run;
            remaining -= run;
        }
        self.next = cursor;
        self.len = self.len.saturating_add(n).min(cap);
        Ok(())
    }

    /// Writes `batch` items drawn uniformly with replacement into `out`: `out[f]` receives field
    /// `f`'s items back to back (`batch * numel` values). `out` must have one vector per field;
    /// each is resized only if its length differs, so a reused `out` allocates nothing.
    ///
    /// Draws the same slots, in the same order, as [`ReplayBuffer::sample_indices`] would with
    /// the same generator state.
    pub fn sample(&self, rng: &mut ChaCha8Rng, batch: usize, out: &mut [Vec<f32>]) -> Result<(), DataError> {
        self.check_sample(batch)?;
        self.cols.prepare_out(out, batch)?;
        for b in 0..batch {
            let slot = rng.random_range(0..self.len);
            self.cols.copy_rows(slot, 1, out, b);
        }
        Ok(())
    }

    /// Fills `indices` with slots drawn uniformly with replacement from `0..len()` (the batch
    /// size is `indices.len()`), for a later [`ReplayBuffer::gather`].
    pub fn sample_indices(&self, rng: &mut ChaCha8Rng, indices: &mut [usize]) -> Result<(), DataError> {
        self.check_sample(indices.len())?;
        for index in indices.iter_mut() {
            *index = rng.random_range(0..self.len);
        }
        Ok(())
    }

    /// Writes the items in the given slots into `out` (laid out as in [`ReplayBuffer::sample`]).
    /// Every slot must be `< len()`; on error `out` is left as it was.
    pub fn gather(&self, indices: &[usize], out: &mut [Vec<f32>]) -> Result<(), DataError> {
        if let Some(&index) = indices.iter().find(|&&i| i >= self.len) {
            return Err(DataError::IndexOutOfRange { index, len: self.len });
        }
        self.cols.prepare_out(out, indices.len())?;
        for (b, &slot) in indices.iter().enumerate() {
            self.cols.copy_rows(slot, 1, out, b);
        }
        Ok(())
    }

    /// The storage, for buffers built on this one.
    pub(crate) fn columns(&self) -> &Columns {
        &self.cols
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
}

impl Resumable for ReplayBuffer {
    fn save(&self, prefix: &str, w: &mut SnapshotWriter) {
        w.usizes(&format!("{prefix}/len_next"), &[self.len, self.next]);
        // Filled slots are always `0..len` (the ring fills from 0 before it wraps).
        self.cols.save_rows(prefix, self.len, w);
    }

    fn restore(&mut self, prefix: &str, r: &SnapshotReader<'_>) -> Result<(), RunError> {
        let v = r.usizes_of_len(&format!("{prefix}/len_next"), 2)?;
        let (len, next) = (v[0], v[1]);
        let cap = self.capacity();
        if len > cap || next >= cap || (len < cap && next != len) {
            return Err(r.error(format!(
                "`{prefix}` says {len} items, next slot {next}: not a ring of {cap} slots"
            )));
        }
        self.cols.restore_rows(prefix, len, r)?;
        self.len = len;
        self.next = next;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    fn buffer(capacity: usize) -> ReplayBuffer {
        ReplayBuffer::new(&[Field::new("obs", [2]), Field::scalar("r")], capacity).unwrap()
    }

    #[test]
    fn rejects_bad_construction() {
        let fields = [Field::scalar("a")];
        assert_eq!(
            ReplayBuffer::new(&fields, 0).unwrap_err(),
            DataError::ZeroCapacity {
                what: "replay capacity"
            }
        );
        assert_eq!(ReplayBuffer::new(&[], 4).unwrap_err(), DataError::NoFields);
        let dup = [Field::scalar("a"), Field::new("a", [2])];
        assert_eq!(
            ReplayBuffer::new(&dup, 4).unwrap_err(),
            DataError::DuplicateField("a".into())
        );
        let huge = [Field::new("x", [usize::MAX, 2])];
        assert_eq!(ReplayBuffer::new(&huge, 1).unwrap_err(), DataError::SizeOverflow);
    }

    #[test]
    fn bad_push_writes_nothing() {
        let mut b = buffer(4);
        let err = b.push(&[&[1.0, 2.0], &[3.0, 4.0]]).unwrap_err();
        assert!(matches!(err, DataError::FieldLength { ref field, expected: 1, got: 2 } if field == "r"));
        assert_eq!(
            b.push(&[&[1.0, 2.0]]).unwrap_err(),
            DataError::FieldCount { expected: 2, got: 1 }
        );
        assert!(b.is_empty());
        assert_eq!(b.write_slot(), 0);
    }

    #[test]
    fn push_many_larger_than_capacity_keeps_the_last_items() {
        let mut one_by_one = buffer(3);
        let mut at_once = buffer(3);
        one_by_one.push(&[&[-1.0, -1.0], &[-1.0]]).unwrap();
        at_once.push(&[&[-1.0, -1.0], &[-1.0]]).unwrap();
        let obs: Vec<f32> = (0..14).map(|i| i as f32).collect();
        let rew: Vec<f32> = (0..7).map(|i| 100.0 + i as f32).collect();
        for i in 0..7 {
            one_by_one
                .push(&[&obs[2 * i..2 * i + 2], &rew[i..i + 1]])
                .unwrap();
        }
        at_once.push_many(7, &[&obs, &rew]).unwrap();
        assert_eq!(one_by_one.write_slot(), at_once.write_slot());
        assert_eq!(one_by_one.column(0), at_once.column(0));
        assert_eq!(one_by_one.column(1), at_once.column(1));
        let oldest = at_once.slot(0).unwrap();
        assert_eq!(at_once.column(1)[oldest], 104.0);
    }

    #[test]
    fn sampling_errors() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut b = buffer(4);
        let mut out = vec![Vec::new(), Vec::new()];
        assert_eq!(b.sample(&mut rng, 2, &mut out).unwrap_err(), DataError::Empty);
        b.push(&[&[1.0, 2.0], &[3.0]]).unwrap();
        assert_eq!(b.sample(&mut rng, 0, &mut out).unwrap_err(), DataError::ZeroBatch);
        assert!(matches!(
            b.sample(&mut rng, 2, &mut out[..1]).unwrap_err(),
            DataError::LengthMismatch {
                expected: 2,
                got: 1,
                ..
            }
        ));
        assert_eq!(
            b.gather(&[0, 1], &mut out).unwrap_err(),
            DataError::IndexOutOfRange { index: 1, len: 1 }
        );
        assert_eq!(
            b.sample_indices(&mut rng, &mut []).unwrap_err(),
            DataError::ZeroBatch
        );
        b.sample(&mut rng, 3, &mut out).unwrap();
        assert_eq!(out[0], [1.0, 2.0, 1.0, 2.0, 1.0, 2.0]);
        assert_eq!(out[1], [3.0, 3.0, 3.0]);
    }
}
