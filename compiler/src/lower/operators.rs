//! Unary and binary operators and `where`: element types, broadcasting and constant folding.

use super::tracer::{R, Tracer, err};
use super::value::{Tv, Value};
use crate::diag::{Code, Diagnostic, Span};
use crate::ir::{BinaryOp, DType, Graph, IrError, NodeId, TensorType, UnaryOp, broadcast_shapes};
use crate::syntax::ast::{BinOp, UnOp};

fn shape_str(s: &[usize]) -> String {
    TensorType::f32(s.to_vec())
        .to_string()
        .trim_start_matches("f32")
        .to_string()
}

impl Tracer<'_, '_> {
    pub(crate) fn unary(&mut self, op: UnOp, v: Value, vspan: Span, whole: Span) -> R<Value> {
        match (op, v) {
            // `-i64::MIN` does not fit: it becomes a float, like other integer overflow.
            (UnOp::Neg, Value::Int(i)) => Ok(i.checked_neg().map_or(Value::Float(-(i as f64)), Value::Int)),
            (UnOp::Neg, Value::Float(f)) => Ok(Value::Float(-f)),
            (UnOp::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
            (op, v @ (Value::Tensor(_) | Value::List(_))) => {
                let t = self.tensor_of(v, vspan, None)?;
                let ok = match op {
                    UnOp::Neg => t.ty.dtype != DType::Bool,
                    UnOp::Not => t.ty.dtype == DType::Bool,
                };
                if !ok {
                    return Err(err(
                        Code::TypeMismatch,
                        format!(
                            "`{}` is not defined for {}",
                            if op == UnOp::Neg { "-" } else { "!" },
                            t.ty
                        ),
                        vspan,
                        format!("this is {}", t.ty),
                    ));
                }
                let f: fn(&mut Graph, NodeId) -> Result<NodeId, IrError> = match op {
                    UnOp::Neg => Graph::neg,
                    UnOp::Not => |g, x| g.unary(UnaryOp::Not, x),
                };
                self.gb(whole).apply(&t, f).map(Value::Tensor)
            }
            (op, v) => Err(err(
                Code::TypeMismatch,
                format!(
                    "`{}` cannot be applied to {}",
                    if op == UnOp::Neg { "-" } else { "!" },
                    v.describe()
                ),
                vspan,
                format!("this is {}", v.describe()),
            )),
        }
    }

    pub(crate) fn binary(
        &mut self,
        op: BinOp,
        a: Value,
        sa: Span,
        b: Value,
        sb: Span,
        whole: Span,
    ) -> R<Value> {
        if let Some(v) = fold(op, &a, &b) {
            return match v {
                // `0.0 / 0.0`, `1e308 * 10`: a NaN or infinite constant is never what was
                // meant, and would silently poison every value computed from it.
                Ok(Value::Float(f)) if !f.is_finite() => Err(err(
                    Code::NonFinite,
                    format!("this constant expression is {f}, not a finite number"),
                    whole,
                    format!("evaluates to {f}"),
                )),
                Ok(v) => Ok(v),
                Err(m) => Err(err(Code::BadArgument, m, whole, "in this constant expression")),
            };
        }
        let is_tensorish = |v: &Value| matches!(v, Value::Tensor(_) | Value::List(_));
        let numeric = |v: &Value| matches!(v, Value::Int(_) | Value::Float(_) | Value::Bool(_));
        if !(is_tensorish(&a) || numeric(&a)) || !(is_tensorish(&b) || numeric(&b)) {
            let (bad, span) = if is_tensorish(&a) || numeric(&a) {
                (&b, sb)
            } else {
                (&a, sa)
            };
            return Err(err(
                Code::TypeMismatch,
                format!("`{}` cannot be applied to {}", op.symbol(), bad.describe()),
                span,
                format!("this is {}", bad.describe()),
            ));
        }
        // `x * 1` and `x / 1` on an f32 tensor are `x`, bit for bit (NaN and -0 included): an
        // update rule's `g * scale` costs nothing when clipping is off and `scale` is 1.
        let one = |v: &Value| matches!(v, Value::Float(f) if *f == 1.0) || matches!(v, Value::Int(1));
        match (op, &a, &b) {
            (BinOp::Mul, Value::Tensor(t), c)
            | (BinOp::Mul, c, Value::Tensor(t))
            | (BinOp::Div, Value::Tensor(t), c)
                if one(c) && t.ty.dtype == DType::F32 =>
            {
                return Ok(Value::Tensor(t.clone()));
            }
            _ => {}
        }
        // The tensor side fixes the element type of constants on the other side.
        let (ta, tb) = match (&a, &b) {
            (Value::Tensor(t), _) => {
                let d = t.ty.dtype;
                (self.tensor_of(a, sa, None)?, self.tensor_of(b, sb, Some(d))?)
            }
            (_, Value::Tensor(t)) => {
                let d = t.ty.dtype;
                (self.tensor_of(a, sa, Some(d))?, self.tensor_of(b, sb, None)?)
            }
            _ => (self.tensor_of(a, sa, None)?, self.tensor_of(b, sb, None)?),
        };
        self.tensor_binary(op, ta, sa, tb, sb, whole).map(Value::Tensor)
    }

    /// Checks element types and shapes, then emits a broadcasting binary op.
    pub(crate) fn tensor_binary(
        &mut self,
        op: BinOp,
        a: Tv,
        sa: Span,
        b: Tv,
        sb: Span,
        whole: Span,
    ) -> R<Tv> {
        let (da, db) = (a.ty.dtype, b.ty.dtype);
        let mismatch = |why: &str| {
            Diagnostic::new(
                Code::TypeMismatch,
                format!("`{}` {why}: {} and {}", op.symbol(), a.ty, b.ty),
            )
            .at(sa, format!("this is {}", a.ty))
            .also(sb, format!("this is {}", b.ty))
        };
        if da != db {
            return Err(mismatch("needs operands of one element type")
                .hint("convert explicitly with `f32(x)`, `i32(x)` or `bool(x)`"));
        }
        let logical = matches!(op, BinOp::And | BinOp::Or);
        if logical && da != DType::Bool {
            return Err(mismatch("needs booleans"));
        }
        if !logical && da == DType::Bool && !matches!(op, BinOp::Eq | BinOp::Ne) {
            return Err(
                mismatch("is not defined for booleans").hint("convert with `f32(x)` to compute with flags")
            );
        }
        if op == BinOp::Pow && da != DType::F32 {
            return Err(mismatch("needs f32 operands"));
        }
        if op == BinOp::Div && da == DType::I32 {
            return Err(mismatch("on integers is ambiguous").hint("convert with `f32(x)` first"));
        }
        let shape = self.check_broadcast(&a.ty.shape, sa, &b.ty.shape, sb, op.symbol())?;
        let _ = shape;
        // x^2 is common in losses; a multiply is exact and cheaper than pow.
        if op == BinOp::Pow
            && let crate::ir::Op::Const { values } = &self.g().node(b.node).op
            && values.len() == 1
            && values[0] == 2.0
        {
            let sq = self.gb(whole).binary(BinaryOp::Mul, &a, &a)?;
            let out = sq.ty.shape.clone();
            let target = broadcast_shapes(&out, &b.ty.shape).unwrap_or(out);
            return self.gb(whole).broadcast_to(&sq, &target);
        }
        self.gb(whole).apply2(&a, &b, |g, x, y| build(op, g, x, y))
    }

    /// Numpy broadcasting, except that combining two tensors into something larger than
    /// both (`[B,1]` with `[B]` giving `[B,B]`) is an error: in RL code it is almost always
    /// the classic TD-target shape bug.
    pub(crate) fn check_broadcast(
        &mut self,
        a: &[usize],
        sa: Span,
        b: &[usize],
        sb: Span,
        what: &str,
    ) -> R<Vec<usize>> {
        let both = |d: Diagnostic| {
            d.at(sa, format!("this has shape {}", shape_str(a)))
                .also(sb, format!("this has shape {}", shape_str(b)))
        };
        let Some(out) = broadcast_shapes(a, b) else {
            return Err(both(Diagnostic::new(
                Code::ShapeMismatch,
                format!(
                    "shapes {} and {} do not fit together in `{what}`",
                    shape_str(a),
                    shape_str(b)
                ),
            )));
        };
        let numel = |s: &[usize]| s.iter().product::<usize>();
        if numel(&out) > numel(a).max(numel(b)) {
            return Err(both(Diagnostic::new(
                Code::ShapeMismatch,
                format!(
                    "`{what}` would broadcast {} and {} to {}",
                    shape_str(a),
                    shape_str(b),
                    shape_str(&out)
                ),
            ))
            .hint("this outer-product broadcast is almost always a bug (e.g. a [B,1] critic against a [B] target); reshape one side so the shapes agree")
            .note("use `outer(a, b)` if a pairwise combination is really intended"));
        }
        Ok(out)
    }

    /// `where(c, a, b)` / tensor-valued `if`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn where_(
        &mut self,
        c: Value,
        sc: Span,
        a: Value,
        sa: Span,
        b: Value,
        sb: Span,
        whole: Span,
    ) -> R<Value> {
        let ct = self.tensor_of(c, sc, Some(DType::Bool))?;
        if ct.ty.dtype != DType::Bool {
            return Err(err(
                Code::TypeMismatch,
                "the condition must be boolean",
                sc,
                format!("this is {}", ct.ty),
            ));
        }
        let (ta, tb) = match (&a, &b) {
            (Value::Tensor(t), _) => {
                let d = t.ty.dtype;
                (self.tensor_of(a, sa, None)?, self.tensor_of(b, sb, Some(d))?)
            }
            (_, Value::Tensor(t)) => {
                let d = t.ty.dtype;
                (self.tensor_of(a, sa, Some(d))?, self.tensor_of(b, sb, None)?)
            }
            _ => (self.tensor_of(a, sa, None)?, self.tensor_of(b, sb, None)?),
        };
        if ta.ty.dtype != tb.ty.dtype {
            return Err(
                Diagnostic::new(Code::TypeMismatch, "both branches must have one element type")
                    .at(sa, format!("this is {}", ta.ty))
                    .also(sb, format!("this is {}", tb.ty)),
            );
        }
        let s1 = self.check_broadcast(&ta.ty.shape, sa, &tb.ty.shape, sb, "where")?;
        let shape = self.check_broadcast(&ct.ty.shape, sc, &s1, sa.to(sb), "where")?;
        let mut g = self.gb(whole);
        let c2 = g.broadcast_to(&ct, &shape)?;
        let a2 = g.broadcast_to(&ta, &shape)?;
        let b2 = g.broadcast_to(&tb, &shape)?;
        g.select(&c2, &a2, &b2).map(Value::Tensor)
    }
}

