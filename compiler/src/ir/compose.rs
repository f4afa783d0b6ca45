//! Composite elementwise functions, built from primitives.
//!
//! Negation, subtraction, the elementwise minimum, the absolute value and the comparisons
//! other than `<` and `==` are not IR primitives: they are built here from the ones that are,
//! so the interpreter, autodiff and every backend have fewer operations to know. They live on
//! [`Graph`] (not in the lowering) because autodiff, which runs below the lowering, builds
//! them too.
//!
//! Each composite computes exactly what the primitive it replaced computed, bit for bit, with
//! two exceptions that only a NaN's sign bit or a zero's sign can show: negation is a multiply
//! by -1, which leaves a NaN's sign bit alone where a sign flip would toggle it, and
//! `abs(-0.0)` is `-0.0` (see [`Graph::abs`]).

use super::graph::{Graph, IrError, NodeId};
use super::op::{BinaryOp, UnaryOp};
use super::types::DType;

type Res = Result<NodeId, IrError>;

impl Graph {
    /// A constant of `like`'s type filled with `v`.
    fn fill_as(&mut self, v: f64, like: NodeId) -> NodeId {
        let ty = self.ty(like).clone();
        self.fill(v, ty)
    }

    /// `-x` = `x * -1`: exact for floats (signed zeros included) and, wrapping, for i32
    /// (`i32::MIN * -1` wraps to `i32::MIN`, as `wrapping_neg` does).
    pub fn neg(&mut self, x: NodeId) -> Res {
        let m = self.fill_as(-1.0, x);
        self.binary(BinaryOp::Mul, x, m)
    }

    /// `a - b` = `a + (-b)`: exact (IEEE subtraction is the addition of the negation; i32
    /// arithmetic wraps modulo 2^32 either way).
    pub fn sub(&mut self, a: NodeId, b: NodeId) -> Res {
        let nb = self.neg(b)?;
        self.binary(BinaryOp::Add, a, nb)
    }

    /// The elementwise minimum: `a` where `a` is NaN or `a <= b`, else `b` (NaN-propagating,
    /// the left operand on ties, as [`BinaryOp::Max`]).
    ///
    /// Floats: `-max(-a, -b)`. `-a >= -b` exactly when `a <= b` and `-a` is NaN exactly when
    /// `a` is, so `max` picks the same operand `min` would, and negating twice is exact. Its
    /// gradient goes to the same operand as before (the left one on ties); the other operand
    /// receives `-0.0` rather than `0.0`. i32: `select(b < a, b, a)`, because negation wraps
    /// at `i32::MIN` and would break the float form.
    pub fn min(&mut self, a: NodeId, b: NodeId) -> Res {
        if self.ty(a).dtype == DType::I32 {
            let b_less = self.binary(BinaryOp::Lt, b, a)?;
            return self.select(b_less, b, a);
        }
        let na = self.neg(a)?;
        let nb = self.neg(b)?;
        let m = self.binary(BinaryOp::Max, na, nb)?;
        self.neg(m)
    }

    /// -1, 0 or 1 by the sign of each entry (0 for zeros and NaN).
    pub fn sign(&mut self, x: NodeId) -> Res {
        let z = self.fill_as(0.0, x);
        let one = self.fill_as(1.0, x);
        let mone = self.fill_as(-1.0, x);
        let pos = self.gt(x, z)?;
        let neg = self.binary(BinaryOp::Lt, x, z)?;
        let inner = self.select(neg, mone, z)?;
        self.select(pos, one, inner)
    }

