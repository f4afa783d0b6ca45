//! Loop nests of fused elementwise maps and reductions: the output and every load of the
//! expression become strided streams, axes every stream walks as one are merged, and the
//! innermost loop runs on SIMD lanes (unrolled) when every access there is contiguous or
//! broadcast, with a scalar tail; a kernel split across cores runs one band of the
//! outermost axis.

use super::elementwise::{identity, scalar_ty_mem, vec_ty, vectorizable};
use super::state::{Codegen, LANES, Nest, Stream, UNROLL, mem};
use crate::backend::kernel::{ENode, Expr, View};
use crate::ir::ReduceOp;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, Value};

impl Codegen<'_, '_> {
    /// Streams of an expression plus a destination, and the collapsed loop shape.
    pub(super) fn collapse(shape: &[usize], streams: &mut [Stream]) -> Vec<usize> {
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
    pub(super) fn expr_streams(expr: &Expr, shape: &[usize]) -> Vec<(usize, Stream)> {
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
    pub(super) fn map(&mut self, out: &View, expr: &Expr) {
        self.nest(out, expr, None);
    }

    /// `acc[i] = op(acc[i], expr(i))`.
    pub(super) fn reduce(&mut self, op: ReduceOp, acc: &View, expr: &Expr) {
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

    pub(super) fn nest(&mut self, out: &View, expr: &Expr, reduce: Option<ReduceOp>) {
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
    pub(super) fn band_bounds(&mut self, n: usize, part: Value, parts: Value, align: i64) -> (Value, Value) {
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

    pub(super) fn outer(
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
    pub(super) fn inner(&mut self, ctx: &Nest, bases: &[Value], lo: Value, hi: Value, len: usize) {
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
}
