//! Where gradients flow: the one rule autodiff uses to decide what to differentiate, public
//! so tools (the REPL's `:grad`) report exactly what [`super::grad`] computes.

use super::rules;
use crate::ir::{DType, Graph, NodeId, Op};

/// The operand positions of node `id` that its cotangent flows to. Nothing flows out of a
/// non-float node (comparisons, casts to integers) nor into a non-float operand; within float
/// nodes, `stop`, `floor`, casts, selection conditions and gather/scatter indices block it.
/// A scan passes cotangents to every float operand (its projections carry its outputs' ones).
pub fn gradient_operands(g: &Graph, id: NodeId) -> Vec<usize> {
    let node = g.node(id);
    let positions = match &node.op {
        Op::Scan(_) => (0..node.args.len()).collect(),
        _ if node.ty.dtype != DType::F32 => Vec::new(),
        op => rules::differentiable_operands(op, node.args.len()),
    };
    positions
        .into_iter()
        .filter(|p| carries_gradient(g, node.args[*p]))
        .collect()
}

/// Which nodes the gradients of `outputs` flow to (indexed by node): the outputs themselves
/// when float, and every operand [`gradient_operands`] names of a node they flow to. A node
/// not marked gets no gradient from [`super::grad`] / [`super::vjp`] (`None`); a marked one
/// gets one (zero where a scan's body blocks it inside).
pub fn gradient_reach(g: &Graph, outputs: &[NodeId]) -> Vec<bool> {
    let mut reached = vec![false; g.len()];
    let mut stack: Vec<NodeId> = outputs
        .iter()
        .copied()
        .filter(|o| g.ty(*o).dtype == DType::F32)
        .collect();
    while let Some(n) = stack.pop() {
        if std::mem::replace(&mut reached[n.index()], true) {
            continue;
        }
        let args = g.args(n);
        stack.extend(gradient_operands(g, n).into_iter().map(|p| args[p]));
    }
    reached
}

/// Whether a cotangent can be held by `id`: float values, and scans (whose projections are).
fn carries_gradient(g: &Graph, id: NodeId) -> bool {
    matches!(g.node(id).op, Op::Scan(_)) || g.ty(id).dtype == DType::F32
}
