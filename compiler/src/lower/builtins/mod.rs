//! Lowering of builtin calls: arguments are bound and checked here, then the graph builder
//! emits primitives (composites such as softmax or huber are built from primitives, so
//! autodiff and backends only see primitives).
//!
//! The builtins themselves are listed in [`crate::builtins`]; [`Tracer::builtin`] has one arm
//! per entry of that table.

mod arguments;
mod flat;
mod kinds;
mod operands;
mod reduce;

use super::args::{ArgVal, Args};
use super::tracer::{R, Tracer, err};
use super::value::Value;
use crate::builtins::Builtin;
use crate::diag::{Code, Span};
use crate::ir::{Argsort, BinaryOp, Cholesky, DType, RandomDist, Routine, Solve, TensorType, UnaryOp};
use crate::syntax::ast::BinOp;
pub(crate) use kinds::Extremum;
use kinds::Reduction;

/// Sorting returns i32 positions: an axis longer than `i32::MAX` is the program's error
/// (located), not the routine's (which would report an internal error).
fn sort_axis_fits(x: &super::value::Tv, axis: usize, span: Span) -> R<()> {
    let n = x.ty.shape[axis];
    if n > i32::MAX as usize {
        return Err(err(
            Code::ShapeMismatch,
            format!(
                "cannot sort axis {axis} of {}: positions are i32, at most {}",
                x.ty,
                i32::MAX
            ),
            span,
            format!("axis {axis} has {n} elements"),
        ));
    }
    Ok(())
}

/// The longest list `range(n)` builds (2^20 numbers).
const MAX_RANGE: usize = 1 << 20;

/// `logsumexp` and the two softmaxes built on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LseForm {
    LogSumExp,
    Softmax,
    LogSoftmax,
}

