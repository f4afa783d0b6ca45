//! One vector-Jacobian rule per primitive, written with primitives and the exact composites of
//! [`crate::ir`]'s `compose` (negation, subtraction, comparisons).

use crate::ir::{BinaryOp, DType, Graph, IrError, NodeId, Op, ReduceOp, TensorType, UnaryOp};

/// Operand positions through which gradients flow for an op with `n` operands.
pub(crate) fn differentiable_operands(op: &Op, n: usize) -> Vec<usize> {
    match op {
        Op::Unary(UnaryOp::Floor | UnaryOp::Not) => vec![],
        Op::Unary(_) => vec![0],
        Op::Binary(b) if b.is_comparison() || b.is_logical() => vec![],
        Op::Binary(_) => vec![0, 1],
        Op::Select => vec![1, 2],
        Op::Reduce { .. } | Op::Reshape | Op::Transpose { .. } | Op::Broadcast | Op::Slice { .. } => vec![0],
        Op::MatMul => vec![0, 1],
        Op::Concat { .. } => (0..n).collect(),
        Op::Take { .. } => vec![0],
        Op::ScatterAdd { .. } => vec![0, 2],
        Op::Scan(_) | Op::Project { .. } => (0..n).collect(),
        Op::Routine(r) => r.definition().differentiable(n),
        Op::Input { .. }
        | Op::Const { .. }
        | Op::Iota { .. }
        | Op::State(_)
        | Op::Assign(_)
        | Op::Random { .. }
        | Op::Cast
        | Op::StopGrad => vec![],
    }
}

