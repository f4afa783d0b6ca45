//! The columnar layout every buffer stores items in: named fields, one preallocated column
//! each.

use super::error::DataError;
use crate::error::RunError;
use crate::snapshot::{SnapshotReader, SnapshotWriter};

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

    /// Writes rows `0..rows` of every field under `prefix/<field>` (the rest holds nothing a
    /// resumed run reads).
    pub(crate) fn save_rows(&self, prefix: &str, rows: usize, w: &mut SnapshotWriter) {
        for ((field, column), &n) in self.fields.iter().zip(&self.data).zip(&self.numels) {
            w.f32s(&format!("{prefix}/fields/{}", field.name), &column[..rows * n]);
        }
    }

    /// Reads rows `0..rows` of every field saved by [`Columns::save_rows`].
    pub(crate) fn restore_rows(
        &mut self,
        prefix: &str,
        rows: usize,
        r: &SnapshotReader<'_>,
    ) -> Result<(), RunError> {
        if rows > self.rows {
            return Err(r.error(format!(
                "`{prefix}` holds {rows} items, more than its {} slots",
                self.rows
            )));
        }
        for ((field, column), &n) in self.fields.iter().zip(&mut self.data).zip(&self.numels) {
            let v = r.f32s_of_len(&format!("{prefix}/fields/{}", field.name), rows * n)?;
            column[..rows * n].copy_from_slice(&v);
        }
        Ok(())
    }
}
