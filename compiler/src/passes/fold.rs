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
                Op::Unary(_)
                | Op::Binary(_)
                | Op::Select
                | Op::Cast
                | Op::StopGrad
                | Op::Reduce { .. }
                | Op::MatMul
                | Op::Concat { .. }
                | Op::Slice { .. }
                | Op::Transpose { .. }
                | Op::Take { .. }
                | Op::ScatterAdd { .. }
                | Op::Iota { .. }
                | Op::Routine(_) => {
                    let op = &node.op;
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
                        origin: node.origin,
                    }))
                }
                // Leaves, state, randomness (never constant) and loops: nothing to fold.
                Op::Input { .. }
                | Op::Const { .. }
                | Op::State(_)
                | Op::Assign(_)
                | Op::Random { .. }
                | Op::Scan(_)
                | Op::Project { .. } => None,
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
        let d = g.sub(one, a).unwrap();
        let e = g.neg(d).unwrap();
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

    /// Same value, treating all NaNs as equal.
    fn same(a: f64, b: f64) -> bool {
        a == b || (a.is_nan() && b.is_nan())
    }

    /// Folds `g` and returns the folded output `r` (it must have become a constant).
    fn folded(g: &Graph) -> Vec<f64> {
        let f = fold(g);
        match &f.node(f.find_output("r").unwrap()).op {
            Op::Const { values } => values.clone(),
            other => panic!("not folded: {other:?}"),
        }
    }

    /// The interpreter's value of output `r` of the unfolded graph.
    fn interpreted(g: &Graph) -> Vec<f64> {
        let v: Tensor<f32> = eval(g, &[], &[]).unwrap().outputs.pop().unwrap();
        v.to_f64()
    }

    const XS: [f64; 6] = [0.5, -1.25, 3.0, 0.0, -7.0, 2.0];
    const YS: [f64; 6] = [2.0, 0.75, -2.0, 4.0, 3.0, 0.0];

    #[test]
    fn folded_unary_ops_equal_the_interpreter() {
        use crate::interp::eval_unary;
        use crate::ir::DType;
        for op in UnaryOp::ALL {
            for dtype in [DType::F32, DType::I32, DType::Bool] {
                let mut g = Graph::new();
                let xs: Vec<f64> = match dtype {
                    DType::F32 => XS.to_vec(),
                    DType::I32 => XS.iter().map(|x| x.trunc()).collect(),
                    DType::Bool => XS.iter().map(|x| f64::from(u8::from(*x > 0.0))).collect(),
                };
                let x = g
                    .constant(xs.clone(), TensorType::new(dtype, vec![xs.len()]))
                    .unwrap();
                let Ok(r) = g.unary(op, x) else { continue };
                g.output("r", r);
                let (got, want) = (folded(&g), interpreted(&g));
                for (i, x) in xs.iter().enumerate() {
                    assert!(
                        same(got[i], want[i]),
                        "{op:?} {dtype:?} {x}: {} vs {}",
                        got[i],
                        want[i]
                    );
                    let scalar = match dtype {
                        DType::F32 => f64::from(eval_unary(op, *x as f32)),
                        DType::I32 => unreachable!("no unary primitive is defined on i32"),
                        DType::Bool => f64::from(u8::from(*x == 0.0)),
                    };
                    assert!(
                        same(got[i], scalar),
                        "{op:?} {dtype:?} {x}: {} vs {scalar}",
                        got[i]
                    );
                }
            }
        }
    }

    #[test]
    fn folded_binary_ops_equal_the_interpreter() {
        use crate::interp::{eval_binary, eval_binary_i32, eval_compare, eval_logical};
        use crate::ir::DType;
        for op in BinaryOp::ALL {
            for dtype in [DType::F32, DType::I32, DType::Bool] {
                let conv = |v: &[f64]| -> Vec<f64> {
                    match dtype {
                        DType::F32 => v.to_vec(),
                        DType::I32 => v.iter().map(|x| x.trunc()).collect(),
                        DType::Bool => v.iter().map(|x| f64::from(u8::from(*x > 0.0))).collect(),
                    }
                };
                let (xs, ys) = (conv(&XS), conv(&YS));
                let mut g = Graph::new();
                let ty = TensorType::new(dtype, vec![xs.len()]);
                let x = g.constant(xs.clone(), ty.clone()).unwrap();
                let y = g.constant(ys.clone(), ty).unwrap();
                let Ok(r) = g.binary(op, x, y) else { continue };
                g.output("r", r);
                let (got, want) = (folded(&g), interpreted(&g));
                for (i, (x, y)) in xs.iter().zip(&ys).enumerate() {
                    assert!(
                        same(got[i], want[i]),
                        "{op:?} {dtype:?} {x} {y}: {} vs {}",
                        got[i],
                        want[i]
                    );
                    let flag = |b: bool| f64::from(u8::from(b));
                    let scalar = match dtype {
                        DType::F32 if op.is_comparison() => flag(eval_compare(op, *x as f32, *y as f32)),
                        DType::F32 => f64::from(eval_binary(op, *x as f32, *y as f32)),
                        DType::I32 if op.is_comparison() => flag(eval_compare(op, *x as i32, *y as i32)),
                        DType::I32 => f64::from(eval_binary_i32(op, *x as i32, *y as i32)),
                        DType::Bool => flag(eval_logical(op, *x != 0.0, *y != 0.0)),
                    };
                    assert!(
                        same(got[i], scalar),
                        "{op:?} {dtype:?} {x} {y}: {} vs {scalar}",
                        got[i]
                    );
                }
            }
        }
    }
}
