//! Step `in-place`: a state assignment writes straight into the state's buffer. The loop
//! that computes the new value is retargeted from its temporary to the state buffer when it
//! is the only writer of a whole contiguous temporary and no kernel reads the old state
//! afterwards (or, in that same loop, at another index). Otherwise the new value is copied
//! into the state at the end of the entry. An optimiser step then updates every parameter
//! and moment in one pass over memory instead of two.

use super::planner::{Planner, Val};
use super::types::{ENode, Expr, Kernel, PlanError, Storage, View};
use crate::ir::{NodeId, StateId};

impl Planner<'_> {
    /// Applies every state assignment of the (top-level) graph: in place when
    /// [`Planner::try_in_place`] allows it, else as a copy kernel appended at the end.
    pub(super) fn assign_states(&mut self) -> Result<(), PlanError> {
        let g = self.g;
        let assigns = g.assigns();
        // A value that is not a loop's output in the arena (a state read as it is, or a fused
        // expression of states) is computed by a copy at the end of the entry — after other
        // states were updated in place, so reading one of those there would see its new
        // value. Such a value is computed into a temporary now instead, where the in-place
        // checks below see the read: every assignment sees the states from before the call.
        // (Reading its own state at the index it writes is safe and stays one pass.)
        let assigned: Vec<StateId> = assigns.iter().map(|(s, _)| *s).collect();
        for (s, a) in &assigns {
            let v = g.args(*a)[0];
            if matches!(&self.vals[v.index()], Val::View(x) if self.buffers[x.buf].storage == Storage::Arena)
            {
                continue;
            }
            let e = self.val_as_expr(v)?;
            let shape = &g.ty(v).shape;
            let hazard = e.loads().any(|l| match self.buffers[l.buf].storage {
                Storage::State(r) if r == *s => l != &View::whole(l.buf, shape),
                Storage::State(r) => assigned.contains(&r),
                _ => false,
            });
            if hazard {
                self.vals[v.index()] = self.materialize_expr(v, e)?;
            }
        }
        // Which kernels and values touch each buffer, built once: checking every kernel for
        // every assignment was quadratic (a 400-layer net has thousands of each).
        let mut touch = Touches::new(self);
        let mut copies = Vec::new();
        for (s, a) in &assigns {
            let v = g.args(*a)[0];
            if !self.try_in_place(*s, v, &mut touch) {
                copies.push((*s, v));
            }
        }
        for (s, v) in copies {
            let ty = g.ty(v).clone();
            let dst = self.state_buffer(s, &ty);
            let src = self.val_as_expr(v)?;
            self.kernels.push(Kernel::Map {
                out: View::whole(dst, &ty.shape),
                expr: src,
            });
        }
        Ok(())
    }

    /// Makes the kernel producing `v` write straight into state `s` when that is safe:
    /// `v` is the whole output of a loop, and no kernel reads the old state after it
    /// (or reads it at another index in that loop).
    fn try_in_place(&mut self, s: StateId, v: NodeId, touch: &mut Touches) -> bool {
        let Val::View(view) = self.vals[v.index()].clone() else {
            return false;
        };
        if self.buffers[view.buf].storage != Storage::Arena || !view.is_contiguous() || view.offset != 0 {
            return false;
        }
        let Some(sb) = self.buffers.iter().position(|b| b.storage == Storage::State(s)) else {
            return false;
        };
        if self.buffers[sb].len != self.buffers[view.buf].len
            || self.buffers[sb].dtype != self.buffers[view.buf].dtype
        {
            return false;
        }
        let [k] = touch.writers[view.buf][..] else {
            return false;
        };
        let Kernel::Map { out, .. } = &self.kernels[k] else {
            return false;
        };
        if out != &view {
            return false;
        }
        for &i in &touch.readers[sb] {
            let kern = &self.kernels[i];
            for r in kern.reads() {
                if r.buf != sb {
                    continue;
                }
                // Old value read after the write, or read elsewhere than the written index.
                let same_index = r.offset == 0 && r.shape == view.shape && r.strides == view.strides;
                if i > k || (i == k && !same_index) || (i == k && matches!(kern, Kernel::Scan(_))) {
                    return false;
                }
            }
        }
        if touch.writers[sb].iter().any(|&i| i > k) {
            return false;
        }
        // Redirect: the loop's output buffer becomes the state buffer.
        let old = view.buf;
        let mut users: Vec<usize> = touch.readers[old]
            .iter()
            .chain(&touch.writers[old])
            .copied()
            .collect();
        users.sort_unstable();
        users.dedup();
        for i in users {
            retarget(&mut self.kernels[i], old, sb);
        }
        for &n in &touch.vals[old] {
            if let Val::View(x) = &mut self.vals[n]
                && x.buf == old
            {
                x.buf = sb;
            }
        }
        touch.moved(old, sb);
        true
    }
}

