//! What can go wrong building, filling or sampling a buffer.

use std::fmt;

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
