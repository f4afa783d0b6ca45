//! Cranelift code generation: one native function per entry point that runs every kernel of
//! its plan (for entries of more than 256 kernels, a function per 256 that the entry calls in
//! order, so compile time stays linear in the program's size). Fused elementwise loops and reductions become loop nests over collapsed
//! dimensions whose innermost loop uses `f32x4`/`i32x4` SIMD (unrolled four times) when every
//! access is contiguous or broadcast; matrix products, gathers and random numbers call
//! helpers; scans become loops around their body's kernels.

mod elementwise;
mod nest;
mod state;

pub use state::Codegen;
use state::{LANES, UNROLL, mem};

use super::helpers;
use crate::backend::kernel::{Buffer, ENode, Expr, Kernel, Plan, ScanKernel, Storage, View};
use crate::ir::{DType, RandomDist};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    AbiParam, InstBuilder, Signature, StackSlotData, StackSlotKind, Type, Value, types,
};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::FunctionBuilder;
use std::collections::HashMap;
use std::sync::Arc;

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

    /// Emits kernels `range` of the plan (split ones as calls to their part function).
    pub fn emit_range(&mut self, range: std::ops::Range<usize>) {
        let kernels = &self.plan.kernels[range.clone()];
        for (i, k) in range.zip(kernels) {
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
            Kernel::Routine { call, args, out } => {
                // Operand addresses go in a stack array; the call's description is kept
                // alive by the plan, which the compiled entry owns.
                let size = (8 * args.len().max(1)) as u32;
                let slot =
                    self.b
                        .create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, size, 3));
                for (i, a) in args.iter().enumerate() {
                    let p = self.view_addr(a);
                    self.b.ins().stack_store(types::I64, p, slot, (8 * i) as i32);
                }
                let ptrs = self.b.ins().stack_addr(types::I64, slot, 0);
                let call_addr = self.iconst(Arc::as_ptr(call) as i64);
                let o = self.view_addr(out);
                self.call(
                    helpers::routine as *const () as usize,
                    &[types::I64; 3],
                    &[],
                    &[call_addr, ptrs, o],
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

    /// `for i in (start..end).step_by(step)` with bounds computed at run time. The counter is
    /// the loop header's block parameter, not a frontend `Variable`: the SSA builder keeps a
    /// table per variable as long as the function's block count, so a variable per loop made
    /// compile memory quadratic in the number of kernels (2.9 GB for a 400-layer net).
    fn dyn_loop(&mut self, start: Value, end: Value, step: i64, mut body: impl FnMut(&mut Self, Value)) {
        let header = self.b.create_block();
        let i = self.b.append_block_param(header, types::I64);
        let body_block = self.b.create_block();
        let exit = self.b.create_block();
        self.b.ins().jump(header, &[start.into()]);
        self.b.switch_to_block(header);
        let cond = self.b.ins().icmp(IntCC::SignedLessThan, i, end);
        self.b.ins().brif(cond, body_block, &[], exit, &[]);
        self.b.switch_to_block(body_block);
        self.b.seal_block(body_block);
        body(self, i);
        let next = self.b.ins().iadd_imm_s(i, step);
        self.b.ins().jump(header, &[next.into()]);
        self.b.seal_block(header);
        self.b.switch_to_block(exit);
        self.b.seal_block(exit);
    }
}

fn split(shape: &[usize], axis: usize) -> (usize, usize, usize) {
    (
        shape[..axis].iter().product(),
        shape[axis],
        shape[axis + 1..].iter().product(),
    )
}
