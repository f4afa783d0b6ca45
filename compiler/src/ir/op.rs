//! The closed set of primitive operations and their typing rules.
//!
//! Everything else (softmax, log-probabilities, layers, optimisers) is composed from these in
//! lowering, so autodiff and every backend only need to know this list. Adding a variant makes
//! the compiler point at every `match` that must handle it.
//!
//! The elementwise list is kept small: a function that can be built *exactly* from the others
//! is not a primitive. Negation, subtraction, `min`, `abs`, `>`, `>=`, `<=` and `!=` are
//! composites in [`super::compose`] (bit-identical, up to a NaN's sign bit and `abs(-0.0)`).
//! `Cos` stays although `sin(x + pi/2)` would express it: `x + pi/2` is rounded to f32 before
//! the sine sees it, an error that grows with `|x|` (for large `x` the result is unrelated to
//! `cos(x)`). `Floor`, `Rem` and `Pow` have no exact composition from the rest. `Recip` is
//! exactly `1 / x` and nothing in the lowering emits it; it is kept for now (a candidate for
//! the next trim).

use super::graph::Graph;
use super::routine::Routine;
use super::state::StateId;
use super::types::{DType, ShapeDisplay, TensorType};
use std::fmt;

/// Elementwise functions of one argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `e^x`
    Exp,
    /// natural logarithm
    Log,
    /// hyperbolic tangent
    Tanh,
    /// square root
    Sqrt,
    /// sine
    Sin,
    /// cosine
    Cos,
    /// `1/x`
    Recip,
    /// round towards negative infinity
    Floor,
    /// boolean negation
    Not,
}

impl UnaryOp {
    /// Every unary op.
    pub const ALL: [UnaryOp; 9] = [
        UnaryOp::Exp,
        UnaryOp::Log,
        UnaryOp::Tanh,
        UnaryOp::Sqrt,
        UnaryOp::Sin,
        UnaryOp::Cos,
        UnaryOp::Recip,
        UnaryOp::Floor,
        UnaryOp::Not,
    ];

    /// Lower-case name used in dumps.
    pub fn name(self) -> &'static str {
        match self {
            UnaryOp::Exp => "exp",
            UnaryOp::Log => "log",
            UnaryOp::Tanh => "tanh",
            UnaryOp::Sqrt => "sqrt",
            UnaryOp::Sin => "sin",
            UnaryOp::Cos => "cos",
            UnaryOp::Recip => "recip",
            UnaryOp::Floor => "floor",
            UnaryOp::Not => "not",
        }
    }
}

/// Elementwise functions of two arguments of the same shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `a + b`
    Add,
    /// `a * b`
    Mul,
    /// `a / b` (integers: truncating)
    Div,
    /// `a ^ b` (f32 only)
    Pow,
    /// floor modulo: `a - floor(a/b)*b` (the sign follows `b`, as in Python)
    Rem,
    /// elementwise maximum: `a` where `a` is NaN or `a >= b`, else `b` (NaN-propagating; the
    /// left operand on ties)
    Max,
    /// `a < b`
    Lt,
    /// `a == b`
    Eq,
    /// boolean and
    And,
    /// boolean or
    Or,
}

impl BinaryOp {
    /// Every binary op.
    pub const ALL: [BinaryOp; 10] = [
        BinaryOp::Add,
        BinaryOp::Mul,
        BinaryOp::Div,
        BinaryOp::Pow,
        BinaryOp::Rem,
        BinaryOp::Max,
        BinaryOp::Lt,
        BinaryOp::Eq,
        BinaryOp::And,
        BinaryOp::Or,
    ];