/// Builds `a op b` on operands of one shape: a primitive, or for `-`, `!=`, `<=`, `>` and `>=`
/// the exact composite of [`Graph`]'s `compose` methods.
fn build(op: BinOp, g: &mut Graph, a: NodeId, b: NodeId) -> Result<NodeId, IrError> {
    let prim = match op {
        BinOp::Sub => return g.sub(a, b),
        BinOp::Ne => return g.neq(a, b),
        BinOp::Le => return g.le(a, b),
        BinOp::Gt => return g.gt(a, b),
        BinOp::Ge => return g.ge(a, b),
        BinOp::Add => BinaryOp::Add,
        BinOp::Mul => BinaryOp::Mul,
        BinOp::Div => BinaryOp::Div,
        BinOp::Rem => BinaryOp::Rem,
        BinOp::Pow => BinaryOp::Pow,
        BinOp::Eq => BinaryOp::Eq,
        BinOp::Lt => BinaryOp::Lt,
        BinOp::And => BinaryOp::And,
        BinOp::Or => BinaryOp::Or,
    };
    g.binary(prim, a, b)
}

/// A comparison of two compile-time numbers, composed from `<` and `==` as [`build`] composes
/// it in the graph (so `<=` of NaN is false, and `!=` of NaN true, in both).
fn compare<X: PartialOrd + Copy>(op: BinOp, x: X, y: X) -> bool {
    use crate::interp::eval_compare;
    let lt = |x, y| eval_compare(BinaryOp::Lt, x, y);
    let eq = |x, y| eval_compare(BinaryOp::Eq, x, y);
    match op {
        BinOp::Lt => lt(x, y),
        BinOp::Eq => eq(x, y),
        BinOp::Ne => !eq(x, y),
        BinOp::Le => lt(x, y) || eq(x, y),
        BinOp::Gt => lt(y, x),
        BinOp::Ge => lt(y, x) || eq(y, x),
        BinOp::Add
        | BinOp::Sub
        | BinOp::Mul
        | BinOp::Div
        | BinOp::Rem
        | BinOp::Pow
        | BinOp::And
        | BinOp::Or => {
            unreachable!("{op:?} is no comparison")
        }
    }
}

