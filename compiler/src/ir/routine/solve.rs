//! `solve`: the solution `x` of the linear system `a x = b` for a small square `a`.
//!
//! Natural-gradient methods precondition with the inverse of a curvature matrix — the Fisher
//! blocks of K-FAC in ACKTR (Wu et al. 2017, arXiv:1708.05144) — and that inverse is only ever
//! applied, so a solve is the primitive. Gaussian elimination with partial pivoting, in f64.
//! A singular (or non-finite) `a` gives NaN everywhere rather than a meaningless answer. (The
//! trainer does not yet stop on a NaN loss -- metrics record it as null; that is hardening
//! work, issue 18.)

use super::{Definition, HostArg};
use crate::ir::graph::{Graph, IrError, NodeId};
use crate::ir::op::BinaryOp;
use crate::ir::types::{DType, TensorType};

/// `solve(a, b)`: `a` is f32 `[n, n]`, `b` is f32 `[n]` or `[n, m]`; the result has `b`'s type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Solve;

/// Pivots smaller than this (relative to the largest entry of `a`) count as singular.
const SINGULAR: f64 = 1e-12;

impl Definition for Solve {
    fn name(&self) -> &'static str {
        "solve"
    }

    fn attrs(&self) -> String {
        String::new()
    }

    fn output_type(&self, args: &[&TensorType]) -> Result<TensorType, String> {
        let [a, b] = args else {
            return Err(format!("takes 2 operands, got {}", args.len()));
        };
        let square = a.rank() == 2 && a.shape[0] == a.shape[1];
        if a.dtype != DType::F32 || b.dtype != DType::F32 || !square {
            return Err(format!(
                "needs an f32 [n, n] matrix and f32 [n] or [n, m], got {a} and {b}"
            ));
        }
        if !(1..=2).contains(&b.rank()) || b.shape[0] != a.shape[0] {
            return Err(format!("right-hand side {b} does not fit {a}"));
        }
        Ok((*b).clone())
    }

    fn eval(&self, args: &[HostArg<'_>], out: &TensorType) -> Vec<f64> {
        let (a, b) = (args[0], args[1]);
        let n = a.ty.shape[0];
        let m = if b.ty.rank() == 2 { b.ty.shape[1] } else { 1 };
        let mut lu = a.data.to_vec();
        let mut x = b.data.to_vec();
        let scale = lu.iter().fold(0.0f64, |s, v| s.max(v.abs()));
        let singular = vec![f64::NAN; out.numel()];
        if !scale.is_finite() || !x.iter().all(|v| v.is_finite()) {
            return singular;
        }
        for col in 0..n {
            // The largest pivot in the column keeps the elimination stable.
            let p = (col..n)
                .max_by(|i, j| lu[i * n + col].abs().total_cmp(&lu[j * n + col].abs()))
                .unwrap_or(col);
            if lu[p * n + col].abs() <= SINGULAR * scale {
                return singular;
            }
            if p != col {
                for k in 0..n {
                    lu.swap(p * n + k, col * n + k);
                }
                for k in 0..m {
                    x.swap(p * m + k, col * m + k);
                }
            }
            let pivot = lu[col * n + col];
            for r in col + 1..n {
                let f = lu[r * n + col] / pivot;
                if f == 0.0 {
                    continue;
                }
                for k in col..n {
                    lu[r * n + k] -= f * lu[col * n + k];
                }
                for k in 0..m {
                    x[r * m + k] -= f * x[col * m + k];
                }
            }
        }
        for col in (0..n).rev() {
            for k in 0..m {
                let mut v = x[col * m + k];
                for j in col + 1..n {
                    v -= lu[col * n + j] * x[j * m + k];
                }
                x[col * m + k] = v / lu[col * n + col];
            }
        }
        x
    }

    fn differentiable(&self, _n_args: usize) -> Vec<usize> {
        vec![0, 1]
    }

    /// `x = a⁻¹ b`: `db = a⁻ᵀ g` (a solve with the transpose) and `da = -db xᵀ`.
    fn vjp(
        &self,
        gr: &mut Graph,
        args: &[NodeId],
        y: NodeId,
        g: NodeId,
    ) -> Result<Vec<(usize, NodeId)>, IrError> {
        let at = gr.transpose(args[0], &[1, 0])?;
        let db = gr.routine(super::Routine::Solve(Solve), &[at, g])?;
        // As matrices: a vector right-hand side is one column.
        let n = gr.ty(y).shape[0];
        let m = gr.ty(y).numel() / n.max(1);
        let dbm = gr.reshape(db, &[n, m])?;
        let xm = gr.reshape(y, &[n, m])?;
        let xt = gr.transpose(xm, &[1, 0])?;
        let outer = gr.matmul(dbm, xt)?;
        let minus = gr.fill(-1.0, gr.ty(outer).clone());
        let da = gr.binary(BinaryOp::Mul, outer, minus)?;
        Ok(vec![(0, da), (1, db)])
    }

    fn flops(&self, args: &[&TensorType], out: &TensorType) -> u64 {
        let n = args[0].shape[0] as u64;
        let m = (out.numel() as u64) / n.max(1);
        2 * n * n * n / 3 + 2 * n * n * m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn solve(a: &[f64], b: &[f64], bshape: Vec<usize>) -> Vec<f64> {
        let n = bshape[0];
        let (ta, tb) = (TensorType::f32(vec![n, n]), TensorType::f32(bshape));
        let out = Solve.output_type(&[&ta, &tb]).unwrap();
        Solve.eval(
            &[HostArg { ty: &ta, data: a }, HostArg { ty: &tb, data: b }],
            &out,
        )
    }

    #[test]
    fn solves_with_pivoting() {
        // The first pivot is zero: only a row swap makes this solvable.
        let x = solve(&[0.0, 2.0, 3.0, 1.0], &[4.0, 5.0], vec![2]);
        assert_eq!(x, [1.0, 2.0]);
        let x = solve(&[2.0, 0.0, 0.0, 4.0], &[2.0, 4.0, 8.0, 4.0], vec![2, 2]);
        assert_eq!(x, [1.0, 2.0, 2.0, 1.0]);
    }

    #[test]
    fn a_singular_matrix_gives_nan_not_an_answer() {
        let x = solve(&[1.0, 2.0, 2.0, 4.0], &[1.0, 1.0], vec![2]);
        assert!(x.iter().all(|v| v.is_nan()), "{x:?}");
        let x = solve(&[1.0, f64::INFINITY, 0.0, 1.0], &[1.0, 1.0], vec![2]);
        assert!(x.iter().all(|v| v.is_nan()), "{x:?}");
    }

    #[test]
    fn rejects_shapes_that_do_not_fit() {
        let sq = TensorType::f32(vec![3, 3]);
        assert!(
            Solve
                .output_type(&[&TensorType::f32(vec![2, 3]), &TensorType::f32(vec![2])])
                .is_err()
        );
        assert!(Solve.output_type(&[&sq, &TensorType::f32(vec![2])]).is_err());
        assert!(
            Solve
                .output_type(&[&sq, &TensorType::f32(vec![3, 1, 1])])
                .is_err()
        );
        assert!(
            Solve
                .output_type(&[&sq, &TensorType::new(DType::I32, vec![3])])
                .is_err()
        );
        assert_eq!(
            Solve
                .output_type(&[&sq, &TensorType::f32(vec![3, 2])])
                .unwrap()
                .shape,
            [3, 2]
        );
    }

    #[test]
    fn gradients_match_finite_differences() {
        use crate::autodiff::tests::{Case, check};
        for rhs in [vec![3], vec![3, 2]] {
            let case = Case {
                shapes: vec![vec![3, 3], rhs],
                range: (-1.0, 1.0),
            };
            check("solve", case, &|g, x| {
                // A well-conditioned matrix: the input plus 4 on the diagonal.
                let eye: Vec<f64> = (0..9).map(|i| if i % 4 == 0 { 4.0 } else { 0.0 }).collect();
                let d = g.constant(eye, TensorType::f32(vec![3, 3])).unwrap();
                let a = g.binary(BinaryOp::Add, x[0], d).unwrap();
                g.routine(super::super::Routine::Solve(Solve), &[a, x[1]])
                    .unwrap()
            });
        }
    }
}
