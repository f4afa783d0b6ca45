//! A span-aware graph builder: emits primitive nodes into one level's graph and wraps them as
//! [`Tv`]s of that level.
//!
//! It knows nothing of names, scopes or values: the tracer has checked types and shapes
//! before it asks for a node, so an IR error here is a compiler bug. Such errors become
//! diagnostics in one place, [`Builder::lift`], located at the span being lowered.

use super::value::Tv;
use crate::diag::{Code, Diagnostic, Span};
use crate::ir::{
    Argsort, BinaryOp, DType, Graph, IrError, NodeId, RandomDist, ReduceOp, Routine, Scan, StateId,
    TensorType, UnaryOp,
};

/// Result of building or tracing: a value, or the diagnostic that stops it.
pub type R<T> = Result<T, Diagnostic>;

/// Makes a diagnostic at a span.
pub(crate) fn err(code: Code, msg: impl Into<String>, span: Span, label: impl Into<String>) -> Diagnostic {
    Diagnostic::new(code, msg).at(span, label)
}

/// Emits nodes into `graph` (the graph of nesting level `level`), blaming `span` for any
/// internal error.
pub(crate) struct Builder<'g> {
    graph: &'g mut Graph,
    level: usize,
    span: Span,
    /// Bytes no node's tensor may exceed (`super::budget`).
    budget: u64,
}

/// The diagnostic for an IR error: a compiler bug found while lowering the code at `span`.
fn internal(e: IrError, span: Span) -> Diagnostic {
    Diagnostic::internal(format!("while building the graph: {}", e.0)).at(span, "while lowering this")
}

