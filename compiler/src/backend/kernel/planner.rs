//! The walk that turns a graph into kernels: every node, in order, becomes a value
//! ([`Val`]): a view of a buffer, a scalar, an expression fused into its consumer, or the
//! outputs of a scan. View ops are folded as they are met ([`super::views`]) and elementwise
//! chains fused ([`super::fuse`]); everything else (products, gathers, scatters, random
//! numbers, concatenations, scans) becomes a kernel writing a fresh arena buffer.

use super::types::{Buffer, ENode, Expr, Kernel, PlanError, RoutineCall, ScanKernel, Storage, View};
use crate::ir::{DType, Graph, NodeId, Op, StateId, TensorType};
use std::sync::Arc;

/// What a node became.
#[derive(Clone, Debug)]
pub(super) enum Val {
    View(View),
    /// A constant.
    Scalar(f64),
    /// An elementwise node fused into its (single) consumer.
    Inline,
    /// A scan's outputs.
    Scan(Vec<View>),
    /// An assignment (no value).
    None,
}

/// The state of planning one graph (a scan body is planned by a planner of its own that
/// shares the outer buffer list).
pub(super) struct Planner<'g> {
    pub(super) g: &'g Graph,
    /// What each node became, by node index.
    pub(super) vals: Vec<Val>,
    /// Distinct users of each node.
    pub(super) users: Vec<Vec<NodeId>>,
    pub(super) buffers: Vec<Buffer>,
    pub(super) kernels: Vec<Kernel>,
    /// Input values of a scan body (indexed like the body's inputs).
    body_inputs: Option<Vec<Val>>,
}

