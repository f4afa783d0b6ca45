//! On-policy rollout storage: `T` steps of `N` parallel environments, time-major.

use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::columns::{Columns, Field};
use super::error::DataError;
use crate::error::RunError;
use crate::snapshot::{Resumable, SnapshotReader, SnapshotWriter};

/// A rollout of `steps` (T) steps from `envs` (N) environments, filled one step at a time.
///
/// Field `f` is stored time-major with shape `[T, N, ...shape]`: the item of environment `e` at
/// step `t` is number `t * N + e` (its *flat index*), which is also the index
/// [`RolloutStorage::minibatch_indices`] and [`RolloutStorage::gather_flat`] use.
#[derive(Clone, Debug)]
pub struct RolloutStorage {
    cols: Columns,
    steps: usize,
    envs: usize,
    len: usize,
}

impl RolloutStorage {
    /// Empty storage for `steps` steps of `envs` environments, all allocated now. Fails if either
    /// is zero, `fields` is empty or has duplicate names, or the size overflows.
    pub fn new(fields: &[Field], steps: usize, envs: usize) -> Result<Self, DataError> {
        if steps == 0 {
            return Err(DataError::ZeroCapacity {
                what: "number of rollout steps",
            });
        }
        if envs == 0 {
            return Err(DataError::ZeroCapacity {
                what: "number of environments",
            });
        }
        let rows = steps.checked_mul(envs).ok_or(DataError::SizeOverflow)?;
        Ok(RolloutStorage {
            cols: Columns::new(fields, rows)?,
            steps,
            envs,
            len: 0,
        })
    }

    /// The fields, in the order values are pushed.
    pub fn fields(&self) -> &[Field] {
        self.cols.fields()
    }

    /// The index of the field called `name`.
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.cols.field_index(name)
    }

    /// The number of steps a full rollout holds (T).
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// The number of environments (N).
    pub fn envs(&self) -> usize {
        self.envs
    }

    /// The number of steps stored so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no step is stored.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// True when all `steps()` steps are stored.
    pub fn is_full(&self) -> bool {
        self.len == self.steps
    }

    /// Forgets every step (the storage is kept), ready for the next rollout.
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Appends one step: `values[f]` holds field `f`'s items for environments `0..N`, back to
    /// back. Fails (writing nothing) on wrong slice counts or lengths, or when already full.
    pub fn push_step(&mut self, values: &[&[f32]]) -> Result<(), DataError> {
        if self.is_full() {
            return Err(DataError::RolloutFull { steps: self.steps });
        }
        self.cols.check_values(values, self.envs)?;
        self.cols.write(self.len * self.envs, values, 0, self.envs);
        self.len += 1;
        Ok(())
    }

    /// The stored steps of field `field`, time-major: shape `[len(), N, ...shape]`, so the item
    /// of environment `e` at step `t` starts at `(t * N + e) * numel`.
    ///
    /// # Panics
    /// If `field >= fields().len()`.
    pub fn column(&self, field: usize) -> &[f32] {
        &self.cols.column(field)[..self.len * self.envs * self.cols.numel(field)]
    }

    /// The stored steps of field `field`, mutably (e.g. to write advantages in place).
    ///
    /// # Panics
    /// If `field >= fields().len()`.
    pub fn column_mut(&mut self, field: usize) -> &mut [f32] {
        let end = self.len * self.envs * self.cols.numel(field);
        &mut self.cols.column_mut(field)[..end]
    }

    /// Fills `out` with a uniformly random permutation of the flat indices `0..len() * N`, for
    /// one PPO epoch, and returns the number of minibatches, `ceil(len() * N / minibatch_size)`.
    /// Minibatch `k` is `out.chunks(minibatch_size).nth(k)` (only the last may be shorter); pass
    /// each to [`RolloutStorage::gather_flat`]. `out` is cleared first and allocates only if its
    /// capacity is too small. Fails if `minibatch_size` is zero or nothing is stored.
    pub fn minibatch_indices(
        &self,
        rng: &mut ChaCha8Rng,
        minibatch_size: usize,
        out: &mut Vec<usize>,
    ) -> Result<usize, DataError> {
        if minibatch_size == 0 {
            return Err(DataError::ZeroBatch);
        }
        if self.is_empty() {
            return Err(DataError::Empty);
        }
        let items = self.len * self.envs;
        out.clear();
        out.extend(0..items);
        out.shuffle(rng);
        Ok(items.div_ceil(minibatch_size))
    }

    /// Writes the items with the given flat indices (`t * N + e`) into `out`: `out[f]` receives
    /// field `f`'s items back to back, shape `[indices.len(), ...shape]`, resized only if its
    /// length differs. Fails (leaving `out` as it was) if an index is `>= len() * N` or `out` has
    /// the wrong number of vectors.
    pub fn gather_flat(&self, indices: &[usize], out: &mut [Vec<f32>]) -> Result<(), DataError> {
        let items = self.len * self.envs;
        if let Some(&index) = indices.iter().find(|&&i| i >= items) {
            return Err(DataError::IndexOutOfRange { index, len: items });
        }
        self.cols.prepare_out(out, indices.len())?;
        for (m, &index) in indices.iter().enumerate() {
            self.cols.copy_rows(index, 1, out, m);
        }
        Ok(())
    }

    /// The storage, for buffers that copy whole rollouts.
    pub(crate) fn columns(&self) -> &Columns {
        &self.cols
    }
}