/// Contributions `(operand position, cotangent)` of node `id` given its cotangent `g`.
pub(crate) fn vjp_rule(gr: &mut Graph, id: NodeId, g: NodeId) -> Result<Vec<(usize, NodeId)>, IrError> {
    let node = gr.node(id).clone();
    let a = &node.args;
    let y = id;
    use BinaryOp::*;
    let out = match &node.op {
        Op::Unary(u) => {
            let x = a[0];
            let d = match u {
                UnaryOp::Exp => gr.binary(Mul, g, y)?,
                UnaryOp::Log => gr.binary(Div, g, x)?,
                UnaryOp::Tanh => {
                    let yy = gr.binary(Mul, y, y)?;
                    let one = fill_like(gr, 1.0, y);
                    let d = gr.sub(one, yy)?;
                    gr.binary(Mul, g, d)?
                }
                UnaryOp::Sqrt => {
                    let two = fill_like(gr, 2.0, y);
                    let den = gr.binary(Mul, two, y)?;
                    gr.binary(Div, g, den)?
                }
                UnaryOp::Sin => {
                    let c = gr.unary(UnaryOp::Cos, x)?;
                    gr.binary(Mul, g, c)?
                }
                UnaryOp::Cos => {
                    let s = gr.unary(UnaryOp::Sin, x)?;
                    let gs = gr.binary(Mul, g, s)?;
                    gr.neg(gs)?
                }
                UnaryOp::Recip => {
                    let yy = gr.binary(Mul, y, y)?;
                    let gyy = gr.binary(Mul, g, yy)?;
                    gr.neg(gyy)?
                }
                UnaryOp::Floor | UnaryOp::Not => return Ok(vec![]),
            };
            vec![(0, d)]
        }
        Op::Binary(b) => {
            let (l, r) = (a[0], a[1]);
            match b {
                Add => vec![(0, g), (1, g)],
                Mul => vec![(0, gr.binary(Mul, g, r)?), (1, gr.binary(Mul, g, l)?)],
                Div => {
                    let dl = gr.binary(Div, g, r)?;
                    let gy = gr.binary(Mul, g, y)?;
                    let q = gr.binary(Div, gy, r)?;
                    vec![(0, dl), (1, gr.neg(q)?)]
                }
                Pow => {
                    // d/dl = g * r * l^(r-1); d/dr = g * y * log(l) (0 where l == 0, as in JAX).
                    let one = fill_like(gr, 1.0, r);
                    let rm1 = gr.sub(r, one)?;
                    let p = gr.binary(Pow, l, rm1)?;
                    let rp = gr.binary(Mul, r, p)?;
                    let dl = gr.binary(Mul, g, rp)?;
                    let zero = fill_like(gr, 0.0, l);
                    let is0 = gr.binary(Eq, l, zero)?;
                    let one_l = fill_like(gr, 1.0, l);
                    let safe = gr.select(is0, one_l, l)?;
                    let lg = gr.unary(UnaryOp::Log, safe)?;
                    let gy = gr.binary(Mul, g, y)?;
                    let dr = gr.binary(Mul, gy, lg)?;
                    vec![(0, dl), (1, dr)]
                }
                Rem => {
                    // a - floor(a/b)*b: d/da = 1, d/db = -floor(a/b).
                    let q = gr.binary(Div, l, r)?;
                    let f = gr.unary(UnaryOp::Floor, q)?;
                    let gf = gr.binary(Mul, g, f)?;
                    vec![(0, g), (1, gr.neg(gf)?)]
                }
                Max => {
                    // The gradient goes to the chosen operand (the left one on ties).
                    let pick_left = gr.ge(l, r)?;
                    let z = fill_like(gr, 0.0, g);
                    vec![(0, gr.select(pick_left, g, z)?), (1, gr.select(pick_left, z, g)?)]
                }
                Lt | Eq | And | Or => vec![],
            }
        }
        Op::Select => {
            let z = fill_like(gr, 0.0, g);
            vec![(1, gr.select(a[0], g, z)?), (2, gr.select(a[0], z, g)?)]
        }
        Op::Reduce { op, axes } => {
            let x = a[0];
            let xs = gr.ty(x).shape.clone();
            let keep = keepdims_shape(&xs, axes);
            let gk = gr.reshape(g, &keep)?;
            match op {
                ReduceOp::Sum => vec![(0, gr.broadcast_to(gk, &xs)?)],
                ReduceOp::Max | ReduceOp::Min => {
                    // Split evenly between the positions that attain the extremum.
                    let yk = gr.reshape(y, &keep)?;
                    let yb = gr.broadcast_to(yk, &xs)?;
                    let mask = gr.binary(Eq, x, yb)?;
                    let mf = gr.cast(mask, DType::F32)?;
                    let cnt = gr.sum(mf, axes)?;
                    let share = gr.binary(Div, g, cnt)?;
                    let sk = gr.reshape(share, &keep)?;
                    let sb = gr.broadcast_to(sk, &xs)?;
                    let z = fill_like(gr, 0.0, x);
                    vec![(0, gr.select(mask, sb, z)?)]
                }
            }
        }
        Op::MatMul => {
            let bt = gr.t(a[1])?;
            let at = gr.t(a[0])?;
            vec![(0, gr.matmul(g, bt)?), (1, gr.matmul(at, g)?)]
        }
        Op::Reshape => {
            let s = gr.ty(a[0]).shape.clone();
            vec![(0, gr.reshape(g, &s)?)]
        }
        Op::Transpose { perm } => {
            let mut inv = vec![0; perm.len()];
            for (i, p) in perm.iter().enumerate() {
                inv[*p] = i;
            }
            vec![(0, gr.transpose(g, &inv)?)]
        }
        Op::Broadcast => {
            let xs = gr.ty(a[0]).shape.clone();
            let ys = node.ty.shape.clone();
            let off = ys.len() - xs.len();
            let axes: Vec<usize> = (0..ys.len())
                .filter(|i| *i < off || (xs[*i - off] == 1 && ys[*i] != 1))
                .collect();
            let s = gr.sum(g, &axes)?;
            vec![(0, gr.reshape(s, &xs)?)]
        }
        Op::Concat { axis } => {
            let mut start = 0;
            let mut v = Vec::new();
            for (i, x) in a.iter().enumerate() {
                let len = gr.ty(*x).shape[*axis];
                v.push((i, gr.slice(g, *axis, start, start + len)?));
                start += len;
            }
            v
        }
        Op::Slice { axis, start, end } => {
            let xt = gr.ty(a[0]).clone();
            let mut parts = Vec::new();
            if *start > 0 {
                let mut s = xt.shape.clone();
                s[*axis] = *start;
                parts.push(gr.zeros(xt.with_shape(s)));
            }
            parts.push(g);
            if *end < xt.shape[*axis] {
                let mut s = xt.shape.clone();
                s[*axis] = xt.shape[*axis] - end;
                parts.push(gr.zeros(xt.with_shape(s)));
            }
            vec![(0, gr.concat(&parts, *axis)?)]
        }
        Op::Take { axis } => {
            let xt = gr.ty(a[0]).clone();
            let z = gr.zeros(xt);
            vec![(0, gr.scatter_add(z, a[1], g, *axis)?)]
        }
        Op::ScatterAdd { axis } => vec![(0, g), (2, gr.take(g, a[1], *axis)?)],
        Op::Input { .. }
        | Op::Const { .. }
        | Op::Iota { .. }
        | Op::State(_)
        | Op::Assign(_)
        | Op::Random { .. }
        | Op::Cast
        | Op::StopGrad => vec![],
        Op::Routine(r) => r.definition().vjp(gr, a, y, g)?,
        Op::Scan(_) | Op::Project { .. } => unreachable!("scans are handled by scan_vjp"),
    };
    Ok(out)
}

/// A constant with the type of `like`.
pub(crate) fn fill_like(gr: &mut Graph, v: f64, like: NodeId) -> NodeId {
    let ty: TensorType = gr.ty(like).clone();
    gr.fill(v, ty)
}

/// The shape with reduced axes kept as size 1.
pub(crate) fn keepdims_shape(shape: &[usize], axes: &[usize]) -> Vec<usize> {
    shape
        .iter()
        .enumerate()
        .map(|(i, d)| if axes.contains(&i) { 1 } else { *d })
        .collect()
}
