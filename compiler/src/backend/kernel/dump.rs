//! A plan as text: its buffers (where each lives, its element type and length, its arena
//! offset), then its kernels in order with the views they read and write and their fused
//! expressions. Views print as `b<buffer>@<offset><shape>/<strides>`. The planner's tests
//! compare these dumps, so a change to what the planner produces shows up as a readable diff.

use super::types::{Buffer, ENode, Expr, Kernel, Plan, Storage, View};
use crate::ir::{RandomDist, ReduceOp};
use std::fmt::{self, Write};

/// The plan as text (the same as its `Display`).
pub fn dump(plan: &Plan) -> String {
    plan.to_string()
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "buffers:")?;
        for (i, b) in self.buffers.iter().enumerate() {
            writeln!(f, "  b{i} {}", buffer(b))?;
        }
        writeln!(f, "kernels:")?;
        let mut s = String::new();
        kernels(&mut s, &self.kernels, 1)?;
        f.write_str(&s)?;
        writeln!(f, "arena: {} bytes", self.arena_bytes)
    }
}

impl fmt::Display for View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "b{}@{}{:?}/{:?}",
            self.buf, self.offset, self.shape, self.strides
        )
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, (n, d)) in self.nodes.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "%{i}: {d} = ")?;
            match n {
                ENode::Load(v) => write!(f, "{v}")?,
                ENode::Scalar(x) => write!(f, "{x:?}")?,
                ENode::Iota(axis) => write!(f, "iota {axis}")?,
                ENode::Unary(op, x) => write!(f, "{} %{x}", op.name())?,
                ENode::Binary(op, x, y) => write!(f, "{} %{x} %{y}", op.name())?,
                ENode::Select(c, x, y) => write!(f, "select %{c} %{x} %{y}")?,
                ENode::Cast(x) => write!(f, "cast %{x}")?,
            }
        }
        f.write_str("}")
    }
}

fn buffer(b: &Buffer) -> String {
    let place = match b.storage {
        Storage::Arena => format!("arena @{}", b.offset),
        Storage::Const => format!("const @{} = {:?}", b.offset, b.data),
        Storage::State(s) => format!("state #{}", s.0),
        Storage::Input(i) => format!("input {i}"),
        Storage::Output(i) => format!("output {i}"),
    };
    format!("{}x{} {place}", b.dtype, b.len)
}

fn reduce_name(op: ReduceOp) -> &'static str {
    match op {
        ReduceOp::Sum => "sum",
        ReduceOp::Max => "max",
        ReduceOp::Min => "min",
    }
}

fn dist_name(d: RandomDist) -> &'static str {
    match d {
        RandomDist::Uniform => "uniform",
        RandomDist::Normal => "normal",
    }
}

fn kernels(out: &mut String, ks: &[Kernel], depth: usize) -> fmt::Result {
    let pad = "  ".repeat(depth);
    for (i, k) in ks.iter().enumerate() {
        write!(out, "{pad}{i}: ")?;
        match k {
            Kernel::Map { out: o, expr } => writeln!(out, "map {o} <- {expr}")?,
            Kernel::Reduce {
                op,
                acc,
                acc_whole,
                expr,
                init,
            } => writeln!(
                out,
                "reduce {} {acc_whole} (acc {acc}, init {init:?}) <- {expr}",
                reduce_name(*op)
            )?,
            Kernel::MatMul { a, b, c } => writeln!(out, "matmul {c} <- {a} @ {b}")?,
            Kernel::MatMulPair { first, second } => writeln!(
                out,
                "matmul-pair {} <- {} @ {} | {} <- {} @ {}",
                first[2], first[0], first[1], second[2], second[0], second[1]
            )?,
            Kernel::Take { x, idx, out: o, axis } => writeln!(out, "take {o} <- {x}[{idx}] axis {axis}")?,
            Kernel::ScatterAdd {
                idx,
                upd,
                out: o,
                axis,
            } => writeln!(out, "scatter-add {o}[{idx}] += {upd} axis {axis}")?,
            Kernel::Random {
                key,
                dist,
                stream,
                out: o,
            } => writeln!(
                out,
                "random {o} <- {} key {key} stream {stream}",
                dist_name(*dist)
            )?,
            Kernel::Routine { call, args, out: o } => {
                let def = call.routine.definition();
                let args = args.iter().map(View::to_string).collect::<Vec<_>>().join(", ");
                writeln!(out, "routine {o} <- {}{}({args})", def.name(), def.attrs())?
            }
            Kernel::Scan(s) => {
                let list = |vs: &[View]| vs.iter().map(View::to_string).collect::<Vec<_>>().join(", ");
                writeln!(
                    out,
                    "scan {}{} t b{} carries {:?} inits [{}] new [{}] hist {:?}",
                    s.length,
                    if s.reverse { " reverse" } else { "" },
                    s.t_buf,
                    s.carries,
                    list(&s.inits),
                    list(&s.new_carries),
                    s.hist
                )?;
                kernels(out, &s.body, depth + 2)?;
            }
        }
    }
    Ok(())
}
