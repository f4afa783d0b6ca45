//! Step `fuse`: elementwise chains (unary, binary, select, cast, with scalar constants and
//! iotas as leaves) become one loop, and a reduction absorbs the chain that feeds it. A node
//! is fused into its consumer when that consumer is its only user, is itself a loop
//! (elementwise or a reduction) and the node is not a graph output; the consumer's kernel
//! then evaluates the whole tree per element ([`Expr`]) instead of reading a temporary
//! buffer. This is what keeps a 20-op activation or optimiser update one pass over memory.

use super::planner::{Planner, Val};
use super::types::{ENode, Expr, Kernel, PlanError, Storage, View};
use crate::ir::{DType, NodeId, Op, ReduceOp};
use std::collections::HashMap;

/// How a node takes operands fused into it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Fusion {
    /// An elementwise loop: evaluates fused chains and leaves per element.
    Elementwise,
    /// A reduction: its loop evaluates fused chains and leaves per input element.
    Reduce,
    /// A free view of a leaf (broadcast, reshape, `stop_grad`): a scalar stays a scalar.
    LeafView,
    /// Anything else: its operands are materialized buffers.
    Opaque,
}

/// How `op` takes fused operands (every primitive listed, so a new one must be classified).
pub(super) fn fusion(op: &Op) -> Fusion {
    match op {
        Op::Unary(_) | Op::Binary(_) | Op::Select | Op::Cast => Fusion::Elementwise,
        Op::Reduce { .. } => Fusion::Reduce,
        Op::Broadcast | Op::Reshape | Op::StopGrad => Fusion::LeafView,
        Op::Input { .. }
        | Op::Const { .. }
        | Op::Iota { .. }
        | Op::State(_)
        | Op::Assign(_)
        | Op::Random { .. }
        | Op::MatMul
        | Op::Transpose { .. }
        | Op::Concat { .. }
        | Op::Slice { .. }
        | Op::Take { .. }
        | Op::ScatterAdd { .. }
        | Op::Scan(_)
        | Op::Project { .. }
        | Op::Routine(_) => Fusion::Opaque,
    }
}

/// The initial value of a reduction's accumulator.
fn identity(op: ReduceOp, dtype: DType) -> f64 {
    match (op, dtype) {
        (ReduceOp::Sum, _) => 0.0,
        (ReduceOp::Max, DType::I32) => f64::from(i32::MIN),
        (ReduceOp::Min, DType::I32) => f64::from(i32::MAX),
        (ReduceOp::Max, _) => f64::NEG_INFINITY,
        (ReduceOp::Min, _) => f64::INFINITY,
    }
}