    /// `|x|` = `x * sign(x)`.
    ///
    /// Its gradient is then `g * sign(x)`: the rule the primitive had (`sign(0) = 0`, as in
    /// JAX), except that at `x == 0` it is `g * 0` (a zero with `g`'s sign) rather than `+0`.
    /// The one value that differs from a sign-clearing `abs` is `abs(-0.0) = -0.0`; no
    /// arithmetic but division by it (or a sign test) can tell. NaN stays NaN (`NaN * 0`).
    /// For i32 it wraps: `abs(i32::MIN) = i32::MIN`, as `wrapping_abs`.
    pub fn abs(&mut self, x: NodeId) -> Res {
        let s = self.sign(x)?;
        self.binary(BinaryOp::Mul, x, s)
    }

    /// `a > b` = `b < a`.
    pub fn gt(&mut self, a: NodeId, b: NodeId) -> Res {
        self.binary(BinaryOp::Lt, b, a)
    }

    /// `a <= b` = `a < b || a == b`: exact, NaN included (both false). Not `!(b < a)`,
    /// which would be true for NaN.
    pub fn le(&mut self, a: NodeId, b: NodeId) -> Res {
        let lt = self.binary(BinaryOp::Lt, a, b)?;
        let eq = self.binary(BinaryOp::Eq, a, b)?;
        self.binary(BinaryOp::Or, lt, eq)
    }

    /// `a >= b` = `b <= a`.
    pub fn ge(&mut self, a: NodeId, b: NodeId) -> Res {
        self.le(b, a)
    }

    /// `a != b` = `!(a == b)`: exact, NaN included (`NaN != NaN` is true). Defined on
    /// booleans too, like `==`. (Not named `ne`, which `PartialEq` already gives `Graph`.)
    pub fn neq(&mut self, a: NodeId, b: NodeId) -> Res {
        let eq = self.binary(BinaryOp::Eq, a, b)?;
        self.unary(UnaryOp::Not, eq)
    }
}

#[cfg(test)]
mod tests {
    use crate::interp::{Tensor, eval};
    use crate::ir::{DType, Graph, NodeId, TensorType};

    const SPECIAL: [f32; 11] = [
        0.0,
        -0.0,
        1.5,
        -1.5,
        2.0,
        -7.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        f32::MIN_POSITIVE,
        f32::MAX,
    ];

    /// Every pair of special values, as two f32 constants of equal shape.
    fn pairs() -> (Vec<f32>, Vec<f32>) {
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        for x in SPECIAL {
            for y in SPECIAL {
                xs.push(x);
                ys.push(y);
            }
        }
        (xs, ys)
    }

    /// Builds `f(x, y)` on constants of type `dtype` and evaluates it in the interpreter.
    fn run(
        dtype: DType,
        xs: &[f64],
        ys: &[f64],
        f: impl Fn(&mut Graph, NodeId, NodeId) -> NodeId,
    ) -> Vec<f64> {
        let mut g = Graph::new();
        let ty = TensorType::new(dtype, vec![xs.len()]);
        let x = g.constant(xs.to_vec(), ty.clone()).unwrap();
        let y = g.constant(ys.to_vec(), ty).unwrap();
        let r = f(&mut g, x, y);
        g.output("r", r);
        let v: Tensor<f32> = eval(&g, &[], &[]).unwrap().outputs.pop().unwrap();
        v.to_f64()
    }

    /// A comparison as Rust computes it on f32.
    type Reference = fn(f32, f32) -> bool;
    /// The same comparison built in a graph.
    type Build = fn(&mut Graph, NodeId, NodeId) -> NodeId;

    fn f64s(v: &[f32]) -> Vec<f64> {
        v.iter().map(|x| f64::from(*x)).collect()
    }

    /// Same bits, or both NaN (negation by multiply does not flip a NaN's sign bit).
    fn same(a: f32, b: f32) -> bool {
        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
    }

