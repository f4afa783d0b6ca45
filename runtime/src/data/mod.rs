//! Experience storage: replay buffers, rollout storage and sequence replay.
//!
//! Every buffer is *columnar* and *preallocated*: it is described by a list of [`Field`]s, and
//! each field owns one `Vec<f32>` sized for the buffer's whole capacity when the buffer is built.
//! Pushing and sampling then only copy floats; they never allocate (sampling resizes the caller's
//! output vectors only when their length differs from what the batch needs, so a reused output
//! allocates nothing after the first call).
//!
//! All values are `f32`. Discrete actions, `done` flags and the like are stored as exact small
//! integers in `f32`; converting is the caller's business. Sampling takes the caller's seeded
//! [`ChaCha8Rng`](rand_chacha::ChaCha8Rng), so a run is deterministic for a seed.
//!
//! - [`ReplayBuffer`]: uniform replay over a ring of transitions (DQN, SAC, TD3).
//! - [`PrioritizedReplay`]: proportional prioritized replay (Schaul et al. 2016), built on the
//!   [`SumTree`] and [`MinTree`] of [`sum_tree`].
//! - [`RolloutStorage`]: a `[T, N]` on-policy rollout with minibatch shuffling (A2C, PPO).
//! - [`SequenceReplay`]: replay of fixed-length per-environment trajectories (recurrent agents).
//!
//! Bad input (wrong slice lengths, an empty buffer, a zero batch, non-finite priorities) is
//! reported as a [`DataError`], never a panic. The only panics are documented out-of-range field
//! indices in accessors that return slices, like slice indexing.

use std::fmt;

pub mod prioritized;
pub mod replay;
pub mod rollout;
pub mod sequence;
pub mod sum_tree;

pub use prioritized::{PrioritizedConfig, PrioritizedReplay};
pub use replay::ReplayBuffer;
pub use rollout::RolloutStorage;
pub use sequence::SequenceReplay;
pub use sum_tree::{MinTree, SumTree};

/// One named quantity stored per item (an observation, an action, a reward...).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Field {
    /// The field's name, unique within a buffer.
    pub name: String,
    /// The shape of one item of this field: `[3]` for a 3-dimensional observation, `[]` for a
    /// scalar such as a reward.
    pub shape: Vec<usize>,
}

impl Field {
    /// A field with the given name and per-item shape.
    pub fn new(name: impl Into<String>, shape: impl Into<Vec<usize>>) -> Self {
        Field {
            name: name.into(),
            shape: shape.into(),
        }
    }

    /// A scalar field (shape `[]`), e.g. a reward or a `done` flag.
    pub fn scalar(name: impl Into<String>) -> Self {
        Field::new(name, Vec::new())
    }

    /// The number of `f32`s in one item of this field (1 for a scalar), or `None` if the product
    /// of the shape overflows `usize`.
    pub fn numel(&self) -> Option<usize> {
        self.shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
    }
}

