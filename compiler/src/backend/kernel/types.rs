//! The plan's data: buffers and where they live, strided views onto them, fused elementwise
//! expressions, and the kernels an entry point runs in order. Every backend that runs a plan
//! (the JIT, OpenCL) reads only these types.

use crate::ir::{BinaryOp, DType, RandomDist, ReduceOp, Routine, StateId, TensorType, UnaryOp};
use std::sync::Arc;

/// Where a buffer lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    /// Temporary in the entry's arena (offset assigned by the allocator).
    Arena,
    /// Constant data in the arena (never reused).
    Const,
    /// A resident state variable.
    State(StateId),
    /// Input `i` of the call.
    Input(usize),
    /// Output `i` of the call.
    Output(usize),
}

/// A buffer of 4-byte elements (f32, or i32 for integers and booleans).
#[derive(Clone, Debug)]
pub struct Buffer {
    /// Where it lives.
    pub storage: Storage,
    /// Number of elements.
    pub len: usize,
    /// Element type (bool is stored as i32 0/1).
    pub dtype: DType,
    /// Byte offset in the arena (arena and constant buffers).
    pub offset: usize,
    /// Values of constant buffers.
    pub data: Vec<f64>,
}

/// A strided window onto a buffer (offset and strides in elements).
#[derive(Clone, Debug, PartialEq)]
pub struct View {
    /// The buffer.
    pub buf: usize,
    /// First element.
    pub offset: isize,
    /// Logical shape.
    pub shape: Vec<usize>,
    /// Element stride of each axis.
    pub strides: Vec<isize>,
}

/// Row-major element strides of a shape.
pub(super) fn contiguous_strides(shape: &[usize]) -> Vec<isize> {
    let mut s = vec![1isize; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1] as isize;
    }
    s
}

impl View {
    /// The whole buffer, row-major.
    pub fn whole(buf: usize, shape: &[usize]) -> View {
        View {
            buf,
            offset: 0,
            shape: shape.to_vec(),
            strides: contiguous_strides(shape),
        }
    }

    /// True if the view is the row-major layout starting at its offset.
    pub fn is_contiguous(&self) -> bool {
        let c = contiguous_strides(&self.shape);
        self.shape
            .iter()
            .zip(self.strides.iter().zip(&c))
            .all(|(d, (s, c))| *d <= 1 || s == c)
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }
}

/// A node of a fused elementwise expression.
#[derive(Clone, Debug, PartialEq)]
pub enum ENode {
    /// Read a view at the loop index.
    Load(View),
    /// A constant.
    Scalar(f64),
    /// The loop index along an axis.
    Iota(usize),
    /// Unary op of an earlier node.
    Unary(UnaryOp, usize),
    /// Binary op of two earlier nodes.
    Binary(BinaryOp, usize, usize),
    /// `select(c, a, b)`.
    Select(usize, usize, usize),
    /// Conversion of an earlier node to this node's type.
    Cast(usize),
}

/// A fused elementwise expression over a loop shape: nodes in order, the last is the result.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// Nodes with their element types.
    pub nodes: Vec<(ENode, DType)>,
}

impl Expr {
    fn root(&self) -> usize {
        self.nodes.len() - 1
    }

    /// Views read by the expression.
    pub fn loads(&self) -> impl Iterator<Item = &View> {
        self.nodes.iter().filter_map(|(n, _)| match n {
            ENode::Load(v) => Some(v),
            _ => None,
        })
    }

    /// The result type.
    pub fn dtype(&self) -> DType {
        self.nodes[self.root()].1
    }
}

/// The body of a scan, planned into the same arena.
#[derive(Clone, Debug)]
pub struct ScanKernel {
    /// Steps.
    pub length: usize,
    /// Iterate backwards.
    pub reverse: bool,
    /// Buffer holding `t` (one i32).
    pub t_buf: usize,
    /// Carry buffers (the body's carry inputs).
    pub carries: Vec<usize>,
    /// Initial carry values.
    pub inits: Vec<View>,
    /// Body kernels.
    pub body: Vec<Kernel>,
    /// New carries computed by the body (distinct from the carry buffers).
    pub new_carries: Vec<View>,
    /// Per carry, the `[length, ..]` history buffer if stacked.
    pub hist: Vec<Option<usize>>,
}

