//! Cranelift code generation: one native function per entry point that runs every kernel of
//! its plan. Fused elementwise loops and reductions become loop nests over collapsed
//! dimensions whose innermost loop uses `f32x4`/`i32x4` SIMD (unrolled four times) when every
//! access is contiguous or broadcast; matrix products, gathers and random numbers call
//! helpers; scans become loops around their body's kernels.

use super::helpers;
use super::plan::{Buffer, ENode, Expr, Kernel, Plan, ScanKernel, Storage, View};
use crate::ir::{BinaryOp, DType, RandomDist, ReduceOp, UnaryOp};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{AbiParam, InstBuilder, MemFlagsData, Signature, Type, Value, types};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::FunctionBuilder;
use std::collections::HashMap;

const LANES: usize = 4;
const UNROLL: usize = 4;

/// Emits the body of an entry function `fn(inputs: *const *const u8, outputs: *const *mut u8)`.
pub struct Codegen<'a, 'b> {
    pub b: &'a mut FunctionBuilder<'b>,
    pub plan: &'a Plan,
    pub arena: usize,
    pub states: &'a [usize],
    pub call_conv: CallConv,
    pub inputs: Value,
    pub outputs: Value,
    io_cache: HashMap<(bool, usize), Value>,
    /// `(part, parts)` when emitting one part of a kernel split across cores.
    pub band: Option<(Value, Value)>,
    /// Per top-level kernel: the function running it split across cores, if it is split.
    pub split: Vec<Option<cranelift_codegen::ir::FuncRef>>,
}

/// What one loop nest computes.
struct Nest {
    streams: Vec<Stream>,
    leaf_ids: Vec<usize>,
    expr: Expr,
    out_dt: DType,
    reduce: Option<ReduceOp>,
}

/// How one access of a loop walks memory (or, for iota, produces its index).
#[derive(Clone, Debug)]
struct Stream {
    /// Strides per loop dimension, in elements.
    strides: Vec<isize>,
    /// Buffer (None for iota).
    buf: Option<usize>,
    /// First element.
    offset: isize,
}

fn mem() -> MemFlagsData {
    MemFlagsData::trusted()
}

fn vec_ty(d: DType) -> Type {
    match d {
        DType::F32 => types::F32X4,
        _ => types::I32X4,
    }
}

/// Whether an expression can run on SIMD lanes (everything but libm calls and integer division).
fn vectorizable(e: &Expr) -> bool {
    e.nodes.iter().all(|(n, d)| match n {
        ENode::Unary(u, _) => !matches!(
            u,
            UnaryOp::Exp | UnaryOp::Log | UnaryOp::Tanh | UnaryOp::Sin | UnaryOp::Cos
        ),
        ENode::Binary(b, x, _) => {
            let xd = e.nodes[*x].1;
            !(matches!(b, BinaryOp::Pow) || (xd == DType::I32 && matches!(b, BinaryOp::Div | BinaryOp::Rem)))
        }
        _ => {
            let _ = d;
            true
        }
    })
}

impl<'a, 'b> Codegen<'a, 'b> {
    pub fn new(
        b: &'a mut FunctionBuilder<'b>,
        plan: &'a Plan,
        arena: usize,
        states: &'a [usize],
        call_conv: CallConv,
        inputs: Value,
        outputs: Value,
    ) -> Codegen<'a, 'b> {
        Codegen {
            b,
            plan,
            arena,
            states,
            call_conv,
            inputs,
            outputs,
            io_cache: HashMap::new(),
            band: None,
            split: Vec::new(),
        }
    }

    fn iconst(&mut self, v: i64) -> Value {
        self.b.ins().iconst(types::I64, v)
    }

    /// Loads every input and output pointer once, in the entry block, so they dominate all uses.
    pub fn load_io(&mut self) {
        for (i, buf) in self.plan.buffers.iter().enumerate() {
            let _ = i;
            let key = match buf.storage {
                Storage::Input(k) => (true, k),
                Storage::Output(k) => (false, k),
                _ => continue,
            };
            if self.io_cache.contains_key(&key) {
                continue;
            }
            let base = if key.0 { self.inputs } else { self.outputs };
            let p = self.b.ins().load(types::I64, mem(), base, (key.1 * 8) as i32);
            self.io_cache.insert(key, p);
        }
    }

    /// Base address of a buffer.
    fn buf_addr(&mut self, buf: usize) -> Value {
        let b: &Buffer = &self.plan.buffers[buf];
        match b.storage {
            Storage::Arena | Storage::Const => {
                let a = (self.arena + b.offset) as i64;
                self.iconst(a)
            }
            Storage::State(s) => {
                let a = self.states[s.0 as usize] as i64;
                self.iconst(a)
            }
            Storage::Input(k) => self.io_cache[&(true, k)],
            Storage::Output(k) => self.io_cache[&(false, k)],
        }
    }

    /// Address of a view's first element.
    fn view_addr(&mut self, v: &View) -> Value {
        let base = self.buf_addr(v.buf);
        if v.offset == 0 {
            base
        } else {
            self.b.ins().iadd_imm_s(base, v.offset as i64 * 4)
        }
    }