    #[test]
    fn float_composites_equal_the_primitives_they_replace() {
        let (xs, ys) = pairs();
        let (fx, fy) = (f64s(&xs), f64s(&ys));
        let neg = run(DType::F32, &fx, &fy, |g, x, _| g.neg(x).unwrap());
        let sub = run(DType::F32, &fx, &fy, |g, x, y| g.sub(x, y).unwrap());
        let min = run(DType::F32, &fx, &fy, |g, x, y| g.min(x, y).unwrap());
        let abs = run(DType::F32, &fx, &fy, |g, x, _| g.abs(x).unwrap());
        let flag = |b: bool| if b { 1.0 } else { 0.0 };
        let cmp: [(&str, Reference, Build); 4] = [
            ("gt", |x, y| x > y, |g, x, y| g.gt(x, y).unwrap()),
            ("ge", |x, y| x >= y, |g, x, y| g.ge(x, y).unwrap()),
            ("le", |x, y| x <= y, |g, x, y| g.le(x, y).unwrap()),
            ("neq", |x, y| x != y, |g, x, y| g.neq(x, y).unwrap()),
        ];
        for (i, (&x, &y)) in xs.iter().zip(&ys).enumerate() {
            assert!(same(neg[i] as f32, -x), "neg {x}");
            assert!(same(sub[i] as f32, x - y), "{x} - {y}");
            let want_min = if x.is_nan() || x <= y { x } else { y };
            assert!(same(min[i] as f32, want_min), "min({x}, {y}) = {}", min[i]);
            // The documented difference: abs(-0.0) is -0.0.
            let want_abs = if x == 0.0 { x } else { x.abs() };
            assert!(same(abs[i] as f32, want_abs), "abs({x}) = {}", abs[i]);
        }
        for (name, want, build) in cmp {
            let got = run(DType::F32, &fx, &fy, build);
            for (i, (&x, &y)) in xs.iter().zip(&ys).enumerate() {
                assert_eq!(got[i], flag(want(x, y)), "{name}({x}, {y})");
            }
        }
    }

    #[test]
    fn integer_composites_wrap_like_the_primitives_they_replace() {
        let vals = [0, 1, -1, 7, -7, i32::MAX, i32::MIN, i32::MIN + 1];
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        for x in vals {
            for y in vals {
                xs.push(x);
                ys.push(y);
            }
        }
        let fx: Vec<f64> = xs.iter().map(|x| f64::from(*x)).collect();
        let fy: Vec<f64> = ys.iter().map(|y| f64::from(*y)).collect();
        let neg = run(DType::I32, &fx, &fy, |g, x, _| g.neg(x).unwrap());
        let sub = run(DType::I32, &fx, &fy, |g, x, y| g.sub(x, y).unwrap());
        let min = run(DType::I32, &fx, &fy, |g, x, y| g.min(x, y).unwrap());
        let abs = run(DType::I32, &fx, &fy, |g, x, _| g.abs(x).unwrap());
        let ge = run(DType::I32, &fx, &fy, |g, x, y| g.ge(x, y).unwrap());
        for (i, (&x, &y)) in xs.iter().zip(&ys).enumerate() {
            assert_eq!(neg[i], f64::from(x.wrapping_neg()), "-{x}");
            assert_eq!(sub[i], f64::from(x.wrapping_sub(y)), "{x} - {y}");
            assert_eq!(min[i], f64::from(x.min(y)), "min({x}, {y})");
            assert_eq!(abs[i], f64::from(x.wrapping_abs()), "abs({x})");
            assert_eq!(ge[i], if x >= y { 1.0 } else { 0.0 }, "{x} >= {y}");
        }
    }

    #[test]
    fn booleans_have_equality_only() {
        let ty = TensorType::new(DType::Bool, vec![2]);
        let mut g = Graph::new();
        let x = g.constant(vec![0.0, 1.0], ty.clone()).unwrap();
        let y = g.constant(vec![1.0, 1.0], ty).unwrap();
        assert!(g.neq(x, y).is_ok());
        assert!(g.le(x, y).is_err());
        assert!(g.gt(x, y).is_err());
        assert!(g.neg(x).is_err());
        assert!(g.sub(x, y).is_err());
    }
}