impl Tracer<'_, '_> {
    /// Calls builtin `b`: one arm per builtin, so none can be listed without a lowering.
    pub(crate) fn builtin(&mut self, b: Builtin, args: Vec<ArgVal>, whole: Span) -> R<Value> {
        let (name, params) = (b.name(), b.params());
        match b {
            Builtin::Exp => self.unary_builtin(b, UnaryOp::Exp, args, whole),
            Builtin::Log => self.unary_builtin(b, UnaryOp::Log, args, whole),
            Builtin::Tanh => self.unary_builtin(b, UnaryOp::Tanh, args, whole),
            Builtin::Sqrt => self.unary_builtin(b, UnaryOp::Sqrt, args, whole),
            Builtin::Abs => {
                let a = Args::bind(name, params, args, whole)?;
                if let Some(c) = a.req(0)?.value.as_f64() {
                    // Folded with `f64::abs`, as it always has been: a constant `abs(-0.0)` is
                    // `0.0`, where the graph's composite gives `-0.0`.
                    return Ok(Value::Float(c.abs()));
                }
                let x = self.float_arg(a.req(0)?)?;
                self.gb(whole).abs(&x).map(Value::Tensor)
            }
            Builtin::Sin => self.unary_builtin(b, UnaryOp::Sin, args, whole),
            Builtin::Cos => self.unary_builtin(b, UnaryOp::Cos, args, whole),
            Builtin::Floor => self.unary_builtin(b, UnaryOp::Floor, args, whole),
            Builtin::Relu => {
                let a = Args::bind(name, params, args, whole)?;
                let x = self.float_arg(a.req(0)?)?;
                self.gb(whole).relu(&x).map(Value::Tensor)
            }
            Builtin::Sigmoid => {
                let a = Args::bind(name, params, args, whole)?;
                let x = self.float_arg(a.req(0)?)?;
                self.gb(whole).sigmoid(&x).map(Value::Tensor)
            }
            Builtin::Softplus => {
                let a = Args::bind(name, params, args, whole)?;
                let x = self.float_arg(a.req(0)?)?;
                self.gb(whole).softplus(&x).map(Value::Tensor)
            }
            Builtin::Elu => {
                let a = Args::bind(name, params, args, whole)?;
                let x = self.float_arg(a.req(0)?)?;
                self.gb(whole).elu(&x).map(Value::Tensor)
            }
            Builtin::Square => {
                let a = Args::bind(name, params, args, whole)?;
                let x = self.float_arg(a.req(0)?)?;
                self.gb(whole).binary(BinaryOp::Mul, &x, &x).map(Value::Tensor)
            }
            Builtin::Sign => {
                let a = Args::bind(name, params, args, whole)?;
                let x = self.float_arg(a.req(0)?)?;
                self.gb(whole).sign(&x).map(Value::Tensor)
            }
            Builtin::Maximum => self.extremum_builtin(b, Extremum::Max, args, whole),
            Builtin::Minimum => self.extremum_builtin(b, Extremum::Min, args, whole),
            Builtin::Clip => {
                let a = Args::bind(name, params, args, whole)?;
                let (x, lo, hi) = (a.req(0)?.clone(), a.req(1)?.clone(), a.req(2)?.clone());
                // Constant bounds the wrong way round would clip everything to `hi`.
                if let (Some(l), Some(h)) = (lo.value.as_f64(), hi.value.as_f64())
                    && l > h
                {
                    return Err(err(
                        Code::BadArgument,
                        format!("clip bounds are reversed: lower {l} > upper {h}"),
                        lo.span.to(hi.span),
                        "lower bound above upper bound",
                    ));
                }
                let lower = self.extremum(Extremum::Max, &x, &lo, whole)?;
                let lower = ArgVal {
                    name: None,
                    value: Value::Tensor(lower),
                    span: x.span,
                };
                self.extremum(Extremum::Min, &lower, &hi, whole)
                    .map(Value::Tensor)
            }
            Builtin::Where => {
                let a = Args::bind(name, params, args, whole)?;
                let (c, x, y) = (a.req(0)?.clone(), a.req(1)?.clone(), a.req(2)?.clone());
                self.where_(c.value, c.span, x.value, x.span, y.value, y.span, whole)
            }
            Builtin::Sum => self.reduction(b, Reduction::Sum, args, whole),
            Builtin::Mean => self.reduction(b, Reduction::Mean, args, whole),
            Builtin::Max => self.reduction(b, Reduction::Max, args, whole),
            Builtin::Min => self.reduction(b, Reduction::Min, args, whole),
            Builtin::Logsumexp => self.softmax_family(b, LseForm::LogSumExp, args, whole),
            Builtin::Softmax => self.softmax_family(b, LseForm::Softmax, args, whole),
            Builtin::LogSoftmax => self.softmax_family(b, LseForm::LogSoftmax, args, whole),
            Builtin::Argmax => self.argext_builtin(b, true, args, whole),
            Builtin::Argmin => self.argext_builtin(b, false, args, whole),
            Builtin::Argsort => {
                let a = Args::bind(name, params, args, whole)?;
                let x = self.sortable_arg(a.req(0)?)?;
                let axis = self.axis_arg(a.opt(1), &x, -1)?;
                sort_axis_fits(&x, axis, a.req(0)?.span)?;
                let descending = self.flag_arg(a.opt(2), "descending")?;
                let r = Routine::Argsort(Argsort { axis, descending });
                self.gb(whole).routine(r, &[&x]).map(Value::Tensor)
            }
            Builtin::TopK => {
                let a = Args::bind(name, params, args, whole)?;
                let x = self.sortable_arg(a.req(0)?)?;
                let k = self.usize_arg(a.req(1)?)?;
                let axis = self.axis_arg(a.opt(2), &x, -1)?;
                sort_axis_fits(&x, axis, a.req(0)?.span)?;
                let n = x.ty.shape[axis];
                if k == 0 || k > n {
                    return Err(err(
                        Code::IndexOutOfBounds,
                        format!(
                            "top_k needs 1 <= k <= {n} (the length of axis {axis} of {})",
                            x.ty
                        ),
                        a.req(1)?.span,
                        format!("k is {k}"),
                    ));
                }
                self.gb(whole).top_k(&x, k, axis).map(Value::Tensor)
            }
            Builtin::Solve => {
                let a = Args::bind(name, params, args, whole)?;
                let (m, rhs) = (self.float_arg(a.req(0)?)?, self.float_arg(a.req(1)?)?);
                let fits = m.ty.rank() == 2
                    && m.ty.shape[0] == m.ty.shape[1]
                    && (1..=2).contains(&rhs.ty.rank())
                    && rhs.ty.shape[0] == m.ty.shape[0];
                if !fits {
                    return Err(err(
                        Code::ShapeMismatch,
                        format!(
                            "`solve(a, b)` needs a of shape [n, n] and b of shape [n] or [n, m]; got {} and {}",
                            m.ty, rhs.ty
                        ),
                        whole,
                        "in this call",
                    ));
                }
                self.gb(whole)
                    .routine(Routine::Solve(Solve), &[&m, &rhs])
                    .map(Value::Tensor)
            }
            Builtin::Cholesky => {
                let a = Args::bind(name, params, args, whole)?;
                let m = self.float_arg(a.req(0)?)?;
                if m.ty.rank() != 2 || m.ty.shape[0] != m.ty.shape[1] {
                    return Err(err(
                        Code::ShapeMismatch,
                        format!("`cholesky(a)` needs a square matrix [n, n]; got {}", m.ty),
                        a.req(0)?.span,
                        "not square",
                    ));
                }
                self.gb(whole)
                    .routine(Routine::Cholesky(Cholesky), &[&m])
                    .map(Value::Tensor)
            }
            Builtin::Transpose => {
                let a = Args::bind(name, params, args, whole)?;
                let x = self.arg_tensor(a.req(0)?, None)?;
                let r = x.ty.rank();
                if r < 2 {
                    return Err(err(
                        Code::ShapeMismatch,
                        format!("`transpose` swaps the last two axes; {} has {r}", x.ty),
                        a.req(0)?.span,
                        "fewer than 2 axes",
                    ));
                }
                let mut perm: Vec<usize> = (0..r).collect();
                perm.swap(r - 2, r - 1);
                self.gb(whole).transpose(&x, &perm).map(Value::Tensor)
            }
            Builtin::Matmul => {
                let a = Args::bind(name, params, args, whole)?;
                let (x, y) = (self.float_arg(a.req(0)?)?, self.float_arg(a.req(1)?)?);
                let (rx, ry) = (x.ty.rank(), y.ty.rank());
                if rx < 2 || ry < 2 || x.ty.shape[rx - 1] != y.ty.shape[ry - 2] {
                    return Err(err(
                        Code::ShapeMismatch,
                        format!(
                            "matmul needs [.., m, k] and [.., k, n], got {} and {}",
                            x.ty, y.ty
                        ),
                        whole,
                        "in this call",
                    )
                    .also(a.req(0)?.span, format!("this is {}", x.ty))
                    .also(a.req(1)?.span, format!("this is {}", y.ty)));
                }
                let (lx, ly) = (&x.ty.shape[..rx - 2], &y.ty.shape[..ry - 2]);
                self.check_broadcast(lx, a.req(0)?.span, ly, a.req(1)?.span, "matmul")?;
                self.gb(whole).batched_matmul(&x, &y).map(Value::Tensor)
            }
            Builtin::LowerTriangular => {
                let a = Args::bind(name, params, args, whole)?;
                let v = self.float_arg(a.req(0)?)?;
                let m = v.ty.shape.last().copied().unwrap_or(0);
                // n(n+1)/2 = m.
                let n = (0..=m).find(|n| n * (n + 1) / 2 >= m).unwrap_or(0);
                if v.ty.rank() == 0 || m == 0 || n * (n + 1) / 2 != m {
                    return Err(err(
                        Code::ShapeMismatch,
                        format!(
                            "lower_triangular needs a last axis of n(n+1)/2 entries (1, 3, 6, 10, ...), got {}",
                            v.ty
                        ),
                        a.req(0)?.span,
                        format!("this is {}", v.ty),
                    ));
                }
                self.gb(whole).lower_triangular(&v, n).map(Value::Tensor)
            }
            Builtin::TakeAlong => {
                let a = Args::bind(name, params, args, whole)?;
                let x = self.arg_tensor(a.req(0)?, Some(DType::F32))?;
                let idx = self.arg_tensor(a.req(1)?, Some(DType::I32))?;
                let axis = self.axis_arg(a.opt(2), &x, -1)?;
                let fits = idx.ty.dtype == DType::I32
                    && idx.ty.rank() == x.ty.rank()
                    && (0..x.ty.rank())
                        .all(|d| d == axis || idx.ty.shape[d] == x.ty.shape[d] || idx.ty.shape[d] == 1);
                if !fits {
                    return Err(err(
                        Code::ShapeMismatch,
                        format!(
                            "`take_along(x, idx, axis)` needs i32 indices shaped like x (or 1) except on axis {axis}; got {} and {}",
                            x.ty, idx.ty
                        ),
                        a.req(1)?.span,
                        format!("this is {}", idx.ty),
                    ));
                }
                // Gathering from an empty axis is an error only when something is gathered.
                let gathers = (0..x.ty.rank()).all(|d| {
                    if d == axis {
                        idx.ty.shape[d] > 0
                    } else {
                        x.ty.shape[d] > 0
                    }
                });
                if x.ty.numel() > i32::MAX as usize || (x.ty.shape[axis] == 0 && gathers) {
                    return Err(err(
                        Code::ShapeMismatch,
                        format!("take_along cannot index {}", x.ty),
                        a.req(0)?.span,
                        "empty axis or too many elements for i32 positions",
                    ));
                }
                let n = x.ty.shape[axis];
                let xs = a.req(0)?.span;
                self.check_index(&idx, n, a.req(1)?.span, &format!("axis {axis} of size {n}"))
                    .map_err(|d| d.also(xs, format!("this is {}", x.ty)))?;
                let (x, idx) = (self.here(&x), self.here(&idx));
                self.gb(whole).take_along(&x, &idx, axis).map(Value::Tensor)
            }
            Builtin::OneHot => {
                let a = Args::bind(name, params, args, whole)?;
                let idx = self.arg_tensor(a.req(0)?, Some(DType::I32))?;
                let n = self.usize_arg(a.req(1)?)?;
                // Classes are i32 indices: more than 2^31 of them cannot be named.
                if n > i32::MAX as usize {
                    return Err(err(
                        Code::BadArgument,
                        format!("one_hot of {n} classes: at most {} fit i32 indices", i32::MAX),
                        a.req(1)?.span,
                        "too many classes",
                    ));
                }
                if idx.ty.dtype != DType::I32 {
                    return Err(err(
                        Code::TypeMismatch,
                        "one_hot needs i32 indices",
                        a.req(0)?.span,
                        format!("this is {}", idx.ty),
                    ));
                }
                self.check_index(&idx, n, a.req(0)?.span, &format!("{n} classes"))?;
                let idx = self.here(&idx);
                self.gb(whole).one_hot(&idx, n).map(Value::Tensor)
            }
            Builtin::Pick => {
                let a = Args::bind(name, params, args, whole)?;
                let x = self.float_arg(a.req(0)?)?;
                let idx = self.arg_tensor(a.req(1)?, Some(DType::I32))?;
                self.pick(&x, a.req(0)?.span, &idx, a.req(1)?.span, whole)
                    .map(Value::Tensor)
            }
            Builtin::Outer => {
                let a = Args::bind(name, params, args, whole)?;
                let x = self.float_arg(a.req(0)?)?;
                let y = self.float_arg(a.req(1)?)?;
                let (rx, ry) = (x.ty.rank(), y.ty.rank());
                if rx == 0 || ry == 0 || x.ty.shape[..rx - 1] != y.ty.shape[..ry - 1] {
                    return Err(err(
                        Code::ShapeMismatch,
                        format!(
                            "outer needs [.., m] and [.., n] with equal batch axes, got {} and {}",
                            x.ty, y.ty
                        ),
                        whole,
                        "here",
                    ));
                }
                self.gb(whole).outer(&x, &y).map(Value::Tensor)
            }
            Builtin::Concat => self.concat(args, whole),
            Builtin::Flatten => {
                let a = Args::bind(name, params, args, whole)?;
                self.flatten_builtin(a.req(0)?, whole)
            }
            Builtin::Unflatten => {
                let a = Args::bind(name, params, args, whole)?;
                self.unflatten_builtin(a.req(0)?, a.req(1)?, whole)
            }
            Builtin::Reshape => {
                let a = Args::bind(name, params, args, whole)?;
                let x = self.arg_tensor(a.req(0)?, None)?;
                let shape = self.shape_arg(a.req(1)?, Some(x.ty.numel()))?;
                if shape.iter().product::<usize>() != x.ty.numel() {
                    return Err(err(
                        Code::ShapeMismatch,
                        format!(
                            "cannot reshape {} ({} elements) to {:?}",
                            x.ty,
                            x.ty.numel(),
                            shape
                        ),
                        whole,
                        "sizes differ",
                    ));
                }
                self.gb(whole).reshape(&x, &shape).map(Value::Tensor)
            }
            Builtin::Expand => {
                let a = Args::bind(name, params, args, whole)?;
                let x = self.arg_tensor(a.req(0)?, None)?;
                let mut shape = x.ty.shape.clone();
                let ax = self.axis_arg_rank(a.opt(1), x.ty.rank() + 1, -1)?;
                shape.insert(ax, 1);
                self.gb(whole).reshape(&x, &shape).map(Value::Tensor)
            }
            Builtin::Squeeze => {
                let a = Args::bind(name, params, args, whole)?;
                let x = self.arg_tensor(a.req(0)?, None)?;
                let mut shape = x.ty.shape.clone();
                let ax = self.axis_arg(a.opt(1), &x, -1)?;
                if shape[ax] != 1 {
                    return Err(err(
                        Code::ShapeMismatch,
                        format!("cannot squeeze axis {ax} of {}: its size is {}", x.ty, shape[ax]),
                        whole,
                        "not size 1",
                    ));
                }
                shape.remove(ax);
                self.gb(whole).reshape(&x, &shape).map(Value::Tensor)
            }
            Builtin::Len => {
                let a = Args::bind(name, params, args, whole)?;
                match &a.req(0)?.value {
                    Value::List(v) | Value::Tuple(v) => Ok(Value::Int(v.len() as i64)),
                    Value::Tensor(t) if t.ty.rank() > 0 => Ok(Value::Int(t.ty.shape[0] as i64)),
                    other => Err(err(
                        Code::TypeMismatch,
                        format!("{} has no length", other.describe()),
                        a.req(0)?.span,
                        "here",
                    )),
                }
            }
            Builtin::Zeros => self.filled_builtin(b, 0.0, args, whole),
            Builtin::Ones => self.filled_builtin(b, 1.0, args, whole),
            Builtin::Full => {
                let a = Args::bind(name, params, args, whole)?;
                let shape = self.shape_arg(a.req(0)?, None)?;
                let v = a.req(1)?;
                let Some(f) = v.value.as_f64() else {
                    return Err(err(
                        Code::NotConstant,
                        "`full` needs a constant",
                        v.span,
                        "not constant",
                    ));
                };
                Ok(Value::Tensor(self.fill(f, TensorType::new(DType::F32, shape))))
            }
            Builtin::ZerosLike => self.filled_like_builtin(b, 0.0, args, whole),
            Builtin::OnesLike => self.filled_like_builtin(b, 1.0, args, whole),
            Builtin::F32 => self.cast_builtin(b, DType::F32, args, whole),
            Builtin::I32 => self.cast_builtin(b, DType::I32, args, whole),
            Builtin::Bool => self.cast_builtin(b, DType::Bool, args, whole),
            Builtin::Randn => self.random_builtin(b, RandomDist::Normal, false, args, whole),
            Builtin::Rand => self.random_builtin(b, RandomDist::Uniform, false, args, whole),
            Builtin::RandnLike => self.random_builtin(b, RandomDist::Normal, true, args, whole),
            Builtin::RandLike => self.random_builtin(b, RandomDist::Uniform, true, args, whole),
            Builtin::Normal => self.normal_dist(b, false, args, whole),
            Builtin::TanhNormal => self.normal_dist(b, true, args, whole),
            Builtin::Categorical => self.categorical_dist(b, args, whole),
            Builtin::Kl => {
                let a = Args::bind(name, params, args, whole)?;
                self.kl(a.req(0)?, a.req(1)?, whole)
            }
            Builtin::Sample => {
                let a = Args::bind(name, params, args, whole)?;
                let d = a.req(0)?;
                self.sample_value(d.value.clone(), d.span)
            }
            Builtin::Stop => {
                let a = Args::bind(name, params, args, whole)?;
                let v = a.req(0)?.clone();
                self.stop(v.value, v.span)
            }
            Builtin::Grad => {
                let a = Args::bind(name, params, args, whole)?;
                self.grad_of(a.req(0)?, a.req(1)?, whole)
            }
            Builtin::Linear => {
                let a = Args::bind(name, params, args, whole)?;
                let x = self.float_arg(a.req(0)?)?;
                let out = self.usize_arg(a.req(1)?)?;
                let init = match a.opt(2) {
                    Some(v) => match v.value.as_f64() {
                        Some(f) if f > 0.0 => Some(f),
                        _ => {
                            return Err(err(
                                Code::BadArgument,
                                "`init` is the bound of a uniform initialisation and must be a positive number",
                                v.span,
                                "not a positive constant",
                            ));
                        }
                    },
                    None => None,
                };
                self.linear(&x, a.req(0)?.span, out, init, whole)
                    .map(Value::Tensor)
            }
            Builtin::Mse => {
                let a = Args::bind(name, params, args, whole)?;
                let (x, y) = (a.req(0)?.clone(), a.req(1)?.clone());
                let d = self.binary_tensor(BinOp::Sub, &x, &y, whole)?;
                let sq = self.gb(whole).binary(BinaryOp::Mul, &d, &d)?;
                self.gb(whole).mean_all(&sq).map(Value::Tensor)
            }
            Builtin::Huber => {
                let a = Args::bind(name, params, args, whole)?;
                let x = self.float_arg(a.req(0)?)?;
                let delta = match a.opt(1) {
                    Some(v) => v.value.as_f64().ok_or_else(|| {
                        err(
                            Code::NotConstant,
                            "`delta` must be a constant",
                            v.span,
                            "not constant",
                        )
                    })?,
                    None => 1.0,
                };
                self.gb(whole).huber(&x, delta).map(Value::Tensor)
            }
            Builtin::Priority => {
                let a = Args::bind(name, params, args, whole)?;
                self.priority(&a, whole)
            }
            Builtin::StepCount => {
                Args::bind(name, params, args, whole)?;
                let t = self.step_input();
                let n = self.node(&t);
                Ok(Value::Tensor(self.tv(n)))
            }
            Builtin::Range => {
                let a = Args::bind(name, params, args, whole)?;
                let arg = a.req(0)?;
                let n = self.usize_arg(arg)?;
                // The list is built at compile time, one value per number: a size such as
                // 2^40 would exhaust memory (it aborted the compiler) long before any use.
                if n > MAX_RANGE {
                    return Err(err(
                        Code::BadArgument,
                        format!("`range({n})` would build a compile-time list of {n} numbers; at most {MAX_RANGE} are allowed"),
                        arg.span,
                        "this many",
                    )
                    .hint("`range` makes a compile-time list (for `for` loops and small index tensors); use `scan` to loop over many steps"));
                }
                Ok(Value::List((0..n as i64).map(Value::Int).collect()))
            }
            Builtin::Ou => Err(b.misuse(whole)),
        }
    }