    fn call(&mut self, f: usize, params: &[Type], rets: &[Type], args: &[Value]) -> Option<Value> {
        let mut sig = Signature::new(self.call_conv);
        for p in params {
            sig.params.push(AbiParam::new(*p));
        }
        for r in rets {
            sig.returns.push(AbiParam::new(*r));
        }
        let sref = self.b.import_signature(sig);
        let callee = self.iconst(f as i64);
        let inst = self.b.ins().call_indirect(sref, callee, args);
        self.b.inst_results(inst).first().copied()
    }

    // ------------------------------------------------------------ kernels

    /// Emits every kernel of the plan (split ones as calls to their part function).
    pub fn emit_all(&mut self) {
        let kernels = &self.plan.kernels;
        for (i, k) in kernels.iter().enumerate() {
            match self.split.get(i).copied().flatten() {
                Some(f) => {
                    let addr = self.b.ins().func_addr(types::I64, f);
                    let (inp, out) = (self.inputs, self.outputs);
                    self.call(
                        helpers::par_run as *const () as usize,
                        &[types::I64; 3],
                        &[],
                        &[addr, inp, out],
                    );
                }
                None => self.kernel(k),
            }
        }
    }

    /// Emits one part of a split kernel (the caller set `band`).
    pub fn emit_part(&mut self, k: &Kernel) {
        self.kernel(k);
    }

    /// Whether a kernel is worth splitting across cores: a loop writing at least
    /// `min_elems` elements whose outermost dimension (or only one) can be banded.
    pub fn splittable(k: &Kernel, min_elems: usize) -> bool {
        let Kernel::Map { out, expr } = k else {
            return false;
        };
        if out.numel() < min_elems {
            return false;
        }
        let (dims, _) = Self::loop_dims(out, expr);
        match dims.len() {
            0 => false,
            1 => dims[0] >= 4 * LANES * UNROLL,
            _ => dims[0] >= 2,
        }
    }

