//! `argsort`: the indices that sort one axis of a tensor.
//!
//! Used for top-k selection (the elites of the cross-entropy method in QT-Opt, Kalashnikov et
//! al. 2018, arXiv:1806.10293) and for rank-based transforms. The sort is stable (equal values
//! keep their order) and NaNs sort last in either direction, as numpy's `argsort` does for
//! ascending order; a NaN never lands among the "largest" values.

use super::{Definition, HostArg};
use crate::ir::graph::{Graph, IrError, NodeId};
use crate::ir::types::{DType, TensorType};
use std::cmp::Ordering;

/// `argsort(x, axis, descending)`: for each line along `axis`, the positions of its elements
/// in sorted order (i32, same shape as `x`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Argsort {
    /// The axis sorted along.
    pub axis: usize,
    /// Largest first (still stable, NaNs still last).
    pub descending: bool,
}

impl Argsort {
    /// Orders two values: the sort direction, with NaN after every number.
    fn order(&self, a: f64, b: f64) -> Ordering {
        match (a.is_nan(), b.is_nan()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) if self.descending => b.partial_cmp(&a).unwrap_or(Ordering::Equal),
            (false, false) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
        }
    }
}

impl Definition for Argsort {
    fn name(&self) -> &'static str {
        "argsort"
    }

    fn attrs(&self) -> String {
        if self.descending {
            format!("[axis={}, descending]", self.axis)
        } else {
            format!("[axis={}]", self.axis)
        }
    }

    fn output_type(&self, args: &[&TensorType]) -> Result<TensorType, String> {
        let [x] = args else {
            return Err(format!("takes 1 operand, got {}", args.len()));
        };
        if x.dtype == DType::Bool {
            return Err(format!("cannot sort {x}"));
        }
        if self.axis >= x.rank() {
            return Err(format!("axis {} out of range for {x}", self.axis));
        }
        if x.shape[self.axis] > i32::MAX as usize {
            return Err(format!("axis {} of {x} is too long for i32 indices", self.axis));
        }
        Ok(x.with_dtype(DType::I32))
    }

    fn eval(&self, args: &[HostArg<'_>], out: &TensorType) -> Vec<f64> {
        let x = args[0];
        let shape = &x.ty.shape;
        let len = shape[self.axis];
        let inner: usize = shape[self.axis + 1..].iter().product();
        let outer: usize = shape[..self.axis].iter().product();
        let mut res = vec![0.0; out.numel()];
        let mut idx: Vec<usize> = Vec::with_capacity(len);
        for o in 0..outer {
            for i in 0..inner {
                let at = |j: usize| (o * len + j) * inner + i;
                idx.clear();
                idx.extend(0..len);
                // `sort_by` is stable: ties keep their original order.
                idx.sort_by(|a, b| self.order(x.data[at(*a)], x.data[at(*b)]));
                for (j, k) in idx.iter().enumerate() {
                    res[at(j)] = *k as f64;
                }
            }
        }
        res
    }

    fn differentiable(&self, _n_args: usize) -> Vec<usize> {
        // Integer positions: no gradient flows (take values with them to differentiate).
        vec![]
    }

    fn vjp(
        &self,
        _gr: &mut Graph,
        _args: &[NodeId],
        _y: NodeId,
        _g: NodeId,
    ) -> Result<Vec<(usize, NodeId)>, IrError> {
        Ok(vec![])
    }

    fn flops(&self, args: &[&TensorType], _out: &TensorType) -> u64 {
        let x = args[0];
        let len = x.shape[self.axis].max(2) as f64;
        (x.numel() as f64 * len.log2()).ceil() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(r: &Argsort, shape: Vec<usize>, data: &[f64]) -> Vec<f64> {
        let ty = TensorType::f32(shape);
        let out = r.output_type(&[&ty]).unwrap();
        r.eval(&[HostArg { ty: &ty, data }], &out)
    }

    #[test]
    fn sorts_each_line_stably_with_nans_last() {
        let up = Argsort {
            axis: 1,
            descending: false,
        };
        let nan = f64::NAN;
        let x = [3.0, 1.0, nan, 1.0, /* row 2 */ 0.0, -2.0, 5.0, -2.0];
        assert_eq!(run(&up, vec![2, 4], &x), [1.0, 3.0, 0.0, 2.0, 1.0, 3.0, 0.0, 2.0]);
        let down = Argsort {
            axis: 1,
            descending: true,
        };
        assert_eq!(
            run(&down, vec![2, 4], &x),
            [0.0, 1.0, 3.0, 2.0, 2.0, 0.0, 1.0, 3.0]
        );
    }

    #[test]
    fn sorts_along_a_leading_axis() {
        let r = Argsort {
            axis: 0,
            descending: false,
        };
        // Columns [2, 1] and [0, 4].
        assert_eq!(run(&r, vec![2, 2], &[2.0, 0.0, 1.0, 4.0]), [1.0, 0.0, 0.0, 1.0]);
    }

    #[test]
    fn rejects_bools_and_bad_axes() {
        let r = Argsort {
            axis: 1,
            descending: false,
        };
        assert!(r.output_type(&[&TensorType::f32(vec![3])]).is_err());
        assert!(
            r.output_type(&[&TensorType::new(DType::Bool, vec![2, 2])])
                .is_err()
        );
        assert!(r.output_type(&[]).is_err());
        assert_eq!(
            r.output_type(&[&TensorType::f32(vec![2, 5])]).unwrap(),
            TensorType::new(DType::I32, vec![2, 5])
        );
    }
}