impl<'g> Planner<'g> {
    /// A planner for `g`; a scan body gets its inputs' values and the outer buffers.
    pub(super) fn new(g: &'g Graph, body_inputs: Option<Vec<Val>>, buffers: Vec<Buffer>) -> Planner<'g> {
        let mut users = vec![Vec::new(); g.len()];
        for id in g.ids() {
            for a in g.args(id) {
                if !users[a.index()].contains(&id) {
                    users[a.index()].push(id);
                }
            }
        }
        Planner {
            g,
            vals: Vec::with_capacity(g.len()),
            users,
            buffers,
            kernels: Vec::new(),
            body_inputs,
        }
    }

    /// A fresh buffer for a value of type `ty` (booleans are stored as i32).
    pub(super) fn new_buffer(&mut self, storage: Storage, ty: &TensorType) -> usize {
        let dtype = if ty.dtype == DType::Bool {
            DType::I32
        } else {
            ty.dtype
        };
        self.buffers.push(Buffer {
            storage,
            len: ty.numel(),
            dtype,
            offset: 0,
            data: Vec::new(),
        });
        self.buffers.len() - 1
    }

    /// The buffer of state `s` (one per state, however often the graph reads it).
    pub(super) fn state_buffer(&mut self, s: StateId, ty: &TensorType) -> usize {
        match self.buffers.iter().position(|b| b.storage == Storage::State(s)) {
            Some(i) => i,
            None => self.new_buffer(Storage::State(s), ty),
        }
    }

    /// True if the node is a graph output (outputs are never fused away).
    pub(super) fn is_output(&self, id: NodeId) -> bool {
        self.g.outputs.iter().any(|(_, o)| *o == id)
    }

    /// Plans every node in order.
    pub(super) fn run(&mut self) -> Result<(), PlanError> {
        let mut next_input = 0;
        for id in self.g.ids() {
            let node = self.g.node(id);
            let val = match &node.op {
                Op::Input { .. } => {
                    let i = next_input;
                    next_input += 1;
                    match &self.body_inputs {
                        Some(vals) => vals[i].clone(),
                        None => Val::View(View::whole(
                            self.new_buffer(Storage::Input(i), &node.ty),
                            &node.ty.shape,
                        )),
                    }
                }
                Op::State(s) => {
                    let b = self.state_buffer(*s, &node.ty);
                    Val::View(View::whole(b, &node.ty.shape))
                }
                Op::Const { values } if values.len() == 1 => self.fuse_scalar(id, values[0])?,
                Op::Const { values } => {
                    let b = self.new_buffer(Storage::Const, &node.ty);
                    self.buffers[b].data = values.clone();
                    Val::View(View::whole(b, &node.ty.shape))
                }
                Op::Iota { axis } => self.fuse_iota(id, *axis)?,
                Op::Unary(_) | Op::Binary(_) | Op::Select | Op::Cast => self.fuse_elementwise(id)?,
                // Gradients are not planned: `stop_grad` is its operand.
                Op::StopGrad => self.vals[node.args[0].index()].clone(),
                Op::Reshape => self.fold_reshape(node.args[0], &node.ty.shape)?,
                Op::Transpose { perm } => self.view_op(node.args[0], |v| v.transpose(perm))?,
                Op::Broadcast => {
                    let shape = node.ty.shape.clone();
                    self.view_op(node.args[0], |v| v.broadcast(&shape))?
                }
                Op::Slice { axis, start, end } => {
                    self.view_op(node.args[0], |v| v.slice(*axis, *start, *end))?
                }
                Op::Reduce { op, axes } => self.fuse_reduce(id, *op, axes)?,
                Op::MatMul => {
                    let a = self.strided(node.args[0])?;
                    let b = self.strided(node.args[1])?;
                    let out = self.new_buffer(Storage::Arena, &node.ty);
                    let c = View::whole(out, &node.ty.shape);
                    self.kernels.push(Kernel::MatMul { a, b, c: c.clone() });
                    Val::View(c)
                }
                Op::Concat { axis } => {
                    let out = self.new_buffer(Storage::Arena, &node.ty);
                    let whole = View::whole(out, &node.ty.shape);
                    let mut start = 0;
                    for a in node.args.clone() {
                        let len = self.g.ty(a).shape[*axis];
                        let expr = self.val_as_expr(a)?;
                        self.kernels.push(Kernel::Map {
                            out: whole.slice(*axis, start, start + len),
                            expr,
                        });
                        start += len;
                    }
                    Val::View(whole)
                }
                Op::Take { axis } => {
                    let x = self.contiguous(node.args[0])?;
                    let idx = self.contiguous(node.args[1])?;
                    let out = self.new_buffer(Storage::Arena, &node.ty);
                    let o = View::whole(out, &node.ty.shape);
                    self.kernels.push(Kernel::Take {
                        x,
                        idx,
                        out: o.clone(),
                        axis: *axis,
                    });
                    Val::View(o)
                }
                Op::ScatterAdd { axis } => {
                    let out = self.new_buffer(Storage::Arena, &node.ty);
                    let o = View::whole(out, &node.ty.shape);
                    let base = self.val_as_expr(node.args[0])?;
                    self.kernels.push(Kernel::Map {
                        out: o.clone(),
                        expr: base,
                    });
                    let idx = self.contiguous(node.args[1])?;
                    let upd = self.contiguous(node.args[2])?;
                    self.kernels.push(Kernel::ScatterAdd {
                        idx,
                        upd,
                        out: o.clone(),
                        axis: *axis,
                    });
                    Val::View(o)
                }
                Op::Random { dist, stream } => {
                    let key = self.contiguous(node.args[0])?;
                    let out = self.new_buffer(Storage::Arena, &node.ty);
                    let o = View::whole(out, &node.ty.shape);
                    self.kernels.push(Kernel::Random {
                        key,
                        dist: *dist,
                        stream: *stream,
                        out: o.clone(),
                    });
                    Val::View(o)
                }
                Op::Routine(routine) => {
                    let mut args = Vec::with_capacity(node.args.len());
                    for a in node.args.clone() {
                        args.push(self.contiguous(a)?);
                    }
                    let out = self.new_buffer(Storage::Arena, &node.ty);
                    let o = View::whole(out, &node.ty.shape);
                    let call = RoutineCall {
                        routine: routine.clone(),
                        args: node.args.iter().map(|a| self.g.ty(*a).clone()).collect(),
                        out: node.ty.clone(),
                    };
                    self.kernels.push(Kernel::Routine {
                        call: Arc::new(call),
                        args,
                        out: o.clone(),
                    });
                    Val::View(o)
                }
                Op::Scan(scan) => self.plan_scan(id, scan)?,
                Op::Project { index } => match &self.vals[node.args[0].index()] {
                    Val::Scan(outs) => Val::View(outs[*index].clone()),
                    _ => return Err(PlanError("project of a non-scan".into())),
                },
                Op::Assign(_) => Val::None,
            };
            self.vals.push(val);
        }
        Ok(())
    }

    /// The node as a view with any strides (materialized if it is an expression).
    pub(super) fn strided(&mut self, id: NodeId) -> Result<View, PlanError> {
        match self.vals[id.index()].clone() {
            Val::View(v) => Ok(v),
            _ => self.materialize(id),
        }
    }

    /// The node as a contiguous view (copied if strided).
    pub(super) fn contiguous(&mut self, id: NodeId) -> Result<View, PlanError> {
        match self.vals[id.index()].clone() {
            Val::View(v) if v.is_contiguous() => Ok(v),
            _ => self.materialize(id),
        }
    }

    /// Writes the node's value into a fresh contiguous buffer.
    pub(super) fn materialize(&mut self, id: NodeId) -> Result<View, PlanError> {
        let e = self.val_as_expr(id)?;
        match self.materialize_expr(id, e)? {
            Val::View(v) => Ok(v),
            _ => unreachable!("materialize_expr returns a view"),
        }
    }

    /// Writes `expr` (the value of node `id`) into a fresh contiguous buffer.
    pub(super) fn materialize_expr(&mut self, id: NodeId, expr: Expr) -> Result<Val, PlanError> {
        let ty = self.g.ty(id).clone();
        let b = self.new_buffer(Storage::Arena, &ty);
        let out = View::whole(b, &ty.shape);
        self.kernels.push(Kernel::Map {
            out: out.clone(),
            expr,
        });
        Ok(Val::View(out))
    }

    /// The node's value as an expression (a load, a constant, or its fused tree).
    pub(super) fn val_as_expr(&mut self, id: NodeId) -> Result<Expr, PlanError> {
        let dtype = self.g.ty(id).dtype;
        match self.vals[id.index()].clone() {
            Val::View(v) => Ok(Expr {
                nodes: vec![(ENode::Load(v), dtype)],
            }),
            Val::Scalar(v) => Ok(Expr {
                nodes: vec![(ENode::Scalar(v), dtype)],
            }),
            Val::Inline => self.expr_of(id),
            Val::Scan(_) | Val::None => Err(PlanError("a scan or assignment used as a value".into())),
        }
    }

    /// A scan: its carries get buffers of their own, its body is planned into the same
    /// buffer list (constants are the outer views), and stacked carries get a history buffer.
    fn plan_scan(&mut self, id: NodeId, scan: &crate::ir::Scan) -> Result<Val, PlanError> {
        let node = self.g.node(id).clone();
        let k = scan.n_carry;
        let body = &scan.body;
        let t_buf = self.new_buffer(Storage::Arena, &TensorType::scalar(DType::I32));
        let mut inits = Vec::new();
        let mut carries = Vec::new();
        let mut inputs = vec![Val::View(View::whole(t_buf, &[]))];
        for i in 0..k {
            let ty = body.ty(body.inputs[1 + i]).clone();
            inits.push(self.strided(node.args[i])?);
            let c = self.new_buffer(Storage::Arena, &ty);
            carries.push(c);
            inputs.push(Val::View(View::whole(c, &ty.shape)));
        }
        for a in &node.args[k..] {
            inputs.push(match self.vals[a.index()].clone() {
                Val::Scalar(v) => Val::Scalar(v),
                _ => Val::View(self.strided(*a)?),
            });
        }
        // Plan the body with the outer buffers visible.
        let mut bp = Planner::new(body, Some(inputs), std::mem::take(&mut self.buffers));
        bp.run()?;
        let mut new_carries = Vec::new();
        for (i, (_, o)) in body.outputs.iter().enumerate() {
            // New carries must not alias any carry (they are copied into the carries).
            let v = match bp.vals[o.index()].clone() {
                Val::View(v)
                    if v.is_contiguous()
                        && !carries.contains(&v.buf)
                        && v.buf != t_buf
                        && bp.body_owned(v.buf) =>
                {
                    v
                }
                _ => bp.materialize(*o)?,
            };
            let _ = i;
            new_carries.push(v);
        }
        self.buffers = std::mem::take(&mut bp.buffers);
        let body_kernels = std::mem::take(&mut bp.kernels);
        let out_tys = scan.output_types();
        let mut hist = Vec::new();
        let mut outs = Vec::new();
        for i in 0..k {
            if scan.stacked[i] {
                let h = self.new_buffer(Storage::Arena, &out_tys[i]);
                hist.push(Some(h));
                outs.push(View::whole(h, &out_tys[i].shape));
            } else {
                hist.push(None);
                outs.push(View::whole(carries[i], &out_tys[i].shape));
            }
        }
        self.kernels.push(Kernel::Scan(Box::new(ScanKernel {
            length: scan.length,
            reverse: scan.reverse,
            t_buf,
            carries,
            inits,
            body: body_kernels,
            new_carries,
            hist,
        })));
        Ok(Val::Scan(outs))
    }

    /// True if the body created this buffer itself (it is not an outer buffer).
    fn body_owned(&self, buf: usize) -> bool {
        self.kernels.iter().any(|k| k.writes().contains(&buf))
    }
}

#[cfg(test)]
mod tests {
    use super::super::assert_plan;
    use crate::ir::{BinaryOp, Graph, Scan, TensorType};

