//! Dead-code elimination: keep only nodes an output or a state assignment needs (inputs are
//! always kept: they are the signature). Scan bodies are cleaned too.

use crate::ir::{Graph, Node, Op};

/// Removes dead nodes.
pub fn dce(g: &Graph) -> Graph {
    let live = g.live();
    let (out, _) = g.rebuild(
        |id| live[id.index()],
        |_, node, map, out| match &node.op {
            Op::Scan(s) => {
                let mut s = (**s).clone();
                s.body = dce(&s.body);
                Some(out.add_unchecked(Node {
                    op: Op::Scan(Box::new(s)),
                    ty: node.ty.clone(),
                    args: node.args.iter().map(|a| map[a.index()]).collect(),
                    label: node.label.clone(),
                    origin: node.origin,
                }))
            }
            _ => None,
        },
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{BinaryOp, TensorType, UnaryOp};

    #[test]
    fn removes_unused_nodes_and_keeps_assignments() {
        let mut g = Graph::new();
        let x = g.input("x", TensorType::f32(vec![2]));
        let _unused = g.unary(UnaryOp::Exp, x).unwrap();
        let y = g.binary(BinaryOp::Add, x, x).unwrap();
        g.output("y", y);
        let s = g.state(crate::ir::StateId(0), TensorType::f32(vec![2]));
        let n = g.unary(UnaryOp::Sqrt, s).unwrap();
        g.assign(crate::ir::StateId(0), n).unwrap();
        let d = dce(&g);
        assert_eq!(d.len(), g.len() - 1);
        assert_eq!(d.assigns().len(), 1);
        crate::ir::verify(&d).unwrap();
    }
}
