//! Elementwise arithmetic of a fused expression, on one element or on four SIMD lanes:
//! loads, constants and iotas, unary and binary ops (libm calls for transcendental
//! functions), selects, casts, and the combining step of reductions.

use super::super::helpers;
use super::state::{Codegen, LANES, Stream, mem};
use crate::backend::kernel::{ENode, Expr};
use crate::ir::{BinaryOp, DType, ReduceOp, UnaryOp};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Type, Value, types};

pub(super) fn vec_ty(d: DType) -> Type {
    match d {
        DType::F32 => types::F32X4,
        _ => types::I32X4,
    }
}

/// Whether an expression can run on SIMD lanes (everything but libm calls and integer division).
pub(super) fn vectorizable(e: &Expr) -> bool {
    e.nodes.iter().all(|(n, _)| match n {
        ENode::Unary(u, _) => match u {
            UnaryOp::Exp | UnaryOp::Log | UnaryOp::Tanh | UnaryOp::Sin | UnaryOp::Cos => false,
            UnaryOp::Sqrt | UnaryOp::Floor | UnaryOp::Recip | UnaryOp::Not => true,
        },
        ENode::Binary(b, x, _) => match b {
            BinaryOp::Pow => false,
            BinaryOp::Div | BinaryOp::Rem => e.nodes[*x].1 != DType::I32,
            BinaryOp::Add
            | BinaryOp::Mul
            | BinaryOp::Max
            | BinaryOp::Lt
            | BinaryOp::Eq
            | BinaryOp::And
            | BinaryOp::Or => true,
        },
        ENode::Load(_) | ENode::Scalar(_) | ENode::Iota(_) | ENode::Select(..) | ENode::Cast(_) => true,
    })
}

impl Codegen<'_, '_> {
    pub(super) fn scalar_const(&mut self, v: f64, d: DType) -> Value {
        match d {
            DType::F32 => self.b.ins().f32const(v as f32),
            DType::I32 => self.b.ins().iconst(types::I32, v as i32 as i64),
            DType::Bool => self.b.ins().iconst(types::I8, i64::from(v != 0.0)),
        }
    }

    /// Combines an accumulator with a value (memory types: f32 or i32).
    pub(super) fn combine(&mut self, op: ReduceOp, d: DType, a: Value, x: Value, vector: bool) -> Value {
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

    pub(super) fn select_val(&mut self, c: Value, x: Value, y: Value, vector: bool, d: DType) -> Value {
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
    pub(super) fn store_form_scalar(&mut self, v: Value, d: DType) -> Value {
        if d == DType::Bool {
            self.b.ins().uextend(types::I32, v)
        } else {
            v
        }
    }

    pub(super) fn store_form_vector(&mut self, v: Value, d: DType) -> Value {
        if d == DType::Bool {
            let one = self.b.ins().iconst(types::I32, 1);
            let ones = self.b.ins().splat(types::I32X4, one);
            self.b.ins().band(v, ones)
        } else {
            v
        }
    }

    /// Evaluates the expression at lane offset `i` of the innermost loop, 4 lanes at once.
    pub(super) fn eval_vector(
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

    pub(super) fn lane_iota(&mut self) -> Value {
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

    pub(super) fn load_form_vector(&mut self, v: Value, d: DType) -> Value {
        if d == DType::Bool {
            let z = self.b.ins().iconst(types::I32, 0);
            let zs = self.b.ins().splat(types::I32X4, z);
            self.b.ins().icmp(IntCC::NotEqual, v, zs)
        } else {
            v
        }
    }

    /// Evaluates the expression at element `i` of the innermost loop.
    pub(super) fn eval_scalar(
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

    pub(super) fn libm1(&mut self, f: usize, x: Value) -> Value {
        self.call(f, &[types::F32], &[types::F32], &[x]).expect("returns")
    }

    pub(super) fn unary(&mut self, op: UnaryOp, x: Value, d: DType, vector: bool) -> Value {
        match (op, d) {
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

    pub(super) fn binary(&mut self, op: BinaryOp, x: Value, y: Value, d: DType, vector: bool) -> Value {
        use BinaryOp::*;
        let fcc = |op| match op {
            Lt => FloatCC::LessThan,
            Eq => FloatCC::Equal,
            Add | Mul | Div | Pow | Rem | Max | And | Or => unreachable!("{op:?} is no comparison"),
        };
        let icc = |op| match op {
            Lt => IntCC::SignedLessThan,
            Eq => IntCC::Equal,
            Add | Mul | Div | Pow | Rem | Max | And | Or => unreachable!("{op:?} is no comparison"),
        };
        match (op, d) {
            (Add, DType::F32) => self.b.ins().fadd(x, y),
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
            (Max, DType::F32) => {
                // x where x >= y or x is NaN, else y: NaN-propagating like the interpreter.
                let c = self.b.ins().fcmp(FloatCC::GreaterThanOrEqual, x, y);
                let nan = self.b.ins().fcmp(FloatCC::Unordered, x, x);
                let take = self.b.ins().bor(c, nan);
                self.select_val(take, x, y, vector, DType::F32)
            }
            (Lt | Eq, DType::F32) => self.b.ins().fcmp(fcc(op), x, y),
            (Add, DType::I32) => self.b.ins().iadd(x, y),
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
            (Lt | Eq, DType::I32) => self.b.ins().icmp(icc(op), x, y),
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
            (Add | Mul | Div | Rem | Max | Lt, DType::Bool) => {
                unreachable!("binary {op:?} on {d} is rejected by the IR checker")
            }
        }
    }

    pub(super) fn cast(&mut self, x: Value, from: DType, to: DType, vector: bool) -> Value {
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

pub(super) fn scalar_ty_mem(d: DType) -> Type {
    match d {
        DType::F32 => types::F32,
        _ => types::I32,
    }
}

pub(super) fn identity(op: ReduceOp, d: DType) -> f64 {
    match (op, d) {
        (ReduceOp::Sum, _) => 0.0,
        (ReduceOp::Max, DType::F32) => f64::NEG_INFINITY,
        (ReduceOp::Min, DType::F32) => f64::INFINITY,
        (ReduceOp::Max, _) => f64::from(i32::MIN),
        (ReduceOp::Min, _) => f64::from(i32::MAX),
    }
}
