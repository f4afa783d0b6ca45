//! Planning a graph for code generation: which nodes are free views of other buffers
//! (reshape, transpose, broadcast, slice), which elementwise chains fuse into one loop,
//! which kernels run in which order, and where every buffer lives (liveness-based reuse
//! of one arena allocated once per entry point; parameters updated in place when safe).

use crate::ir::{BinaryOp, DType, Graph, NodeId, Op, RandomDist, ReduceOp, StateId, TensorType, UnaryOp};
use std::collections::HashMap;

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

fn contiguous_strides(shape: &[usize]) -> Vec<isize> {
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

    fn transpose(&self, perm: &[usize]) -> View {
        View {
            buf: self.buf,
            offset: self.offset,
            shape: perm.iter().map(|p| self.shape[*p]).collect(),
            strides: perm.iter().map(|p| self.strides[*p]).collect(),
        }
    }

    fn broadcast(&self, to: &[usize]) -> View {
        let off = to.len() - self.shape.len();
        let strides = (0..to.len())
            .map(|i| {
                if i < off || self.shape[i - off] == 1 {
                    0
                } else {
                    self.strides[i - off]
                }
            })
            .collect();
        View {
            buf: self.buf,
            offset: self.offset,
            shape: to.to_vec(),
            strides,
        }
    }

    fn slice(&self, axis: usize, start: usize, end: usize) -> View {
        let mut v = self.clone();
        v.offset += start as isize * self.strides[axis];
        v.shape[axis] = end - start;
        v
    }

    fn reshape(&self, shape: &[usize]) -> Option<View> {
        self.is_contiguous().then(|| View {
            buf: self.buf,
            offset: self.offset,
            shape: shape.to_vec(),
            strides: contiguous_strides(shape),
        })
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
    /// A scan loop.
    Scan(Box<ScanKernel>),
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
            Kernel::Take { out, .. } | Kernel::ScatterAdd { out, .. } | Kernel::Random { out, .. } => {
                vec![out.buf]
            }
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

/// What a node became.
#[derive(Clone, Debug)]
enum Val {
    /// A view of a buffer.
    View(View),
    /// A constant.
    Scalar(f64),
    /// An elementwise node fused into its (single) consumer.
    Inline,
    /// A scan's outputs.
    Scan(Vec<View>),
    /// An assignment (no value).
    None,
}

struct Planner<'g> {
    g: &'g Graph,
    vals: Vec<Val>,
    users: Vec<Vec<NodeId>>,
    buffers: Vec<Buffer>,
    kernels: Vec<Kernel>,
    /// Input values of a scan body (indexed like the body's inputs).
    body_inputs: Option<Vec<Val>>,
}

fn is_ew(op: &Op) -> bool {
    matches!(op, Op::Unary(_) | Op::Binary(_) | Op::Select | Op::Cast)
}

/// Plans a top-level entry-point graph.
pub fn plan(g: &Graph) -> Result<Plan, PlanError> {
    let mut p = Planner::new(g, None, Vec::new());
    p.run()?;
    // Outputs are copied to the caller's buffers at the end.
    for (i, (_, id)) in g.outputs.iter().enumerate() {
        let ty = g.ty(*id).clone();
        let out = p.new_buffer(Storage::Output(i), &ty);
        let src = p.val_as_expr(*id)?;
        p.kernels.push(Kernel::Map {
            out: View::whole(out, &ty.shape),
            expr: src,
        });
    }
    // State assignments: in place when nothing reads the old value later, else copied.
    let assigns = g.assigns();
    let mut copies = Vec::new();
    for (s, a) in &assigns {
        let v = g.args(*a)[0];
        if !p.try_in_place(*s, v) {
            copies.push((*s, v));
        }
    }
    for (s, v) in copies {
        let ty = g.ty(v).clone();
        let dst = p.state_buffer(s, &ty);
        let src = p.val_as_expr(v)?;
        p.kernels.push(Kernel::Map {
            out: View::whole(dst, &ty.shape),
            expr: src,
        });
    }
    let kernels = pair_matmuls(p.kernels);
    let mut plan = Plan {
        buffers: p.buffers,
        kernels,
        arena_bytes: 0,
    };
    allocate(&mut plan);
    Ok(plan)
}

/// Products at least this large are worth a core each when two are independent.
const PAIR_FLOPS: usize = 1 << 21;

fn matmul_flops(a: &View, b: &View) -> usize {
    2 * a.shape[0] * a.shape[1] * b.shape[1]
}

/// Runs two independent products side by side: a product may move up past kernels it does
/// not depend on (and that do not touch its output) to join an earlier one. Backward passes
/// are full of such pairs (`dW = x^T g` and `dx = g W^T`).
fn pair_matmuls(kernels: Vec<Kernel>) -> Vec<Kernel> {
    let big = |k: &Kernel| matches!(k, Kernel::MatMul { a, b, .. } if matmul_flops(a, b) >= PAIR_FLOPS);
    let mut ks: Vec<Option<Kernel>> = kernels.into_iter().map(Some).collect();
    for i in 0..ks.len() {
        if !ks[i].as_ref().is_some_and(big) {
            continue;
        }
        // Look ahead for an independent large product within a short window.
        let first_out = ks[i].as_ref().map(|k| k.writes()).unwrap_or_default();
        let mut between_writes: Vec<usize> = Vec::new();
        let mut between_reads: Vec<usize> = Vec::new();
        for j in i + 1..(i + 12).min(ks.len()) {
            let Some(kj) = ks[j].as_ref() else { continue };
            let reads: Vec<usize> = kj.reads().iter().map(|v| v.buf).collect();
            let writes = kj.writes();
            if big(kj) {
                let independent = reads
                    .iter()
                    .all(|b| !first_out.contains(b) && !between_writes.contains(b))
                    && writes.iter().all(|b| {
                        !first_out.contains(b) && !between_reads.contains(b) && !between_writes.contains(b)
                    });
                if independent {
                    let second = ks[j].take().expect("present");
                    let first = ks[i].take().expect("present");
                    if let (Kernel::MatMul { a, b, c }, Kernel::MatMul { a: a2, b: b2, c: c2 }) =
                        (first, second)
                    {
                        ks[i] = Some(Kernel::MatMulPair {
                            first: [a, b, c],
                            second: [a2, b2, c2],
                        });
                    }
                    break;
                }
            }
            between_writes.extend(writes);
            between_reads.extend(reads);
        }
    }
    ks.into_iter().flatten().collect()
}

impl<'g> Planner<'g> {
    fn new(g: &'g Graph, body_inputs: Option<Vec<Val>>, buffers: Vec<Buffer>) -> Planner<'g> {
        let mut users = vec![Vec::new(); g.len()];
        for id in g.ids() {
            for a in g.args(id) {
                if !users[a.index()].contains(&id) {
                    users[a.index()].push(id);
                }
            }
        }
        Planner {
            g,
            vals: Vec::with_capacity(g.len()),
            users,
            buffers,
            kernels: Vec::new(),
            body_inputs,
        }
    }

    fn new_buffer(&mut self, storage: Storage, ty: &TensorType) -> usize {
        let dtype = if ty.dtype == DType::Bool {
            DType::I32
        } else {
            ty.dtype
        };
        self.buffers.push(Buffer {
            storage,
            len: ty.numel(),
            dtype,
            offset: 0,
            data: Vec::new(),
        });
        self.buffers.len() - 1
    }

    fn state_buffer(&mut self, s: StateId, ty: &TensorType) -> usize {
        match self.buffers.iter().position(|b| b.storage == Storage::State(s)) {
            Some(i) => i,
            None => self.new_buffer(Storage::State(s), ty),
        }
    }

    fn is_output(&self, id: NodeId) -> bool {
        self.g.outputs.iter().any(|(_, o)| *o == id)
    }

    /// Whether an elementwise node is fused into its consumer instead of materialized.
    fn inlinable(&self, id: NodeId) -> bool {
        let users = &self.users[id.index()];
        users.len() == 1
            && !self.is_output(id)
            && (is_ew(&self.g.node(users[0]).op) || matches!(self.g.node(users[0]).op, Op::Reduce { .. }))
    }

    fn run(&mut self) -> Result<(), PlanError> {
        let mut next_input = 0;
        for id in self.g.ids() {
            let node = self.g.node(id);
            let val = match &node.op {
                Op::Input { .. } => {
                    let i = next_input;
                    next_input += 1;
                    match &self.body_inputs {
                        Some(vals) => vals[i].clone(),
                        None => Val::View(View::whole(
                            self.new_buffer(Storage::Input(i), &node.ty),
                            &node.ty.shape,
                        )),
                    }
                }
                Op::State(s) => {
                    let b = self.state_buffer(*s, &node.ty);
                    Val::View(View::whole(b, &node.ty.shape))
                }
                Op::Const { values } if values.len() == 1 => {
                    if self.inlinable_leaf(id) {
                        Val::Scalar(values[0])
                    } else {
                        let v = values[0];
                        self.materialize_expr(
                            id,
                            Expr {
                                nodes: vec![(ENode::Scalar(v), node.ty.dtype)],
                            },
                        )?
                    }
                }
                Op::Const { values } => {
                    let b = self.new_buffer(Storage::Const, &node.ty);
                    self.buffers[b].data = values.clone();
                    Val::View(View::whole(b, &node.ty.shape))
                }
                Op::Iota { axis } => {
                    if self.inlinable_leaf(id) {
                        Val::Inline
                    } else {
                        self.materialize_expr(
                            id,
                            Expr {
                                nodes: vec![(ENode::Iota(*axis), DType::I32)],
                            },
                        )?
                    }
                }
                op if is_ew(op) => {
                    if self.inlinable(id) {
                        Val::Inline
                    } else {
                        let e = self.expr_of(id)?;
                        self.materialize_expr(id, e)?
                    }
                }
                Op::StopGrad => self.vals[node.args[0].index()].clone(),
                Op::Reshape => match self.vals[node.args[0].index()].clone() {
                    Val::Scalar(v) => Val::Scalar(v),
                    Val::View(v) if v.reshape(&node.ty.shape).is_some() => {
                        Val::View(v.reshape(&node.ty.shape).expect("checked"))
                    }
                    _ => {
                        let src = self.contiguous(node.args[0])?;
                        Val::View(src.reshape(&node.ty.shape).expect("contiguous"))
                    }
                },
                Op::Transpose { perm } => self.view_op(node.args[0], |v| v.transpose(perm))?,
                Op::Broadcast => {
                    let shape = node.ty.shape.clone();
                    self.view_op(node.args[0], |v| v.broadcast(&shape))?
                }
                Op::Slice { axis, start, end } => {
                    self.view_op(node.args[0], |v| v.slice(*axis, *start, *end))?
                }
                Op::Reduce { op, axes } => {
                    let ity = self.g.ty(node.args[0]).clone();
                    let expr = self.val_as_expr(node.args[0])?;
                    let out = self.new_buffer(Storage::Arena, &node.ty);
                    let whole = View::whole(out, &node.ty.shape);
                    // The accumulator over the input shape: stride 0 on reduced axes.
                    let mut strides = Vec::with_capacity(ity.rank());
                    let mut k = 0;
                    for i in 0..ity.rank() {
                        if axes.contains(&i) {
                            strides.push(0);
                        } else {
                            strides.push(whole.strides[k]);
                            k += 1;
                        }
                    }
                    let acc = View {
                        buf: out,
                        offset: 0,
                        shape: ity.shape.clone(),
                        strides,
                    };
                    let init = match (op, ity.dtype) {
                        (ReduceOp::Sum, _) => 0.0,
                        (ReduceOp::Max, DType::I32) => f64::from(i32::MIN),
                        (ReduceOp::Min, DType::I32) => f64::from(i32::MAX),
                        (ReduceOp::Max, _) => f64::NEG_INFINITY,
                        (ReduceOp::Min, _) => f64::INFINITY,
                    };
                    self.kernels.push(Kernel::Reduce {
                        op: *op,
                        acc,
                        acc_whole: whole.clone(),
                        expr,
                        init,
                    });
                    Val::View(whole)
                }
                Op::MatMul => {
                    let a = self.strided(node.args[0])?;
                    let b = self.strided(node.args[1])?;
                    let out = self.new_buffer(Storage::Arena, &node.ty);
                    let c = View::whole(out, &node.ty.shape);
                    self.kernels.push(Kernel::MatMul { a, b, c: c.clone() });
                    Val::View(c)
                }
                Op::Concat { axis } => {
                    let out = self.new_buffer(Storage::Arena, &node.ty);
                    let whole = View::whole(out, &node.ty.shape);
                    let mut start = 0;
                    for a in node.args.clone() {
                        let len = self.g.ty(a).shape[*axis];
                        let expr = self.val_as_expr(a)?;
                        self.kernels.push(Kernel::Map {
                            out: whole.slice(*axis, start, start + len),
                            expr,
                        });
                        start += len;
                    }
                    Val::View(whole)
                }
                Op::Take { axis } => {
                    let x = self.contiguous(node.args[0])?;
                    let idx = self.contiguous(node.args[1])?;
                    let out = self.new_buffer(Storage::Arena, &node.ty);
                    let o = View::whole(out, &node.ty.shape);
                    self.kernels.push(Kernel::Take {
                        x,
                        idx,
                        out: o.clone(),
                        axis: *axis,
                    });
                    Val::View(o)
                }
                Op::ScatterAdd { axis } => {
                    let out = self.new_buffer(Storage::Arena, &node.ty);
                    let o = View::whole(out, &node.ty.shape);
                    let base = self.val_as_expr(node.args[0])?;
                    self.kernels.push(Kernel::Map {
                        out: o.clone(),
                        expr: base,
                    });
                    let idx = self.contiguous(node.args[1])?;
                    let upd = self.contiguous(node.args[2])?;
                    self.kernels.push(Kernel::ScatterAdd {
                        idx,
                        upd,
                        out: o.clone(),
                        axis: *axis,
                    });
                    Val::View(o)
                }
                Op::Random { dist, stream } => {
                    let key = self.contiguous(node.args[0])?;
                    let out = self.new_buffer(Storage::Arena, &node.ty);
                    let o = View::whole(out, &node.ty.shape);
                    self.kernels.push(Kernel::Random {
                        key,
                        dist: *dist,
                        stream: *stream,
                        out: o.clone(),
                    });
                    Val::View(o)
                }
                Op::Scan(scan) => self.plan_scan(id, scan)?,
                Op::Project { index } => match &self.vals[node.args[0].index()] {
                    Val::Scan(outs) => Val::View(outs[*index].clone()),
                    _ => return Err(PlanError("project of a non-scan".into())),
                },
                Op::Assign(_) => Val::None,
                other => return Err(PlanError(format!("unsupported op {other:?}"))),
            };
            self.vals.push(val);
        }
        Ok(())
    }

    /// Constants and iotas fuse into any consumer that is a fused loop.
    fn inlinable_leaf(&self, id: NodeId) -> bool {
        !self.is_output(id)
            && self.users[id.index()].iter().all(|u| {
                let op = &self.g.node(*u).op;
                is_ew(op) || matches!(op, Op::Reduce { .. } | Op::Broadcast | Op::Reshape | Op::StopGrad)
            })
    }

    fn view_op(&mut self, src: NodeId, f: impl Fn(&View) -> View) -> Result<Val, PlanError> {
        Ok(match self.vals[src.index()].clone() {
            Val::Scalar(v) => Val::Scalar(v),
            Val::View(v) => Val::View(f(&v)),
            _ => {
                let v = self.materialize(src)?;
                Val::View(f(&v))
            }
        })
    }

    /// The node as a view with any strides (materialized if it is an expression).
    fn strided(&mut self, id: NodeId) -> Result<View, PlanError> {
        match self.vals[id.index()].clone() {
            Val::View(v) => Ok(v),
            _ => self.materialize(id),
        }
    }

    /// The node as a contiguous view (copied if strided).
    fn contiguous(&mut self, id: NodeId) -> Result<View, PlanError> {
        match self.vals[id.index()].clone() {
            Val::View(v) if v.is_contiguous() => Ok(v),
            _ => self.materialize(id),
        }
    }

    /// Writes the node's value into a fresh contiguous buffer.
    fn materialize(&mut self, id: NodeId) -> Result<View, PlanError> {
        let e = self.val_as_expr(id)?;
        match self.materialize_expr(id, e)? {
            Val::View(v) => Ok(v),
            _ => unreachable!("materialize_expr returns a view"),
        }
    }

    fn materialize_expr(&mut self, id: NodeId, expr: Expr) -> Result<Val, PlanError> {
        let ty = self.g.ty(id).clone();
        let b = self.new_buffer(Storage::Arena, &ty);
        let out = View::whole(b, &ty.shape);
        self.kernels.push(Kernel::Map {
            out: out.clone(),
            expr,
        });
        Ok(Val::View(out))
    }

    /// The node's value as an expression (a load, a constant, or its fused tree).
    fn val_as_expr(&mut self, id: NodeId) -> Result<Expr, PlanError> {
        let dtype = self.g.ty(id).dtype;
        match self.vals[id.index()].clone() {
            Val::View(v) => Ok(Expr {
                nodes: vec![(ENode::Load(v), dtype)],
            }),
            Val::Scalar(v) => Ok(Expr {
                nodes: vec![(ENode::Scalar(v), dtype)],
            }),
            Val::Inline => self.expr_of(id),
            Val::Scan(_) | Val::None => Err(PlanError("a scan or assignment used as a value".into())),
        }
    }

    /// The fused expression computing node `id` from materialized values.
    fn expr_of(&mut self, id: NodeId) -> Result<Expr, PlanError> {
        let mut e = Expr { nodes: Vec::new() };
        let mut memo = HashMap::new();
        self.build(id, &mut e, &mut memo, true)?;
        Ok(e)
    }

    fn build(
        &mut self,
        id: NodeId,
        e: &mut Expr,
        memo: &mut HashMap<NodeId, usize>,
        root: bool,
    ) -> Result<usize, PlanError> {
        if let Some(i) = memo.get(&id) {
            return Ok(*i);
        }
        let node = self.g.node(id).clone();
        let dtype = node.ty.dtype;
        let inline = root || matches!(self.vals.get(id.index()), Some(Val::Inline));
        let en = if !inline {
            match self.vals[id.index()].clone() {
                Val::View(v) => ENode::Load(v),
                Val::Scalar(v) => ENode::Scalar(v),
                _ => return Err(PlanError("unexpected value in expression".into())),
            }
        } else {
            match &node.op {
                Op::Const { values } => ENode::Scalar(values[0]),
                Op::Iota { axis } => ENode::Iota(*axis),
                Op::Unary(u) => ENode::Unary(*u, self.build(node.args[0], e, memo, false)?),
                Op::Binary(b) => {
                    let x = self.build(node.args[0], e, memo, false)?;
                    let y = self.build(node.args[1], e, memo, false)?;
                    ENode::Binary(*b, x, y)
                }
                Op::Select => {
                    let c = self.build(node.args[0], e, memo, false)?;
                    let x = self.build(node.args[1], e, memo, false)?;
                    let y = self.build(node.args[2], e, memo, false)?;
                    ENode::Select(c, x, y)
                }
                Op::Cast => ENode::Cast(self.build(node.args[0], e, memo, false)?),
                _ => match self.vals[id.index()].clone() {
                    Val::View(v) => ENode::Load(v),
                    Val::Scalar(v) => ENode::Scalar(v),
                    _ => return Err(PlanError(format!("cannot fuse {}", node.op.name()))),
                },
            }
        };
        e.nodes.push((en, dtype));
        let i = e.nodes.len() - 1;
        memo.insert(id, i);
        Ok(i)
    }

    fn plan_scan(&mut self, id: NodeId, scan: &crate::ir::Scan) -> Result<Val, PlanError> {
        let node = self.g.node(id).clone();
        let k = scan.n_carry;
        let body = &scan.body;
        let t_buf = self.new_buffer(Storage::Arena, &TensorType::scalar(DType::I32));
        let mut inits = Vec::new();
        let mut carries = Vec::new();
        let mut inputs = vec![Val::View(View::whole(t_buf, &[]))];
        for i in 0..k {
            let ty = body.ty(body.inputs[1 + i]).clone();
            inits.push(self.strided(node.args[i])?);
            let c = self.new_buffer(Storage::Arena, &ty);
            carries.push(c);
            inputs.push(Val::View(View::whole(c, &ty.shape)));
        }
        for a in &node.args[k..] {
            inputs.push(match self.vals[a.index()].clone() {
                Val::Scalar(v) => Val::Scalar(v),
                _ => Val::View(self.strided(*a)?),
            });
        }
        // Plan the body with the outer buffers visible.
        let mut bp = Planner::new(body, Some(inputs), std::mem::take(&mut self.buffers));
        bp.run()?;
        let mut new_carries = Vec::new();
        for (i, (_, o)) in body.outputs.iter().enumerate() {
            // New carries must not alias any carry (they are copied into the carries).
            let v = match bp.vals[o.index()].clone() {
                Val::View(v)
                    if v.is_contiguous()
                        && !carries.contains(&v.buf)
                        && v.buf != t_buf
                        && bp.body_owned(v.buf) =>
                {
                    v
                }
                _ => bp.materialize(*o)?,
            };
            let _ = i;
            new_carries.push(v);
        }
        self.buffers = std::mem::take(&mut bp.buffers);
        let body_kernels = std::mem::take(&mut bp.kernels);
        let out_tys = scan.output_types();
        let mut hist = Vec::new();
        let mut outs = Vec::new();
        for i in 0..k {
            if scan.stacked[i] {
                let h = self.new_buffer(Storage::Arena, &out_tys[i]);
                hist.push(Some(h));
                outs.push(View::whole(h, &out_tys[i].shape));
            } else {
                hist.push(None);
                outs.push(View::whole(carries[i], &out_tys[i].shape));
            }
        }
        self.kernels.push(Kernel::Scan(Box::new(ScanKernel {
            length: scan.length,
            reverse: scan.reverse,
            t_buf,
            carries,
            inits,
            body: body_kernels,
            new_carries,
            hist,
        })));
        Ok(Val::Scan(outs))
    }

    /// True if the body created this buffer itself (it is not an outer buffer).
    fn body_owned(&self, buf: usize) -> bool {
        self.kernels.iter().any(|k| k.writes().contains(&buf))
    }

    /// Makes the kernel producing `v` write straight into state `s` when that is safe:
    /// `v` is the whole output of a loop, and no kernel reads the old state after it
    /// (or reads it at another index in that loop).
    fn try_in_place(&mut self, s: StateId, v: NodeId) -> bool {
        let Val::View(view) = self.vals[v.index()].clone() else {
            return false;
        };
        if self.buffers[view.buf].storage != Storage::Arena || !view.is_contiguous() || view.offset != 0 {
            return false;
        }
        let Some(sb) = self.buffers.iter().position(|b| b.storage == Storage::State(s)) else {
            return false;
        };
        if self.buffers[sb].len != self.buffers[view.buf].len
            || self.buffers[sb].dtype != self.buffers[view.buf].dtype
        {
            return false;
        }
        let writers: Vec<usize> = (0..self.kernels.len())
            .filter(|i| self.kernels[*i].writes().contains(&view.buf))
            .collect();
        let [k] = writers[..] else { return false };
        let Kernel::Map { out, .. } = &self.kernels[k] else {
            return false;
        };
        if out != &view {
            return false;
        }
        for (i, kern) in self.kernels.iter().enumerate() {
            for r in kern.reads() {
                if r.buf != sb {
                    continue;
                }
                // Old value read after the write, or read elsewhere than the written index.
                let same_index = r.offset == 0 && r.shape == view.shape && r.strides == view.strides;
                if i > k || (i == k && !same_index) || (i == k && matches!(kern, Kernel::Scan(_))) {
                    return false;
                }
            }
            if i > k && kern.writes().contains(&sb) {
                return false;
            }
        }
        // Redirect: the loop's output buffer becomes the state buffer.
        let old = view.buf;
        for kern in &mut self.kernels {
            retarget(kern, old, sb);
        }
        for val in &mut self.vals {
            if let Val::View(x) = val
                && x.buf == old
            {
                x.buf = sb;
            }
        }
        true
    }
}

fn retarget_view(v: &mut View, from: usize, to: usize) {
    if v.buf == from {
        v.buf = to;
    }
}

fn retarget_expr(e: &mut Expr, from: usize, to: usize) {
    for (n, _) in &mut e.nodes {
        if let ENode::Load(v) = n {
            retarget_view(v, from, to);
        }
    }
}

fn retarget(k: &mut Kernel, from: usize, to: usize) {
    match k {
        Kernel::Map { out, expr } => {
            retarget_view(out, from, to);
            retarget_expr(expr, from, to);
        }
        Kernel::Reduce {
            acc, acc_whole, expr, ..
        } => {
            retarget_view(acc, from, to);
            retarget_view(acc_whole, from, to);
            retarget_expr(expr, from, to);
        }
        Kernel::MatMul { a, b, c } => {
            for v in [a, b, c] {
                retarget_view(v, from, to);
            }
        }
        Kernel::MatMulPair { first, second } => {
            for v in first.iter_mut().chain(second.iter_mut()) {
                retarget_view(v, from, to);
            }
        }
        Kernel::Take { x, idx, out, .. } => {
            for v in [x, idx, out] {
                retarget_view(v, from, to);
            }
        }
        Kernel::ScatterAdd { idx, upd, out, .. } => {
            for v in [idx, upd, out] {
                retarget_view(v, from, to);
            }
        }
        Kernel::Random { key, out, .. } => {
            retarget_view(key, from, to);
            retarget_view(out, from, to);
        }
        Kernel::Scan(s) => {
            for v in s.inits.iter_mut().chain(s.new_carries.iter_mut()) {
                retarget_view(v, from, to);
            }
            for b in std::iter::once(&mut s.t_buf)
                .chain(s.carries.iter_mut())
                .chain(s.hist.iter_mut().flatten())
            {
                if *b == from {
                    *b = to;
                }
            }
            for k in &mut s.body {
                retarget(k, from, to);
            }
        }
    }
}

const ALIGN: usize = 64;

fn round(n: usize) -> usize {
    n.div_ceil(ALIGN) * ALIGN
}

/// Assigns arena offsets: constants first (permanent), then temporaries by liveness, with
/// first-fit reuse of freed space. Scan bodies keep their buffers for the whole scan.
fn allocate(plan: &mut Plan) {
    let mut offset = 0;
    for b in &mut plan.buffers {
        if b.storage == Storage::Const {
            b.offset = offset;
            offset += round(b.len * 4);
        }
    }
    // Liveness in units of top-level kernel index.
    let n = plan.buffers.len();
    let mut first = vec![usize::MAX; n];
    let mut last = vec![0usize; n];
    for (i, k) in plan.kernels.iter().enumerate() {
        let mut touched: Vec<usize> = k.writes();
        touched.extend(k.reads().into_iter().map(|v| v.buf));
        for b in touched {
            first[b] = first[b].min(i);
            last[b] = last[b].max(i);
        }
    }
    let mut order: Vec<usize> = (0..n)
        .filter(|b| plan.buffers[*b].storage == Storage::Arena && first[*b] != usize::MAX)
        .collect();
    order.sort_by_key(|b| (first[*b], *b));
    // Active allocations: (end kernel, offset, size).
    let mut active: Vec<(usize, usize, usize, usize)> = Vec::new();
    let mut free: Vec<(usize, usize)> = Vec::new();
    let mut top = offset;
    for b in order {
        let start = first[b];
        // Release buffers whose last use is before this one's first.
        active.retain(|(end, off, size, _)| {
            if *end < start {
                free.push((*off, *size));
                false
            } else {
                true
            }
        });
        merge_free(&mut free);
        let size = round(plan.buffers[b].len.max(1) * 4);
        let slot = free.iter().position(|(_, s)| *s >= size);
        let off = match slot {
            Some(i) => {
                let (o, s) = free[i];
                if s == size {
                    free.remove(i);
                } else {
                    free[i] = (o + size, s - size);
                }
                o
            }
            None => {
                let o = top;
                top += size;
                o
            }
        };
        plan.buffers[b].offset = off;
        active.push((last[b], off, size, b));
    }
    plan.arena_bytes = top.max(ALIGN);
}

fn merge_free(free: &mut Vec<(usize, usize)>) {
    free.sort_unstable();
    let mut out: Vec<(usize, usize)> = Vec::with_capacity(free.len());
    for (o, s) in free.drain(..) {
        if let Some(last) = out.last_mut()
            && last.0 + last.1 == o
        {
            last.1 += s;
            continue;
        }
        out.push((o, s));
    }
    *free = out;
}
