//! Running a routine ([`crate::ir::Routine`]) on the host, for backends that keep tensors as
//! 4-byte words (f32 bits, or i32 for integers and booleans): the JIT calls this from compiled
//! code, OpenCL after reading the operands back. Both therefore compute exactly the
//! interpreter's reference evaluation.

use super::kernel::RoutineCall;
use crate::ir::{DType, HostArg};

/// Element `w` of a buffer of `dtype` as f64 (exact).
fn word_value(w: u32, dtype: DType) -> f64 {
    match dtype {
        DType::F32 => f64::from(f32::from_bits(w)),
        DType::I32 | DType::Bool => f64::from(w as i32),
    }
}

/// An f64 result element as a word of `dtype` (f32 rounds to nearest, as the interpreter does).
fn value_word(v: f64, dtype: DType) -> u32 {
    match dtype {
        DType::F32 => (v as f32).to_bits(),
        DType::I32 => v as i32 as u32,
        DType::Bool => u32::from(v != 0.0),
    }
}

/// Evaluates `call` on operand words `args` (one slice per operand, each holding its type's
/// element count) into `out`. Operands are read completely before `out` is written, so `out`
/// may alias an operand.
pub fn run_on_words(call: &RoutineCall, args: &[&[u32]], out: &mut [u32]) {
    let data: Vec<Vec<f64>> = args
        .iter()
        .zip(&call.args)
        .map(|(words, ty)| words.iter().map(|w| word_value(*w, ty.dtype)).collect())
        .collect();
    let host: Vec<HostArg<'_>> = call
        .args
        .iter()
        .zip(&data)
        .map(|(ty, d)| HostArg { ty, data: d })
        .collect();
    let values = call.routine.definition().eval(&host, &call.out);
    for (o, v) in out.iter_mut().zip(values) {
        *o = value_word(v, call.out.dtype);
    }
}