    /// `exp(x)` and the other one-primitive functions; constants fold.
    fn unary_builtin(&mut self, b: Builtin, op: UnaryOp, args: Vec<ArgVal>, whole: Span) -> R<Value> {
        let a = Args::bind(b.name(), b.params(), args, whole)?;
        if let Some(c) = a.req(0)?.value.as_f64() {
            // Folded in f64 with the interpreter's meaning of the primitive (only float ops
            // reach here). `log(0.0)` or `sqrt(-1.0)` of a finite constant is an error, as
            // for the operators: a non-finite constant is never what was meant.
            let v = crate::interp::eval_unary(op, c);
            if c.is_finite() && !v.is_finite() {
                return Err(err(
                    Code::NonFinite,
                    format!("`{}` of this constant is {v}, not a finite number", b.name()),
                    whole,
                    format!("evaluates to {v}"),
                ));
            }
            return Ok(Value::Float(v));
        }
        let x = self.float_arg(a.req(0)?)?;
        self.gb(whole).unary(op, &x).map(Value::Tensor)
    }

    /// `maximum(a, b)` / `minimum(a, b)`; constants fold.
    fn extremum_builtin(&mut self, b: Builtin, op: Extremum, args: Vec<ArgVal>, whole: Span) -> R<Value> {
        let a = Args::bind(b.name(), b.params(), args, whole)?;
        let (x, y) = (a.req(0)?.clone(), a.req(1)?.clone());
        if let (Some(p), Some(q)) = (x.value.as_f64(), y.value.as_f64()) {
            // Deliberately not `interp::eval_binary(Max/Min)`: `f64::max`/`min` return the
            // non-NaN operand where the IR primitive propagates NaN, and folded constants have
            // always behaved this way. Only NaN (and the sign of a zero) can tell them apart.
            return Ok(Value::Float(match op {
                Extremum::Max => p.max(q),
                Extremum::Min => p.min(q),
            }));
        }
        self.extremum(op, &x, &y, whole).map(Value::Tensor)
    }

