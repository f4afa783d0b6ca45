//! Integer range analysis: the values an `i32` node can take. Indexing uses it to prove a
//! computed index in bounds (or to show it is not) before any code runs — e.g. `values[t + 1]`
//! in a scan over `t in 0..T` needs `T + 1` values.

use super::graph::{Graph, NodeId};
use super::op::{BinaryOp, Op};
use super::types::DType;

/// How deep an index expression is followed; beyond it nothing is claimed.
const MAX_DEPTH: usize = 64;

/// The closed range `[lo, hi]` that every element of node `id` lies in, when it follows from
/// integer constants, iotas, the `known` ranges of some nodes (a scan's step counter) and
/// `+`, `*`, `max`, `select` (so `-`, `min` and `clip`, which are built from them), broadcasts,
/// reshapes and slices of them. `None` when it depends on data, or could leave the `i32` range (where
/// the arithmetic wraps).
pub fn int_range(g: &Graph, id: NodeId, known: &dyn Fn(NodeId) -> Option<(i64, i64)>) -> Option<(i64, i64)> {
    range(g, id, known, 0)
}

fn range(
    g: &Graph,
    id: NodeId,
    known: &dyn Fn(NodeId) -> Option<(i64, i64)>,
    depth: usize,
) -> Option<(i64, i64)> {
    if depth > MAX_DEPTH || g.ty(id).dtype != DType::I32 {
        return None;
    }
    if let Some(r) = known(id) {
        return Some(r);
    }
    let node = g.node(id);
    let arg = |k: usize| range(g, node.args[k], known, depth + 1);
    let r = match &node.op {
        Op::Const { values } => {
            let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (lo.is_finite() && hi.is_finite()).then_some((lo as i64, hi as i64))?
        }
        Op::Iota { axis } => (0, g.ty(id).shape[*axis] as i64 - 1),
        Op::Broadcast | Op::Reshape | Op::Slice { .. } | Op::Transpose { .. } => arg(0)?,
        Op::Binary(BinaryOp::Add) => {
            let (a, b) = (arg(0)?, arg(1)?);
            (a.0 + b.0, a.1 + b.1)
        }
        Op::Binary(BinaryOp::Mul) => {
            let (a, b) = (arg(0)?, arg(1)?);
            let p = [a.0 * b.0, a.0 * b.1, a.1 * b.0, a.1 * b.1];
            (*p.iter().min()?, *p.iter().max()?)
        }
        Op::Binary(BinaryOp::Max) => {
            let (a, b) = (arg(0)?, arg(1)?);
            (a.0.max(b.0), a.1.max(b.1))
        }
        Op::Select => {
            let (a, b) = (arg(1)?, arg(2)?);
            let (x, y) = (node.args[1], node.args[2]);
            let cond = g.node(node.args[0]);
            match (&cond.op, cond.args.as_slice()) {
                // select(p < q, p, q) is min(p, q) (how `min` and `clip` are built for i32).
                (Op::Binary(BinaryOp::Lt), [p, q]) if (*p, *q) == (x, y) => (a.0.min(b.0), a.1.min(b.1)),
                // select(p < q, q, p) is max(p, q).
                (Op::Binary(BinaryOp::Lt), [p, q]) if (*p, *q) == (y, x) => (a.0.max(b.0), a.1.max(b.1)),
                // Any other condition: either side.
                _ => (a.0.min(b.0), a.1.max(b.1)),
            }
        }
        _ => return None,
    };
    // Operands are within i32, so these products and sums cannot overflow i64; a result
    // outside i32 would have wrapped at run time: claim nothing.
    let fits = |v: i64| i32::try_from(v).is_ok();
    (fits(r.0) && fits(r.1)).then_some(r)
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
        let known = |id: NodeId| (id == t).then_some((0, 2));
        let one = int(&mut g, 1.0);
        let t1 = g.binary(BinaryOp::Add, t, one).unwrap();
        assert_eq!(int_range(&g, t1, &known), Some((1, 3)));
        // len - 1 - t, written as the builder writes subtraction.
        let two = int(&mut g, 2.0);
        let nt = g.neg(t).unwrap();
        let rev = g.binary(BinaryOp::Add, two, nt).unwrap();
        assert_eq!(int_range(&g, rev, &known), Some((0, 2)));
        // min(t + 1, 2) = clipped: in range again.
        let m = g.min(t1, two).unwrap();
        assert_eq!(int_range(&g, m, &known), Some((1, 2)));
        // Data: unknown.
        let x = g.input("x", TensorType::scalar(DType::I32));
        let tx = g.binary(BinaryOp::Add, t, x).unwrap();
        assert_eq!(int_range(&g, tx, &known), None);
        // Could wrap: no claim.
        let big = int(&mut g, 2147483647.0);
        let wraps = g.binary(BinaryOp::Add, t1, big).unwrap();
        assert_eq!(int_range(&g, wraps, &known), None);
    }
}
