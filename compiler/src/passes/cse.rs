//! Common-subexpression elimination: two nodes with the same operation, type and operands
//! compute the same value (random nodes included: same key and stream, same numbers), so
//! the later one is replaced by the earlier.

use crate::ir::{Graph, NodeId, Op};
use std::collections::HashMap;

/// Merges duplicate nodes.
pub fn cse(g: &Graph) -> Graph {
    // Bucket by (op name, operands); compare ops fully within a bucket.
    let mut seen: HashMap<(String, Vec<NodeId>), Vec<NodeId>> = HashMap::new();
    let (out, _) = g.rebuild(
        |_| true,
        |_, node, map, out| {
            if matches!(node.op, Op::Input { .. } | Op::Assign(_)) {
                return None;
            }
            let args: Vec<NodeId> = node.args.iter().map(|a| map[a.index()]).collect();
            let key = (node.op.name(), args);
            let bucket = seen.entry(key).or_default();
            for cand in bucket.iter() {
                let c = out.node(*cand);
                if c.op == node.op && c.ty == node.ty {
                    return Some(*cand);
                }
            }
            // Not seen: copy it (done by `rebuild`), remembering the new id afterwards.
            let id = out.add_unchecked(crate::ir::Node {
                op: node.op.clone(),
                ty: node.ty.clone(),
                args: node.args.iter().map(|a| map[a.index()]).collect(),
                label: node.label.clone(),
                origin: node.origin,
            });
            bucket.push(id);
            Some(id)
        },
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{BinaryOp, TensorType, UnaryOp};

    #[test]
    fn merges_duplicates() {
        let mut g = Graph::new();
        let x = g.input("x", TensorType::f32(vec![2]));
        let a = g.unary(UnaryOp::Exp, x).unwrap();
        let b = g.unary(UnaryOp::Exp, x).unwrap();
        let c = g.binary(BinaryOp::Add, a, b).unwrap();
        let one = g.scalar(1.0);
        let one2 = g.scalar(1.0);
        let two = g.scalar(2.0);
        let s = g.binary(BinaryOp::Add, one, one2).unwrap();
        let s2 = g.binary(BinaryOp::Add, s, two).unwrap();
        g.output("c", c);
        g.output("s", s2);
        let o = cse(&g);
        crate::ir::verify(&o).unwrap();
        let exps = o.count(|op| matches!(op, Op::Unary(UnaryOp::Exp)));
        assert_eq!(exps, 1);
        assert_eq!(
            o.count(|op| matches!(op, Op::Const { values } if values == &vec![1.0])),
            1
        );
    }
}
