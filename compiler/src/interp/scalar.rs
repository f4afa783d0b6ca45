//! The reference meaning of each IR primitive on one element.
//!
//! The interpreter's elementwise and reduction evaluation is built from these functions, and
//! every compile-time evaluator (constant folding in the lowering, the folding pass) calls
//! them too, so a primitive's meaning is written exactly once.

use super::tensor::Real;
use crate::ir::{BinaryOp, ReduceOp, UnaryOp};

/// `op(x)` on a float element.
///
/// `Not` is boolean-only; the checker rejects it on numbers, so reaching it here is a bug.
pub fn eval_unary<T: Real>(op: UnaryOp, x: T) -> T {
    match op {
        UnaryOp::Exp => x.exp(),
        UnaryOp::Log => x.ln(),
        UnaryOp::Tanh => x.tanh(),
        UnaryOp::Sqrt => x.sqrt(),
        UnaryOp::Sin => x.sin(),
        UnaryOp::Cos => x.cos(),
        UnaryOp::Recip => x.recip(),
        UnaryOp::Floor => x.floor(),
        UnaryOp::Not => unreachable!("`not` on a number is rejected by the checker"),
    }
}

/// `x op y` for the arithmetic binary ops on float elements (comparisons: [`eval_compare`];
/// `And`/`Or`: [`eval_logical`]).
pub fn eval_binary<T: Real>(op: BinaryOp, x: T, y: T) -> T {
    match op {
        BinaryOp::Add => x + y,
        BinaryOp::Mul => x * y,
        BinaryOp::Div => x / y,
        BinaryOp::Pow => x.powf(y),
        // Floored remainder: the result has the sign of the divisor, like Python's `%`.
        BinaryOp::Rem => x - (x / y).floor() * y,
        // NaN-propagating, like numpy's maximum; the left operand on ties.
        BinaryOp::Max => {
            if x.is_nan() || x >= y {
                x
            } else {
                y
            }
        }
        BinaryOp::Lt | BinaryOp::Eq | BinaryOp::And | BinaryOp::Or => unreachable!("not an arithmetic op"),
    }
}

/// `x op y` for the arithmetic binary ops on i32 elements. Wraps on overflow, and division
/// or remainder by zero gives 0 rather than trapping: graphs never fail.
pub fn eval_binary_i32(op: BinaryOp, x: i32, y: i32) -> i32 {
    match op {
        BinaryOp::Add => x.wrapping_add(y),
        BinaryOp::Mul => x.wrapping_mul(y),
        BinaryOp::Div => {
            if y == 0 {
                0
            } else {
                x.wrapping_div(y)
            }
        }
        // Floored remainder (sign of the divisor), as for floats. `i32::MIN % -1` is 0 (the
        // remainder is exact; only the quotient overflows), never a trap.
        BinaryOp::Rem => {
            if y == 0 {
                0
            } else {
                let r = x.wrapping_rem(y);
                // Signs differ, so `r + y` cannot overflow.
                if r != 0 && (r < 0) != (y < 0) { r + y } else { r }
            }
        }
        BinaryOp::Max => x.max(y),
        BinaryOp::Pow => unreachable!("`pow` on integers is rejected by the checker"),
        BinaryOp::Lt | BinaryOp::Eq | BinaryOp::And | BinaryOp::Or => unreachable!("not an arithmetic op"),
    }
}

/// `x op y` for the comparison ops, on any ordered element type.
pub fn eval_compare<X: PartialOrd>(op: BinaryOp, x: X, y: X) -> bool {
    match op {
        BinaryOp::Lt => x < y,
        BinaryOp::Eq => x == y,
        BinaryOp::Add
        | BinaryOp::Mul
        | BinaryOp::Div
        | BinaryOp::Pow
        | BinaryOp::Rem
        | BinaryOp::Max
        | BinaryOp::And
        | BinaryOp::Or => unreachable!("not a comparison"),
    }
}

/// `x op y` for the ops defined on booleans (`And`, `Or`, `Eq`).
pub fn eval_logical(op: BinaryOp, x: bool, y: bool) -> bool {
    match op {
        BinaryOp::And => x && y,
        BinaryOp::Or => x || y,
        BinaryOp::Eq => x == y,
        BinaryOp::Add
        | BinaryOp::Mul
        | BinaryOp::Div
        | BinaryOp::Pow
        | BinaryOp::Rem
        | BinaryOp::Max
        | BinaryOp::Lt => unreachable!("not defined on booleans"),
    }
}

/// The identity a float reduction starts from.
pub fn reduce_init<T: Real>(op: ReduceOp) -> T {
    match op {
        ReduceOp::Sum => T::zero(),
        ReduceOp::Max => T::neg_infinity(),
        ReduceOp::Min => T::infinity(),
    }
}

/// One step of a float reduction: the accumulator after seeing `x`. Max and min propagate NaN.
pub fn reduce_step<T: Real>(op: ReduceOp, acc: T, x: T) -> T {
    match op {
        ReduceOp::Sum => acc + x,
        ReduceOp::Max => {
            if x > acc || x.is_nan() {
                x
            } else {
                acc
            }
        }
        ReduceOp::Min => {
            if x < acc || x.is_nan() {
                x
            } else {
                acc
            }
        }
    }
}

/// The identity an i32 reduction starts from.
pub fn reduce_init_i32(op: ReduceOp) -> i32 {
    match op {
        ReduceOp::Sum => 0,
        ReduceOp::Max => i32::MIN,
        ReduceOp::Min => i32::MAX,
    }
}

/// One step of an i32 reduction; sums wrap.
pub fn reduce_step_i32(op: ReduceOp, acc: i32, x: i32) -> i32 {
    match op {
        ReduceOp::Sum => acc.wrapping_add(x),
        ReduceOp::Max => acc.max(x),
        ReduceOp::Min => acc.min(x),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn i32_remainder_is_floored_and_never_traps() {
        let rem = |x, y| eval_binary_i32(BinaryOp::Rem, x, y);
        assert_eq!(
            rem(i32::MIN, -1),
            0,
            "the remainder is exact even where the quotient overflows"
        );
        assert_eq!(
            rem(i32::MIN + 1, i32::MIN),
            i32::MIN + 1,
            "same signs: no adjustment"
        );
        assert_eq!(rem(i32::MAX, i32::MIN), -1);
        assert_eq!(rem(-7, 3), 2);
        assert_eq!(rem(7, -3), -2);
        assert_eq!(rem(5, 0), 0);
        for x in -20..20 {
            for y in [-7, -3, -1, 1, 2, 5] {
                assert_eq!(
                    f64::from(rem(x, y)),
                    eval_binary(BinaryOp::Rem, f64::from(x), f64::from(y)),
                    "{x} % {y}"
                );
            }
        }
    }
}
