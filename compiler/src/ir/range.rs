//! Integer range analysis: the values an `i32` node can take. Indexing uses it to prove a
//! computed index in bounds (or to show it is not) before any code runs — e.g. `values[t + 1]`
//! in a scan over `t in 0..T` needs `T + 1` values.

use super::graph::{Graph, NodeId};
use super::op::{BinaryOp, Op, ReduceOp};
use super::routine::Routine;
use super::types::DType;

/// How deep an index expression is followed; beyond it the value counts as data.
const MAX_DEPTH: usize = 64;

/// What the program says about the values of an `i32` node: every element lies in
/// `lo..=hi`. `from_data` when the bound involves values only known at run time (inputs,
/// conversions of floats, anything not followed): then `lo..=hi` is only what the operations
/// around the data guarantee (`clip(i32(x), 0, 3)` gives `0..=3`), and the whole `i32` range
/// when nothing does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IntRange {
    /// Smallest possible value.
    pub lo: i64,
    /// Largest possible value.
    pub hi: i64,
    /// Whether data the program does not determine went into it.
    pub from_data: bool,
}

impl IntRange {
    /// A range that follows from the program alone.
    pub fn exact(lo: i64, hi: i64) -> IntRange {
        IntRange {
            lo,
            hi,
            from_data: false,
        }
    }

    /// Any `i32`: data nothing bounds.
    pub fn data() -> IntRange {
        IntRange {
            lo: i64::from(i32::MIN),
            hi: i64::from(i32::MAX),
            from_data: true,
        }
    }

    fn with(lo: i64, hi: i64, a: IntRange, b: IntRange) -> IntRange {
        IntRange {
            lo,
            hi,
            from_data: a.from_data || b.from_data,
        }
    }
}

/// The values an `i32` node can take (`None` for other types), following integer constants,
/// iotas, the `known` ranges of some nodes (a scan's step counter, the discrete actions a data
/// source holds), `+`, `*`, `max`, `select` (so `-`, `min` and `clip`, which are built from
/// them), `max`/`min` reductions, gathers, joins, broadcasts, reshapes and slices, conversions
/// of booleans, and the positions an argsort produces. Anything else is data; a result that
/// could leave the `i32` range (where the arithmetic wraps) is data too.
pub fn int_range(g: &Graph, id: NodeId, known: &dyn Fn(NodeId) -> Option<IntRange>) -> Option<IntRange> {
    (g.ty(id).dtype == DType::I32).then(|| range(g, id, known, 0))
}

