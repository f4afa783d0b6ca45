//! A run's host-side state as named tensors — replay contents, environment states, random
//! generator positions, counters — so a killed run can continue exactly where it was
//! (`rlc resume`). Written as one safetensors file (readable from Python like a checkpoint).
//!
//! Every value is stored bit for bit in its own type (`f32`, `f64`, `u64`, bytes): a decimal
//! round trip could change a float by one ulp, and the resumed run would drift from the
//! uninterrupted one.

use crate::error::RunError;
use rand_chacha::ChaCha8Rng;
use safetensors::tensor::{Dtype, TensorView};
use std::collections::HashMap;

/// Something whose state can be written to a snapshot and read back exactly.
pub trait Resumable {
    /// Writes the state under names starting with `prefix`.
    fn save(&self, prefix: &str, w: &mut SnapshotWriter);
    /// Replaces the state with the one saved under `prefix`, checking that it fits (sizes,
    /// layouts); on an error the state may be partly replaced, so the run must not go on.
    fn restore(&mut self, prefix: &str, r: &SnapshotReader<'_>) -> Result<(), RunError>;
}

/// Collects named tensors.
#[derive(Default)]
pub struct SnapshotWriter {
    tensors: Vec<(String, Dtype, Vec<usize>, Vec<u8>)>,
}

impl SnapshotWriter {
    /// An empty snapshot.
    pub fn new() -> SnapshotWriter {
        SnapshotWriter::default()
    }

    fn put(&mut self, name: &str, dtype: Dtype, len: usize, bytes: Vec<u8>) {
        self.tensor(name, dtype, vec![len], bytes);
    }

    /// A tensor of any type and shape, as little-endian bytes.
    pub fn tensor(&mut self, name: &str, dtype: Dtype, shape: Vec<usize>, bytes: Vec<u8>) {
        self.tensors.push((name.to_string(), dtype, shape, bytes));
    }

    /// A vector of `f32`s.
    pub fn f32s(&mut self, name: &str, v: &[f32]) {
        self.put(
            name,
            Dtype::F32,
            v.len(),
            v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        );
    }

    /// A vector of `f64`s.
    pub fn f64s(&mut self, name: &str, v: &[f64]) {
        self.put(
            name,
            Dtype::F64,
            v.len(),
            v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        );
    }

    /// A vector of `u64`s.
    pub fn u64s(&mut self, name: &str, v: &[u64]) {
        self.put(
            name,
            Dtype::U64,
            v.len(),
            v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        );
    }

    /// One `u64`.
    pub fn u64(&mut self, name: &str, v: u64) {
        self.u64s(name, &[v]);
    }

    /// A vector of `usize`s (stored as `u64`).
    pub fn usizes(&mut self, name: &str, v: &[usize]) {
        let v: Vec<u64> = v.iter().map(|x| *x as u64).collect();
        self.u64s(name, &v);
    }

    /// A ChaCha generator's exact position: its key (`name/seed`), and its stream and word
    /// position (`name/position`, the 128-bit position as two words).
    pub fn rng(&mut self, name: &str, rng: &ChaCha8Rng) {
        let seed = rng.get_seed();
        self.put(&format!("{name}/seed"), Dtype::U8, seed.len(), seed.to_vec());
        let pos = rng.get_word_pos();
        self.u64s(
            &format!("{name}/position"),
            &[rng.get_stream(), pos as u64, (pos >> 64) as u64],
        );
    }