/// A float operation of two compile-time numbers, with the meaning the graph gives it
/// (`a - b` is `a + b * -1`, as [`build`] composes it).
fn arith(op: BinOp, x: f64, y: f64) -> f64 {
    use crate::interp::eval_binary;
    let prim = match op {
        BinOp::Sub => return eval_binary(BinaryOp::Add, x, eval_binary(BinaryOp::Mul, y, -1.0)),
        BinOp::Add => BinaryOp::Add,
        BinOp::Mul => BinaryOp::Mul,
        BinOp::Div => BinaryOp::Div,
        BinOp::Rem => BinaryOp::Rem,
        BinOp::Pow => BinaryOp::Pow,
        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::And | BinOp::Or => {
            unreachable!("{op:?} is no arithmetic")
        }
    };
    eval_binary(prim, x, y)
}

/// Folds an operation on compile-time constants; `None` if an operand is not a constant.
///
/// Float and boolean operations use the interpreter's meaning of the primitive (computed in
/// f64). Compile-time integers are deliberately different from the IR's wrapping i32: they
/// are exact i64 (overflow leaves the expression unfolded), division by zero is a compile
/// error rather than 0, `/` of two integers is a float, and `^` of integers stays an integer;
/// `%` is floored like the IR's.
fn fold(op: BinOp, a: &Value, b: &Value) -> Option<Result<Value, String>> {
    use crate::interp::eval_logical;
    use Value::*;
    let r = match (a, b) {
        (Int(x), Int(y)) => {
            let (x, y) = (*x, *y);
            match op {
                BinOp::Add => Int(x.checked_add(y)?),
                BinOp::Sub => Int(x.checked_sub(y)?),
                BinOp::Mul => Int(x.checked_mul(y)?),
                BinOp::Div => {
                    if y == 0 {
                        return Some(Err("division by zero".into()));
                    }
                    Float(arith(op, x as f64, y as f64))
                }
                BinOp::Rem => {
                    if y == 0 {
                        return Some(Err("division by zero".into()));
                    }
                    // Floored, like the IR's `%` (the sign follows the divisor, as in Python),
                    // so a constant folds to what the same expression computes at run time.
                    let r = x.checked_rem(y)?;
                    Int(if r != 0 && (r < 0) != (y < 0) { r + y } else { r })
                }
                BinOp::Pow => {
                    if y >= 0 {
                        match u32::try_from(y).ok().and_then(|e| x.checked_pow(e)) {
                            Some(v) => Int(v),
                            // Past i64 the expression runs in f32, where a power beyond its
                            // range is infinite: say so now (the caller's non-finite error).
                            None if arith(op, x as f64, y as f64).abs() > f64::from(f32::MAX) => {
                                Float(arith(op, x as f64, y as f64).signum() * f64::INFINITY)
                            }
                            None => return None,
                        }
                    } else {
                        Float(arith(op, x as f64, y as f64))
                    }
                }
                BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                    Bool(compare(op, x, y))
                }
                BinOp::And | BinOp::Or => return Some(Err("`&&`/`||` need booleans".into())),
            }
        }
        (Int(_) | Float(_), Int(_) | Float(_)) => {
            let (x, y) = (a.as_f64()?, b.as_f64()?);
            match op {
                BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem | BinOp::Pow => {
                    Float(arith(op, x, y))
                }
                BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                    Bool(compare(op, x, y))
                }
                BinOp::And | BinOp::Or => return Some(Err("`&&`/`||` need booleans".into())),
            }
        }
        (Bool(x), Bool(y)) => match op {
            BinOp::And => Bool(eval_logical(BinaryOp::And, *x, *y)),
            BinOp::Or => Bool(eval_logical(BinaryOp::Or, *x, *y)),
            BinOp::Eq => Bool(eval_logical(BinaryOp::Eq, *x, *y)),
            BinOp::Ne => Bool(!eval_logical(BinaryOp::Eq, *x, *y)),
            _ => return Some(Err(format!("`{}` is not defined for booleans", op.symbol()))),
        },
        (Str(x), Str(y)) => match op {
            BinOp::Eq => Bool(x == y),
            BinOp::Ne => Bool(x != y),
            BinOp::Add => Str(format!("{x}{y}")),
            _ => return Some(Err(format!("`{}` is not defined for strings", op.symbol()))),
        },
        _ => return None,
    };
    Some(Ok(r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_remainder_folds_like_the_ir() {
        use crate::interp::eval_binary;
        for x in [-7i64, -5, -1, 0, 1, 5, 7] {
            for y in [-3i64, -2, 2, 3] {
                let Some(Ok(Value::Int(got))) = fold(BinOp::Rem, &Value::Int(x), &Value::Int(y)) else {
                    panic!("{x} % {y} does not fold to an integer");
                };
                assert_eq!(
                    got as f64,
                    eval_binary(BinaryOp::Rem, x as f64, y as f64),
                    "{x} % {y}"
                );
            }
        }
        assert!(matches!(
            fold(BinOp::Rem, &Value::Int(5), &Value::Int(-3)),
            Some(Ok(Value::Int(-1)))
        ));
    }

    /// The interpreter's value (in f64, as constants fold) of `x op y` built as the lowering
    /// builds it.
    fn interpreted(op: BinOp, x: f64, y: f64) -> f64 {
        use crate::interp::{Tensor, eval};
        let mut g = Graph::new();
        let a = g.scalar(x);
        let b = g.scalar(y);
        let r = build(op, &mut g, a, b).unwrap();
        g.output("r", r);
        let v: Tensor<f64> = eval(&g, &[], &[]).unwrap().outputs.pop().unwrap();
        v.to_f64()[0]
    }

    #[test]
    fn float_constants_fold_to_the_interpreters_value() {
        let ops = [
            BinOp::Add,
            BinOp::Sub,
            BinOp::Mul,
            BinOp::Div,
            BinOp::Rem,
            BinOp::Pow,
            BinOp::Eq,
            BinOp::Ne,
            BinOp::Lt,
            BinOp::Le,
            BinOp::Gt,
            BinOp::Ge,
        ];
        let vals = [0.5, -1.25, 3.0, 0.0, -0.0, -7.0, f64::NAN];
        for op in ops {
            for x in vals {
                for y in vals {
                    let got = fold(op, &Value::Float(x), &Value::Float(y)).unwrap().unwrap();
                    let want = interpreted(op, x, y);
                    match got {
                        Value::Float(v) => {
                            assert!(
                                v.to_bits() == want.to_bits() || (v.is_nan() && want.is_nan()),
                                "{op:?} {x} {y}: {v} vs {want}"
                            );
                        }
                        Value::Bool(b) => assert_eq!(f64::from(u8::from(b)), want, "{op:?} {x} {y}"),
                        other => panic!("{other:?}"),
                    }
                }
            }
        }
    }
}