/// Everything that can go wrong building, filling or sampling a buffer.
#[derive(Clone, Debug, PartialEq)]
pub enum DataError {
    /// A size given at construction (capacity, steps, environments, sequence length) was zero.
    ZeroCapacity {
        /// Which size.
        what: &'static str,
    },
    /// A buffer was described with no fields at all.
    NoFields,
    /// Two fields share a name.
    DuplicateField(String),
    /// The storage a buffer (or a requested output) needs does not fit in `usize`.
    SizeOverflow,
    /// A push or a gather passed a different number of slices than the buffer has fields.
    FieldCount {
        /// The number of fields.
        expected: usize,
        /// The number of slices passed.
        got: usize,
    },
    /// A slice passed for a field has the wrong number of `f32`s.
    FieldLength {
        /// The field's name.
        field: String,
        /// The expected number of `f32`s (saturated at `usize::MAX`).
        expected: usize,
        /// The number passed.
        got: usize,
    },
    /// A caller-provided output or index slice has the wrong length.
    LengthMismatch {
        /// Which argument.
        what: &'static str,
        /// The length it must have.
        expected: usize,
        /// Its length.
        got: usize,
    },
    /// Sampling from a buffer that holds nothing.
    Empty,
    /// A batch (or minibatch) size of zero.
    ZeroBatch,
    /// An index does not name a stored item.
    IndexOutOfRange {
        /// The index.
        index: usize,
        /// The number of stored items (valid indices are `0..len`).
        len: usize,
    },
    /// A priority (TD error) that is NaN or infinite, or that becomes infinite after `eps` and
    /// `alpha` are applied.
    InvalidPriority {
        /// Its position in the slice passed.
        position: usize,
        /// The value passed.
        value: f32,
    },
    /// A configuration value outside its valid range.
    InvalidParameter {
        /// The parameter's name.
        name: &'static str,
        /// The value given.
        value: f64,
        /// The valid range, in words.
        expected: &'static str,
    },
    /// The stored priorities sum to zero or to a non-finite number, so nothing can be drawn.
    DegeneratePriorities {
        /// The sum.
        total: f64,
    },
    /// Pushing a step into a rollout that already holds all its steps.
    RolloutFull {
        /// The rollout's number of steps.
        steps: usize,
    },
    /// A rollout handed to a [`SequenceReplay`] is not full.
    RolloutNotFull {
        /// The steps it holds.
        len: usize,
        /// The steps it can hold.
        steps: usize,
    },
    /// A rollout handed to a [`SequenceReplay`] has a different number of steps than its
    /// sequences.
    SequenceLength {
        /// The sequence length.
        expected: usize,
        /// The rollout's number of steps.
        got: usize,
    },
    /// Two buffers that must agree on their fields (names, shapes, order) do not.
    FieldMismatch,
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataError::ZeroCapacity { what } => write!(f, "the {what} must be at least 1"),
            DataError::NoFields => write!(f, "a buffer needs at least one field"),
            DataError::DuplicateField(name) => write!(f, "field `{name}` is declared twice"),
            DataError::SizeOverflow => write!(f, "the requested storage size overflows usize"),
            DataError::FieldCount { expected, got } => {
                write!(f, "expected one slice per field ({expected}), got {got}")
            }
            DataError::FieldLength { field, expected, got } => {
                write!(f, "field `{field}`: expected {expected} values, got {got}")
            }
            DataError::LengthMismatch { what, expected, got } => {
                write!(f, "{what} must have length {expected}, got {got}")
            }
            DataError::Empty => write!(f, "cannot sample from an empty buffer"),
            DataError::ZeroBatch => write!(f, "the batch size must be at least 1"),
            DataError::IndexOutOfRange { index, len } => {
                write!(
                    f,
                    "index {index} is out of range for a buffer holding {len} items"
                )
            }
            DataError::InvalidPriority { position, value } => {
                write!(
                    f,
                    "priority {value} at position {position} is not a finite number"
                )
            }
            DataError::InvalidParameter {
                name,
                value,
                expected,
            } => {
                write!(f, "{name} = {value} is invalid: expected {expected}")
            }
            DataError::DegeneratePriorities { total } => {
                write!(
                    f,
                    "the priorities sum to {total}; sampling needs a positive, finite sum"
                )
            }
            DataError::RolloutFull { steps } => {
                write!(f, "the rollout already holds all {steps} steps; clear it first")
            }
            DataError::RolloutNotFull { len, steps } => {
                write!(f, "the rollout holds {len} of its {steps} steps; it must be full")
            }
            DataError::SequenceLength { expected, got } => {
                write!(f, "sequences have {expected} steps but the rollout has {got}")
            }
            DataError::FieldMismatch => {
                write!(f, "the two buffers' fields (names, shapes, order) differ")
            }
        }
    }
}

impl std::error::Error for DataError {}

/// Columnar storage shared by all buffers: `rows` items, one preallocated `Vec<f32>` per field.
///
/// Row `r` of field `f` is `column(f)[r * numel(f)..(r + 1) * numel(f)]`. What a row means (a
/// ring slot, a `(t, env)` pair, a step of a sequence) is up to the buffer that owns the columns.
#[derive(Clone, Debug)]
pub struct Columns {
    fields: Vec<Field>,
    numels: Vec<usize>,
    data: Vec<Vec<f32>>,
    rows: usize,
}

