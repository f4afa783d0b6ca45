//! Builtin functions. Composite operations (softmax, logsumexp, activations, losses) are
//! built from primitives here, so autodiff and backends only see primitives.

use super::call::{ArgVal, Args};
use super::tracer::{R, Tracer, err, ir_err};
use super::value::{Tv, Value};
use crate::diag::{Code, Span};
use crate::ir::{BinaryOp, DType, RandomDist, ReduceOp, TensorType, UnaryOp};

/// Every builtin name.
pub const BUILTINS: &[&str] = &[
    "exp",
    "log",
    "tanh",
    "sqrt",
    "abs",
    "sin",
    "cos",
    "floor",
    "relu",
    "sigmoid",
    "softplus",
    "elu",
    "square",
    "sign",
    "maximum",
    "minimum",
    "clip",
    "where",
    "sum",
    "mean",
    "max",
    "min",
    "logsumexp",
    "softmax",
    "log_softmax",
    "argmax",
    "argmin",
    "one_hot",
    "pick",
    "concat",
    "reshape",
    "expand",
    "squeeze",
    "len",
    "zeros",
    "ones",
    "full",
    "zeros_like",
    "ones_like",
    "f32",
    "i32",
    "bool",
    "randn",
    "rand",
    "randn_like",
    "rand_like",
    "normal",
    "tanh_normal",
    "categorical",
    "kl",
    "sample",
    "stop",
    "grad",
    "linear",
    "mse",
    "huber",
    "range",
    "outer",
    "priority",
    "step_count",
    "polyak",
    "copy",
    "sgd",
    "adam",
    "rmsprop",
];

