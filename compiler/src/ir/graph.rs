//! The graph container and typed constructors for every primitive.

use super::op::take_shape;
use super::op::{BinaryOp, Op, RandomDist, ReduceOp, Scan, UnaryOp};
use super::state::StateId;
use super::types::{DType, TensorType, broadcast_shapes};
use crate::diag::Span;
use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use std::fmt;

/// A node's index in its graph.
pub type NodeId = NodeIndex<u32>;

/// Where in the source a node comes from: the innermost expression being lowered when it was
/// built, or, for a node of a backward pass, the expression whose gradient it computes. Used to
/// point at the source when a value goes wrong at run time (`rlc run --debug-nans`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The expression.
    pub span: Span,
    /// True for nodes computing the gradient of that expression.
    pub gradient: bool,
}

/// One operation with its operands and result type.
#[derive(Clone, Debug)]
pub struct Node {
    /// The operation.
    pub op: Op,
    /// Result type (for scans, a placeholder: read outputs with `Project`).
    pub ty: TensorType,
    /// Operands in order (each an earlier node).
    pub args: Vec<NodeId>,
    /// Source-level name for dumps (a `let` name, a parameter path).
    pub label: Option<String>,
    /// Where in the source the node comes from, when known.
    pub origin: Option<Origin>,
}

/// Nodes are equal when they compute the same thing: where they came from is provenance, not
/// meaning (the same graph traced from two files is the same graph).
impl PartialEq for Node {
    fn eq(&self, other: &Node) -> bool {
        self.op == other.op && self.ty == other.ty && self.args == other.args && self.label == other.label
    }
}

/// An internal error: an operation built with operands that do not fit. The checker reports
/// user errors before building nodes, so this signals a compiler bug.
#[derive(Clone, Debug, PartialEq)]
pub struct IrError(pub String);

impl fmt::Display for IrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "internal IR error: {}", self.0)
    }
}

impl std::error::Error for IrError {}

type Res = Result<NodeId, IrError>;

/// A dataflow graph: nodes in topological (index) order, named inputs and outputs.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    g: DiGraph<Node, u16>,
    /// The `Input` nodes, in signature order.
    pub inputs: Vec<NodeId>,
    /// Named results, in order.
    pub outputs: Vec<(String, NodeId)>,
    /// The origin given to nodes added from now on.
    origin: Option<Origin>,
}

impl PartialEq for Graph {
    fn eq(&self, other: &Graph) -> bool {
        self.inputs == other.inputs
            && self.outputs == other.outputs
            && self.g.node_count() == other.g.node_count()
            && self
                .g
                .node_weights()
                .zip(other.g.node_weights())
                .all(|(a, b)| a == b)
    }
}

impl Graph {
    /// An empty graph.
    pub fn new() -> Graph {
        Graph::default()
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.g.node_count()
    }

    /// True if the graph has no nodes.
    pub fn is_empty(&self) -> bool {
        self.g.node_count() == 0
    }