impl Columns {
    /// Zero-filled storage for `rows` items of each field. Fails on an empty field list,
    /// duplicate names, or a size that overflows `usize`. `rows` may be zero.
    pub fn new(fields: &[Field], rows: usize) -> Result<Self, DataError> {
        if fields.is_empty() {
            return Err(DataError::NoFields);
        }
        for (i, field) in fields.iter().enumerate() {
            if fields[..i].iter().any(|other| other.name == field.name) {
                return Err(DataError::DuplicateField(field.name.clone()));
            }
        }
        let numels = fields
            .iter()
            .map(|field| field.numel().filter(|n| n.checked_mul(rows).is_some()))
            .collect::<Option<Vec<usize>>>()
            .ok_or(DataError::SizeOverflow)?;
        let data = numels.iter().map(|&n| vec![0.0; n * rows]).collect();
        Ok(Columns {
            fields: fields.to_vec(),
            numels,
            data,
            rows,
        })
    }

    /// The fields, in the order values are passed and returned.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// The index of the field called `name`.
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    /// The number of items each column holds.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The number of `f32`s in one item of field `field`.
    ///
    /// # Panics
    /// If `field >= fields().len()`.
    pub fn numel(&self, field: usize) -> usize {
        self.numels[field]
    }

    /// All rows of field `field`, back to back.
    ///
    /// # Panics
    /// If `field >= fields().len()`.
    pub fn column(&self, field: usize) -> &[f32] {
        &self.data[field]
    }

    /// All rows of field `field`, mutably.
    ///
    /// # Panics
    /// If `field >= fields().len()`.
    pub fn column_mut(&mut self, field: usize) -> &mut [f32] {
        &mut self.data[field]
    }

    /// Checks that `values` holds one slice per field, each with exactly `items` items.
    pub(crate) fn check_values(&self, values: &[&[f32]], items: usize) -> Result<(), DataError> {
        if values.len() != self.fields.len() {
            return Err(DataError::FieldCount {
                expected: self.fields.len(),
                got: values.len(),
            });
        }
        for ((field, &numel), value) in self.fields.iter().zip(&self.numels).zip(values) {
            let expected = items.checked_mul(numel);
            if expected != Some(value.len()) {
                return Err(DataError::FieldLength {
                    field: field.name.clone(),
                    expected: expected.unwrap_or(usize::MAX),
                    got: value.len(),
                });
            }
        }
        Ok(())
    }

    /// Copies items `src..src + count` of every slice in `values` into rows `row..row + count`.
    /// The caller has validated `values` and both ranges.
    pub(crate) fn write(&mut self, row: usize, values: &[&[f32]], src: usize, count: usize) {
        for ((column, &n), value) in self.data.iter_mut().zip(&self.numels).zip(values) {
            column[row * n..(row + count) * n].copy_from_slice(&value[src * n..(src + count) * n]);
        }
    }

    /// Checks that `out` has one vector per field and sizes each for `items` items. `resize` is a
    /// no-op when the length is already right, so a reused output allocates nothing.
    pub(crate) fn prepare_out(&self, out: &mut [Vec<f32>], items: usize) -> Result<(), DataError> {
        if out.len() != self.fields.len() {
            return Err(DataError::LengthMismatch {
                what: "out (one vector per field)",
                expected: self.fields.len(),
                got: out.len(),
            });
        }
        // Check every size before touching any output, so an error leaves `out` as it was.
        if self.numels.iter().any(|&n| n.checked_mul(items).is_none()) {
            return Err(DataError::SizeOverflow);
        }
        for (column, &n) in out.iter_mut().zip(&self.numels) {
            column.resize(n * items, 0.0);
        }
        Ok(())
    }

    /// Copies `count` consecutive rows starting at `row` of every field into `out[f]`, starting at
    /// item `dst`. The caller has validated the ranges (see [`Columns::prepare_out`]).
    pub(crate) fn copy_rows(&self, row: usize, count: usize, out: &mut [Vec<f32>], dst: usize) {
        for ((column, &n), target) in self.data.iter().zip(&self.numels).zip(out) {
            target[dst * n..(dst + count) * n].copy_from_slice(&column[row * n..(row + count) * n]);
        }
    }

    /// Copies row `row` of field `field` into item `dst` of `target`.
    pub(crate) fn copy_row_of(&self, field: usize, row: usize, target: &mut [f32], dst: usize) {
        let n = self.numels[field];
        target[dst * n..(dst + 1) * n].copy_from_slice(&self.data[field][row * n..(row + 1) * n]);
    }
}