fn range(g: &Graph, id: NodeId, known: &dyn Fn(NodeId) -> Option<IntRange>, depth: usize) -> IntRange {
    if depth > MAX_DEPTH || g.ty(id).dtype != DType::I32 {
        return IntRange::data();
    }
    if let Some(r) = known(id) {
        return r;
    }
    let node = g.node(id);
    let arg = |k: usize| range(g, node.args[k], known, depth + 1);
    let r = match &node.op {
        Op::Const { values } => {
            let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            if !(lo.is_finite() && hi.is_finite()) {
                return IntRange::data();
            }
            IntRange::exact(lo as i64, hi as i64)
        }
        Op::Iota { axis } => IntRange::exact(0, g.ty(id).shape[*axis] as i64 - 1),
        // Layout, gathers and extremes only move values: the operand's range holds.
        Op::Broadcast
        | Op::Reshape
        | Op::Slice { .. }
        | Op::Transpose { .. }
        | Op::Take { .. }
        | Op::StopGrad
        | Op::Reduce {
            op: ReduceOp::Max | ReduceOp::Min,
            ..
        } => arg(0),
        Op::Concat { .. } => (1..node.args.len()).fold(arg(0), |r, k| {
            let b = arg(k);
            IntRange::with(r.lo.min(b.lo), r.hi.max(b.hi), r, b)
        }),
        // Positions along the sorted axis.
        Op::Routine(Routine::Argsort(a)) => IntRange::exact(0, g.ty(node.args[0]).shape[a.axis] as i64 - 1),
        Op::Cast if g.ty(node.args[0]).dtype == DType::Bool => IntRange::exact(0, 1),
        Op::Binary(BinaryOp::Add) => {
            let (a, b) = (arg(0), arg(1));
            IntRange::with(a.lo + b.lo, a.hi + b.hi, a, b)
        }
        Op::Binary(BinaryOp::Mul) => {
            let (a, b) = (arg(0), arg(1));
            let p = [a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi];
            let (lo, hi) = (p.iter().copied().min(), p.iter().copied().max());
            IntRange::with(lo.unwrap_or(0), hi.unwrap_or(0), a, b)
        }
        Op::Binary(BinaryOp::Max) => {
            let (a, b) = (arg(0), arg(1));
            IntRange::with(a.lo.max(b.lo), a.hi.max(b.hi), a, b)
        }
        Op::Select => {
            let (a, b) = (arg(1), arg(2));
            let (x, y) = (node.args[1], node.args[2]);
            let cond = g.node(node.args[0]);
            match (&cond.op, cond.args.as_slice()) {
                // select(p < q, p, q) is min(p, q) (how `min` and `clip` are built for i32).
                (Op::Binary(BinaryOp::Lt), [p, q]) if (*p, *q) == (x, y) => {
                    IntRange::with(a.lo.min(b.lo), a.hi.min(b.hi), a, b)
                }
                // select(p < q, q, p) is max(p, q).
                (Op::Binary(BinaryOp::Lt), [p, q]) if (*p, *q) == (y, x) => {
                    IntRange::with(a.lo.max(b.lo), a.hi.max(b.hi), a, b)
                }
                // Any other condition: either side.
                _ => IntRange::with(a.lo.min(b.lo), a.hi.max(b.hi), a, b),
            }
        }
        _ => return IntRange::data(),
    };
    // Operands are within i32, so these products and sums cannot overflow i64; a result
    // outside i32 would have wrapped at run time: it is data.
    let fits = |v: i64| i32::try_from(v).is_ok();
    if fits(r.lo) && fits(r.hi) {
        r
    } else {
        IntRange::data()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::TensorType;

    fn int(g: &mut Graph, v: f64) -> NodeId {
        g.fill(v, TensorType::scalar(DType::I32))
    }

    #[test]
    fn ranges_follow_affine_expressions_of_a_counter() {
        let mut g = Graph::new();
        let t = g.input("t", TensorType::scalar(DType::I32));
        let known = |id: NodeId| (id == t).then_some(IntRange::exact(0, 2));
        let one = int(&mut g, 1.0);
        let t1 = g.binary(BinaryOp::Add, t, one).unwrap();
        assert_eq!(int_range(&g, t1, &known), Some(IntRange::exact(1, 3)));
        // len - 1 - t, written as the builder writes subtraction.
        let two = int(&mut g, 2.0);
        let nt = g.neg(t).unwrap();
        let rev = g.binary(BinaryOp::Add, two, nt).unwrap();
        assert_eq!(int_range(&g, rev, &known), Some(IntRange::exact(0, 2)));
        // min(t + 1, 2) = clipped: in range again.
        let m = g.min(t1, two).unwrap();
        assert_eq!(int_range(&g, m, &known), Some(IntRange::exact(1, 2)));
        // Data: anything, unless clipped.
        let x = g.input("x", TensorType::scalar(DType::I32));
        let tx = g.binary(BinaryOp::Add, t, x).unwrap();
        assert_eq!(int_range(&g, tx, &known), Some(IntRange::data()));
        let zero = int(&mut g, 0.0);
        let lo = g.binary(BinaryOp::Max, x, zero).unwrap();
        let clipped = g.min(lo, two).unwrap();
        let r = int_range(&g, clipped, &known).unwrap();
        assert_eq!((r.lo, r.hi, r.from_data), (0, 2, true));
        // Could wrap: data.
        let big = int(&mut g, 2147483647.0);
        let wraps = g.binary(BinaryOp::Add, t1, big).unwrap();
        assert_eq!(int_range(&g, wraps, &known), Some(IntRange::data()));
        // Floats have no integer range.
        let f = g.input("f", TensorType::scalar(DType::F32));
        assert_eq!(int_range(&g, f, &known), None);
    }
}
