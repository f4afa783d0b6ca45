//! Step `fold-views`: reshapes, transposes, broadcasts, slices and `stop_grad` cost nothing.
//! Each becomes a new strided [`View`] of the buffer its operand already lives in (a
//! transpose permutes strides, a broadcast gives new axes stride 0, a slice moves the offset,
//! a reshape re-strides a contiguous view), so no kernel copies data just to change its shape.
//! Only a reshape of a non-contiguous view, or a view of a fused expression, materializes.

use super::planner::{Planner, Val};
use super::types::{PlanError, View, contiguous_strides};
use crate::ir::NodeId;

impl View {
    /// The axes permuted (`perm[i]` is the source axis of axis `i`).
    pub(super) fn transpose(&self, perm: &[usize]) -> View {
        View {
            buf: self.buf,
            offset: self.offset,
            shape: perm.iter().map(|p| self.shape[*p]).collect(),
            strides: perm.iter().map(|p| self.strides[*p]).collect(),
        }
    }

    /// Broadcast to `to`: new leading axes and size-1 axes get stride 0.
    pub(super) fn broadcast(&self, to: &[usize]) -> View {
        let off = to.len() - self.shape.len();
        let strides = (0..to.len())
            .map(|i| {
                if i < off || self.shape[i - off] == 1 {
                    0
                } else {
                    self.strides[i - off]
                }
            })
            .collect();
        View {
            buf: self.buf,
            offset: self.offset,
            shape: to.to_vec(),
            strides,
        }
    }

    /// Elements `start..end` of one axis.
    pub(super) fn slice(&self, axis: usize, start: usize, end: usize) -> View {
        let mut v = self.clone();
        v.offset += start as isize * self.strides[axis];
        v.shape[axis] = end - start;
        v
    }

    /// The same elements in another shape; `None` unless the view is contiguous.
    pub(super) fn reshape(&self, shape: &[usize]) -> Option<View> {
        self.is_contiguous().then(|| View {
            buf: self.buf,
            offset: self.offset,
            shape: shape.to_vec(),
            strides: contiguous_strides(shape),
        })
    }
}

impl Planner<'_> {
    /// A reshape: a free view when the operand is contiguous, else a contiguous copy first.
    pub(super) fn fold_reshape(&mut self, src: NodeId, shape: &[usize]) -> Result<Val, PlanError> {
        Ok(match self.vals[src.index()].clone() {
            Val::Scalar(v) => Val::Scalar(v),
            Val::View(v) if v.reshape(shape).is_some() => Val::View(v.reshape(shape).expect("checked")),
            _ => {
                let src = self.contiguous(src)?;
                Val::View(src.reshape(shape).expect("contiguous"))
            }
        })
    }

    /// A view op (transpose, broadcast, slice) applied to the operand's view; a fused
    /// expression operand is materialized first, a constant stays a constant.
    pub(super) fn view_op(&mut self, src: NodeId, f: impl Fn(&View) -> View) -> Result<Val, PlanError> {
        Ok(match self.vals[src.index()].clone() {
            Val::Scalar(v) => Val::Scalar(v),
            Val::View(v) => Val::View(f(&v)),
            _ => {
                let v = self.materialize(src)?;
                Val::View(f(&v))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::assert_plan;
    use crate::ir::{Graph, TensorType, UnaryOp};

    #[test]
    fn a_transpose_is_read_through_permuted_strides() {
        let mut g = Graph::new();
        let x = g.input("x", TensorType::f32(vec![2, 3]));
        let t = g.t(x).unwrap();
        let y = g.unary(UnaryOp::Exp, t).unwrap();
        g.output("y", y);
        assert_plan(
            &g,
            "\
buffers:
  b0 f32x6 input 0
  b1 f32x6 arena @0
  b2 f32x6 output 0
kernels:
  0: map b1@0[3, 2]/[2, 1] <- {%0: f32 = b0@0[3, 2]/[1, 3]; %1: f32 = exp %0}
  1: map b2@0[3, 2]/[2, 1] <- {%0: f32 = b1@0[3, 2]/[2, 1]}
arena: 64 bytes
",
        );
    }

    #[test]
    fn a_broadcast_reads_with_stride_zero() {
        let mut g = Graph::new();
        let x = g.input("x", TensorType::f32(vec![3]));
        let b = g.broadcast_to(x, &[2, 3]).unwrap();
        let y = g.unary(UnaryOp::Sqrt, b).unwrap();
        g.output("y", y);
        assert_plan(
            &g,
            "\
buffers:
  b0 f32x3 input 0
  b1 f32x6 arena @0
  b2 f32x6 output 0
kernels:
  0: map b1@0[2, 3]/[3, 1] <- {%0: f32 = b0@0[2, 3]/[0, 1]; %1: f32 = sqrt %0}
  1: map b2@0[2, 3]/[3, 1] <- {%0: f32 = b1@0[2, 3]/[3, 1]}
arena: 64 bytes
",
        );
    }

    #[test]
    fn a_slice_moves_the_offset() {
        let mut g = Graph::new();
        let x = g.input("x", TensorType::f32(vec![4, 3]));
        let s = g.slice(x, 0, 1, 3).unwrap();
        let y = g.unary(UnaryOp::Sqrt, s).unwrap();
        g.output("y", y);
        assert_plan(
            &g,
            "\
buffers:
  b0 f32x12 input 0
  b1 f32x6 arena @0
  b2 f32x6 output 0
kernels:
  0: map b1@0[2, 3]/[3, 1] <- {%0: f32 = b0@3[2, 3]/[3, 1]; %1: f32 = sqrt %0}
  1: map b2@0[2, 3]/[3, 1] <- {%0: f32 = b1@0[2, 3]/[3, 1]}
arena: 64 bytes
",
        );
    }

    #[test]
    fn a_reshape_of_a_strided_view_copies_first() {
        let mut g = Graph::new();
        let x = g.input("x", TensorType::f32(vec![2, 3]));
        let t = g.t(x).unwrap();
        let r = g.reshape(t, &[6]).unwrap();
        let y = g.unary(UnaryOp::Exp, r).unwrap();
        g.output("y", y);
        assert_plan(
            &g,
            "\
buffers:
  b0 f32x6 input 0
  b1 f32x6 arena @0
  b2 f32x6 arena @64
  b3 f32x6 output 0
kernels:
  0: map b1@0[3, 2]/[2, 1] <- {%0: f32 = b0@0[3, 2]/[1, 3]}
  1: map b2@0[6]/[1] <- {%0: f32 = b1@0[6]/[1]; %1: f32 = exp %0}
  2: map b3@0[6]/[1] <- {%0: f32 = b2@0[6]/[1]}
arena: 128 bytes
",
        );
    }
}
