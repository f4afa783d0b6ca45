//! The code generator's state and the shapes it works with: the [`Codegen`] emitter, loop
//! nests and memory streams, and the SIMD width and unroll factor.

use crate::backend::kernel::{Expr, Plan};
use crate::ir::{DType, ReduceOp};
use cranelift_codegen::ir::{MemFlagsData, Value};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::FunctionBuilder;
use std::collections::HashMap;

pub(super) const LANES: usize = 4;
pub(super) const UNROLL: usize = 4;

/// Emits the body of an entry function `fn(inputs: *const *const u8, outputs: *const *mut u8)`.
pub struct Codegen<'a, 'b> {
    pub b: &'a mut FunctionBuilder<'b>,
    pub plan: &'a Plan,
    pub arena: usize,
    pub states: &'a [usize],
    pub call_conv: CallConv,
    pub inputs: Value,
    pub outputs: Value,
    pub(super) io_cache: HashMap<(bool, usize), Value>,
    /// `(part, parts)` when emitting one part of a kernel split across cores.
    pub band: Option<(Value, Value)>,
    /// Per top-level kernel: the function running it split across cores, if it is split.
    pub split: Vec<Option<cranelift_codegen::ir::FuncRef>>,
}

/// What one loop nest computes.
pub(super) struct Nest {
    pub(super) streams: Vec<Stream>,
    pub(super) leaf_ids: Vec<usize>,
    pub(super) expr: Expr,
    pub(super) out_dt: DType,
    pub(super) reduce: Option<ReduceOp>,
}

/// How one access of a loop walks memory (or, for iota, produces its index).
#[derive(Clone, Debug)]
pub(super) struct Stream {
    /// Strides per loop dimension, in elements.
    pub(super) strides: Vec<isize>,
    /// Buffer (None for iota).
    pub(super) buf: Option<usize>,
    /// First element.
    pub(super) offset: isize,
}

pub(super) fn mem() -> MemFlagsData {
    MemFlagsData::trusted()
}