    /// Lower-case name used in dumps.
    pub fn name(self) -> &'static str {
        match self {
            BinaryOp::Add => "add",
            BinaryOp::Mul => "mul",
            BinaryOp::Div => "div",
            BinaryOp::Pow => "pow",
            BinaryOp::Rem => "rem",
            BinaryOp::Max => "max",
            BinaryOp::Lt => "lt",
            BinaryOp::Eq => "eq",
            BinaryOp::And => "and",
            BinaryOp::Or => "or",
        }
    }

    /// True for comparisons (result is bool).
    pub fn is_comparison(self) -> bool {
        matches!(self, BinaryOp::Lt | BinaryOp::Eq)
    }

    /// True for `and` / `or`.
    pub fn is_logical(self) -> bool {
        matches!(self, BinaryOp::And | BinaryOp::Or)
    }
}

/// Reductions along axes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReduceOp {
    /// sum
    Sum,
    /// maximum
    Max,
    /// minimum
    Min,
}

/// Distributions of the counter-based random number generator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RandomDist {
    /// Uniform on `[0, 1)`.
    Uniform,
    /// Standard normal.
    Normal,
}

/// A loop over `t = 0..length` (or backwards) carrying values from step to step.
///
/// Operands: the initial carries (`n_carry` of them), then constants visible in every step.
/// The body's inputs are `t` (i32 scalar), the carries, then the constants; its outputs are the
/// new carries. The scan's outputs (read with [`Op::Project`]) are, per carry, the stack of the
/// carry after every step (`[length, ..]`, position `t` holds the value after step `t`) when
/// `stacked[i]`, else the final carry.
#[derive(Clone, Debug, PartialEq)]
pub struct Scan {
    /// The step function.
    pub body: Graph,
    /// Number of steps.
    pub length: usize,
    /// Iterate `t = length-1 .. 0`.
    pub reverse: bool,
    /// Number of carried values.
    pub n_carry: usize,
    /// Per carry: return every step's value (true) or the last (false).
    pub stacked: Vec<bool>,
}

impl Scan {
    /// The types of the scan's outputs, given the carries' types.
    pub fn output_types(&self) -> Vec<TensorType> {
        self.body
            .outputs
            .iter()
            .zip(&self.stacked)
            .map(|((_, n), stacked)| {
                let ty = self.body.ty(*n);
                if *stacked {
                    let mut shape = vec![self.length];
                    shape.extend(&ty.shape);
                    ty.with_shape(shape)
                } else {
                    ty.clone()
                }
            })
            .collect()
    }
}

/// A primitive operation. A node's result type is stored on the node; the rules in
/// [`Op::check`] say which types are valid.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// A named input of the graph.
    Input {
        /// Name (e.g. `obs`, `D.s`, `key`).
        name: String,
    },
    /// A constant: one value repeated, or all values (row-major).
    Const {
        /// The values; a single value fills the whole tensor.
        values: Vec<f64>,
    },
    /// The index along `axis` at each position (i32).
    Iota {
        /// Axis whose index is produced.
        axis: usize,
    },
    /// Reads a state variable (its value from before the call).
    State(StateId),
    /// Writes a state variable (takes effect at the end of the call). Result type is `bool[]`.
    Assign(StateId),
    /// Random numbers from a counter-based generator. Operand: the key (`i32[2]`).
    Random {
        /// Distribution.
        dist: RandomDist,
        /// Stream number: distinct random nodes draw independent numbers from one key.
        stream: u32,
    },
    /// An elementwise unary function.
    Unary(UnaryOp),
    /// An elementwise binary function of equal-shaped operands.
    Binary(BinaryOp),
    /// `select(cond, a, b)`: `a` where `cond`, else `b`.
    Select,
    /// Converts to the node's element type (float to int truncates toward zero).
    Cast,
    /// Reduces the given axes away.
    Reduce {
        /// The reduction.
        op: ReduceOp,
        /// Axes removed, ascending.
        axes: Vec<usize>,
    },
    /// `[m,k] x [k,n] -> [m,n]`.
    MatMul,
    /// Same elements, the node's shape.
    Reshape,
    /// Permutes axes: output axis `i` is input axis `perm[i]`.
    Transpose {
        /// The permutation.
        perm: Vec<usize>,
    },
    /// Numpy broadcast to the node's shape (input aligned on the right; size-1 axes repeat).
    Broadcast,
    /// Joins operands along an axis.
    Concat {
        /// The axis.
        axis: usize,
    },
    /// A static range `start..end` of one axis.
    Slice {
        /// The axis.
        axis: usize,
        /// First index.
        start: usize,
        /// One past the last index.
        end: usize,
    },
    /// Gathers along `axis` with i32 indices (clamped into range): `x.take(idx, axis)`.
    Take {
        /// The axis.
        axis: usize,
    },
    /// `base` plus `updates` added at the (clamped) indices along `axis`; the adjoint of `Take`.
    ScatterAdd {
        /// The axis.
        axis: usize,
    },
    /// A loop; see [`Scan`].
    Scan(Box<Scan>),
    /// Output `index` of a scan.
    Project {
        /// Which output.
        index: usize,
    },
    /// Identity whose gradient is zero.
    StopGrad,
    /// A routine (sorting, small linear algebra), defined in one file of [`super::routine`].
    Routine(Routine),
}

