//! `cholesky`: the lower-triangular factor `l` of a symmetric positive-definite `a = l lᵀ`.
//!
//! K-FAC (Martens & Grosse, 2015; ACKTR, Wu et al., 2017) applies the inverses of damped
//! Kronecker factors; a Cholesky factor turns each application into two triangular solves
//! and is the stable way to test that a factor is positive definite. Cholesky–Banachiewicz in
//! f64, reading only the lower triangle of `a` (as LAPACK's `potrf` with 'L' and numpy's
//! `cholesky`); the upper triangle of the result is zero. A matrix that is not positive
//! definite (a pivot that is not positive) or not finite gives NaN everywhere, not a
//! meaningless factor.

use super::{Definition, HostArg};
use crate::ir::graph::{Graph, IrError, NodeId};
use crate::ir::op::BinaryOp;
use crate::ir::types::{DType, TensorType};

/// `cholesky(a)`: `a` is f32 `[n, n]`; the result has its type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Cholesky;

impl Definition for Cholesky {
    fn name(&self) -> &'static str {
        "cholesky"
    }

    fn attrs(&self) -> String {
        String::new()
    }

    fn output_type(&self, args: &[&TensorType]) -> Result<TensorType, String> {
        let [a] = args else {
            return Err(format!("takes 1 operand, got {}", args.len()));
        };
        if a.dtype != DType::F32 || a.rank() != 2 || a.shape[0] != a.shape[1] {
            return Err(format!("needs an f32 [n, n] matrix, got {a}"));
        }
        Ok((*a).clone())
    }

    fn eval(&self, args: &[HostArg<'_>], out: &TensorType) -> Vec<f64> {
        let a = args[0];
        let n = a.ty.shape[0];
        let mut l = vec![0.0; n * n];
        let failed = vec![f64::NAN; out.numel()];
        for i in 0..n {
            for j in 0..=i {
                let mut s = a.data[i * n + j];
                for k in 0..j {
                    s -= l[i * n + k] * l[j * n + k];
                }
                if i == j {
                    // NaN is not positive either.
                    if s.is_nan() || s <= 0.0 || !s.is_finite() {
                        return failed;
                    }
                    l[i * n + i] = s.sqrt();
                } else {
                    l[i * n + j] = s / l[j * n + j];
                }
            }
        }
        if l.iter().all(|v| v.is_finite()) {
            l
        } else {
            failed
        }
    }

    fn differentiable(&self, _n_args: usize) -> Vec<usize> {
        vec![0]
    }

    /// Murray (2016), "Differentiation of the Cholesky decomposition", for a function of the
    /// lower triangle: with Φ(x) the lower triangle of x with its diagonal halved,
    /// B = l⁻ᵀ Φ(lᵀ tril(ḡ)) l⁻¹ and ā = Φ(B + Bᵀ) (the upper triangle, never read, gets 0).
    fn vjp(
        &self,
        gr: &mut Graph,
        _args: &[NodeId],
        l: NodeId,
        g: NodeId,
    ) -> Result<Vec<(usize, NodeId)>, IrError> {
        let ty = gr.ty(l).clone();
        let n = ty.shape[0];
        let mask = |diag: f64| -> Vec<f64> {
            (0..n * n)
                .map(|k| match (k / n).cmp(&(k % n)) {
                    std::cmp::Ordering::Greater => 1.0,
                    std::cmp::Ordering::Equal => diag,
                    std::cmp::Ordering::Less => 0.0,
                })
                .collect()
        };
        let tril = gr.constant(mask(1.0), ty.clone())?;
        let phi = gr.constant(mask(0.5), ty.clone())?;
        // Only the lower triangle of l is a function of a: the cotangent of the rest is dropped.
        let gl = gr.binary(BinaryOp::Mul, g, tril)?;
        let lt = gr.transpose(l, &[1, 0])?;
        let ltg = gr.matmul(lt, gl)?;
        let p = gr.binary(BinaryOp::Mul, ltg, phi)?;
        // B = l⁻ᵀ P l⁻¹: x = l⁻ᵀ P, then B = (l⁻ᵀ xᵀ)ᵀ.
        let x = gr.routine(super::Routine::Solve(super::Solve), &[lt, p])?;
        let xt = gr.transpose(x, &[1, 0])?;
        let bt = gr.routine(super::Routine::Solve(super::Solve), &[lt, xt])?;
        let b = gr.transpose(bt, &[1, 0])?;
        let sum = gr.binary(BinaryOp::Add, b, bt)?;
        let da = gr.binary(BinaryOp::Mul, sum, phi)?;
        Ok(vec![(0, da)])
    }

    fn flops(&self, args: &[&TensorType], _out: &TensorType) -> u64 {
        let n = args[0].shape[0] as u64;
        n * n * n / 3
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chol(a: &[f64], n: usize) -> Vec<f64> {
        let ty = TensorType::f32(vec![n, n]);
        Cholesky.eval(&[HostArg { ty: &ty, data: a }], &ty)
    }

    #[test]
    fn factors_and_reads_only_the_lower_triangle() {
        // [[4, 2], [2, 5]] = [[2, 0], [1, 2]] [[2, 1], [0, 2]]; the upper 99 is never read.
        assert_eq!(chol(&[4.0, 99.0, 2.0, 5.0], 2), [2.0, 0.0, 1.0, 2.0]);
    }

    #[test]
    fn a_matrix_that_is_not_positive_definite_gives_nan() {
        for a in [
            [1.0, 2.0, 2.0, 1.0],
            [0.0, 0.0, 0.0, 1.0],
            [f64::NAN, 0.0, 0.0, 1.0],
        ] {
            assert!(chol(&a, 2).iter().all(|v| v.is_nan()), "{a:?}");
        }
    }

    #[test]
    fn rejects_a_matrix_that_is_not_square() {
        assert!(Cholesky.output_type(&[&TensorType::f32(vec![2, 3])]).is_err());
        assert!(
            Cholesky
                .output_type(&[&TensorType::new(DType::I32, vec![2, 2])])
                .is_err()
        );
    }

    #[test]
    fn gradients_match_finite_differences() {
        use crate::autodiff::tests::{Case, check};
        let case = Case {
            shapes: vec![vec![3, 3]],
            range: (-1.0, 1.0),
        };
        // A positive-definite matrix built from the input: x xᵀ + 3 I.
        check("cholesky", case, &|g, x| {
            let xt = g.transpose(x[0], &[1, 0]).unwrap();
            let xxt = g.matmul(x[0], xt).unwrap();
            let eye: Vec<f64> = (0..9).map(|i| if i % 4 == 0 { 3.0 } else { 0.0 }).collect();
            let d = g.constant(eye, TensorType::f32(vec![3, 3])).unwrap();
            let a = g.binary(BinaryOp::Add, xxt, d).unwrap();
            g.routine(super::super::Routine::Cholesky(Cholesky), &[a])
                .unwrap()
        });
        // The lower triangle alone (the upper is not read): a non-symmetric input whose lower
        // triangle is positive definite.
        let case = Case {
            shapes: vec![vec![3, 3]],
            range: (-0.3, 0.3),
        };
        check("cholesky of the lower triangle", case, &|g, x| {
            let eye: Vec<f64> = (0..9).map(|i| if i % 4 == 0 { 2.0 } else { 0.0 }).collect();
            let d = g.constant(eye, TensorType::f32(vec![3, 3])).unwrap();
            let a = g.binary(BinaryOp::Add, x[0], d).unwrap();
            g.routine(super::super::Routine::Cholesky(Cholesky), &[a])
                .unwrap()
        });
    }
}