    /// The node with this id.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.g[id]
    }

    /// Result type of a node.
    pub fn ty(&self, id: NodeId) -> &TensorType {
        &self.g[id].ty
    }

    /// Operands of a node.
    pub fn args(&self, id: NodeId) -> &[NodeId] {
        &self.g[id].args
    }

    /// Node ids in topological order.
    pub fn ids(&self) -> impl DoubleEndedIterator<Item = NodeId> + ExactSizeIterator + use<> {
        (0..self.g.node_count()).map(NodeIndex::new)
    }

    /// The nodes that use `id`, with the operand position, in no particular order.
    pub fn users(&self, id: NodeId) -> impl Iterator<Item = (NodeId, usize)> + '_ {
        self.g
            .edges_directed(id, Direction::Outgoing)
            .map(|e| (e.target(), *e.weight() as usize))
    }

    /// The underlying petgraph graph (edges point from operand to user; weight = position).
    pub fn petgraph(&self) -> &DiGraph<Node, u16> {
        &self.g
    }

    /// Sets the origin of the nodes added from now on; returns the previous one (to restore).
    pub fn set_origin(&mut self, origin: Option<Origin>) -> Option<Origin> {
        std::mem::replace(&mut self.origin, origin)
    }

    /// Sets the dump label of a node.
    pub fn set_label(&mut self, id: NodeId, label: impl Into<String>) {
        self.g[id].label = Some(label.into());
    }

    /// Adds a node after checking its typing rule.
    pub fn add(&mut self, op: Op, args: &[NodeId], ty: TensorType) -> Res {
        for a in args {
            if a.index() >= self.g.node_count() {
                return Err(IrError(format!(
                    "{}: operand %{} does not exist",
                    op.name(),
                    a.index()
                )));
            }
        }
        {
            let tys: Vec<&TensorType> = args.iter().map(|a| &self.g[*a].ty).collect();
            let ops: Vec<&Op> = args.iter().map(|a| &self.g[*a].op).collect();
            op.check(&tys, &ty, &ops).map_err(IrError)?;
        }
        let id = self.g.add_node(Node {
            op,
            ty,
            args: args.to_vec(),
            label: None,
            origin: self.origin,
        });
        for (i, a) in args.iter().enumerate() {
            self.g.add_edge(*a, id, i as u16);
        }
        Ok(id)
    }

    /// Adds a node without checking (for passes that copy already checked nodes).
    pub(crate) fn add_unchecked(&mut self, node: Node) -> NodeId {
        let args = node.args.clone();
        let id = self.g.add_node(node);
        for (i, a) in args.iter().enumerate() {
            self.g.add_edge(*a, id, i as u16);
        }
        id
    }

    // ---------------------------------------------------------------- leaves

    /// A named input.
    pub fn input(&mut self, name: impl Into<String>, ty: TensorType) -> NodeId {
        let id = self.g.add_node(Node {
            op: Op::Input { name: name.into() },
            ty,
            args: vec![],
            label: None,
            origin: self.origin,
        });
        self.inputs.push(id);
        id
    }

    /// A tensor filled with one value.
    pub fn fill(&mut self, value: f64, ty: TensorType) -> NodeId {
        self.add(Op::Const { values: vec![value] }, &[], ty)
            .expect("constants always type-check")
    }

    /// An f32 scalar constant.
    pub fn scalar(&mut self, value: f64) -> NodeId {
        self.fill(value, TensorType::f32(vec![]))
    }

    /// A constant with explicit values (row-major).
    pub fn constant(&mut self, values: Vec<f64>, ty: TensorType) -> Res {
        if values.len() != ty.numel() && values.len() != 1 {
            return Err(IrError(format!("{} values for {}", values.len(), ty)));
        }
        self.add(Op::Const { values }, &[], ty)
    }

    /// Zeros of a type.
    pub fn zeros(&mut self, ty: TensorType) -> NodeId {
        self.fill(0.0, ty)
    }

    /// The index along `axis` at each position.
    pub fn iota(&mut self, axis: usize, shape: Vec<usize>) -> Res {
        self.add(Op::Iota { axis }, &[], TensorType::new(DType::I32, shape))
    }

    /// Reads a state variable.
    pub fn state(&mut self, id: StateId, ty: TensorType) -> NodeId {
        self.add(Op::State(id), &[], ty)
            .expect("state reads always type-check")
    }

    /// Assigns a state variable.
    pub fn assign(&mut self, id: StateId, value: NodeId) -> Res {
        self.add(Op::Assign(id), &[value], TensorType::scalar(DType::Bool))
    }

    /// Random numbers.
    pub fn random(&mut self, dist: RandomDist, stream: u32, key: NodeId, shape: Vec<usize>) -> Res {
        self.add(Op::Random { dist, stream }, &[key], TensorType::f32(shape))
    }

    // ---------------------------------------------------------------- elementwise

    /// An elementwise unary op.
    pub fn unary(&mut self, op: UnaryOp, x: NodeId) -> Res {
        let ty = self.ty(x).clone();
        self.add(Op::Unary(op), &[x], ty)
    }

    /// An elementwise binary op on equal shapes.
    pub fn binary(&mut self, op: BinaryOp, a: NodeId, b: NodeId) -> Res {
        let ta = self.ty(a);
        let dtype = if op.is_comparison() || op.is_logical() {
            DType::Bool
        } else {
            ta.dtype
        };
        let ty = ta.with_dtype(dtype);
        self.add(Op::Binary(op), &[a, b], ty)
    }

    /// A binary op with numpy broadcasting of the operands.
    pub fn binary_bcast(&mut self, op: BinaryOp, a: NodeId, b: NodeId) -> Res {
        let (a, b) = self.broadcast_pair(a, b)?;
        self.binary(op, a, b)
    }

    /// Both operands numpy-broadcast to their common shape (no node for one already there).
    pub fn broadcast_pair(&mut self, a: NodeId, b: NodeId) -> Result<(NodeId, NodeId), IrError> {
        let (sa, sb) = (self.ty(a).shape.clone(), self.ty(b).shape.clone());
        let shape = broadcast_shapes(&sa, &sb)
            .ok_or_else(|| IrError(format!("cannot broadcast {:?} with {:?}", sa, sb)))?;
        let a = self.broadcast_to(a, &shape)?;
        let b = self.broadcast_to(b, &shape)?;
        Ok((a, b))
    }

    /// `select(cond, a, b)`.
    pub fn select(&mut self, c: NodeId, a: NodeId, b: NodeId) -> Res {
        let ty = self.ty(a).clone();
        self.add(Op::Select, &[c, a, b], ty)
    }

    /// Converts element type (no node if it already has it).
    pub fn cast(&mut self, x: NodeId, dtype: DType) -> Res {
        if self.ty(x).dtype == dtype {
            return Ok(x);
        }
        let ty = self.ty(x).with_dtype(dtype);
        self.add(Op::Cast, &[x], ty)
    }

    /// Marks a value as constant for differentiation.
    pub fn stop_grad(&mut self, x: NodeId) -> Res {
        let ty = self.ty(x).clone();
        self.add(Op::StopGrad, &[x], ty)
    }

    // ---------------------------------------------------------------- shapes

    /// Reduces axes away (no node if `axes` is empty).
    pub fn reduce(&mut self, op: ReduceOp, x: NodeId, axes: &[usize]) -> Res {
        if axes.is_empty() {
            return Ok(x);
        }
        let mut axes = axes.to_vec();
        axes.sort();
        axes.dedup();
        let t = self.ty(x);
        let shape: Vec<usize> = t
            .shape
            .iter()
            .enumerate()
            .filter(|(i, _)| !axes.contains(i))
            .map(|(_, d)| *d)
            .collect();
        let ty = t.with_shape(shape);
        self.add(Op::Reduce { op, axes }, &[x], ty)
    }

    /// Sum over axes.
    pub fn sum(&mut self, x: NodeId, axes: &[usize]) -> Res {
        self.reduce(ReduceOp::Sum, x, axes)
    }

    /// Sum of all elements.
    pub fn sum_all(&mut self, x: NodeId) -> Res {
        let axes: Vec<usize> = (0..self.ty(x).rank()).collect();
        self.sum(x, &axes)
    }

    /// Matrix product of two 2-d tensors.
    pub fn matmul(&mut self, a: NodeId, b: NodeId) -> Res {
        let (m, n) = (
            self.ty(a).shape.first().copied().unwrap_or(0),
            self.ty(b).shape.get(1).copied().unwrap_or(0),
        );
        self.add(Op::MatMul, &[a, b], TensorType::f32(vec![m, n]))
    }

    /// Reshape (no node if the shape is unchanged).
    pub fn reshape(&mut self, x: NodeId, shape: &[usize]) -> Res {
        if self.ty(x).shape == shape {
            return Ok(x);
        }
        let ty = self.ty(x).with_shape(shape.to_vec());
        self.add(Op::Reshape, &[x], ty)
    }

    /// Transpose (no node for the identity permutation).
    pub fn transpose(&mut self, x: NodeId, perm: &[usize]) -> Res {
        if perm.iter().enumerate().all(|(i, p)| i == *p) {
            return Ok(x);
        }
        let t = self.ty(x);
        let shape: Vec<usize> = perm
            .iter()
            .map(|p| t.shape.get(*p).copied().unwrap_or(0))
            .collect();
        let ty = t.with_shape(shape);
        self.add(Op::Transpose { perm: perm.to_vec() }, &[x], ty)
    }

    /// Swaps the last two axes.
    pub fn t(&mut self, x: NodeId) -> Res {
        let r = self.ty(x).rank();
        if r < 2 {
            return Err(IrError("transpose of a tensor with fewer than 2 axes".into()));
        }
        let mut perm: Vec<usize> = (0..r).collect();
        perm.swap(r - 1, r - 2);
        self.transpose(x, &perm)
    }

    /// Numpy broadcast to `shape` (no node if unchanged).
    pub fn broadcast_to(&mut self, x: NodeId, shape: &[usize]) -> Res {
        if self.ty(x).shape == shape {
            return Ok(x);
        }
        let ty = self.ty(x).with_shape(shape.to_vec());
        self.add(Op::Broadcast, &[x], ty)
    }

    /// Concatenation along an axis.
    pub fn concat(&mut self, xs: &[NodeId], axis: usize) -> Res {
        if xs.len() == 1 {
            return Ok(xs[0]);
        }
        let first = self
            .ty(*xs.first().ok_or_else(|| IrError("concat of nothing".into()))?)
            .clone();
        let mut shape = first.shape.clone();
        if axis >= shape.len() {
            return Err(IrError(format!("concat axis {axis} of {first}")));
        }
        shape[axis] = xs
            .iter()
            .map(|x| self.ty(*x).shape.get(axis).copied().unwrap_or(0))
            .sum();
        self.add(Op::Concat { axis }, xs, first.with_shape(shape))
    }

    /// A static range of one axis (no node if it is the whole axis).
    pub fn slice(&mut self, x: NodeId, axis: usize, start: usize, end: usize) -> Res {
        let t = self.ty(x);
        if axis < t.rank() && start == 0 && end == t.shape[axis] {
            return Ok(x);
        }
        let mut shape = t.shape.clone();
        if axis < shape.len() {
            shape[axis] = end.saturating_sub(start);
        }
        let ty = t.with_shape(shape);
        self.add(Op::Slice { axis, start, end }, &[x], ty)
    }

    /// Gather along `axis`.
    pub fn take(&mut self, x: NodeId, idx: NodeId, axis: usize) -> Res {
        let t = self.ty(x);
        if axis >= t.rank() {
            return Err(IrError(format!("take along axis {axis} of {t}")));
        }
        let ty = t.with_shape(take_shape(&t.shape, &self.ty(idx).shape, axis));
        self.add(Op::Take { axis }, &[x, idx], ty)
    }

    /// Scatter-add along `axis`.
    pub fn scatter_add(&mut self, base: NodeId, idx: NodeId, upd: NodeId, axis: usize) -> Res {
        let ty = self.ty(base).clone();
        self.add(Op::ScatterAdd { axis }, &[base, idx, upd], ty)
    }

    /// A scan node; returns one node per output (projections).
    pub fn scan(&mut self, scan: Scan, operands: &[NodeId]) -> Result<Vec<NodeId>, IrError> {
        let outs = scan.output_types();
        let node = self.add(
            Op::Scan(Box::new(scan)),
            operands,
            TensorType::scalar(DType::Bool),
        )?;
        outs.into_iter()
            .enumerate()
            .map(|(i, ty)| self.add(Op::Project { index: i }, &[node], ty))
            .collect()
    }

    /// Adds a named output.
    pub fn output(&mut self, name: impl Into<String>, id: NodeId) {
        self.outputs.push((name.into(), id));
    }

    /// The output with this name.
    pub fn find_output(&self, name: &str) -> Option<NodeId> {
        self.outputs.iter().find(|(n, _)| n == name).map(|(_, id)| *id)
    }

    /// The input with this name.
    pub fn find_input(&self, name: &str) -> Option<NodeId> {
        self.inputs
            .iter()
            .copied()
            .find(|id| matches!(&self.node(*id).op, Op::Input { name: n } if n == name))
    }

    /// The name of an input node.
    pub fn input_name(&self, id: NodeId) -> &str {
        match &self.node(id).op {
            Op::Input { name } => name,
            _ => "",
        }
    }

    /// All `Assign` nodes, in order.
    pub fn assigns(&self) -> Vec<(StateId, NodeId)> {
        self.ids()
            .filter_map(|id| match self.node(id).op {
                Op::Assign(s) => Some((s, id)),
                _ => None,
            })
            .collect()
    }

    /// Nodes that are needed: reachable backwards from outputs and assignments.
    pub fn live(&self) -> Vec<bool> {
        let mut live = vec![false; self.len()];
        let mut stack: Vec<NodeId> = self.outputs.iter().map(|(_, id)| *id).collect();
        stack.extend(self.assigns().into_iter().map(|(_, id)| id));
        stack.extend(self.inputs.iter().copied());
        while let Some(n) = stack.pop() {
            if !live[n.index()] {
                live[n.index()] = true;
                stack.extend(self.args(n).iter().copied());
            }
        }
        live
    }

    /// Copies the graph node by node in order. For each node, `subst` may return a
    /// replacement built in the new graph (its operands are already copied; `map` gives the
    /// new id of every earlier node); otherwise the node is copied with remapped operands.
    /// `keep` decides which nodes are copied at all (operands of kept nodes must be kept).
    /// Inputs and outputs are carried over. Returns the new graph and the old-to-new map.
    pub fn rebuild(
        &self,
        keep: impl Fn(NodeId) -> bool,
        mut subst: impl FnMut(NodeId, &Node, &[NodeId], &mut Graph) -> Option<NodeId>,
    ) -> (Graph, Vec<NodeId>) {
        let mut out = Graph::new();
        let mut map: Vec<NodeId> = Vec::with_capacity(self.len());
        for id in self.ids() {
            let node = self.node(id);
            if !keep(id) && !matches!(node.op, Op::Input { .. }) {
                map.push(NodeId::end());
                continue;
            }
            let new = match subst(id, node, &map, &mut out) {
                Some(n) => n,
                None => {
                    let n = out.add_unchecked(Node {
                        op: node.op.clone(),
                        ty: node.ty.clone(),
                        args: node.args.iter().map(|a| map[a.index()]).collect(),
                        label: node.label.clone(),
                        origin: node.origin,
                    });
                    if matches!(node.op, Op::Input { .. }) {
                        out.inputs.push(n);
                    }
                    n
                }
            };
            map.push(new);
        }
        // Inputs keep their order even if `subst` recreated some.
        out.inputs = self.inputs.iter().map(|i| map[i.index()]).collect();
        out.outputs = self
            .outputs
            .iter()
            .map(|(n, id)| (n.clone(), map[id.index()]))
            .collect();
        (out, map)
    }

    /// Counts nodes by operation name (for pass statistics).
    pub fn count(&self, pred: impl Fn(&Op) -> bool) -> usize {
        self.g.node_weights().filter(|n| pred(&n.op)).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_checks() {
        let mut g = Graph::new();
        let x = g.input("x", TensorType::f32(vec![2, 3]));
        let w = g.input("w", TensorType::f32(vec![3, 4]));
        let y = g.matmul(x, w).unwrap();
        assert_eq!(g.ty(y).shape, vec![2, 4]);
        let b = g.input("b", TensorType::f32(vec![4]));
        let z = g.binary_bcast(BinaryOp::Add, y, b).unwrap();
        assert_eq!(g.ty(z).shape, vec![2, 4]);
        assert!(g.matmul(x, x).is_err());
        let s = g.sum(z, &[0]).unwrap();
        assert_eq!(g.ty(s).shape, vec![4]);
        assert_eq!(g.users(x).count(), 1);
    }
}