    /// `logsumexp`, `softmax` and `log_softmax` along an axis (the last by default).
    fn softmax_family(&mut self, b: Builtin, which: LseForm, args: Vec<ArgVal>, whole: Span) -> R<Value> {
        let a = Args::bind(b.name(), b.params(), args, whole)?;
        let x = self.float_arg(a.req(0)?)?;
        let axis = self.axis_arg(a.opt(1), &x, -1)?;
        let lse = self.gb(whole).logsumexp(&x, axis)?;
        let exp = match which {
            LseForm::LogSumExp => return Ok(Value::Tensor(lse)),
            LseForm::LogSoftmax => false,
            LseForm::Softmax => true,
        };
        let lk = self.gb(whole).keepdim(&lse, axis)?;
        self.check_broadcast(&x.ty.shape, whole, &lk.ty.shape, whole, "sub")?;
        let ls = self.gb(whole).sub(&x, &lk)?;
        if exp {
            self.gb(whole).unary(UnaryOp::Exp, &ls).map(Value::Tensor)
        } else {
            Ok(Value::Tensor(ls))
        }
    }

    /// `argmax(x, axis)` / `argmin(x, axis)`.
    fn argext_builtin(&mut self, b: Builtin, largest: bool, args: Vec<ArgVal>, whole: Span) -> R<Value> {
        let a = Args::bind(b.name(), b.params(), args, whole)?;
        let x = self.float_arg(a.req(0)?)?;
        let axis = self.axis_arg(a.opt(1), &x, -1)?;
        self.gb(whole).argext(&x, axis, largest).map(Value::Tensor)
    }