impl Op {
    /// Short name used in dumps and messages.
    pub fn name(&self) -> String {
        match self {
            Op::Input { .. } => "input".into(),
            Op::Const { .. } => "const".into(),
            Op::Iota { .. } => "iota".into(),
            Op::State(_) => "state".into(),
            Op::Assign(_) => "assign".into(),
            Op::Random { dist, .. } => match dist {
                RandomDist::Uniform => "rand".into(),
                RandomDist::Normal => "randn".into(),
            },
            Op::Unary(u) => u.name().into(),
            Op::Binary(b) => b.name().into(),
            Op::Select => "select".into(),
            Op::Cast => "cast".into(),
            Op::Reduce { op, .. } => match op {
                ReduceOp::Sum => "reduce_sum".into(),
                ReduceOp::Max => "reduce_max".into(),
                ReduceOp::Min => "reduce_min".into(),
            },
            Op::MatMul => "matmul".into(),
            Op::Reshape => "reshape".into(),
            Op::Transpose { .. } => "transpose".into(),
            Op::Broadcast => "broadcast".into(),
            Op::Concat { .. } => "concat".into(),
            Op::Slice { .. } => "slice".into(),
            Op::Take { .. } => "take".into(),
            Op::ScatterAdd { .. } => "scatter_add".into(),
            Op::Scan(_) => "scan".into(),
            Op::Project { .. } => "project".into(),
            Op::StopGrad => "stop_grad".into(),
            Op::Routine(r) => r.definition().name().into(),
        }
    }

    /// True for elementwise operations (same shape in and out, position by position).
    pub fn is_elementwise(&self) -> bool {
        matches!(
            self,
            Op::Unary(_) | Op::Binary(_) | Op::Select | Op::Cast | Op::StopGrad
        )
    }