impl<'g> Builder<'g> {
    /// A builder for the graph of nesting level `level`.
    pub(crate) fn new(graph: &'g mut Graph, level: usize, span: Span, budget: u64) -> Builder<'g> {
        Builder {
            graph,
            level,
            span,
            budget,
        }
    }

    /// Wraps a node of this level.
    fn wrap(&self, node: NodeId) -> Tv {
        Tv {
            node,
            level: self.level,
            ty: self.graph.ty(node).clone(),
        }
    }

    /// The one place where an IR error becomes a diagnostic.
    pub(crate) fn lift<T>(&self, r: Result<T, IrError>) -> R<T> {
        r.map_err(|e| internal(e, self.span))
    }

    /// Wraps a freshly built node, or reports why it could not be built. Every node whose
    /// shape derives from operands (broadcasts, products, one-hots, iotas) passes here, so no
    /// tensor over the memory budget reaches a backend.
    fn emit(&self, r: Result<NodeId, IrError>) -> R<Tv> {
        let n = self.lift(r)?;
        super::budget::check_tensor(self.graph.ty(n), self.budget, self.span)?;
        Ok(self.wrap(n))
    }

    // ------------------------------------------------------------ primitives

    /// A tensor of one value.
    pub(crate) fn fill(&mut self, v: f64, ty: TensorType) -> Tv {
        let n = self.graph.fill(v, ty);
        self.wrap(n)
    }

    /// A constant tensor from row-major data.
    pub(crate) fn constant(&mut self, data: Vec<f64>, ty: TensorType) -> R<Tv> {
        let r = self.graph.constant(data, ty);
        self.emit(r)
    }

    /// An elementwise unary primitive.
    pub(crate) fn unary(&mut self, op: UnaryOp, x: &Tv) -> R<Tv> {
        let r = self.graph.unary(op, x.node);
        self.emit(r)
    }

    /// An elementwise binary primitive (operands already checked to broadcast).
    pub(crate) fn binary(&mut self, op: BinaryOp, x: &Tv, y: &Tv) -> R<Tv> {
        let r = self.graph.binary_bcast(op, x.node, y.node);
        self.emit(r)
    }

    /// Applies `f` to `x`, a function written on [`Graph`] (for the composites).
    pub(crate) fn apply(
        &mut self,
        x: &Tv,
        f: impl FnOnce(&mut Graph, NodeId) -> Result<NodeId, IrError>,
    ) -> R<Tv> {
        let r = f(self.graph, x.node);
        self.emit(r)
    }

    /// Applies `f` to `x` and `y` broadcast to their common shape, a function written on
    /// [`Graph`] (one primitive or a composite).
    pub(crate) fn apply2(
        &mut self,
        x: &Tv,
        y: &Tv,
        f: impl FnOnce(&mut Graph, NodeId, NodeId) -> Result<NodeId, IrError>,
    ) -> R<Tv> {
        let r = self
            .graph
            .broadcast_pair(x.node, y.node)
            .and_then(|(a, b)| f(self.graph, a, b));
        self.emit(r)
    }

    /// `-x` (composite).
    pub(crate) fn neg(&mut self, x: &Tv) -> R<Tv> {
        self.apply(x, Graph::neg)
    }

    /// `|x|` (composite; `abs(-0.0)` is `-0.0`).
    pub(crate) fn abs(&mut self, x: &Tv) -> R<Tv> {
        self.apply(x, Graph::abs)
    }

    /// `x - y` with broadcasting (composite).
    pub(crate) fn sub(&mut self, x: &Tv, y: &Tv) -> R<Tv> {
        self.apply2(x, y, Graph::sub)
    }

    /// The elementwise minimum with broadcasting (composite).
    pub(crate) fn min(&mut self, x: &Tv, y: &Tv) -> R<Tv> {
        self.apply2(x, y, Graph::min)
    }

    /// `x > y` with broadcasting (composite).
    pub(crate) fn gt(&mut self, x: &Tv, y: &Tv) -> R<Tv> {
        self.apply2(x, y, Graph::gt)
    }

    /// `x >= y` with broadcasting (composite).
    pub(crate) fn ge(&mut self, x: &Tv, y: &Tv) -> R<Tv> {
        self.apply2(x, y, Graph::ge)
    }

    /// `x <= y` with broadcasting (composite).
    pub(crate) fn le(&mut self, x: &Tv, y: &Tv) -> R<Tv> {
        self.apply2(x, y, Graph::le)
    }

    /// `c ? a : b`, elementwise on equal shapes.
    pub(crate) fn select(&mut self, c: &Tv, a: &Tv, b: &Tv) -> R<Tv> {
        let r = self.graph.select(c.node, a.node, b.node);
        self.emit(r)
    }

    /// The same elements in another shape.
    pub(crate) fn reshape(&mut self, x: &Tv, shape: &[usize]) -> R<Tv> {
        let r = self.graph.reshape(x.node, shape);
        self.emit(r)
    }

    /// Broadcasts to a larger shape.
    pub(crate) fn broadcast_to(&mut self, x: &Tv, shape: &[usize]) -> R<Tv> {
        let r = self.graph.broadcast_to(x.node, shape);
        self.emit(r)
    }

    /// A reduction over some axes (which disappear).
    pub(crate) fn reduce(&mut self, op: ReduceOp, x: &Tv, axes: &[usize]) -> R<Tv> {
        let r = self.graph.reduce(op, x.node, axes);
        self.emit(r)
    }

    /// The sum over some axes (which disappear).
    pub(crate) fn sum(&mut self, x: &Tv, axes: &[usize]) -> R<Tv> {
        let r = self.graph.sum(x.node, axes);
        self.emit(r)
    }

    /// A conversion to another element type.
    pub(crate) fn cast(&mut self, x: &Tv, to: DType) -> R<Tv> {
        let r = self.graph.cast(x.node, to);
        self.emit(r)
    }

    /// The same value with no gradient flowing back.
    pub(crate) fn stop_grad(&mut self, x: &Tv) -> R<Tv> {
        let r = self.graph.stop_grad(x.node);
        self.emit(r)
    }

    /// The index along `axis` at every position of `shape` (i32).
    pub(crate) fn iota(&mut self, axis: usize, shape: Vec<usize>) -> R<Tv> {
        let r = self.graph.iota(axis, shape);
        self.emit(r)
    }

    /// Tensors joined along an axis.
    pub(crate) fn concat(&mut self, parts: &[Tv], axis: usize) -> R<Tv> {
        let nodes: Vec<NodeId> = parts.iter().map(|t| t.node).collect();
        let r = self.graph.concat(&nodes, axis);
        self.emit(r)
    }

    /// The axes of `x` permuted (`perm[i]` is the input axis that becomes axis `i`).
    pub(crate) fn transpose(&mut self, x: &Tv, perm: &[usize]) -> R<Tv> {
        let r = self.graph.transpose(x.node, perm);
        self.emit(r)
    }

    /// Entries `start..end` along an axis.
    pub(crate) fn slice(&mut self, x: &Tv, axis: usize, start: usize, end: usize) -> R<Tv> {
        let r = self.graph.slice(x.node, axis, start, end);
        self.emit(r)
    }

    /// Entries along an axis chosen by i32 indices.
    pub(crate) fn take(&mut self, x: &Tv, idx: &Tv, axis: usize) -> R<Tv> {
        let r = self.graph.take(x.node, idx.node, axis);
        self.emit(r)
    }

    /// A matrix product.
    pub(crate) fn matmul(&mut self, x: &Tv, w: &Tv) -> R<Tv> {
        let r = self.graph.matmul(x.node, w.node);
        self.emit(r)
    }

    /// Random numbers from stream `stream` of `key`.
    pub(crate) fn random(&mut self, dist: RandomDist, stream: u32, key: NodeId, shape: Vec<usize>) -> R<Tv> {
        let r = self.graph.random(dist, stream, key, shape);
        self.emit(r)
    }

    /// A scan node; its results in order.
    pub(crate) fn scan(&mut self, scan: Scan, operands: &[NodeId]) -> R<Vec<Tv>> {
        let r = self.graph.scan(scan, operands);
        let outs = self.lift(r)?;
        Ok(outs.into_iter().map(|o| self.wrap(o)).collect())
    }

    /// The gradients of a scalar `loss` with respect to `wrt` (`None` where it does not
    /// depend on one).
    pub(crate) fn grad(&mut self, loss: &Tv, wrt: &[NodeId]) -> R<Vec<Option<Tv>>> {
        let r = crate::autodiff::grad(self.graph, loss.node, wrt);
        let gs = self.lift(r)?;
        Ok(gs.into_iter().map(|g| g.map(|n| self.wrap(n))).collect())
    }

    /// Writes a state's new value at the end of the entry point.
    pub(crate) fn assign(&mut self, id: StateId, v: &Tv) -> R<()> {
        let r = self.graph.assign(id, v.node);
        self.lift(r).map(|_| ())
    }

    // ------------------------------------------------------------ functions built from the above

    /// The mean of every entry, as a scalar.
    pub(crate) fn mean_all(&mut self, x: &Tv) -> R<Tv> {
        let axes: Vec<usize> = (0..x.ty.rank()).collect();
        let s = self.sum(x, &axes)?;
        let c = self.fill(1.0 / x.ty.numel().max(1) as f64, s.ty.clone());
        self.binary(BinaryOp::Mul, &s, &c)
    }

    /// Re-inserts a reduced axis as size 1.
    pub(crate) fn keepdim(&mut self, x: &Tv, axis: usize) -> R<Tv> {
        let mut s = x.ty.shape.clone();
        s.insert(axis, 1);
        self.reshape(x, &s)
    }

    /// `log(sum(exp(x)))` along an axis, shifted by the (stopped) maximum for stability.
    pub(crate) fn logsumexp(&mut self, x: &Tv, axis: usize) -> R<Tv> {
        let m = self.reduce(ReduceOp::Max, x, &[axis])?;
        let m = self.stop_grad(&m)?;
        let mk = self.keepdim(&m, axis)?;
        let d = self.sub(x, &mk)?;
        let e = self.unary(UnaryOp::Exp, &d)?;
        let s = self.sum(&e, &[axis])?;
        let l = self.unary(UnaryOp::Log, &s)?;
        self.binary(BinaryOp::Add, &m, &l)
    }

    /// `x - logsumexp(x)` along the last axis.
    pub(crate) fn log_softmax_last(&mut self, l: &Tv) -> R<Tv> {
        let ax = l.ty.rank() - 1;
        let lse = self.logsumexp(l, ax)?;
        let lk = self.keepdim(&lse, ax)?;
        self.sub(l, &lk)
    }

    /// Numerically safe sigmoid: exp only of non-positive numbers, so neither branch overflows.
    pub(crate) fn sigmoid(&mut self, x: &Tv) -> R<Tv> {
        let ax = self.abs(x)?;
        let nax = self.neg(&ax)?;
        let e = self.unary(UnaryOp::Exp, &nax)?;
        let one = self.fill(1.0, x.ty.clone());
        let den = self.binary(BinaryOp::Add, &one, &e)?;
        let pos = self.binary(BinaryOp::Div, &one, &den)?;
        let neg = self.binary(BinaryOp::Div, &e, &den)?;
        let z = self.fill(0.0, x.ty.clone());
        let c = self.ge(x, &z)?;
        self.select(&c, &pos, &neg)
    }

    /// `log(1 + exp(x))` = `max(x, 0) + log(1 + exp(-|x|))`.
    pub(crate) fn softplus(&mut self, x: &Tv) -> R<Tv> {
        let z = self.fill(0.0, x.ty.clone());
        let mx = self.binary(BinaryOp::Max, x, &z)?;
        let ax = self.abs(x)?;
        let nax = self.neg(&ax)?;
        let e = self.unary(UnaryOp::Exp, &nax)?;
        let one = self.fill(1.0, x.ty.clone());
        let s = self.binary(BinaryOp::Add, &one, &e)?;
        let l = self.unary(UnaryOp::Log, &s)?;
        self.binary(BinaryOp::Add, &mx, &l)
    }

    /// `max(x, 0)`.
    pub(crate) fn relu(&mut self, x: &Tv) -> R<Tv> {
        let z = self.fill(0.0, x.ty.clone());
        self.binary(BinaryOp::Max, x, &z)
    }

    /// `x` where positive, `exp(x) - 1` elsewhere.
    pub(crate) fn elu(&mut self, x: &Tv) -> R<Tv> {
        // exp of min(x, 0) keeps the unused branch finite (no NaN gradients).
        let z = self.fill(0.0, x.ty.clone());
        let neg = self.min(x, &z)?;
        let e = self.unary(UnaryOp::Exp, &neg)?;
        let one = self.fill(1.0, x.ty.clone());
        let em1 = self.sub(&e, &one)?;
        let pos = self.gt(x, &z)?;
        self.select(&pos, x, &em1)
    }

    /// -1, 0 or 1 by the sign of each entry.
    pub(crate) fn sign(&mut self, x: &Tv) -> R<Tv> {
        self.apply(x, Graph::sign)
    }

    /// The Huber loss of each entry: quadratic within `delta` of zero, linear outside.
    pub(crate) fn huber(&mut self, x: &Tv, delta: f64) -> R<Tv> {
        let ax = self.abs(x)?;
        let d = self.fill(delta, x.ty.clone());
        let small = self.le(&ax, &d)?;
        let half = self.fill(0.5, x.ty.clone());
        let sq = self.binary(BinaryOp::Mul, x, x)?;
        let quad = self.binary(BinaryOp::Mul, &half, &sq)?;
        let hd = self.fill(0.5 * delta, x.ty.clone());
        let ad = self.sub(&ax, &hd)?;
        let lin = self.binary(BinaryOp::Mul, &d, &ad)?;
        self.select(&small, &quad, &lin)
    }

    /// Index of the largest (or smallest) entry along `axis`; ties go to the first.
    pub(crate) fn argext(&mut self, x: &Tv, axis: usize, largest: bool) -> R<Tv> {
        let op = if largest { ReduceOp::Max } else { ReduceOp::Min };
        let m = self.reduce(op, x, &[axis])?;
        let mk = self.keepdim(&m, axis)?;
        let hit = self.binary(BinaryOp::Eq, x, &mk)?;
        let io = self.iota(axis, x.ty.shape.clone())?;
        let n = self.fill(x.ty.shape[axis] as f64, io.ty.clone());
        let cand = self.select(&hit, &io, &n)?;
        let r = self.reduce(ReduceOp::Min, &cand, &[axis])?;
        // An all-NaN row would give n; clamp into range so the action is always valid.
        let last = self.fill((x.ty.shape[axis].max(1) - 1) as f64, r.ty.clone());
        self.min(&r, &last)
    }

    /// `[..] i32 -> [.., n] f32` with a one at each index.
    pub(crate) fn one_hot(&mut self, idx: &Tv, n: usize) -> R<Tv> {
        let mut shape = idx.ty.shape.clone();
        shape.push(n);
        let mut ks = idx.ty.shape.clone();
        ks.push(1);
        let ik = self.reshape(idx, &ks)?;
        let ib = self.broadcast_to(&ik, &shape)?;
        let io = self.iota(shape.len() - 1, shape)?;
        let eq = self.binary(BinaryOp::Eq, &io, &ib)?;
        self.cast(&eq, DType::F32)
    }

    /// `x[..., a]` per row, for `x` of shape `[.., n]` and indices `a` of shape `[..]`
    /// (checked by the caller).
    pub(crate) fn pick_rows(&mut self, x: &Tv, a: &Tv) -> R<Tv> {
        let r = x.ty.rank();
        let oh = self.one_hot(a, x.ty.shape[r - 1])?;
        let p = self.binary(BinaryOp::Mul, x, &oh)?;
        self.sum(&p, &[r - 1])
    }

    /// `[.., m]` and `[.., n]` to `[.., m, n]` (batch axes checked by the caller).
    pub(crate) fn outer(&mut self, x: &Tv, y: &Tv) -> R<Tv> {
        let mut xs = x.ty.shape.clone();
        xs.push(1);
        let mut ys = y.ty.shape.clone();
        ys.insert(y.ty.rank() - 1, 1);
        let xr = self.reshape(x, &xs)?;
        let yr = self.reshape(y, &ys)?;
        self.binary(BinaryOp::Mul, &xr, &yr)
    }

    /// A routine (see [`crate::ir::Routine`]) applied to operands of this level.
    pub(crate) fn routine(&mut self, r: Routine, args: &[&Tv]) -> R<Tv> {
        let nodes: Vec<NodeId> = args.iter().map(|a| a.node).collect();
        let n = self.graph.routine(r, &nodes);
        self.emit(n)
    }

    /// The positions of the `k` largest entries along `axis`, largest first (ties: the
    /// earlier position first; NaNs never before a number). `k` is checked by the caller.
    pub(crate) fn top_k(&mut self, x: &Tv, k: usize, axis: usize) -> R<Tv> {
        let order = self.routine(
            Routine::Argsort(Argsort {
                axis,
                descending: true,
            }),
            &[x],
        )?;
        self.slice(&order, axis, 0, k)
    }

    /// numpy's `take_along_axis`: `out[.., j, ..] = x[.., idx[.., j, ..], ..]` along `axis`,
    /// for i32 `idx` shaped like `x` (or 1) except on `axis` (checked by the caller). The caller
    /// proves or checks the indices (`super::bounds`); they are also clamped into the axis here,
    /// so even the call in which a run-time check fails never reads a neighbouring line.
    /// One flat gather: its gradient is a scatter-add.
    pub(crate) fn take_along(&mut self, x: &Tv, idx: &Tv, axis: usize) -> R<Tv> {
        // Size-1 axes of `idx` (other than `axis`) repeat, as numpy broadcasts them.
        let mut shape = x.ty.shape.clone();
        shape[axis] = idx.ty.shape[axis];
        let idx = &self.broadcast_to(idx, &shape)?;
        if shape.contains(&0) {
            // Nothing to gather (e.g. x of [0, 5]): the flat gather below would index an empty
            // tensor, which the IR rightly refuses.
            return Ok(self.fill(0.0, TensorType::new(x.ty.dtype, shape)));
        }
        let len = x.ty.shape[axis];
        let i32_of = |v: usize| v as f64;
        // Clamp into [0, len): built from `lt` and `select` only.
        let zero = self.fill(0.0, idx.ty.clone());
        let last = self.fill(i32_of(len.max(1) - 1), idx.ty.clone());
        let below = self.binary(BinaryOp::Lt, idx, &zero)?;
        let lo = self.select(&below, &zero, idx)?;
        let above = self.binary(BinaryOp::Lt, &last, &lo)?;
        let clamped = self.select(&above, &last, &lo)?;
        // Flat position in x: sum over axes of coordinate * x's stride.
        let mut stride = 1usize;
        let mut strides = vec![0usize; shape.len()];
        for d in (0..shape.len()).rev() {
            strides[d] = stride;
            stride *= x.ty.shape[d];
        }
        let mut flat: Option<Tv> = None;
        for (d, stride) in strides.iter().enumerate() {
            let coord = if d == axis {
                clamped.clone()
            } else {
                self.iota(d, shape.clone())?
            };
            let s = self.fill(i32_of(*stride), idx.ty.clone());
            let term = self.binary(BinaryOp::Mul, &coord, &s)?;
            flat = Some(match flat {
                None => term,
                Some(f) => self.binary(BinaryOp::Add, &f, &term)?,
            });
        }
        let n: usize = shape.iter().product();
        let flat = match flat {
            Some(f) => self.reshape(&f, &[n])?,
            None => self.fill(0.0, TensorType::new(DType::I32, vec![n])),
        };
        let xf = self.reshape(x, &[x.ty.numel()])?;
        let g = self.take(&xf, &flat, 0)?;
        self.reshape(&g, &shape)
    }

    /// `a @ b` over the last two axes, leading axes broadcast (checked by the caller): one
    /// matrix product for plain matrices, else a broadcast product summed over `k` (for the
    /// small per-sample matrices of NAF and K-FAC).
    pub(crate) fn batched_matmul(&mut self, a: &Tv, b: &Tv) -> R<Tv> {
        if a.ty.rank() == 2 && b.ty.rank() == 2 {
            return self.matmul(a, b);
        }
        // a[.., m, k, 1] * b[.., 1, k, n], summed over k.
        let mut sa = a.ty.shape.clone();
        sa.push(1);
        let ra = self.reshape(a, &sa)?;
        let mut sb = b.ty.shape.clone();
        sb.insert(sb.len() - 2, 1);
        let rb = self.reshape(b, &sb)?;
        let p = self.binary(BinaryOp::Mul, &ra, &rb)?;
        let k = p.ty.rank() - 2;
        self.sum(&p, &[k])
    }

    /// The `[.., n, n]` lower-triangular matrices filled row by row from `v` of shape
    /// `[.., n(n+1)/2]` (`L[i][j] = v[i(i+1)/2 + j]` for `j <= i`, zero above the diagonal);
    /// `n` is checked by the caller. A gather from `v` with a zero appended, so the gradient
    /// is a scatter-add into `v`.
    pub(crate) fn lower_triangular(&mut self, v: &Tv, n: usize) -> R<Tv> {
        let r = v.ty.rank();
        let m = v.ty.shape[r - 1];
        let mut zs = v.ty.shape.clone();
        zs[r - 1] = 1;
        let zero = self.fill(0.0, v.ty.with_shape(zs));
        let padded = self.concat(&[v.clone(), zero], r - 1)?;
        let positions: Vec<f64> = (0..n * n)
            .map(|p| {
                let (i, j) = (p / n, p % n);
                if j <= i {
                    (i * (i + 1) / 2 + j) as f64
                } else {
                    m as f64
                }
            })
            .collect();
        let idx = self.constant(positions, TensorType::new(DType::I32, vec![n * n]))?;
        let flat = self.take(&padded, &idx, r - 1)?;
        let mut shape = v.ty.shape[..r - 1].to_vec();
        shape.extend([n, n]);
        self.reshape(&flat, &shape)
    }
}