    /// `zeros(shape, dtype)` / `ones(shape, dtype)`.
    fn filled_builtin(&mut self, b: Builtin, v: f64, args: Vec<ArgVal>, whole: Span) -> R<Value> {
        let a = Args::bind(b.name(), b.params(), args, whole)?;
        let shape = self.shape_arg(a.req(0)?, None)?;
        let dtype = self.dtype_arg(a.opt(1))?;
        Ok(Value::Tensor(self.fill(v, TensorType::new(dtype, shape))))
    }

    /// `zeros_like(x)` / `ones_like(x)`.
    fn filled_like_builtin(&mut self, b: Builtin, v: f64, args: Vec<ArgVal>, whole: Span) -> R<Value> {
        let a = Args::bind(b.name(), b.params(), args, whole)?;
        let x = self.arg_tensor(a.req(0)?, None)?;
        Ok(Value::Tensor(self.fill(v, x.ty.clone())))
    }

    /// `f32(x)`, `i32(x)`, `bool(x)`; compile-time numbers convert at compile time. `i32` of
    /// a compile-time number truncates and saturates to the i32 range, exactly as the
    /// backends convert a tensor (`i32(1e30)` is 2147483647 everywhere).
    fn cast_builtin(&mut self, b: Builtin, to: DType, args: Vec<ArgVal>, whole: Span) -> R<Value> {
        let a = Args::bind(b.name(), b.params(), args, whole)?;
        match (&a.req(0)?.value, to) {
            (Value::Int(i), DType::F32) => return Ok(Value::Float(*i as f64)),
            (Value::Int(i), DType::I32) => {
                return Ok(Value::Int(i64::from(i32::try_from(*i).unwrap_or(if *i < 0 {
                    i32::MIN
                } else {
                    i32::MAX
                }))));
            }
            // `as` from f64 to i32 truncates, saturates and maps NaN to 0.
            (Value::Float(f), DType::I32) => return Ok(Value::Int(i64::from(*f as i32))),
            (Value::Bool(b), DType::F32) => return Ok(Value::Float(f64::from(u8::from(*b)))),
            _ => {}
        }
        let x = self.arg_tensor(a.req(0)?, None)?;
        self.gb(whole).cast(&x, to).map(Value::Tensor)
    }