    /// Checks that a node with this op, these operand types and result type `out` is valid.
    /// `args` holds `None` for operands that produce several values (scans).
    pub fn check(&self, args: &[&TensorType], out: &TensorType, arg_ops: &[&Op]) -> Result<(), String> {
        let n = args.len();
        let arity = |k: usize| -> Result<(), String> {
            if n == k {
                Ok(())
            } else {
                Err(format!("{} takes {k} operands, got {n}", self.name()))
            }
        };
        let same = |a: &TensorType, b: &TensorType| -> Result<(), String> {
            if a == b {
                Ok(())
            } else {
                Err(format!("{}: operand types differ: {a} vs {b}", self.name()))
            }
        };
        match self {
            Op::Input { .. } | Op::Const { .. } | Op::State(_) => arity(0)?,
            Op::Iota { axis } => {
                arity(0)?;
                if out.dtype != DType::I32 || *axis >= out.rank() {
                    return Err(format!("iota axis {axis} of {out}"));
                }
            }
            Op::Assign(_) => {
                arity(1)?;
                if out != &TensorType::scalar(DType::Bool) {
                    return Err("assign produces bool[]".into());
                }
            }
            Op::Random { .. } => {
                arity(1)?;
                if args[0] != &TensorType::new(DType::I32, vec![2]) {
                    return Err(format!("random key must be i32[2], got {}", args[0]));
                }
                if out.dtype != DType::F32 {
                    return Err("random numbers are f32".into());
                }
            }
            Op::Unary(u) => {
                arity(1)?;
                same(args[0], out)?;
                let ok = match u {
                    UnaryOp::Not => out.dtype == DType::Bool,
                    UnaryOp::Exp
                    | UnaryOp::Log
                    | UnaryOp::Tanh
                    | UnaryOp::Sqrt
                    | UnaryOp::Sin
                    | UnaryOp::Cos
                    | UnaryOp::Recip
                    | UnaryOp::Floor => out.dtype == DType::F32,
                };
                if !ok {
                    return Err(format!("{} is not defined for {}", u.name(), out.dtype));
                }
            }
            Op::Binary(b) => {
                arity(2)?;
                same(args[0], args[1])?;
                let d = args[0].dtype;
                if args[0].shape != out.shape {
                    return Err(format!(
                        "{}: result shape {} differs from operands {}",
                        b.name(),
                        out,
                        args[0]
                    ));
                }
                let ok = if b.is_logical() {
                    d == DType::Bool && out.dtype == DType::Bool
                } else if b.is_comparison() {
                    out.dtype == DType::Bool && (d != DType::Bool || *b == BinaryOp::Eq)
                } else if *b == BinaryOp::Pow {
                    d == DType::F32 && out.dtype == d
                } else {
                    d != DType::Bool && out.dtype == d
                };
                if !ok {
                    return Err(format!("{} is not defined for {} -> {}", b.name(), d, out.dtype));
                }
            }
            Op::Select => {
                arity(3)?;
                if args[0].dtype != DType::Bool || args[0].shape != out.shape {
                    return Err(format!(
                        "select condition must be bool{}",
                        ShapeDisplay(&out.shape)
                    ));
                }
                same(args[1], out)?;
                same(args[2], out)?;
            }
            Op::Cast | Op::StopGrad => {
                arity(1)?;
                if args[0].shape != out.shape {
                    return Err(format!("{} keeps the shape", self.name()));
                }
                if matches!(self, Op::StopGrad) {
                    same(args[0], out)?;
                }
            }
            Op::Reduce { axes, .. } => {
                arity(1)?;
                let x = args[0];
                if axes.windows(2).any(|w| w[0] >= w[1]) || axes.iter().any(|a| *a >= x.rank()) {
                    return Err(format!("bad reduction axes {axes:?} for {x}"));
                }
                let shape: Vec<usize> = x
                    .shape
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !axes.contains(i))
                    .map(|(_, d)| *d)
                    .collect();
                same(&x.with_shape(shape), out)?;
                if x.dtype == DType::Bool {
                    return Err("cannot reduce bool".into());
                }
            }
            Op::MatMul => {
                arity(2)?;
                let (a, b) = (args[0], args[1]);
                if a.rank() != 2 || b.rank() != 2 || a.shape[1] != b.shape[0] || a.dtype != DType::F32 {
                    return Err(format!("matmul of {a} and {b}"));
                }
                same(&TensorType::f32(vec![a.shape[0], b.shape[1]]), out)?;
                same(&a.with_shape(b.shape.clone()), b)?;
            }
            Op::Reshape => {
                arity(1)?;
                if args[0].numel() != out.numel() || args[0].dtype != out.dtype {
                    return Err(format!("cannot reshape {} to {}", args[0], out));
                }
            }
            Op::Transpose { perm } => {
                arity(1)?;
                let x = args[0];
                let mut sorted = perm.clone();
                sorted.sort();
                if sorted != (0..x.rank()).collect::<Vec<_>>() {
                    return Err(format!("bad permutation {perm:?} for {x}"));
                }
                same(
                    &x.with_shape(perm.iter().map(|p| x.shape[*p]).collect::<Vec<_>>()),
                    out,
                )?;
            }
            Op::Broadcast => {
                arity(1)?;
                let x = args[0];
                let fits = x.rank() <= out.rank()
                    && x.shape
                        .iter()
                        .zip(&out.shape[out.rank() - x.rank()..])
                        .all(|(a, b)| a == b || *a == 1);
                if !fits || x.dtype != out.dtype {
                    return Err(format!("cannot broadcast {x} to {out}"));
                }
            }
            Op::Concat { axis } => {
                if n == 0 {
                    return Err("concat of nothing".into());
                }
                let mut total = 0;
                for a in args {
                    if a.rank() != out.rank() || *axis >= a.rank() || a.dtype != out.dtype {
                        return Err(format!("concat operand {a} does not fit {out}"));
                    }
                    for i in 0..a.rank() {
                        if i != *axis && a.shape[i] != out.shape[i] {
                            return Err(format!("concat operand {a} does not fit {out}"));
                        }
                    }
                    total += a.shape[*axis];
                }
                if total != out.shape[*axis] {
                    return Err(format!(
                        "concat sizes add up to {total}, not {}",
                        out.shape[*axis]
                    ));
                }
            }
            Op::Slice { axis, start, end } => {
                arity(1)?;
                let x = args[0];
                if *axis >= x.rank() || start > end || *end > x.shape[*axis] {
                    return Err(format!("slice {start}..{end} of axis {axis} of {x}"));
                }
                let mut shape = x.shape.clone();
                shape[*axis] = end - start;
                same(&x.with_shape(shape), out)?;
            }
            Op::Take { axis } => {
                arity(2)?;
                let (x, idx) = (args[0], args[1]);
                if *axis >= x.rank() || idx.dtype != DType::I32 || x.shape[*axis] == 0 {
                    return Err(format!("take along axis {axis} of {x} with {idx}"));
                }
                same(&x.with_shape(take_shape(&x.shape, &idx.shape, *axis)), out)?;
            }
            Op::ScatterAdd { axis } => {
                arity(3)?;
                let (base, idx, upd) = (args[0], args[1], args[2]);
                if *axis >= base.rank() || idx.dtype != DType::I32 || base.shape[*axis] == 0 {
                    return Err(format!("scatter_add along axis {axis} of {base} with {idx}"));
                }
                same(&base.with_shape(take_shape(&base.shape, &idx.shape, *axis)), upd)?;
                same(base, out)?;
            }
            Op::Scan(scan) => {
                let body = &scan.body;
                if body.inputs.len() != 1 + n
                    || body.outputs.len() != scan.n_carry
                    || scan.stacked.len() != scan.n_carry
                {
                    return Err("scan body does not match its operands".into());
                }
                if n < scan.n_carry {
                    return Err("scan has fewer operands than carries".into());
                }
                if body.ty(body.inputs[0]) != &TensorType::scalar(DType::I32) {
                    return Err("scan body's first input must be t: i32[]".into());
                }
                for (i, a) in args.iter().enumerate() {
                    same(body.ty(body.inputs[1 + i]), a)?;
                }
                for (i, (_, o)) in body.outputs.iter().enumerate() {
                    same(body.ty(*o), args[i])?;
                }
            }
            Op::Routine(r) => {
                let ty = r.definition().output_type(args)?;
                same(&ty, out)?;
            }
            Op::Project { index } => {
                arity(1)?;
                let Op::Scan(scan) = arg_ops[0] else {
                    return Err("project reads a scan".into());
                };
                let tys = scan.output_types();
                match tys.get(*index) {
                    Some(t) => same(t, out)?,
                    None => return Err(format!("scan has no output {index}")),
                }
            }
        }
        Ok(())
    }
}

/// Shape of `take` along `axis` with indices of shape `idx`.
pub fn take_shape(x: &[usize], idx: &[usize], axis: usize) -> Vec<usize> {
    let mut s = x[..axis].to_vec();
    s.extend(idx);
    s.extend(&x[axis + 1..]);
    s
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}