    fn kernel(&mut self, k: &Kernel) {
        match k {
            Kernel::Map { out, expr } => self.map(out, expr),
            Kernel::Reduce {
                op,
                acc,
                acc_whole,
                expr,
                init,
            } => {
                let dt = self.plan.buffers[acc.buf].dtype;
                let fill = Expr {
                    nodes: vec![(ENode::Scalar(*init), dt)],
                };
                self.map(acc_whole, &fill);
                self.reduce(*op, acc, expr);
            }
            Kernel::MatMul { a, b, c } => self.matmul(a, b, c),
            Kernel::MatMulPair { first, second } => {
                let mut args = Vec::with_capacity(24);
                for [a, b, c] in [first, second] {
                    let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1]);
                    args.extend([
                        self.iconst(m as i64),
                        self.iconst(k as i64),
                        self.iconst(n as i64),
                    ]);
                    args.extend([
                        self.view_addr(a),
                        self.iconst(a.strides[0] as i64),
                        self.iconst(a.strides[1] as i64),
                    ]);
                    args.extend([
                        self.view_addr(b),
                        self.iconst(b.strides[0] as i64),
                        self.iconst(b.strides[1] as i64),
                    ]);
                    args.extend([
                        self.view_addr(c),
                        self.iconst(c.strides[0] as i64),
                        self.iconst(c.strides[1] as i64),
                    ]);
                }
                self.call(
                    helpers::gemm_pair as *const () as usize,
                    &[types::I64; 24],
                    &[],
                    &args,
                );
            }
            Kernel::Take { x, idx, out, axis } => {
                let (outer, len, inner) = split(&x.shape, *axis);
                let args = [
                    self.view_addr(x),
                    self.view_addr(idx),
                    self.view_addr(out),
                    self.iconst(outer as i64),
                    self.iconst(len as i64),
                    self.iconst(inner as i64),
                    self.iconst(idx.numel() as i64),
                ];
                self.call(helpers::take as *const () as usize, &[types::I64; 7], &[], &args);
            }
            Kernel::ScatterAdd { idx, upd, out, axis } => {
                let (outer, len, inner) = split(&out.shape, *axis);
                let is_int = i64::from(self.plan.buffers[out.buf].dtype != DType::F32);
                let args = [
                    self.view_addr(out),
                    self.view_addr(idx),
                    self.view_addr(upd),
                    self.iconst(outer as i64),
                    self.iconst(len as i64),
                    self.iconst(inner as i64),
                    self.iconst(idx.numel() as i64),
                    self.iconst(is_int),
                ];
                self.call(
                    helpers::scatter_add as *const () as usize,
                    &[types::I64; 8],
                    &[],
                    &args,
                );
            }
            Kernel::Random {
                key,
                dist,
                stream,
                out,
            } => {
                let args = [
                    self.view_addr(key),
                    self.iconst(i64::from(*stream)),
                    self.iconst(i64::from(*dist == RandomDist::Normal)),
                    self.view_addr(out),
                    self.iconst(out.numel() as i64),
                ];
                self.call(
                    helpers::random as *const () as usize,
                    &[types::I64; 5],
                    &[],
                    &args,
                );
            }
            Kernel::Scan(s) => self.scan(s),
        }
    }

    fn matmul(&mut self, a: &View, b: &View, c: &View) {
        let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1]);
        let args = [
            self.iconst(m as i64),
            self.iconst(k as i64),
            self.iconst(n as i64),
            self.view_addr(a),
            self.iconst(a.strides[0] as i64),
            self.iconst(a.strides[1] as i64),
            self.view_addr(b),
            self.iconst(b.strides[0] as i64),
            self.iconst(b.strides[1] as i64),
            self.view_addr(c),
            self.iconst(c.strides[0] as i64),
            self.iconst(c.strides[1] as i64),
        ];
        self.call(helpers::gemm as *const () as usize, &[types::I64; 12], &[], &args);
    }

    fn scan(&mut self, s: &ScanKernel) {
        // Initial carries.
        for (c, init) in s.carries.iter().zip(&s.inits) {
            let dt = self.plan.buffers[*c].dtype;
            let expr = Expr {
                nodes: vec![(ENode::Load(init.clone()), dt)],
            };
            self.map(&View::whole(*c, &init.shape), &expr);
        }
        let t_addr = self.buf_addr(s.t_buf);
        let len = s.length as i64;
        self.counted_loop(0, len, 1, |cg, i| {
            let t = if s.reverse {
                let last = cg.iconst(len - 1);
                cg.b.ins().isub(last, i)
            } else {
                i
            };
            let t32 = cg.b.ins().ireduce(types::I32, t);
            cg.b.ins().store(mem(), t32, t_addr, 0);
            for k in &s.body {
                cg.kernel(k);
            }
            for (ci, (c, nc)) in s.carries.iter().zip(&s.new_carries).enumerate() {
                let n = nc.numel() as i64;
                let dst = cg.buf_addr(*c);
                let src = cg.view_addr(nc);
                let nn = cg.iconst(n);
                cg.call(
                    helpers::copy as *const () as usize,
                    &[types::I64; 3],
                    &[],
                    &[dst, src, nn],
                );
                if let Some(h) = s.hist[ci] {
                    let base = cg.buf_addr(h);
                    let off = cg.b.ins().imul_imm_s(t, n * 4);
                    let hdst = cg.b.ins().iadd(base, off);
                    let src = cg.buf_addr(*c);
                    let nn = cg.iconst(n);
                    cg.call(
                        helpers::copy as *const () as usize,
                        &[types::I64; 3],
                        &[],
                        &[hdst, src, nn],
                    );
                }
            }
        });
    }

    /// `for i in (start..end).step_by(step)` with constant bounds: the body gets `i` (i64).
    fn counted_loop(&mut self, start: i64, end: i64, step: i64, body: impl FnMut(&mut Self, Value)) {
        if end <= start {
            return;
        }
        let (s, e) = (self.iconst(start), self.iconst(end));
        self.dyn_loop(s, e, step, body);
    }

    /// `for i in (start..end).step_by(step)` with bounds computed at run time.
    fn dyn_loop(&mut self, start: Value, end: Value, step: i64, mut body: impl FnMut(&mut Self, Value)) {
        let var = self.b.declare_var(types::I64);
        self.b.def_var(var, start);
        let header = self.b.create_block();
        let body_block = self.b.create_block();
        let exit = self.b.create_block();
        self.b.ins().jump(header, &[]);
        self.b.switch_to_block(header);
        let i = self.b.use_var(var);
        let cond = self.b.ins().icmp(IntCC::SignedLessThan, i, end);
        self.b.ins().brif(cond, body_block, &[], exit, &[]);
        self.b.switch_to_block(body_block);
        let i = self.b.use_var(var);
        body(self, i);
        let i = self.b.use_var(var);
        let next = self.b.ins().iadd_imm_s(i, step);
        self.b.def_var(var, next);
        self.b.ins().jump(header, &[]);
        self.b.seal_block(body_block);
        self.b.seal_block(header);
        self.b.switch_to_block(exit);
        self.b.seal_block(exit);
    }

    // ------------------------------------------------------------ loop nests

    /// Streams of an expression plus a destination, and the collapsed loop shape.
    fn collapse(shape: &[usize], streams: &mut [Stream]) -> Vec<usize> {
        let mut dims: Vec<usize> = shape.to_vec();
        // Drop size-1 axes.
        let keep: Vec<usize> = (0..dims.len()).filter(|i| dims[*i] != 1).collect();
        dims = keep.iter().map(|i| dims[*i]).collect();
        for s in streams.iter_mut() {
            s.strides = keep.iter().map(|i| s.strides[*i]).collect();
        }
        // Merge an axis into the next when every stream walks them as one.
        let mut d = dims.len();
        while d >= 2 {
            let i = d - 2;
            if streams
                .iter()
                .all(|s| s.strides[i] == s.strides[i + 1] * dims[i + 1] as isize)
            {
                dims[i] *= dims[i + 1];
                dims.remove(i + 1);
                for s in streams.iter_mut() {
                    let inner = s.strides[i + 1];
                    s.strides[i] = inner;
                    s.strides.remove(i + 1);
                }
            }
            d -= 1;
        }
        dims
    }

    /// Streams of the loads and iotas of an expression, in node order.
    fn expr_streams(expr: &Expr, shape: &[usize]) -> Vec<(usize, Stream)> {
        let mut out = Vec::new();
        for (i, (n, _)) in expr.nodes.iter().enumerate() {
            match n {
                ENode::Load(v) => out.push((
                    i,
                    Stream {
                        strides: v.strides.clone(),
                        buf: Some(v.buf),
                        offset: v.offset,
                    },
                )),
                ENode::Iota(axis) => {
                    let mut s = vec![0isize; shape.len()];
                    s[*axis] = 1;
                    out.push((
                        i,
                        Stream {
                            strides: s,
                            buf: None,
                            offset: 0,
                        },
                    ));
                }
                _ => {}
            }
        }
        out
    }

    /// `out[i] = expr(i)`.
    fn map(&mut self, out: &View, expr: &Expr) {
        self.nest(out, expr, None);
    }

    /// `acc[i] = op(acc[i], expr(i))`.
    fn reduce(&mut self, op: ReduceOp, acc: &View, expr: &Expr) {
        self.nest(acc, expr, Some(op));
    }

    /// The collapsed loop shape of a kernel (used to decide whether to split it across cores).
    pub fn loop_dims(out: &View, expr: &Expr) -> (Vec<usize>, Vec<isize>) {
        let leaves = Self::expr_streams(expr, &out.shape);
        let mut streams: Vec<Stream> = vec![Stream {
            strides: out.strides.clone(),
            buf: Some(out.buf),
            offset: out.offset,
        }];
        streams.extend(leaves.into_iter().map(|(_, s)| s));
        let dims = Self::collapse(&out.shape, &mut streams);
        (dims, streams[0].strides.clone())
    }

    fn nest(&mut self, out: &View, expr: &Expr, reduce: Option<ReduceOp>) {
        let shape = out.shape.clone();
        if shape.contains(&0) {
            return;
        }
        let leaves = Self::expr_streams(expr, &shape);
        let mut streams: Vec<Stream> = vec![Stream {
            strides: out.strides.clone(),
            buf: Some(out.buf),
            offset: out.offset,
        }];
        streams.extend(leaves.iter().map(|(_, s)| s.clone()));
        let dims = Self::collapse(&shape, &mut streams);
        let ctx = Nest {
            leaf_ids: leaves.iter().map(|(i, _)| *i).collect(),
            streams,
            expr: expr.clone(),
            out_dt: self.plan.buffers[out.buf].dtype,
            reduce,
        };
        // Base pointer (or iota base) of every stream.
        let mut bases = Vec::with_capacity(ctx.streams.len());
        for s in &ctx.streams {
            bases.push(match s.buf {
                Some(b) => {
                    let a = self.buf_addr(b);
                    self.b.ins().iadd_imm_s(a, s.offset as i64 * 4)
                }
                None => self.iconst(0),
            });
        }
        if dims.is_empty() {
            let (lo, hi) = (self.iconst(0), self.iconst(1));
            self.inner(&ctx, &bases, lo, hi, 1);
            return;
        }
        let inner_len = dims[dims.len() - 1];
        let outer_dims = &dims[..dims.len() - 1];
        // Splitting across cores: each part takes a band of the outermost dimension (of the
        // only dimension when there is one, in multiples of the vector block).
        let band = self.band;
        if outer_dims.is_empty() {
            let (lo, hi) = match band {
                Some((part, parts)) => self.band_bounds(inner_len, part, parts, (LANES * UNROLL) as i64),
                None => (self.iconst(0), self.iconst(inner_len as i64)),
            };
            self.inner(&ctx, &bases, lo, hi, inner_len);
        } else {
            self.outer(&ctx, outer_dims, 0, &bases, inner_len, band);
        }
    }

    /// `[n*part/parts, n*(part+1)/parts)`, rounded down to multiples of `align` (the last
    /// part ends at `n`).
    fn band_bounds(&mut self, n: usize, part: Value, parts: Value, align: i64) -> (Value, Value) {
        let nn = self.iconst(n as i64);
        let lo = self.b.ins().imul(nn, part);
        let lo = self.b.ins().udiv(lo, parts);
        let lo = self.b.ins().band_imm_s(lo, !(align - 1));
        let p1 = self.b.ins().iadd_imm_s(part, 1);
        let hi = self.b.ins().imul(nn, p1);
        let hi = self.b.ins().udiv(hi, parts);
        let hi = self.b.ins().band_imm_s(hi, !(align - 1));
        let last = self.b.ins().icmp(IntCC::Equal, p1, parts);
        let hi = self.b.ins().select(last, nn, hi);
        (lo, hi)
    }

    fn outer(
        &mut self,
        ctx: &Nest,
        dims: &[usize],
        level: usize,
        bases: &[Value],
        inner_len: usize,
        band: Option<(Value, Value)>,
    ) {
        if level == dims.len() {
            let (lo, hi) = (self.iconst(0), self.iconst(inner_len as i64));
            self.inner(ctx, bases, lo, hi, inner_len);
            return;
        }
        let n = dims[level];
        let (lo, hi) = match (band, level) {
            (Some((part, parts)), 0) => self.band_bounds(n, part, parts, 1),
            _ => (self.iconst(0), self.iconst(n as i64)),
        };
        self.dyn_loop(lo, hi, 1, |cg, i| {
            // Advance each stream by i * stride at this level.
            let mut next = Vec::with_capacity(bases.len());
            for (s, base) in ctx.streams.iter().zip(bases) {
                let st = s.strides[level];
                let scale = if s.buf.is_some() { st * 4 } else { st };
                next.push(if st == 0 {
                    *base
                } else {
                    let off = cg.b.ins().imul_imm_s(i, scale as i64);
                    cg.b.ins().iadd(*base, off)
                });
            }
            cg.outer(ctx, dims, level + 1, &next, inner_len, None);
        });
    }

    /// The innermost loop over elements `lo..hi` (of `len` in all): vector part, then a
    /// scalar tail.
    fn inner(&mut self, ctx: &Nest, bases: &[Value], lo: Value, hi: Value, len: usize) {
        let (streams, leaf_ids, expr, out_dt, reduce) =
            (&ctx.streams, &ctx.leaf_ids, &ctx.expr, ctx.out_dt, ctx.reduce);
        let inner_stride = |s: &Stream| s.strides.last().copied().unwrap_or(0);
        let out_stride = inner_stride(&streams[0]);
        let vec_ok = len >= LANES
            && vectorizable(expr)
            && streams.iter().skip(1).all(|s| matches!(inner_stride(s), 0 | 1))
            && (out_stride == 1 || (reduce.is_some() && out_stride == 0));
        let mut tail_start = lo;
        if vec_ok {
            let block = if len >= LANES * UNROLL {
                LANES * UNROLL
            } else {
                LANES
            };
            let span = self.b.ins().isub(hi, lo);
            let span = self.b.ins().band_imm_s(span, !(block as i64 - 1));
            let vec_end = self.b.ins().iadd(lo, span);
            if out_stride == 0 {
                // Reduction along the innermost axis: vector accumulator, then lanes combined.
                let op = reduce.expect("checked");
                let init = identity(op, out_dt);
                let vt = vec_ty(out_dt);
                let accv = self.b.declare_var(vt);
                let z = self.scalar_const(init, out_dt);
                let zv = self.b.ins().splat(vt, z);
                self.b.def_var(accv, zv);
                self.dyn_loop(lo, vec_end, block as i64, |cg, i| {
                    for u in 0..block / LANES {
                        let lane0 = cg.b.ins().iadd_imm_s(i, (u * LANES) as i64);
                        let v = cg.eval_vector(expr, streams, bases, leaf_ids, lane0);
                        let a = cg.b.use_var(accv);
                        let r = cg.combine(op, out_dt, a, v, true);
                        cg.b.def_var(accv, r);
                    }
                });
                let a = self.b.use_var(accv);
                let mut s = self.b.ins().extractlane(a, 0);
                for l in 1..LANES as u8 {
                    let x = self.b.ins().extractlane(a, l);
                    s = self.combine(op, out_dt, s, x, false);
                }
                let addr = bases[0];
                let old = self.b.ins().load(scalar_ty_mem(out_dt), mem(), addr, 0);
                let r = self.combine(op, out_dt, old, s, false);
                self.b.ins().store(mem(), r, addr, 0);
            } else {
                self.dyn_loop(lo, vec_end, block as i64, |cg, i| {
                    for u in 0..block / LANES {
                        let lane0 = cg.b.ins().iadd_imm_s(i, (u * LANES) as i64);
                        let v = cg.eval_vector(expr, streams, bases, leaf_ids, lane0);
                        let off = cg.b.ins().imul_imm_s(lane0, 4);
                        let addr = cg.b.ins().iadd(bases[0], off);
                        let v = cg.store_form_vector(v, expr.dtype());
                        let v = match reduce {
                            Some(op) => {
                                let old = cg.b.ins().load(vec_ty(out_dt), mem(), addr, 0);
                                cg.combine(op, out_dt, old, v, true)
                            }
                            None => v,
                        };
                        cg.b.ins().store(mem(), v, addr, 0);
                    }
                });
            }
            tail_start = vec_end;
        }
        self.dyn_loop(tail_start, hi, 1, |cg, i| {
            let v = cg.eval_scalar(expr, streams, bases, leaf_ids, i);
            let v = cg.store_form_scalar(v, expr.dtype());
            let off = cg.b.ins().imul_imm_s(i, out_stride as i64 * 4);
            let addr = cg.b.ins().iadd(bases[0], off);
            let v = match reduce {
                Some(op) => {
                    let old = cg.b.ins().load(scalar_ty_mem(out_dt), mem(), addr, 0);
                    cg.combine(op, out_dt, old, v, false)
                }
                None => v,
            };
            cg.b.ins().store(mem(), v, addr, 0);
        });
    }

    fn scalar_const(&mut self, v: f64, d: DType) -> Value {
        match d {
            DType::F32 => self.b.ins().f32const(v as f32),
            DType::I32 => self.b.ins().iconst(types::I32, v as i32 as i64),
            DType::Bool => self.b.ins().iconst(types::I8, i64::from(v != 0.0)),
        }
    }

    /// Combines an accumulator with a value (memory types: f32 or i32).
    fn combine(&mut self, op: ReduceOp, d: DType, a: Value, x: Value, vector: bool) -> Value {
        match (op, d) {
            (ReduceOp::Sum, DType::F32) => self.b.ins().fadd(a, x),
            (ReduceOp::Sum, _) => self.b.ins().iadd(a, x),
            (ReduceOp::Max, DType::F32) | (ReduceOp::Min, DType::F32) => {
                // NaN sticks, as in the interpreter: take x if it beats a or is NaN.
                let cc = if op == ReduceOp::Max {
                    FloatCC::GreaterThan
                } else {
                    FloatCC::LessThan
                };
                let better = self.b.ins().fcmp(cc, x, a);
                let nan = self.b.ins().fcmp(FloatCC::Unordered, x, x);
                let take = self.b.ins().bor(better, nan);
                self.select_val(take, x, a, vector, DType::F32)
            }
            (ReduceOp::Max, _) => self.b.ins().smax(a, x),
            (ReduceOp::Min, _) => self.b.ins().smin(a, x),
        }
    }

    fn select_val(&mut self, c: Value, x: Value, y: Value, vector: bool, d: DType) -> Value {
        if vector {
            let c = if d == DType::F32 {
                self.b.ins().bitcast(types::F32X4, MemFlagsData::new(), c)
            } else {
                c
            };
            self.b.ins().bitselect(c, x, y)
        } else {
            self.b.ins().select(c, x, y)
        }
    }

    /// Bool values (i8 flags / lane masks) as stored i32 0/1.
    fn store_form_scalar(&mut self, v: Value, d: DType) -> Value {
        if d == DType::Bool {
            self.b.ins().uextend(types::I32, v)
        } else {
            v
        }
    }

    fn store_form_vector(&mut self, v: Value, d: DType) -> Value {
        if d == DType::Bool {
            let one = self.b.ins().iconst(types::I32, 1);
            let ones = self.b.ins().splat(types::I32X4, one);
            self.b.ins().band(v, ones)
        } else {
            v
        }
    }

    /// Evaluates the expression at lane offset `i` of the innermost loop, 4 lanes at once.
    fn eval_vector(
        &mut self,
        expr: &Expr,
        streams: &[Stream],
        bases: &[Value],
        leaf_ids: &[usize],
        i: Value,
    ) -> Value {
        let mut vals: Vec<Value> = Vec::with_capacity(expr.nodes.len());
        for (idx, (n, d)) in expr.nodes.iter().enumerate() {
            let v = match n {
                ENode::Load(_) | ENode::Iota(_) => {
                    let k = leaf_ids.iter().position(|x| *x == idx).expect("leaf") + 1;
                    let s = &streams[k];
                    let st = s.strides.last().copied().unwrap_or(0);
                    match (n, st) {
                        (ENode::Iota(_), 0) => {
                            let b32 = self.b.ins().ireduce(types::I32, bases[k]);
                            self.b.ins().splat(types::I32X4, b32)
                        }
                        (ENode::Iota(_), _) => {
                            let base = self.b.ins().iadd(bases[k], i);
                            let b32 = self.b.ins().ireduce(types::I32, base);
                            let sp = self.b.ins().splat(types::I32X4, b32);
                            let lanes = self.lane_iota();
                            self.b.ins().iadd(sp, lanes)
                        }
                        (_, 0) => {
                            let x = self.b.ins().load(scalar_ty_mem(*d), mem(), bases[k], 0);
                            let sp = self.b.ins().splat(vec_ty(*d), x);
                            self.load_form_vector(sp, *d)
                        }
                        _ => {
                            let off = self.b.ins().imul_imm_s(i, 4);
                            let addr = self.b.ins().iadd(bases[k], off);
                            let x = self.b.ins().load(vec_ty(*d), mem(), addr, 0);
                            self.load_form_vector(x, *d)
                        }
                    }
                }
                ENode::Scalar(c) => {
                    let x = self.scalar_const(*c, if *d == DType::Bool { DType::I32 } else { *d });
                    let sp = self.b.ins().splat(vec_ty(*d), x);
                    if *d == DType::Bool {
                        // 0 or -1 lanes.
                        let z = self.b.ins().iconst(types::I32, 0);
                        let zs = self.b.ins().splat(types::I32X4, z);
                        self.b.ins().icmp(IntCC::NotEqual, sp, zs)
                    } else {
                        sp
                    }
                }
                ENode::Unary(u, a) => self.unary(*u, vals[*a], expr.nodes[*a].1, true),
                ENode::Binary(op, a, b) => self.binary(*op, vals[*a], vals[*b], expr.nodes[*a].1, true),
                ENode::Select(c, a, b) => self.select_val(vals[*c], vals[*a], vals[*b], true, *d),
                ENode::Cast(a) => self.cast(vals[*a], expr.nodes[*a].1, *d, true),
            };
            vals.push(v);
        }
        *vals.last().expect("nonempty expression")
    }

    fn lane_iota(&mut self) -> Value {
        let mut v = {
            let z = self.b.ins().iconst(types::I32, 0);
            self.b.ins().splat(types::I32X4, z)
        };
        for l in 1..LANES as u8 {
            let c = self.b.ins().iconst(types::I32, i64::from(l));
            v = self.b.ins().insertlane(v, c, l);
        }
        v
    }

    fn load_form_vector(&mut self, v: Value, d: DType) -> Value {
        if d == DType::Bool {
            let z = self.b.ins().iconst(types::I32, 0);
            let zs = self.b.ins().splat(types::I32X4, z);
            self.b.ins().icmp(IntCC::NotEqual, v, zs)
        } else {
            v
        }
    }

    /// Evaluates the expression at element `i` of the innermost loop.
    fn eval_scalar(
        &mut self,
        expr: &Expr,
        streams: &[Stream],
        bases: &[Value],
        leaf_ids: &[usize],
        i: Value,
    ) -> Value {
        let mut vals: Vec<Value> = Vec::with_capacity(expr.nodes.len());
        for (idx, (n, d)) in expr.nodes.iter().enumerate() {
            let v = match n {
                ENode::Load(_) | ENode::Iota(_) => {
                    let k = leaf_ids.iter().position(|x| *x == idx).expect("leaf") + 1;
                    let s = &streams[k];
                    let st = s.strides.last().copied().unwrap_or(0);
                    if let ENode::Iota(_) = n {
                        let off = if st == 0 {
                            bases[k]
                        } else {
                            let m = self.b.ins().imul_imm_s(i, st as i64);
                            self.b.ins().iadd(bases[k], m)
                        };
                        self.b.ins().ireduce(types::I32, off)
                    } else {
                        let addr = if st == 0 {
                            bases[k]
                        } else {
                            let off = self.b.ins().imul_imm_s(i, st as i64 * 4);
                            self.b.ins().iadd(bases[k], off)
                        };
                        let x = self.b.ins().load(scalar_ty_mem(*d), mem(), addr, 0);
                        if *d == DType::Bool {
                            self.b.ins().icmp_imm_s(IntCC::NotEqual, x, 0)
                        } else {
                            x
                        }
                    }
                }
                ENode::Scalar(c) => self.scalar_const(*c, *d),
                ENode::Unary(u, a) => self.unary(*u, vals[*a], expr.nodes[*a].1, false),
                ENode::Binary(op, a, b) => self.binary(*op, vals[*a], vals[*b], expr.nodes[*a].1, false),
                ENode::Select(c, a, b) => self.select_val(vals[*c], vals[*a], vals[*b], false, *d),
                ENode::Cast(a) => self.cast(vals[*a], expr.nodes[*a].1, *d, false),
            };
            vals.push(v);
        }
        *vals.last().expect("nonempty expression")
    }

    fn libm1(&mut self, f: usize, x: Value) -> Value {
        self.call(f, &[types::F32], &[types::F32], &[x]).expect("returns")
    }

    fn unary(&mut self, op: UnaryOp, x: Value, d: DType, vector: bool) -> Value {
        match (op, d) {
            (UnaryOp::Neg, DType::F32) => self.b.ins().fneg(x),
            (UnaryOp::Neg, _) => self.b.ins().ineg(x),
            (UnaryOp::Abs, DType::F32) => self.b.ins().fabs(x),
            (UnaryOp::Abs, _) => self.b.ins().iabs(x),
            (UnaryOp::Sqrt, _) => self.b.ins().sqrt(x),
            (UnaryOp::Floor, _) => self.b.ins().floor(x),
            (UnaryOp::Recip, _) => {
                let one = self.b.ins().f32const(1.0);
                let one = if vector {
                    self.b.ins().splat(types::F32X4, one)
                } else {
                    one
                };
                self.b.ins().fdiv(one, x)
            }
            (UnaryOp::Not, _) => {
                if vector {
                    self.b.ins().bnot(x)
                } else {
                    self.b.ins().bxor_imm_s(x, 1)
                }
            }
            (UnaryOp::Exp, _) => self.libm1(helpers::expf as *const () as usize, x),
            (UnaryOp::Log, _) => self.libm1(helpers::logf as *const () as usize, x),
            (UnaryOp::Tanh, _) => self.libm1(helpers::tanhf as *const () as usize, x),
            (UnaryOp::Sin, _) => self.libm1(helpers::sinf as *const () as usize, x),
            (UnaryOp::Cos, _) => self.libm1(helpers::cosf as *const () as usize, x),
        }
    }

    fn binary(&mut self, op: BinaryOp, x: Value, y: Value, d: DType, vector: bool) -> Value {
        use BinaryOp::*;
        let fcc = |op| match op {
            Lt => FloatCC::LessThan,
            Le => FloatCC::LessThanOrEqual,
            Gt => FloatCC::GreaterThan,
            Ge => FloatCC::GreaterThanOrEqual,
            Eq => FloatCC::Equal,
            _ => FloatCC::NotEqual,
        };
        let icc = |op| match op {
            Lt => IntCC::SignedLessThan,
            Le => IntCC::SignedLessThanOrEqual,
            Gt => IntCC::SignedGreaterThan,
            Ge => IntCC::SignedGreaterThanOrEqual,
            Eq => IntCC::Equal,
            _ => IntCC::NotEqual,
        };
        match (op, d) {
            (Add, DType::F32) => self.b.ins().fadd(x, y),
            (Sub, DType::F32) => self.b.ins().fsub(x, y),
            (Mul, DType::F32) => self.b.ins().fmul(x, y),
            (Div, DType::F32) => self.b.ins().fdiv(x, y),
            (Pow, _) => self
                .call(
                    helpers::powf as *const () as usize,
                    &[types::F32, types::F32],
                    &[types::F32],
                    &[x, y],
                )
                .expect("ret"),
            (Rem, DType::F32) => {
                let q = self.b.ins().fdiv(x, y);
                let f = self.b.ins().floor(q);
                let m = self.b.ins().fmul(f, y);
                self.b.ins().fsub(x, m)
            }
            (Max | Min, DType::F32) => {
                // x where x >= y (x <= y for min) or x is NaN, else y: NaN-propagating like the interpreter.
                let cc = if op == Max {
                    FloatCC::GreaterThanOrEqual
                } else {
                    FloatCC::LessThanOrEqual
                };
                let c = self.b.ins().fcmp(cc, x, y);
                let nan = self.b.ins().fcmp(FloatCC::Unordered, x, x);
                let take = self.b.ins().bor(c, nan);
                self.select_val(take, x, y, vector, DType::F32)
            }
            (Lt | Le | Gt | Ge | Eq | Ne, DType::F32) => self.b.ins().fcmp(fcc(op), x, y),
            (Add, DType::I32) => self.b.ins().iadd(x, y),
            (Sub, DType::I32) => self.b.ins().isub(x, y),
            (Mul, DType::I32) => self.b.ins().imul(x, y),
            (Div, DType::I32) => self
                .call(
                    helpers::idiv as *const () as usize,
                    &[types::I32, types::I32],
                    &[types::I32],
                    &[x, y],
                )
                .expect("ret"),
            (Rem, DType::I32) => self
                .call(
                    helpers::irem as *const () as usize,
                    &[types::I32, types::I32],
                    &[types::I32],
                    &[x, y],
                )
                .expect("ret"),
            (Max, DType::I32) => self.b.ins().smax(x, y),
            (Min, DType::I32) => self.b.ins().smin(x, y),
            (Lt | Le | Gt | Ge | Eq | Ne, DType::I32) => self.b.ins().icmp(icc(op), x, y),
            (And, _) => self.b.ins().band(x, y),
            (Or, _) => self.b.ins().bor(x, y),
            (Eq, DType::Bool) => {
                let t = self.b.ins().bxor(x, y);
                if vector {
                    self.b.ins().bnot(t)
                } else {
                    self.b.ins().bxor_imm_s(t, 1)
                }
            }
            (Ne, DType::Bool) => self.b.ins().bxor(x, y),
            (o, d) => unreachable!("binary {o:?} on {d} is rejected by the IR checker"),
        }
    }

    fn cast(&mut self, x: Value, from: DType, to: DType, vector: bool) -> Value {
        match (from, to) {
            (a, b) if a == b => x,
            (DType::F32, DType::I32) => self
                .b
                .ins()
                .fcvt_to_sint_sat(if vector { types::I32X4 } else { types::I32 }, x),
            (DType::I32, DType::F32) => self
                .b
                .ins()
                .fcvt_from_sint(if vector { types::F32X4 } else { types::F32 }, x),
            (DType::Bool, DType::F32) => {
                if vector {
                    let one = self.b.ins().f32const(1.0);
                    let ones = self.b.ins().splat(types::F32X4, one);
                    let m = self.b.ins().bitcast(types::F32X4, MemFlagsData::new(), x);
                    self.b.ins().band(m, ones)
                } else {
                    let one = self.b.ins().f32const(1.0);
                    let zero = self.b.ins().f32const(0.0);
                    self.b.ins().select(x, one, zero)
                }
            }
            (DType::Bool, DType::I32) => {
                if vector {
                    let one = self.b.ins().iconst(types::I32, 1);
                    let ones = self.b.ins().splat(types::I32X4, one);
                    self.b.ins().band(x, ones)
                } else {
                    self.b.ins().uextend(types::I32, x)
                }
            }
            (DType::F32, DType::Bool) => {
                let z = self.b.ins().f32const(0.0);
                let z = if vector {
                    self.b.ins().splat(types::F32X4, z)
                } else {
                    z
                };
                self.b.ins().fcmp(FloatCC::NotEqual, x, z)
            }
            (DType::I32, DType::Bool) => {
                if vector {
                    let z = self.b.ins().iconst(types::I32, 0);
                    let zs = self.b.ins().splat(types::I32X4, z);
                    self.b.ins().icmp(IntCC::NotEqual, x, zs)
                } else {
                    self.b.ins().icmp_imm_s(IntCC::NotEqual, x, 0)
                }
            }
            _ => unreachable!("all casts covered"),
        }
    }
}

fn scalar_ty_mem(d: DType) -> Type {
    match d {
        DType::F32 => types::F32,
        _ => types::I32,
    }
}

fn identity(op: ReduceOp, d: DType) -> f64 {
    match (op, d) {
        (ReduceOp::Sum, _) => 0.0,
        (ReduceOp::Max, DType::F32) => f64::NEG_INFINITY,
        (ReduceOp::Min, DType::F32) => f64::INFINITY,
        (ReduceOp::Max, _) => f64::from(i32::MIN),
        (ReduceOp::Min, _) => f64::from(i32::MAX),
    }
}

fn split(shape: &[usize], axis: usize) -> (usize, usize, usize) {
    (
        shape[..axis].iter().product(),
        shape[axis],
        shape[axis + 1..].iter().product(),
    )
}