/// Per buffer: the kernels that read it, the kernels that write it, and the values viewing
/// it (indices), kept up to date as buffers are retargeted.
struct Touches {
    readers: Vec<Vec<usize>>,
    writers: Vec<Vec<usize>>,
    vals: Vec<Vec<usize>>,
}

impl Touches {
    fn new(p: &Planner<'_>) -> Touches {
        let n = p.buffers.len();
        let mut t = Touches {
            readers: vec![Vec::new(); n],
            writers: vec![Vec::new(); n],
            vals: vec![Vec::new(); n],
        };
        for (i, k) in p.kernels.iter().enumerate() {
            for r in k.reads() {
                if t.readers[r.buf].last() != Some(&i) {
                    t.readers[r.buf].push(i);
                }
            }
            for w in k.writes() {
                if t.writers[w].last() != Some(&i) {
                    t.writers[w].push(i);
                }
            }
        }
        for (i, v) in p.vals.iter().enumerate() {
            if let Val::View(x) = v {
                t.vals[x.buf].push(i);
            }
        }
        t
    }

    /// Everything that touched `old` now touches `to` (kept sorted by kernel index).
    fn moved(&mut self, old: usize, to: usize) {
        for list in [&mut self.readers, &mut self.writers, &mut self.vals] {
            let mut from = std::mem::take(&mut list[old]);
            list[to].append(&mut from);
            list[to].sort_unstable();
            list[to].dedup();
        }
    }
}

fn retarget_view(v: &mut View, from: usize, to: usize) {
    if v.buf == from {
        v.buf = to;
    }
}

fn retarget_expr(e: &mut Expr, from: usize, to: usize) {
    for (n, _) in &mut e.nodes {
        if let ENode::Load(v) = n {
            retarget_view(v, from, to);
        }
    }
}

