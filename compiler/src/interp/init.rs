//! Initial values of state variables, drawn from the run's seed.

use super::tensor::{Real, Tensor};
use crate::ir::{DType, Init, StateTable};
use crate::random;

/// A stable 32-bit stream number for a state name, so that a parameter's initial value
/// depends only on the seed and its name (not on declaration order).
fn name_stream(name: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in name.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// The initial value of every state variable, indexed by state id.
pub fn initial_state<T: Real>(states: &StateTable, seed: u64) -> Vec<Tensor<T>> {
    let key = random::key_from_seed(seed);
    let mut out: Vec<Tensor<T>> = Vec::with_capacity(states.len());
    for (_, v) in states.iter() {
        let t = match &v.init {
            Init::Zeros => Tensor::zeros(&v.ty),
            Init::Fill(x) => Tensor::filled(&v.ty, *x),
            Init::Uniform { low, high } => {
                let k = random::stream_key(key, name_stream(&v.name));
                let data: Vec<f64> = (0..v.ty.numel() as u64)
                    .map(|i| low + (high - low) * random::uniform(k, i))
                    .collect();
                Tensor::from_f64(v.ty.shape.clone(), &data)
            }
            Init::Values(vals) => {
                let mut t = Tensor::zeros(&v.ty);
                if v.ty.dtype == DType::F32 {
                    t = Tensor::from_f64(v.ty.shape.clone(), vals);
                }
                t
            }
            // Copies are created after what they copy (targets after nets).
            Init::CopyOf(src) => out[src.0 as usize].clone(),
        };
        out.push(t);
    }
    out
}