    #[test]
    fn a_scan_plans_its_body_into_the_same_arena() {
        // A running sum of the rows of `x`, every step's value kept.
        let mut g = Graph::new();
        let x = g.input("x", TensorType::f32(vec![3, 2]));
        let mut body = Graph::new();
        let t = body.input("t", TensorType::scalar(crate::ir::DType::I32));
        let h = body.input("h", TensorType::f32(vec![2]));
        let xb = body.input("x", TensorType::f32(vec![3, 2]));
        let row = body.take(xb, t, 0).unwrap();
        let nh = body.binary(BinaryOp::Add, h, row).unwrap();
        body.output("h", nh);
        let h0 = g.zeros(TensorType::f32(vec![2]));
        let outs = g
            .scan(
                Scan {
                    body,
                    length: 3,
                    reverse: false,
                    n_carry: 1,
                    stacked: vec![true],
                },
                &[h0, x],
            )
            .unwrap();
        g.output("hs", outs[0]);
        assert_plan(
            &g,
            "\
buffers:
  b0 f32x6 input 0
  b1 f32x2 arena @0
  b2 i32x1 arena @64
  b3 f32x2 arena @128
  b4 f32x2 arena @192
  b5 f32x2 arena @256
  b6 f32x6 arena @320
  b7 f32x6 output 0
kernels:
  0: map b1@0[2]/[1] <- {%0: f32 = 0.0}
  1: scan 3 t b2 carries [3] inits [b1@0[2]/[1]] new [b5@0[2]/[1]] hist [Some(6)]
      0: take b4@0[2]/[1] <- b0@0[3, 2]/[2, 1][b2@0[]/[]] axis 0
      1: map b5@0[2]/[1] <- {%0: f32 = b3@0[2]/[1]; %1: f32 = b4@0[2]/[1]; %2: f32 = add %0 %1}
  2: map b7@0[3, 2]/[2, 1] <- {%0: f32 = b6@0[3, 2]/[2, 1]}
arena: 384 bytes
",
        );
    }
}