impl Resumable for RolloutStorage {
    fn save(&self, prefix: &str, w: &mut SnapshotWriter) {
        w.usizes(&format!("{prefix}/len"), &[self.len]);
        self.cols.save_rows(prefix, self.len * self.envs, w);
    }

    fn restore(&mut self, prefix: &str, r: &SnapshotReader<'_>) -> Result<(), RunError> {
        let len = r.usizes_of_len(&format!("{prefix}/len"), 1)?[0];
        if len > self.steps {
            return Err(r.error(format!(
                "`{prefix}` holds {len} steps, more than its {}",
                self.steps
            )));
        }
        self.cols.restore_rows(prefix, len * self.envs, r)?;
        self.len = len;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn construction_and_push_errors() {
        let f = [Field::scalar("r")];
        assert!(matches!(
            RolloutStorage::new(&f, 0, 2),
            Err(DataError::ZeroCapacity { .. })
        ));
        assert!(matches!(
            RolloutStorage::new(&f, 2, 0),
            Err(DataError::ZeroCapacity { .. })
        ));
        assert_eq!(
            RolloutStorage::new(&f, usize::MAX, 2).unwrap_err(),
            DataError::SizeOverflow
        );
        let mut r = RolloutStorage::new(&f, 1, 2).unwrap();
        assert!(matches!(
            r.push_step(&[&[1.0]]),
            Err(DataError::FieldLength { .. })
        ));
        assert!(r.is_empty());
        r.push_step(&[&[1.0, 2.0]]).unwrap();
        assert_eq!(
            r.push_step(&[&[1.0, 2.0]]).unwrap_err(),
            DataError::RolloutFull { steps: 1 }
        );
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut idx = Vec::new();
        assert_eq!(
            r.minibatch_indices(&mut rng, 0, &mut idx).unwrap_err(),
            DataError::ZeroBatch
        );
        assert_eq!(r.minibatch_indices(&mut rng, 3, &mut idx), Ok(1));
        let mut out = vec![Vec::new()];
        assert_eq!(
            r.gather_flat(&[0, 2], &mut out).unwrap_err(),
            DataError::IndexOutOfRange { index: 2, len: 2 }
        );
        r.clear();
        assert_eq!(
            r.minibatch_indices(&mut rng, 3, &mut idx).unwrap_err(),
            DataError::Empty
        );
    }
}