    /// `randn(shape)`, `rand(shape)` and their `_like(x)` forms.
    fn random_builtin(
        &mut self,
        b: Builtin,
        dist: RandomDist,
        like: bool,
        args: Vec<ArgVal>,
        whole: Span,
    ) -> R<Value> {
        let a = Args::bind(b.name(), b.params(), args, whole)?;
        let shape = if like {
            self.arg_tensor(a.req(0)?, None)?.ty.shape
        } else {
            self.shape_arg(a.req(0)?, None)?
        };
        self.random(dist, shape, whole).map(Value::Tensor)
    }

    /// `priority(D, p)`: registers new priorities for prioritized replay `D`; returns `p`.
    fn priority(&mut self, a: &Args, whole: Span) -> R<Value> {
        let d = match &a.req(0)?.value {
            Value::Data(d) => d.clone(),
            other => {
                return Err(err(
                    Code::TypeMismatch,
                    "`priority` takes the prioritized replay buffer first",
                    a.req(0)?.span,
                    format!("this is {}", other.describe()),
                ));
            }
        };
        let p = self.float_arg(a.req(1)?)?;
        if self.level() > 0 {
            return Err(err(
                Code::BadArgument,
                "`priority` cannot be used inside `scan`",
                whole,
                "here",
            ));
        }
        if let Some((_, _, first)) = self.priorities.iter().find(|(n, _, _)| *n == d) {
            return Err(err(
                Code::DoubleAssign,
                format!("priorities of `{d}` are set twice"),
                whole,
                "again",
            )
            .also(*first, "first set here"));
        }
        self.priorities.push((d, p.clone(), whole));
        Ok(Value::Tensor(p))
    }
}