impl Tracer<'_, '_> {
    /// Calls builtin `name`.
    pub(crate) fn builtin(&mut self, name: &'static str, args: Vec<ArgVal>, whole: Span) -> R<Value> {
        let unary = |op| Some(op);
        let simple = match name {
            "exp" => unary(UnaryOp::Exp),
            "log" => unary(UnaryOp::Log),
            "tanh" => unary(UnaryOp::Tanh),
            "sqrt" => unary(UnaryOp::Sqrt),
            "abs" => unary(UnaryOp::Abs),
            "sin" => unary(UnaryOp::Sin),
            "cos" => unary(UnaryOp::Cos),
            "floor" => unary(UnaryOp::Floor),
            _ => None,
        };
        if let Some(op) = simple {
            let a = Args::bind(name, &["x"], args, whole)?;
            if let Some(c) = a.req(0)?.value.as_f64() {
                return Ok(Value::Float(const_unary(op, c)));
            }
            let x = self.float_arg(a.req(0)?)?;
            if op == UnaryOp::Abs && x.ty.dtype == DType::I32 {
                let n = self.g().unary(op, x.node).map_err(|e| ir_err(e, whole))?;
                return Ok(Value::Tensor(self.tv(n)));
            }
            return self.u(op, &x, whole).map(Value::Tensor);
        }
        match name {
            "relu" => {
                let a = Args::bind(name, &["x"], args, whole)?;
                let x = self.float_arg(a.req(0)?)?;
                let z = self.fill(0.0, x.ty.clone());
                self.b(BinaryOp::Max, &x, &z, whole).map(Value::Tensor)
            }
            "sigmoid" => {
                let a = Args::bind(name, &["x"], args, whole)?;
                let x = self.float_arg(a.req(0)?)?;
                self.sigmoid(&x, whole).map(Value::Tensor)
            }
            "softplus" => {
                let a = Args::bind(name, &["x"], args, whole)?;
                let x = self.float_arg(a.req(0)?)?;
                self.softplus(&x, whole).map(Value::Tensor)
            }
            "elu" => {
                let a = Args::bind(name, &["x"], args, whole)?;
                let x = self.float_arg(a.req(0)?)?;
                // exp of min(x, 0) keeps the unused branch finite (no NaN gradients).
                let z = self.fill(0.0, x.ty.clone());
                let neg = self.b(BinaryOp::Min, &x, &z, whole)?;
                let e = self.u(UnaryOp::Exp, &neg, whole)?;
                let one = self.fill(1.0, x.ty.clone());
                let em1 = self.b(BinaryOp::Sub, &e, &one, whole)?;
                let pos = self.b(BinaryOp::Gt, &x, &z, whole)?;
                self.sel(&pos, &x, &em1, whole).map(Value::Tensor)
            }
            "square" => {
                let a = Args::bind(name, &["x"], args, whole)?;
                let x = self.float_arg(a.req(0)?)?;
                self.b(BinaryOp::Mul, &x, &x, whole).map(Value::Tensor)
            }
            "sign" => {
                let a = Args::bind(name, &["x"], args, whole)?;
                let x = self.float_arg(a.req(0)?)?;
                let z = self.fill(0.0, x.ty.clone());
                let one = self.fill(1.0, x.ty.clone());
                let mone = self.fill(-1.0, x.ty.clone());
                let pos = self.b(BinaryOp::Gt, &x, &z, whole)?;
                let neg = self.b(BinaryOp::Lt, &x, &z, whole)?;
                let inner = self.sel(&neg, &mone, &z, whole)?;
                self.sel(&pos, &one, &inner, whole).map(Value::Tensor)
            }
            "maximum" | "minimum" => {
                let a = Args::bind(name, &["a", "b"], args, whole)?;
                let (x, y) = (a.req(0)?.clone(), a.req(1)?.clone());
                if let (Some(p), Some(q)) = (x.value.as_f64(), y.value.as_f64()) {
                    return Ok(Value::Float(if name == "maximum" { p.max(q) } else { p.min(q) }));
                }
                let op = if name == "maximum" {
                    BinaryOp::Max
                } else {
                    BinaryOp::Min
                };
                self.bcast(op, &x, &y, whole).map(Value::Tensor)
            }
            "clip" => {
                let a = Args::bind(name, &["x", "lo", "hi"], args, whole)?;
                let (x, lo, hi) = (a.req(0)?.clone(), a.req(1)?.clone(), a.req(2)?.clone());
                let lower = self.bcast(BinaryOp::Max, &x, &lo, whole)?;
                let lower = ArgVal {
                    name: None,
                    value: Value::Tensor(lower),
                    span: x.span,
                };
                self.bcast(BinaryOp::Min, &lower, &hi, whole).map(Value::Tensor)
            }
            "where" => {
                let a = Args::bind(name, &["cond", "a", "b"], args, whole)?;
                let (c, x, y) = (a.req(0)?.clone(), a.req(1)?.clone(), a.req(2)?.clone());
                self.where_(c.value, c.span, x.value, x.span, y.value, y.span, whole)
            }
            "sum" | "mean" | "max" | "min" => self.reduction(name, args, whole),
            "logsumexp" | "softmax" | "log_softmax" => {
                let a = Args::bind(name, &["x", "axis"], args, whole)?;
                let x = self.float_arg(a.req(0)?)?;
                let axis = self.axis_arg(a.opt(1), &x, -1)?;
                let lse = self.logsumexp(&x, axis, whole)?;
                match name {
                    "logsumexp" => Ok(Value::Tensor(lse)),
                    _ => {
                        let lk = self.keepdim(&lse, axis, whole)?;
                        let ls = self.bcast_tv(BinaryOp::Sub, &x, &lk, whole)?;
                        if name == "log_softmax" {
                            Ok(Value::Tensor(ls))
                        } else {
                            self.u(UnaryOp::Exp, &ls, whole).map(Value::Tensor)
                        }
                    }
                }
            }
            "argmax" | "argmin" => {
                let a = Args::bind(name, &["x", "axis"], args, whole)?;
                let x = self.float_arg(a.req(0)?)?;
                let axis = self.axis_arg(a.opt(1), &x, -1)?;
                self.argext(&x, axis, name == "argmax", whole).map(Value::Tensor)
            }
            "one_hot" => {
                let a = Args::bind(name, &["a", "n"], args, whole)?;
                let idx = self.arg_tensor(a.req(0)?, Some(DType::I32))?;
                let n = self.usize_arg(a.req(1)?)?;
                if idx.ty.dtype != DType::I32 {
                    return Err(err(
                        Code::TypeMismatch,
                        "one_hot needs i32 indices",
                        a.req(0)?.span,
                        format!("this is {}", idx.ty),
                    ));
                }
                self.one_hot(&idx, n, whole).map(Value::Tensor)
            }
            "pick" => {
                let a = Args::bind(name, &["x", "a"], args, whole)?;
                let x = self.float_arg(a.req(0)?)?;
                let idx = self.arg_tensor(a.req(1)?, Some(DType::I32))?;
                self.pick(&x, a.req(0)?.span, &idx, a.req(1)?.span, whole)
                    .map(Value::Tensor)
            }
            "outer" => {
                let a = Args::bind(name, &["a", "b"], args, whole)?;
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
                let mut xs = x.ty.shape.clone();
                xs.push(1);
                let mut ys = y.ty.shape.clone();
                ys.insert(ry - 1, 1);
                let xr = self.reshape(&x, &xs, whole)?;
                let yr = self.reshape(&y, &ys, whole)?;
                let n = self
                    .g()
                    .binary_bcast(BinaryOp::Mul, xr.node, yr.node)
                    .map_err(|e| ir_err(e, whole))?;
                Ok(Value::Tensor(self.tv(n)))
            }
            "concat" => self.concat(args, whole),
            "reshape" => {
                let a = Args::bind(name, &["x", "shape"], args, whole)?;
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
                self.reshape(&x, &shape, whole).map(Value::Tensor)
            }
            "expand" | "squeeze" => {
                let a = Args::bind(name, &["x", "axis"], args, whole)?;
                let x = self.arg_tensor(a.req(0)?, None)?;
                let mut shape = x.ty.shape.clone();
                if name == "expand" {
                    let ax = self.axis_arg_rank(a.opt(1), x.ty.rank() + 1, -1)?;
                    shape.insert(ax, 1);
                } else {
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
                }
                self.reshape(&x, &shape, whole).map(Value::Tensor)
            }
            "len" => {
                let a = Args::bind(name, &["x"], args, whole)?;
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
            "zeros" | "ones" | "full" => {
                let names: &'static [&'static str] = if name == "full" {
                    &["shape", "value"]
                } else {
                    &["shape", "dtype"]
                };
                let a = Args::bind(name, names, args, whole)?;
                let shape = self.shape_arg(a.req(0)?, None)?;
                let (v, dtype) = match name {
                    "full" => {
                        let v = a.req(1)?;
                        match v.value.as_f64() {
                            Some(f) => (f, DType::F32),
                            None => {
                                return Err(err(
                                    Code::NotConstant,
                                    "`full` needs a constant",
                                    v.span,
                                    "not constant",
                                ));
                            }
                        }
                    }
                    _ => (if name == "ones" { 1.0 } else { 0.0 }, self.dtype_arg(a.opt(1))?),
                };
                Ok(Value::Tensor(self.fill(v, TensorType::new(dtype, shape))))
            }
            "zeros_like" | "ones_like" => {
                let a = Args::bind(name, &["x"], args, whole)?;
                let x = self.arg_tensor(a.req(0)?, None)?;
                let v = if name == "ones_like" { 1.0 } else { 0.0 };
                Ok(Value::Tensor(self.fill(v, x.ty.clone())))
            }
            "f32" | "i32" | "bool" => {
                let a = Args::bind(name, &["x"], args, whole)?;
                let to = match name {
                    "f32" => DType::F32,
                    "i32" => DType::I32,
                    _ => DType::Bool,
                };
                match (&a.req(0)?.value, to) {
                    (Value::Int(i), DType::F32) => return Ok(Value::Float(*i as f64)),
                    (Value::Float(f), DType::I32) => return Ok(Value::Int(f.trunc() as i64)),
                    (Value::Bool(b), DType::F32) => return Ok(Value::Float(f64::from(u8::from(*b)))),
                    _ => {}
                }
                let x = self.arg_tensor(a.req(0)?, None)?;
                let n = self.g().cast(x.node, to).map_err(|e| ir_err(e, whole))?;
                Ok(Value::Tensor(self.tv(n)))
            }
            "randn" | "rand" | "randn_like" | "rand_like" => {
                let a = Args::bind(name, &["shape"], args, whole)?;
                let shape = if name.ends_with("_like") {
                    self.arg_tensor(a.req(0)?, None)?.ty.shape
                } else {
                    self.shape_arg(a.req(0)?, None)?
                };
                let dist = if name.starts_with("randn") {
                    RandomDist::Normal
                } else {
                    RandomDist::Uniform
                };
                self.random(dist, shape, whole).map(Value::Tensor)
            }
            "normal" | "tanh_normal" | "categorical" => self.make_dist(name, args, whole),
            "kl" => {
                let a = Args::bind(name, &["p", "q"], args, whole)?;
                self.kl(a.req(0)?, a.req(1)?, whole)
            }
            "sample" => {
                let a = Args::bind(name, &["d"], args, whole)?;
                let d = a.req(0)?;
                self.sample_value(d.value.clone(), d.span)
            }
            "stop" => {
                let a = Args::bind(name, &["x"], args, whole)?;
                let v = a.req(0)?.clone();
                self.stop(v.value, v.span)
            }
            "grad" => {
                let a = Args::bind(name, &["loss", "x"], args, whole)?;
                self.grad_of(a.req(0)?, a.req(1)?, whole)
            }
            "linear" => {
                let a = Args::bind(name, &["x", "out", "init"], args, whole)?;
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
            "mse" => {
                let a = Args::bind(name, &["a", "b"], args, whole)?;
                let (x, y) = (a.req(0)?.clone(), a.req(1)?.clone());
                let d = self.bcast(BinaryOp::Sub, &x, &y, whole)?;
                let sq = self.b(BinaryOp::Mul, &d, &d, whole)?;
                self.mean_all(&sq, whole).map(Value::Tensor)
            }
            "huber" => {
                let a = Args::bind(name, &["x", "delta"], args, whole)?;
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
                self.huber(&x, delta, whole).map(Value::Tensor)
            }
            "priority" => {
                let a = Args::bind(name, &["data", "p"], args, whole)?;
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
            "step_count" => {
                Args::bind(name, &[], args, whole)?;
                let t = self.step_input();
                let n = self.node(&t);
                Ok(Value::Tensor(self.tv(n)))
            }
            "range" => {
                let a = Args::bind(name, &["n"], args, whole)?;
                let n = self.usize_arg(a.req(0)?)?;
                Ok(Value::List((0..n as i64).map(Value::Int).collect()))
            }
            "polyak" | "copy" => Err(err(
                Code::TypeMismatch,
                format!("`{name}` defines a target and can only be used in a `target` declaration"),
                whole,
                "not in a target declaration",
            )
            .hint(format!("write `target my_target = {name}(net, ...)`"))),
            "sgd" | "adam" | "rmsprop" => Err(err(
                Code::TypeMismatch,
                format!("`{name}` is an optimiser and can only be used in an `update` declaration"),
                whole,
                "not in an update declaration",
            )
            .hint(format!("write `update net by {name}(lr = ...) on my_loss`"))),
            other => unreachable!("builtin `{other}` is listed but not implemented"),
        }
    }

    // ------------------------------------------------------------ argument helpers

    /// An f32 tensor argument (numbers become f32 scalars).
    pub(crate) fn float_arg(&mut self, a: &ArgVal) -> R<Tv> {
        let t = self.arg_tensor(a, Some(DType::F32))?;
        if t.ty.dtype == DType::Bool {
            return Err(err(
                Code::TypeMismatch,
                "expected a number tensor, found booleans",
                a.span,
                format!("this is {}", t.ty),
            )
            .hint("convert with `f32(x)`"));
        }
        if t.ty.dtype == DType::I32 {
            return Err(err(
                Code::TypeMismatch,
                "expected an f32 tensor, found i32",
                a.span,
                format!("this is {}", t.ty),
            )
            .hint("convert with `f32(x)`"));
        }
        Ok(t)
    }

    /// A non-negative compile-time integer argument.
    pub(crate) fn usize_arg(&mut self, a: &ArgVal) -> R<usize> {
        match a.value {
            Value::Int(i) if i >= 0 => Ok(i as usize),
            Value::Float(f) if f >= 0.0 && f.fract() == 0.0 => Ok(f as usize),
            ref other => Err(err(
                Code::NotConstant,
                "expected a non-negative compile-time integer",
                a.span,
                format!("this is {}", other.describe()),
            )),
        }
    }

    fn dtype_arg(&mut self, a: Option<&ArgVal>) -> R<DType> {
        match a.map(|a| (&a.value, a.span)) {
            None => Ok(DType::F32),
            Some((Value::Builtin("f32"), _)) => Ok(DType::F32),
            Some((Value::Builtin("i32"), _)) => Ok(DType::I32),
            Some((Value::Builtin("bool"), _)) => Ok(DType::Bool),
            Some((v, s)) => Err(err(
                Code::BadArgument,
                "dtype must be f32, i32 or bool",
                s,
                format!("this is {}", v.describe()),
            )),
        }
    }

    /// A shape given as a list of integers (or one integer).
    pub(crate) fn shape_arg(&mut self, a: &ArgVal, numel: Option<usize>) -> R<Vec<usize>> {
        let items = match &a.value {
            Value::List(xs) | Value::Tuple(xs) => xs.clone(),
            Value::Int(_) => vec![a.value.clone()],
            other => {
                return Err(err(
                    Code::NotConstant,
                    "a shape is a list of compile-time integers",
                    a.span,
                    format!("this is {}", other.describe()),
                ));
            }
        };
        let mut shape = Vec::new();
        let mut infer = None;
        for (i, it) in items.iter().enumerate() {
            match it {
                Value::Int(-1) if numel.is_some() && infer.is_none() => {
                    infer = Some(i);
                    shape.push(1);
                }
                Value::Int(n) if *n >= 0 => shape.push(*n as usize),
                other => {
                    return Err(err(
                        Code::BadArgument,
                        format!(
                            "shape entries must be non-negative integers, found {}",
                            other.describe()
                        ),
                        a.span,
                        "bad shape",
                    ));
                }
            }
        }
        if let (Some(i), Some(n)) = (infer, numel) {
            let known: usize = shape.iter().product();
            if known == 0 || n % known != 0 {
                return Err(err(
                    Code::ShapeMismatch,
                    format!("cannot infer -1 for {n} elements"),
                    a.span,
                    "here",
                ));
            }
            shape[i] = n / known;
        }
        Ok(shape)
    }

    /// An axis argument (negative counts from the end), defaulting to `default`.
    pub(crate) fn axis_arg(&mut self, a: Option<&ArgVal>, x: &Tv, default: i64) -> R<usize> {
        self.axis_arg_rank(a, x.ty.rank(), default)
    }

    fn axis_arg_rank(&mut self, a: Option<&ArgVal>, rank: usize, default: i64) -> R<usize> {
        let (v, span) = match a {
            Some(a) => match a.value {
                Value::Int(i) => (i, a.span),
                ref other => {
                    return Err(err(
                        Code::NotConstant,
                        "an axis is a compile-time integer",
                        a.span,
                        format!("this is {}", other.describe()),
                    ));
                }
            },
            None => (default, Span::default()),
        };
        let r = rank as i64;
        let ax = if v < 0 { v + r } else { v };
        if ax < 0 || ax >= r {
            let d = err(
                Code::IndexOutOfBounds,
                format!("axis {v} is out of range for a tensor with {rank} axes"),
                span,
                "bad axis",
            );
            return Err(d);
        }
        Ok(ax as usize)
    }

    fn reduction(&mut self, name: &'static str, args: Vec<ArgVal>, whole: Span) -> R<Value> {
        // max/min of compile-time numbers fold.
        if matches!(name, "max" | "min") && args.len() >= 2 && args.iter().all(|a| a.value.as_f64().is_some())
        {
            let vals: Vec<f64> = args.iter().filter_map(|a| a.value.as_f64()).collect();
            let all_int = args.iter().all(|a| matches!(a.value, Value::Int(_)));
            let r = if name == "max" {
                vals.iter().copied().fold(f64::NEG_INFINITY, f64::max)
            } else {
                vals.iter().copied().fold(f64::INFINITY, f64::min)
            };
            return Ok(if all_int {
                Value::Int(r as i64)
            } else {
                Value::Float(r)
            });
        }
        if matches!(name, "max" | "min")
            && args.len() == 2
            && args[1].name.is_none()
            && matches!(args[1].value, Value::Tensor(_))
        {
            return Err(err(
                Code::Arity,
                format!("`{name}(a, b)` of two tensors is elementwise: use `{name}imum(a, b)`"),
                whole,
                "second argument is a tensor",
            ));
        }
        let a = Args::bind(name, &["x", "axis", "keepdims"], args, whole)?;
        let xa = a.req(0)?;
        if let Value::List(items) = &xa.value
            && items.iter().all(|v| v.as_f64().is_some())
            && a.opt(1).is_none()
        {
            let vals: Vec<f64> = items.iter().filter_map(Value::as_f64).collect();
            let all_int = items.iter().all(|v| matches!(v, Value::Int(_)));
            let r = match name {
                "sum" => vals.iter().sum(),
                "mean" => vals.iter().sum::<f64>() / vals.len().max(1) as f64,
                "max" => vals.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                _ => vals.iter().copied().fold(f64::INFINITY, f64::min),
            };
            return Ok(if all_int && name != "mean" {
                Value::Int(r as i64)
            } else {
                Value::Float(r)
            });
        }
        let x = self.arg_tensor(xa, None)?;
        if x.ty.dtype == DType::Bool {
            return Err(err(
                Code::TypeMismatch,
                format!("cannot `{name}` booleans"),
                xa.span,
                "convert with f32(x)",
            ));
        }
        if name == "mean" && x.ty.dtype != DType::F32 {
            return Err(err(
                Code::TypeMismatch,
                "`mean` needs f32",
                xa.span,
                "convert with f32(x)",
            ));
        }
        let axes: Vec<usize> = match a.opt(1) {
            None => (0..x.ty.rank()).collect(),
            Some(av) => match &av.value {
                Value::List(items) => {
                    let mut out = Vec::new();
                    for it in items {
                        let one = ArgVal {
                            name: None,
                            value: it.clone(),
                            span: av.span,
                        };
                        out.push(self.axis_arg(Some(&one), &x, 0)?);
                    }
                    out
                }
                _ => vec![self.axis_arg(Some(av), &x, 0)?],
            },
        };
        let keep = match a.opt(2).map(|v| &v.value) {
            None | Some(Value::Bool(false)) => false,
            Some(Value::Bool(true)) => true,
            Some(other) => {
                return Err(err(
                    Code::BadArgument,
                    "keepdims is true or false",
                    a.opt(2).map_or(whole, |v| v.span),
                    format!("this is {}", other.describe()),
                ));
            }
        };
        let op = match name {
            "sum" | "mean" => ReduceOp::Sum,
            "max" => ReduceOp::Max,
            _ => ReduceOp::Min,
        };
        let n = self.g().reduce(op, x.node, &axes).map_err(|e| ir_err(e, whole))?;
        let mut r = self.tv(n);
        if name == "mean" {
            let count: usize = axes.iter().map(|a| x.ty.shape[*a]).product();
            let c = self.fill(1.0 / count.max(1) as f64, r.ty.clone());
            r = self.b(BinaryOp::Mul, &r, &c, whole)?;
        }
        if keep {
            let shape: Vec<usize> =
                x.ty.shape
                    .iter()
                    .enumerate()
                    .map(|(i, d)| if axes.contains(&i) { 1 } else { *d })
                    .collect();
            r = self.reshape(&r, &shape, whole)?;
        }
        Ok(Value::Tensor(r))
    }

    fn concat(&mut self, args: Vec<ArgVal>, whole: Span) -> R<Value> {
        let mut axis_arg = None;
        let mut parts = Vec::new();
        for a in args {
            match &a.name {
                Some(n) if n.name == "axis" => axis_arg = Some(a),
                Some(n) => {
                    return Err(err(
                        Code::Arity,
                        format!("`concat` has no parameter `{}`", n.name),
                        n.span,
                        "unknown",
                    ));
                }
                None => parts.push(a),
            }
        }
        // concat([a, b]) with a list argument works too.
        if parts.len() == 1
            && let Value::List(items) = &parts[0].value
        {
            let span = parts[0].span;
            parts = items
                .iter()
                .map(|v| ArgVal {
                    name: None,
                    value: v.clone(),
                    span,
                })
                .collect();
        }
        if parts.is_empty() {
            return Err(err(
                Code::Arity,
                "`concat` needs at least one tensor",
                whole,
                "nothing to join",
            ));
        }
        let mut tvs = Vec::new();
        for p in &parts {
            tvs.push(self.arg_tensor(p, None)?);
        }
        let axis = self.axis_arg(axis_arg.as_ref(), &tvs[0], -1)?;
        for (t, p) in tvs.iter().zip(&parts).skip(1) {
            let f = &tvs[0];
            let ok = t.ty.rank() == f.ty.rank()
                && t.ty.dtype == f.ty.dtype
                && (0..f.ty.rank()).all(|i| i == axis || t.ty.shape[i] == f.ty.shape[i]);
            if !ok {
                return Err(err(
                    Code::ShapeMismatch,
                    format!("cannot concatenate {} and {} along axis {axis}", f.ty, t.ty),
                    p.span,
                    format!("this is {}", t.ty),
                )
                .also(parts[0].span, format!("this is {}", f.ty))
                .note("all other axes must agree"));
            }
        }
        let nodes: Vec<_> = tvs.iter().map(|t| t.node).collect();
        let n = self.g().concat(&nodes, axis).map_err(|e| ir_err(e, whole))?;
        Ok(Value::Tensor(self.tv(n)))
    }

    // ------------------------------------------------------------ composites (primitives only)

    pub(crate) fn u(&mut self, op: UnaryOp, x: &Tv, span: Span) -> R<Tv> {
        let n = self.g().unary(op, x.node).map_err(|e| ir_err(e, span))?;
        Ok(self.tv(n))
    }

    /// Binary op on equal shapes.
    pub(crate) fn b(&mut self, op: BinaryOp, x: &Tv, y: &Tv, span: Span) -> R<Tv> {
        let n = self
            .g()
            .binary_bcast(op, x.node, y.node)
            .map_err(|e| ir_err(e, span))?;
        Ok(self.tv(n))
    }

    /// Binary op on tensors with checked broadcasting.
    pub(crate) fn bcast_tv(&mut self, op: BinaryOp, x: &Tv, y: &Tv, span: Span) -> R<Tv> {
        self.check_broadcast(&x.ty.shape, span, &y.ty.shape, span, op.name())?;
        self.b(op, x, y, span)
    }

    /// Binary op on arguments (constants adopt the tensor's type).
    pub(crate) fn bcast(&mut self, op: BinaryOp, x: &ArgVal, y: &ArgVal, span: Span) -> R<Tv> {
        let ast_op = match op {
            BinaryOp::Max | BinaryOp::Min => None,
            BinaryOp::Sub => Some(crate::syntax::ast::BinOp::Sub),
            BinaryOp::Mul => Some(crate::syntax::ast::BinOp::Mul),
            _ => Some(crate::syntax::ast::BinOp::Add),
        };
        if let Some(o) = ast_op {
            return match self.binary(o, x.value.clone(), x.span, y.value.clone(), y.span, span)? {
                Value::Tensor(t) => Ok(t),
                other => self.tensor_of(other, span, Some(DType::F32)),
            };
        }
        let (tx, ty) = match (&x.value, &y.value) {
            (Value::Tensor(t), _) => {
                let d = t.ty.dtype;
                (
                    self.tensor_of(x.value.clone(), x.span, None)?,
                    self.tensor_of(y.value.clone(), y.span, Some(d))?,
                )
            }
            (_, Value::Tensor(t)) => {
                let d = t.ty.dtype;
                (
                    self.tensor_of(x.value.clone(), x.span, Some(d))?,
                    self.tensor_of(y.value.clone(), y.span, None)?,
                )
            }
            _ => (
                self.tensor_of(x.value.clone(), x.span, None)?,
                self.tensor_of(y.value.clone(), y.span, None)?,
            ),
        };
        if tx.ty.dtype != ty.ty.dtype || tx.ty.dtype == DType::Bool {
            return Err(err(
                Code::TypeMismatch,
                format!("`{}` needs two number tensors of one element type", op.name()),
                x.span,
                format!("this is {}", tx.ty),
            )
            .also(y.span, format!("this is {}", ty.ty)));
        }
        self.check_broadcast(&tx.ty.shape, x.span, &ty.ty.shape, y.span, op.name())?;
        self.b(op, &tx, &ty, span)
    }

    pub(crate) fn sel(&mut self, c: &Tv, a: &Tv, b: &Tv, span: Span) -> R<Tv> {
        let n = self
            .g()
            .select(c.node, a.node, b.node)
            .map_err(|e| ir_err(e, span))?;
        Ok(self.tv(n))
    }

    pub(crate) fn reshape(&mut self, x: &Tv, shape: &[usize], span: Span) -> R<Tv> {
        let n = self.g().reshape(x.node, shape).map_err(|e| ir_err(e, span))?;
        Ok(self.tv(n))
    }

    pub(crate) fn sum_axes(&mut self, x: &Tv, axes: &[usize], span: Span) -> R<Tv> {
        let n = self.g().sum(x.node, axes).map_err(|e| ir_err(e, span))?;
        Ok(self.tv(n))
    }

    pub(crate) fn mean_all(&mut self, x: &Tv, span: Span) -> R<Tv> {
        let axes: Vec<usize> = (0..x.ty.rank()).collect();
        let s = self.sum_axes(x, &axes, span)?;
        let c = self.fill(1.0 / x.ty.numel().max(1) as f64, s.ty.clone());
        self.b(BinaryOp::Mul, &s, &c, span)
    }

    /// Re-inserts a reduced axis as size 1.
    pub(crate) fn keepdim(&mut self, x: &Tv, axis: usize, span: Span) -> R<Tv> {
        let mut s = x.ty.shape.clone();
        s.insert(axis, 1);
        self.reshape(x, &s, span)
    }

    /// `log(sum(exp(x)))` along an axis, shifted by the (stopped) maximum for stability.
    pub(crate) fn logsumexp(&mut self, x: &Tv, axis: usize, span: Span) -> R<Tv> {
        let m = self
            .g()
            .reduce(ReduceOp::Max, x.node, &[axis])
            .map_err(|e| ir_err(e, span))?;
        let m = self.g().stop_grad(m).map_err(|e| ir_err(e, span))?;
        let m = self.tv(m);
        let mk = self.keepdim(&m, axis, span)?;
        let d = self.b(BinaryOp::Sub, x, &mk, span)?;
        let e = self.u(UnaryOp::Exp, &d, span)?;
        let s = self.sum_axes(&e, &[axis], span)?;
        let l = self.u(UnaryOp::Log, &s, span)?;
        self.b(BinaryOp::Add, &m, &l, span)
    }

    /// Numerically safe sigmoid: exp only of non-positive numbers, so neither branch overflows.
    pub(crate) fn sigmoid(&mut self, x: &Tv, span: Span) -> R<Tv> {
        let ax = self.u(UnaryOp::Abs, x, span)?;
        let nax = self.u(UnaryOp::Neg, &ax, span)?;
        let e = self.u(UnaryOp::Exp, &nax, span)?;
        let one = self.fill(1.0, x.ty.clone());
        let den = self.b(BinaryOp::Add, &one, &e, span)?;
        let pos = self.b(BinaryOp::Div, &one, &den, span)?;
        let neg = self.b(BinaryOp::Div, &e, &den, span)?;
        let z = self.fill(0.0, x.ty.clone());
        let c = self.b(BinaryOp::Ge, x, &z, span)?;
        self.sel(&c, &pos, &neg, span)
    }

    /// `log(1 + exp(x))` = `max(x, 0) + log(1 + exp(-|x|))`.
    pub(crate) fn softplus(&mut self, x: &Tv, span: Span) -> R<Tv> {
        let z = self.fill(0.0, x.ty.clone());
        let mx = self.b(BinaryOp::Max, x, &z, span)?;
        let ax = self.u(UnaryOp::Abs, x, span)?;
        let nax = self.u(UnaryOp::Neg, &ax, span)?;
        let e = self.u(UnaryOp::Exp, &nax, span)?;
        let one = self.fill(1.0, x.ty.clone());
        let s = self.b(BinaryOp::Add, &one, &e, span)?;
        let l = self.u(UnaryOp::Log, &s, span)?;
        self.b(BinaryOp::Add, &mx, &l, span)
    }

    /// Index of the largest (or smallest) entry along `axis`; ties go to the first.
    pub(crate) fn argext(&mut self, x: &Tv, axis: usize, largest: bool, span: Span) -> R<Tv> {
        let op = if largest { ReduceOp::Max } else { ReduceOp::Min };
        let m = self
            .g()
            .reduce(op, x.node, &[axis])
            .map_err(|e| ir_err(e, span))?;
        let m = self.tv(m);
        let mk = self.keepdim(&m, axis, span)?;
        let hit = self.b(BinaryOp::Eq, x, &mk, span)?;
        let io = self
            .g()
            .iota(axis, x.ty.shape.clone())
            .map_err(|e| ir_err(e, span))?;
        let io = self.tv(io);
        let n = self.fill(x.ty.shape[axis] as f64, io.ty.clone());
        let cand = self.sel(&hit, &io, &n, span)?;
        let r = self
            .g()
            .reduce(ReduceOp::Min, cand.node, &[axis])
            .map_err(|e| ir_err(e, span))?;
        // An all-NaN row would give n; clamp into range so the action is always valid.
        let r = self.tv(r);
        let last = self.fill((x.ty.shape[axis].max(1) - 1) as f64, r.ty.clone());
        self.b(BinaryOp::Min, &r, &last, span)
    }

    /// `[..] i32 -> [.., n] f32` with a one at each index.
    pub(crate) fn one_hot(&mut self, idx: &Tv, n: usize, span: Span) -> R<Tv> {
        let mut shape = idx.ty.shape.clone();
        shape.push(n);
        let mut ks = idx.ty.shape.clone();
        ks.push(1);
        let ik = self.reshape(idx, &ks, span)?;
        let ib = self
            .g()
            .broadcast_to(ik.node, &shape)
            .map_err(|e| ir_err(e, span))?;
        let ib = self.tv(ib);
        let io = self
            .g()
            .iota(shape.len() - 1, shape)
            .map_err(|e| ir_err(e, span))?;
        let io = self.tv(io);
        let eq = self.b(BinaryOp::Eq, &io, &ib, span)?;
        let n = self.g().cast(eq.node, DType::F32).map_err(|e| ir_err(e, span))?;
        Ok(self.tv(n))
    }

    /// `x[..., a]` per row: the entries of the last axis of `x` chosen by `a`.
    pub(crate) fn pick(&mut self, x: &Tv, xs: Span, a: &Tv, as_: Span, span: Span) -> R<Tv> {
        let r = x.ty.rank();
        if a.ty.dtype != DType::I32 || r == 0 || x.ty.shape[..r - 1] != a.ty.shape[..] {
            return Err(err(
                Code::ShapeMismatch,
                format!(
                    "`pick(x, a)` needs x of shape [.., n] and i32 indices of shape [..]; got {} and {}",
                    x.ty, a.ty
                ),
                span,
                "in this call",
            )
            .also(xs, format!("this is {}", x.ty))
            .also(as_, format!("this is {}", a.ty)));
        }
        let oh = self.one_hot(a, x.ty.shape[r - 1], span)?;
        let p = self.b(BinaryOp::Mul, x, &oh, span)?;
        self.sum_axes(&p, &[r - 1], span)
    }

    fn huber(&mut self, x: &Tv, delta: f64, span: Span) -> R<Tv> {
        let ax = self.u(UnaryOp::Abs, x, span)?;
        let d = self.fill(delta, x.ty.clone());
        let small = self.b(BinaryOp::Le, &ax, &d, span)?;
        let half = self.fill(0.5, x.ty.clone());
        let sq = self.b(BinaryOp::Mul, x, x, span)?;
        let quad = self.b(BinaryOp::Mul, &half, &sq, span)?;
        let hd = self.fill(0.5 * delta, x.ty.clone());
        let ad = self.b(BinaryOp::Sub, &ax, &hd, span)?;
        let lin = self.b(BinaryOp::Mul, &d, &ad, span)?;
        self.sel(&small, &quad, &lin, span)
    }

    /// Random numbers of a shape from a fresh stream of the entry's key.
    pub(crate) fn random(&mut self, dist: RandomDist, shape: Vec<usize>, span: Span) -> R<Tv> {
        let key = self.key(span)?;
        let stream = self.next_stream;
        self.next_stream += 1;
        let n = self
            .g()
            .random(dist, stream, key, shape)
            .map_err(|e| ir_err(e, span))?;
        Ok(self.tv(n))
    }

    /// `stop(x)`, also for tuples, records and distributions' parameters.
    pub(crate) fn stop(&mut self, v: Value, span: Span) -> R<Value> {
        Ok(match v {
            Value::Tensor(t) => {
                let x = self.node(&t);
                let n = self.g().stop_grad(x).map_err(|e| ir_err(e, span))?;
                Value::Tensor(self.tv(n))
            }
            Value::Tuple(items) => {
                Value::Tuple(items.into_iter().map(|v| self.stop(v, span)).collect::<R<_>>()?)
            }
            Value::List(items) => {
                Value::List(items.into_iter().map(|v| self.stop(v, span)).collect::<R<_>>()?)
            }
            Value::Record(fs) => Value::Record(
                fs.into_iter()
                    .map(|(k, v)| Ok((k, self.stop(v, span)?)))
                    .collect::<R<_>>()?,
            ),
            Value::Dist(d) => Value::Dist(std::rc::Rc::new(self.map_dist(&d, span, |t, x| {
                let n = t.node(x);
                let n = t.g().stop_grad(n).map_err(|e| ir_err(e, span))?;
                Ok(t.tv(n))
            })?)),
            other @ (Value::Int(_) | Value::Float(_) | Value::Bool(_)) => other,
            other => {
                return Err(err(
                    Code::TypeMismatch,
                    format!("`stop` applies to tensors, found {}", other.describe()),
                    span,
                    "here",
                ));
            }
        })
    }

    /// `grad(loss, x)`: the gradient of a scalar loss with respect to an intermediate tensor.
    fn grad_of(&mut self, loss: &ArgVal, x: &ArgVal, whole: Span) -> R<Value> {
        let lt = match &loss.value {
            Value::Tensor(t) if t.ty.dtype == DType::F32 && t.ty.rank() == 0 => t.clone(),
            other => {
                return Err(err(
                    Code::BadGrad,
                    "`grad` needs a scalar f32 loss as its first argument",
                    loss.span,
                    format!("this is {}", other.describe()),
                )
                .hint("reduce it first, e.g. with `sum(...)` or `mean(...)`"));
            }
        };
        let xt = match &x.value {
            Value::Tensor(t) if t.ty.dtype == DType::F32 => t.clone(),
            other => {
                return Err(err(
                    Code::BadGrad,
                    "`grad` differentiates with respect to an f32 tensor",
                    x.span,
                    format!("this is {}", other.describe()),
                ));
            }
        };
        let l = self.node(&lt);
        let xn = self.node(&xt);
        if xn.index() >= l.index() && xn != l {
            return Err(err(
                Code::BadGrad,
                "the loss does not depend on this tensor",
                x.span,
                "computed after the loss",
            )
            .also(loss.span, "the loss"));
        }
        let gs = crate::autodiff::grad(self.g(), l, &[xn]).map_err(|e| ir_err(e, whole))?;
        match gs[0] {
            Some(g) => Ok(Value::Tensor(self.tv(g))),
            None => Err(err(
                Code::BadGrad,
                "the loss does not depend on this tensor (or only through `stop`)",
                x.span,
                "not reached by the loss's gradient",
            )
            .also(loss.span, "the loss")),
        }
    }
}

fn const_unary(op: UnaryOp, x: f64) -> f64 {
    match op {
        UnaryOp::Exp => x.exp(),
        UnaryOp::Log => x.ln(),
        UnaryOp::Tanh => x.tanh(),
        UnaryOp::Sqrt => x.sqrt(),
        UnaryOp::Abs => x.abs(),
        UnaryOp::Sin => x.sin(),
        UnaryOp::Cos => x.cos(),
        UnaryOp::Floor => x.floor(),
        UnaryOp::Neg => -x,
        UnaryOp::Recip => 1.0 / x,
        UnaryOp::Not => x,
    }
}