impl Planner<'_> {
    /// Whether an elementwise node is fused into its consumer instead of materialized.
    fn inlinable(&self, id: NodeId) -> bool {
        let users = &self.users[id.index()];
        users.len() == 1
            && !self.is_output(id)
            && matches!(
                fusion(&self.g.node(users[0]).op),
                Fusion::Elementwise | Fusion::Reduce
            )
    }

    /// Constants and iotas fuse into any consumer that is a fused loop.
    fn inlinable_leaf(&self, id: NodeId) -> bool {
        !self.is_output(id)
            && self.users[id.index()]
                .iter()
                .all(|u| fusion(&self.g.node(*u).op) != Fusion::Opaque)
    }

    /// A scalar constant: a literal in its consumers' loops, or a filled buffer.
    pub(super) fn fuse_scalar(&mut self, id: NodeId, v: f64) -> Result<Val, PlanError> {
        if self.inlinable_leaf(id) {
            Ok(Val::Scalar(v))
        } else {
            let dtype = self.g.ty(id).dtype;
            self.materialize_expr(
                id,
                Expr {
                    nodes: vec![(ENode::Scalar(v), dtype)],
                },
            )
        }
    }

    /// An iota: the loop index in its consumers' loops, or a filled buffer.
    pub(super) fn fuse_iota(&mut self, id: NodeId, axis: usize) -> Result<Val, PlanError> {
        if self.inlinable_leaf(id) {
            Ok(Val::Inline)
        } else {
            self.materialize_expr(
                id,
                Expr {
                    nodes: vec![(ENode::Iota(axis), DType::I32)],
                },
            )
        }
    }

    /// An elementwise node: fused into its consumer, or the root of a loop of its own.
    pub(super) fn fuse_elementwise(&mut self, id: NodeId) -> Result<Val, PlanError> {
        if self.inlinable(id) {
            Ok(Val::Inline)
        } else {
            let e = self.expr_of(id)?;
            self.materialize_expr(id, e)
        }
    }

    /// A reduction over `axes` of `src`, evaluating `src`'s fused chain inside its loop: the
    /// accumulator is a view over the input shape with stride 0 on the reduced axes.
    pub(super) fn fuse_reduce(&mut self, id: NodeId, op: ReduceOp, axes: &[usize]) -> Result<Val, PlanError> {
        let node = self.g.node(id);
        let ity = self.g.ty(node.args[0]).clone();
        let expr = self.val_as_expr(node.args[0])?;
        let out = self.new_buffer(Storage::Arena, &node.ty);
        let whole = View::whole(out, &node.ty.shape);
        let mut strides = Vec::with_capacity(ity.rank());
        let mut k = 0;
        for i in 0..ity.rank() {
            if axes.contains(&i) {
                strides.push(0);
            } else {
                strides.push(whole.strides[k]);
                k += 1;
            }
        }
        let acc = View {
            buf: out,
            offset: 0,
            shape: ity.shape.clone(),
            strides,
        };
        self.kernels.push(Kernel::Reduce {
            op,
            acc,
            acc_whole: whole.clone(),
            expr,
            init: identity(op, ity.dtype),
        });
        Ok(Val::View(whole))
    }

    /// The fused expression computing node `id` from materialized values.
    pub(super) fn expr_of(&mut self, id: NodeId) -> Result<Expr, PlanError> {
        let mut e = Expr { nodes: Vec::new() };
        let mut memo = HashMap::new();
        self.build(id, &mut e, &mut memo, true)?;
        Ok(e)
    }

    /// Appends node `id` (and, when fused, its operands) to `e`; returns its index in `e`.
    fn build(
        &mut self,
        id: NodeId,
        e: &mut Expr,
        memo: &mut HashMap<NodeId, usize>,
        root: bool,
    ) -> Result<usize, PlanError> {
        if let Some(i) = memo.get(&id) {
            return Ok(*i);
        }
        let node = self.g.node(id).clone();
        let dtype = node.ty.dtype;
        let inline = root || matches!(self.vals.get(id.index()), Some(Val::Inline));
        let en = if !inline {
            self.leaf(id)?
        } else {
            match &node.op {
                Op::Const { values } => ENode::Scalar(values[0]),
                Op::Iota { axis } => ENode::Iota(*axis),
                Op::Unary(u) => ENode::Unary(*u, self.build(node.args[0], e, memo, false)?),
                Op::Binary(b) => {
                    let x = self.build(node.args[0], e, memo, false)?;
                    let y = self.build(node.args[1], e, memo, false)?;
                    ENode::Binary(*b, x, y)
                }
                Op::Select => {
                    let c = self.build(node.args[0], e, memo, false)?;
                    let x = self.build(node.args[1], e, memo, false)?;
                    let y = self.build(node.args[2], e, memo, false)?;
                    ENode::Select(c, x, y)
                }
                Op::Cast => ENode::Cast(self.build(node.args[0], e, memo, false)?),
                Op::Input { .. }
                | Op::State(_)
                | Op::Assign(_)
                | Op::Random { .. }
                | Op::Reduce { .. }
                | Op::MatMul
                | Op::Routine(_)
                | Op::Reshape
                | Op::Transpose { .. }
                | Op::Broadcast
                | Op::Concat { .. }
                | Op::Slice { .. }
                | Op::Take { .. }
                | Op::ScatterAdd { .. }
                | Op::Scan(_)
                | Op::Project { .. }
                | Op::StopGrad => match self.vals[id.index()].clone() {
                    Val::View(v) => ENode::Load(v),
                    Val::Scalar(v) => ENode::Scalar(v),
                    Val::Inline | Val::Scan(_) | Val::None => {
                        return Err(PlanError(format!("cannot fuse {}", node.op.name())));
                    }
                },
            }
        };
        e.nodes.push((en, dtype));
        let i = e.nodes.len() - 1;
        memo.insert(id, i);
        Ok(i)
    }

    /// A materialized operand read by a fused expression.
    fn leaf(&self, id: NodeId) -> Result<ENode, PlanError> {
        match self.vals[id.index()].clone() {
            Val::View(v) => Ok(ENode::Load(v)),
            Val::Scalar(v) => Ok(ENode::Scalar(v)),
            Val::Inline | Val::Scan(_) | Val::None => Err(PlanError("unexpected value in expression".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::assert_plan;
    use super::{Fusion, fusion};
    use crate::ir::{BinaryOp, Graph, Op, TensorType, UnaryOp};

    #[test]
    fn an_elementwise_chain_is_one_loop() {
        let mut g = Graph::new();
        let x = g.input("x", TensorType::f32(vec![4]));
        let a = g.unary(UnaryOp::Exp, x).unwrap();
        let two = g.scalar(2.0);
        let b = g.binary_bcast(BinaryOp::Mul, a, two).unwrap();
        let c = g.unary(UnaryOp::Tanh, b).unwrap();
        g.output("c", c);
        assert_plan(&g, "\
buffers:
  b0 f32x4 input 0
  b1 f32x4 arena @0
  b2 f32x4 output 0
kernels:
  0: map b1@0[4]/[1] <- {%0: f32 = b0@0[4]/[1]; %1: f32 = exp %0; %2: f32 = 2.0; %3: f32 = mul %1 %2; %4: f32 = tanh %3}
  1: map b2@0[4]/[1] <- {%0: f32 = b1@0[4]/[1]}
arena: 64 bytes
");
    }

    #[test]
    fn a_value_used_twice_is_materialized_once() {
        let mut g = Graph::new();
        let x = g.input("x", TensorType::f32(vec![4]));
        let a = g.unary(UnaryOp::Exp, x).unwrap();
        let b = g.unary(UnaryOp::Sqrt, a).unwrap();
        let c = g.unary(UnaryOp::Sin, a).unwrap();
        let d = g.binary(BinaryOp::Add, b, c).unwrap();
        g.output("d", d);
        assert_plan(
            &g,
            "\
buffers:
  b0 f32x4 input 0
  b1 f32x4 arena @0
  b2 f32x4 arena @64
  b3 f32x4 output 0
kernels:
  0: map b1@0[4]/[1] <- {%0: f32 = b0@0[4]/[1]; %1: f32 = exp %0}
  1: map b2@0[4]/[1] <- {%0: f32 = b1@0[4]/[1]; %1: f32 = sqrt %0; %2: f32 = sin %0; %3: f32 = add %1 %2}
  2: map b3@0[4]/[1] <- {%0: f32 = b2@0[4]/[1]}
arena: 128 bytes
",
        );
    }

    #[test]
    fn a_reduction_evaluates_the_chain_feeding_it() {
        let mut g = Graph::new();
        let x = g.input("x", TensorType::f32(vec![2, 3]));
        let e = g.unary(UnaryOp::Exp, x).unwrap();
        let s = g.sum(e, &[1]).unwrap();
        g.output("s", s);
        assert_plan(&g, "\
buffers:
  b0 f32x6 input 0
  b1 f32x2 arena @0
  b2 f32x2 output 0
kernels:
  0: reduce sum b1@0[2]/[1] (acc b1@0[2, 3]/[1, 0], init 0.0) <- {%0: f32 = b0@0[2, 3]/[3, 1]; %1: f32 = exp %0}
  1: map b2@0[2]/[1] <- {%0: f32 = b1@0[2]/[1]}
arena: 64 bytes
");
    }

    #[test]
    fn only_loops_take_fused_operands() {
        assert_eq!(fusion(&Op::Unary(UnaryOp::Exp)), Fusion::Elementwise);
        assert_eq!(fusion(&Op::Cast), Fusion::Elementwise);
        assert_eq!(fusion(&Op::StopGrad), Fusion::LeafView);
        assert_eq!(fusion(&Op::MatMul), Fusion::Opaque);
        assert_eq!(fusion(&Op::Transpose { perm: vec![1, 0] }), Fusion::Opaque);
    }
}
