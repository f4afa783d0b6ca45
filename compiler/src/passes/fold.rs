//! Constant folding: operations whose operands are all constants are evaluated at compile
//! time (in f32, as a backend would) and replaced by constants. Broadcasts and reshapes of a
//! single repeated value stay single values, so folding never blows up a graph.

use crate::interp::{Tensor, eval};
use crate::ir::{Graph, Node, NodeId, Op};

/// Largest folded result stored element by element.
const MAX_FOLDED: usize = 256;

fn splat(op: &Op) -> Option<f64> {
    match op {
        Op::Const { values } if values.len() == 1 => Some(values[0]),
        _ => None,
    }
}

/// Folds constant subexpressions.
pub fn fold(g: &Graph) -> Graph {
    let (out, _) = g.rebuild(
        |_| true,
        |_, node, map, out| {
            let args: Vec<NodeId> = node.args.iter().map(|a| map[a.index()]).collect();
            let all_const =
                !args.is_empty() && args.iter().all(|a| matches!(out.node(*a).op, Op::Const { .. }));
            if !all_const {
                return None;
            }
            match &node.op {
                Op::Broadcast | Op::Reshape => {
                    let v = splat(&out.node(args[0]).op)?;
                    Some(out.fill(v, node.ty.clone()))
                }
                op if op.is_elementwise()
                    || matches!(
                        op,
                        Op::Reduce { .. }
                            | Op::MatMul
                            | Op::Concat { .. }
                            | Op::Slice { .. }
                            | Op::Transpose { .. }
                            | Op::Take { .. }
                            | Op::ScatterAdd { .. }
                            | Op::Iota { .. }
                    ) =>
                {
                    let all_splat = args.iter().all(|a| splat(&out.node(*a).op).is_some());
                    if node.ty.numel() > MAX_FOLDED && !(all_splat && op.is_elementwise()) {
                        return None;
                    }
                    // Evaluate the single node on the interpreter in f32.
                    let mut tiny = Graph::new();
                    let mut targs = Vec::new();
                    for a in &args {
                        let n = out.node(*a).clone();
                        let ty = if all_splat && op.is_elementwise() {
                            n.ty.with_shape(vec![])
                        } else {
                            n.ty.clone()
                        };
                        targs.push(tiny.add(n.op.clone(), &[], ty).ok()?);
                    }
                    let ty = if all_splat && op.is_elementwise() {
                        node.ty.with_shape(vec![])
                    } else {
                        node.ty.clone()
                    };
                    let r = tiny.add(node.op.clone(), &targs, ty).ok()?;
                    tiny.output("r", r);
                    let v: Tensor<f32> = eval(&tiny, &[], &[]).ok()?.outputs.pop()?;
                    let values = v.to_f64();
                    Some(out.add_unchecked(Node {
                        op: Op::Const { values },
                        ty: node.ty.clone(),
                        args: vec![],
                        label: node.label.clone(),
                    }))
                }
                _ => None,
            }
        },
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{BinaryOp, TensorType, UnaryOp};

    #[test]
    fn folds_constant_chains_and_keeps_splats_small() {
        let mut g = Graph::new();
        let x = g.input("x", TensorType::f32(vec![1000]));
        let a = g.scalar(0.99);
        let one = g.scalar(1.0);
        let d = g.binary(BinaryOp::Sub, one, a).unwrap();
        let e = g.unary(UnaryOp::Neg, d).unwrap();
        let b = g.broadcast_to(e, &[1000]).unwrap();
        let y = g.binary(BinaryOp::Mul, x, b).unwrap();
        g.output("y", y);
        let f = crate::passes::dce(&fold(&g));
        crate::ir::verify(&f).unwrap();
        // x, one constant of 1000 splatted, the multiply.
        assert_eq!(f.len(), 3, "{}", crate::ir::print_graph(&f, "f"));
        let c = f.args(f.find_output("y").unwrap())[1];
        match &f.node(c).op {
            Op::Const { values } => assert_eq!(values, &vec![f64::from(-(1.0f32 - 0.99f32))]),
            other => panic!("{other:?}"),
        }
    }
}