    /// The snapshot as safetensors bytes, with `metadata` in the header.
    pub fn to_bytes(&self, metadata: HashMap<String, String>) -> Result<Vec<u8>, String> {
        let views: Vec<(String, TensorView<'_>)> = self
            .tensors
            .iter()
            .map(|(n, d, s, b)| {
                TensorView::new(*d, s.clone(), b)
                    .map(|v| (n.clone(), v))
                    .map_err(|e| e.to_string())
            })
            .collect::<Result<_, _>>()?;
        safetensors::serialize(views, Some(metadata)).map_err(|e| e.to_string())
    }
}

/// Reads named tensors back, each checked for presence, type and (where the caller knows it)
/// length; errors name the file and the tensor.
pub struct SnapshotReader<'a> {
    st: safetensors::SafeTensors<'a>,
    file: String,
}

impl<'a> SnapshotReader<'a> {
    /// Parses safetensors `bytes` read from `file` (named in errors).
    pub fn new(bytes: &'a [u8], file: &str) -> Result<SnapshotReader<'a>, RunError> {
        let st = safetensors::SafeTensors::deserialize(bytes)
            .map_err(|e| RunError::Io(format!("cannot resume from `{file}`: corrupt file ({e})")))?;
        Ok(SnapshotReader {
            st,
            file: file.to_string(),
        })
    }

    /// An error about this snapshot.
    pub fn error(&self, what: impl std::fmt::Display) -> RunError {
        RunError::Io(format!("cannot resume from `{}`: {what}", self.file))
    }

    fn raw(&self, name: &str, dtype: Dtype, width: usize) -> Result<&[u8], RunError> {
        let t = self
            .st
            .tensor(name)
            .map_err(|_| self.error(format!("it holds no `{name}`")))?;
        if t.dtype() != dtype || t.shape().len() != 1 || t.data().len() != t.shape()[0] * width {
            return Err(self.error(format!(
                "`{name}` is {:?} of shape {:?}, expected a {dtype:?} vector",
                t.dtype(),
                t.shape()
            )));
        }
        Ok(t.data())
    }

    /// A vector of `f32`s.
    pub fn f32s(&self, name: &str) -> Result<Vec<f32>, RunError> {
        Ok(self
            .raw(name, Dtype::F32, 4)?
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }

    /// A vector of `f64`s.
    pub fn f64s(&self, name: &str) -> Result<Vec<f64>, RunError> {
        Ok(self
            .raw(name, Dtype::F64, 8)?
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect())
    }

    /// A vector of `u64`s.
    pub fn u64s(&self, name: &str) -> Result<Vec<u64>, RunError> {
        Ok(self
            .raw(name, Dtype::U64, 8)?
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect())
    }

    /// One `u64`.
    pub fn u64(&self, name: &str) -> Result<u64, RunError> {
        let v = self.u64s(name)?;
        match v.as_slice() {
            [x] => Ok(*x),
            _ => Err(self.error(format!("`{name}` holds {} values, expected one", v.len()))),
        }
    }

    /// A vector of `usize`s.
    pub fn usizes(&self, name: &str) -> Result<Vec<usize>, RunError> {
        self.u64s(name)?
            .into_iter()
            .map(|x| usize::try_from(x).map_err(|_| self.error(format!("`{name}` holds {x}, too large"))))
            .collect()
    }

    /// One `usize` no larger than `max`.
    pub fn usize_at_most(&self, name: &str, max: usize) -> Result<usize, RunError> {
        let x = self.u64(name)?;
        match usize::try_from(x) {
            Ok(v) if v <= max => Ok(v),
            _ => Err(self.error(format!("`{name}` is {x}, more than the {max} this run allows"))),
        }
    }

    /// A vector of exactly `len` `f32`s.
    pub fn f32s_of_len(&self, name: &str, len: usize) -> Result<Vec<f32>, RunError> {
        let v = self.f32s(name)?;
        self.check_len(name, v.len(), len)?;
        Ok(v)
    }

    /// A vector of exactly `len` `f64`s.
    pub fn f64s_of_len(&self, name: &str, len: usize) -> Result<Vec<f64>, RunError> {
        let v = self.f64s(name)?;
        self.check_len(name, v.len(), len)?;
        Ok(v)
    }

    /// A vector of exactly `len` `usize`s.
    pub fn usizes_of_len(&self, name: &str, len: usize) -> Result<Vec<usize>, RunError> {
        let v = self.usizes(name)?;
        self.check_len(name, v.len(), len)?;
        Ok(v)
    }

    fn check_len(&self, name: &str, got: usize, want: usize) -> Result<(), RunError> {
        if got == want {
            Ok(())
        } else {
            Err(self.error(format!(
                "`{name}` holds {got} values, this run needs {want}: was it written by another program?"
            )))
        }
    }

    /// A generator saved by [`SnapshotWriter::rng`], at the saved position.
    pub fn rng(&self, name: &str) -> Result<ChaCha8Rng, RunError> {
        use rand::SeedableRng;
        let seed: [u8; 32] = self
            .raw(&format!("{name}/seed"), Dtype::U8, 1)?
            .try_into()
            .map_err(|_| self.error(format!("`{name}/seed` is not 32 bytes")))?;
        let pos = self.u64s(&format!("{name}/position"))?;
        let [stream, lo, hi] = pos[..] else {
            return Err(self.error(format!("`{name}/position` is not 3 words")));
        };
        let mut rng = ChaCha8Rng::from_seed(seed);
        rng.set_stream(stream);
        rng.set_word_pos(u128::from(lo) | (u128::from(hi) << 64));
        Ok(rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    fn round_trip(w: &SnapshotWriter) -> Vec<u8> {
        w.to_bytes(HashMap::new()).unwrap()
    }

    #[test]
    fn values_come_back_bit_for_bit() {
        let mut w = SnapshotWriter::new();
        let f = [0.1f32, -0.0, f32::MIN_POSITIVE, 1e-45];
        let d = [std::f64::consts::PI, -0.0, 1e-310];
        w.f32s("f", &f);
        w.f64s("d", &d);
        w.u64("n", u64::MAX);
        w.usizes("u", &[3, 4]);
        let bytes = round_trip(&w);
        let r = SnapshotReader::new(&bytes, "x").unwrap();
        let f2 = r.f32s("f").unwrap();
        assert_eq!(
            f.map(f32::to_bits).to_vec(),
            f2.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
        let d2 = r.f64s("d").unwrap();
        assert_eq!(
            d.map(f64::to_bits).to_vec(),
            d2.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
        assert_eq!(r.u64("n").unwrap(), u64::MAX);
        assert_eq!(r.usizes("u").unwrap(), vec![3, 4]);
    }

    #[test]
    fn a_generator_continues_where_it_was_saved() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        rng.set_stream(5);
        // An odd number of 32-bit words: the position is inside a block and between halves.
        let _: u32 = rng.random();
        let _: f64 = rng.random();
        let mut w = SnapshotWriter::new();
        w.rng("g", &rng);
        let bytes = round_trip(&w);
        let mut back = SnapshotReader::new(&bytes, "x").unwrap().rng("g").unwrap();
        let a: Vec<u64> = (0..100).map(|_| rng.random()).collect();
        let b: Vec<u64> = (0..100).map(|_| back.random()).collect();
        assert_eq!(a, b);
    }

    #[test]
    fn missing_mistyped_and_mis_sized_tensors_are_named() {
        let mut w = SnapshotWriter::new();
        w.f32s("f", &[1.0, 2.0]);
        let bytes = round_trip(&w);
        let r = SnapshotReader::new(&bytes, "run/resume.safetensors").unwrap();
        let e = r.f32s("g").unwrap_err().to_string();
        assert!(
            e.contains("run/resume.safetensors") && e.contains("no `g`"),
            "{e}"
        );
        let e = r.f64s("f").unwrap_err().to_string();
        assert!(e.contains("`f` is F32"), "{e}");
        let e = r.f32s_of_len("f", 3).unwrap_err().to_string();
        assert!(e.contains("holds 2 values, this run needs 3"), "{e}");
        assert!(SnapshotReader::new(&bytes[..bytes.len() - 1], "x").is_err());
        assert!(SnapshotReader::new(b"garbage", "x").is_err());
    }
}
