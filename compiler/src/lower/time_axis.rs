//! Time has a type: a batch drawn from replay (`D.sample(n)`) or a rollout's minibatch
//! (`R.minibatch(m)`) has a leading axis of *shuffled samples*, not of time. A scan that steps
//! along that axis (`scan t in len(b.r) { .. b.r[t] .. }`, e.g. `gae` on a minibatch) would
//! compute returns across unrelated transitions; it is a compile error with a hint. Time-ordered
//! data — a rollout read whole (`b ~ R`, `[T, N, ..]`), sequence replay (`[T, B, ..]`) — keeps
//! its time axis first and is scanned freely.
//!
//! The tracer records which entry inputs are sample batches; indexing inside a scan body
//! follows the indexed tensor back through the operations that keep its leading axis
//! (elementwise arithmetic, broadcasts that add no leading axis, casts, slices, reshapes that
//! keep the first size) to find whether that axis is one of them.

use super::tracer::{R, Tracer, err};
use super::value::Tv;
use crate::diag::{Code, Span};
use crate::ir::{Graph, NodeId, Op};

/// How far back the leading axis is followed.
const MAX_DEPTH: usize = 64;

impl Tracer<'_, '_> {
    /// Records that entry input `node` is a batch of shuffled samples (`what` names its
    /// source, e.g. "a minibatch of rollout `R`").
    pub(crate) fn mark_shuffled(&mut self, node: NodeId, what: String) {
        self.shuffled.insert(node, what);
    }

    /// Refuses indexing axis 0 of `x` inside a scan body when that axis is a batch of
    /// shuffled samples.
    pub(crate) fn check_time_axis(&self, x: &Tv, axis: usize, at: Span, xs: Span) -> R<()> {
        if self.level() == 0 || axis != 0 {
            return Ok(());
        }
        let x = self.defining_tensor(x);
        let Some(what) = leading_source(&self.levels[x.level].graph, x.node, 0)
            .and_then(|n| (x.level == 0).then_some(n))
            .and_then(|n| self.shuffled.get(&n))
        else {
            return Ok(());
        };
        Err(err(
            Code::TimeAxis,
            format!("a scan steps along the shuffled samples of {what} as if they were ordered in time"),
            at,
            "the scan's index into the sample axis",
        )
        .also(xs, "axis 0 of this holds the shuffled samples")
        .hint(
            "compute time-ordered quantities (returns, advantages, traces) over the whole rollout in a \
             `derive` or on `b ~ R`, and read them from the minibatch as fields",
        ))
    }
}

/// The entry input whose leading axis `id`'s leading axis is, if it is one.
fn leading_source(g: &Graph, id: NodeId, depth: usize) -> Option<NodeId> {
    if depth > MAX_DEPTH {
        return None;
    }
    let node = g.node(id);
    let rank = g.ty(id).rank();
    let next = |k: usize| leading_source(g, node.args[k], depth + 1);
    match &node.op {
        Op::Input { .. } => Some(id),
        Op::Unary(_) | Op::Cast | Op::StopGrad => next(0),
        Op::Binary(_) => next(0).or_else(|| next(1)),
        Op::Select => next(1).or_else(|| next(2)),
        Op::Slice { .. } => next(0),
        Op::Transpose { perm } if perm.first() == Some(&0) => next(0),
        Op::Broadcast | Op::Reshape => {
            let arg = g.ty(node.args[0]);
            let keeps = match node.op {
                Op::Broadcast => arg.rank() == rank,
                _ => arg.shape.first() == g.ty(id).shape.first(),
            };
            if keeps && rank > 0 { next(0) } else { None }
        }
        _ => None,
    }
}