fn retarget(k: &mut Kernel, from: usize, to: usize) {
    match k {
        Kernel::Map { out, expr } => {
            retarget_view(out, from, to);
            retarget_expr(expr, from, to);
        }
        Kernel::Reduce {
            acc, acc_whole, expr, ..
        } => {
            retarget_view(acc, from, to);
            retarget_view(acc_whole, from, to);
            retarget_expr(expr, from, to);
        }
        Kernel::MatMul { a, b, c } => {
            for v in [a, b, c] {
                retarget_view(v, from, to);
            }
        }
        Kernel::MatMulPair { first, second } => {
            for v in first.iter_mut().chain(second.iter_mut()) {
                retarget_view(v, from, to);
            }
        }
        Kernel::Take { x, idx, out, .. } => {
            for v in [x, idx, out] {
                retarget_view(v, from, to);
            }
        }
        Kernel::ScatterAdd { idx, upd, out, .. } => {
            for v in [idx, upd, out] {
                retarget_view(v, from, to);
            }
        }
        Kernel::Random { key, out, .. } => {
            retarget_view(key, from, to);
            retarget_view(out, from, to);
        }
        Kernel::Routine { args, out, .. } => {
            for v in args.iter_mut().chain(std::iter::once(out)) {
                retarget_view(v, from, to);
            }
        }
        Kernel::Scan(s) => {
            for v in s.inits.iter_mut().chain(s.new_carries.iter_mut()) {
                retarget_view(v, from, to);
            }
            for b in std::iter::once(&mut s.t_buf)
                .chain(s.carries.iter_mut())
                .chain(s.hist.iter_mut().flatten())
            {
                if *b == from {
                    *b = to;
                }
            }
            for k in &mut s.body {
                retarget(k, from, to);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::assert_plan;
    use crate::ir::{BinaryOp, Graph, StateId, TensorType};

    /// `p <- p * 0.5`, plus whatever `extra` adds reading `p`.
    fn decay(extra: impl Fn(&mut Graph, crate::ir::NodeId)) -> Graph {
        let mut g = Graph::new();
        let p = g.state(StateId(0), TensorType::f32(vec![2, 2]));
        let half = g.scalar(0.5);
        let np = g.binary_bcast(BinaryOp::Mul, p, half).unwrap();
        extra(&mut g, p);
        g.assign(StateId(0), np).unwrap();
        g
    }

    #[test]
    fn an_update_writes_the_state_directly() {
        assert_plan(
            &decay(|_, _| {}),
            "\
buffers:
  b0 f32x4 state #0
  b1 f32x4 arena @0
kernels:
  0: map b0@0[2, 2]/[2, 1] <- {%0: f32 = b0@0[2, 2]/[2, 1]; %1: f32 = 0.5; %2: f32 = mul %0 %1}
arena: 64 bytes
",
        );
    }

    #[test]
    fn a_later_read_of_the_old_value_forces_a_copy() {
        let g = decay(|g, p| {
            let two = g.scalar(2.0);
            let y = g.binary_bcast(BinaryOp::Mul, p, two).unwrap();
            g.output("y", y);
        });
        assert_plan(
            &g,
            "\
buffers:
  b0 f32x4 state #0
  b1 f32x4 arena @0
  b2 f32x4 arena @64
  b3 f32x4 output 0
kernels:
  0: map b1@0[2, 2]/[2, 1] <- {%0: f32 = b0@0[2, 2]/[2, 1]; %1: f32 = 0.5; %2: f32 = mul %0 %1}
  1: map b2@0[2, 2]/[2, 1] <- {%0: f32 = b0@0[2, 2]/[2, 1]; %1: f32 = 2.0; %2: f32 = mul %0 %1}
  2: map b3@0[2, 2]/[2, 1] <- {%0: f32 = b2@0[2, 2]/[2, 1]}
  3: map b0@0[2, 2]/[2, 1] <- {%0: f32 = b1@0[2, 2]/[2, 1]}
arena: 128 bytes
",
        );
    }

    #[test]
    fn a_read_at_another_index_in_the_same_loop_forces_a_copy() {
        let mut g = Graph::new();
        let p = g.state(StateId(0), TensorType::f32(vec![2, 2]));
        let pt = g.t(p).unwrap();
        let np = g.binary(BinaryOp::Add, p, pt).unwrap();
        g.assign(StateId(0), np).unwrap();
        assert_plan(
            &g,
            "\
buffers:
  b0 f32x4 state #0
  b1 f32x4 arena @0
kernels:
  0: map b1@0[2, 2]/[2, 1] <- {%0: f32 = b0@0[2, 2]/[2, 1]; %1: f32 = b0@0[2, 2]/[1, 2]; %2: f32 = add %0 %1}
  1: map b0@0[2, 2]/[2, 1] <- {%0: f32 = b1@0[2, 2]/[2, 1]}
arena: 64 bytes
",
        );
    }

    /// `p <- p * 0.5` and `q <- p` (the old `p`): the copy into `q` reads `p` before `p` is
    /// written, so `p`'s update cannot go in place. Before the fix `q` was copied at the end,
    /// from `p`'s buffer after the in-place update: it got the new value.
    #[test]
    fn a_state_copied_into_another_reads_it_before_it_changes() {
        let g = decay(|g, p| {
            g.assign(StateId(1), p).unwrap();
        });
        assert_plan(
            &g,
            "\
buffers:
  b0 f32x4 state #0
  b1 f32x4 arena @0
  b2 f32x4 arena @64
  b3 f32x4 state #1
kernels:
  0: map b1@0[2, 2]/[2, 1] <- {%0: f32 = b0@0[2, 2]/[2, 1]; %1: f32 = 0.5; %2: f32 = mul %0 %1}
  1: map b2@0[2, 2]/[2, 1] <- {%0: f32 = b0@0[2, 2]/[2, 1]}
  2: map b3@0[2, 2]/[2, 1] <- {%0: f32 = b2@0[2, 2]/[2, 1]}
  3: map b0@0[2, 2]/[2, 1] <- {%0: f32 = b1@0[2, 2]/[2, 1]}
arena: 128 bytes
",
        );
    }
}