/// One step of an entry point.
#[derive(Clone, Debug)]
pub enum Kernel {
    /// `out[i] = expr(i)` over `out.shape`.
    Map {
        /// Destination.
        out: View,
        /// The fused expression.
        expr: Expr,
    },
    /// Reduction: `acc[i] = op(acc[i], expr(i))` over `shape`, where `acc` has stride 0 on
    /// the reduced axes; `acc` is filled with `init` first (its real shape: `acc_shape`).
    Reduce {
        /// The reduction.
        op: ReduceOp,
        /// Accumulator over the input shape (0 strides on reduced axes).
        acc: View,
        /// The accumulator buffer as written (for initialisation).
        acc_whole: View,
        /// The expression over the input shape.
        expr: Expr,
        /// Identity.
        init: f64,
    },
    /// Two independent products run at the same time, one per core.
    MatMulPair {
        /// The first product (`a`, `b`, `c`).
        first: [View; 3],
        /// The second.
        second: [View; 3],
    },
    /// `c = a @ b` (any strides).
    MatMul {
        /// `[m, k]`.
        a: View,
        /// `[k, n]`.
        b: View,
        /// `[m, n]`.
        c: View,
    },
    /// Gather along an axis (contiguous views).
    Take {
        /// Source.
        x: View,
        /// Indices (i32).
        idx: View,
        /// Destination.
        out: View,
        /// Axis.
        axis: usize,
    },
    /// Scatter-add along an axis into `out` (which holds a copy of the base).
    ScatterAdd {
        /// Indices.
        idx: View,
        /// Updates.
        upd: View,
        /// Destination.
        out: View,
        /// Axis.
        axis: usize,
    },
    /// Counter-based random numbers.
    Random {
        /// The key (two i32).
        key: View,
        /// Distribution.
        dist: RandomDist,
        /// Stream.
        stream: u32,
        /// Destination (contiguous).
        out: View,
    },
    /// A routine run on the host by its reference evaluation (contiguous views).
    Routine {
        /// The routine and its operand and result types.
        call: Arc<RoutineCall>,
        /// Operands.
        args: Vec<View>,
        /// Destination.
        out: View,
    },
    /// A scan loop.
    Scan(Box<ScanKernel>),
}

/// A routine with the types it is applied to: everything a backend needs to run it. Shared
/// (`Arc`) so that compiled code can hold its address for as long as the plan lives.
#[derive(Debug)]
pub struct RoutineCall {
    /// The routine.
    pub routine: Routine,
    /// Operand types.
    pub args: Vec<TensorType>,
    /// Result type.
    pub out: TensorType,
}

impl Kernel {
    /// Every view the kernel reads.
    pub fn reads(&self) -> Vec<&View> {
        match self {
            Kernel::Map { expr, .. } => expr.loads().collect(),
            Kernel::Reduce { expr, .. } => expr.loads().collect(),
            Kernel::MatMul { a, b, .. } => vec![a, b],
            Kernel::MatMulPair { first, second } => vec![&first[0], &first[1], &second[0], &second[1]],
            Kernel::Take { x, idx, .. } => vec![x, idx],
            Kernel::ScatterAdd { idx, upd, .. } => vec![idx, upd],
            Kernel::Random { key, .. } => vec![key],
            Kernel::Routine { args, .. } => args.iter().collect(),
            Kernel::Scan(s) => {
                let mut v: Vec<&View> = s.inits.iter().collect();
                for k in &s.body {
                    v.extend(k.reads());
                }
                v.extend(s.new_carries.iter());
                v
            }
        }
    }

    /// Every buffer the kernel writes.
    pub fn writes(&self) -> Vec<usize> {
        match self {
            Kernel::Map { out, .. } => vec![out.buf],
            Kernel::Reduce { acc, .. } => vec![acc.buf],
            Kernel::MatMul { c, .. } => vec![c.buf],
            Kernel::MatMulPair { first, second } => vec![first[2].buf, second[2].buf],
            Kernel::Take { out, .. }
            | Kernel::ScatterAdd { out, .. }
            | Kernel::Random { out, .. }
            | Kernel::Routine { out, .. } => vec![out.buf],
            Kernel::Scan(s) => {
                let mut v = vec![s.t_buf];
                v.extend(&s.carries);
                v.extend(s.hist.iter().flatten());
                for k in &s.body {
                    v.extend(k.writes());
                }
                v
            }
        }
    }
}

/// A planned entry point.
#[derive(Clone, Debug)]
pub struct Plan {
    /// All buffers.
    pub buffers: Vec<Buffer>,
    /// Kernels in order.
    pub kernels: Vec<Kernel>,
    /// Bytes of arena needed.
    pub arena_bytes: usize,
}

/// An error planning a graph (an unsupported construct).
#[derive(Clone, Debug)]
pub struct PlanError(pub String);
