//! Conversions of builtin arguments: f32 tensors, sizes, shapes, axes and element types.

use crate::builtins::Builtin;
use crate::diag::{Code, Span};
use crate::ir::DType;
use crate::lower::args::ArgVal;
use crate::lower::tracer::{R, Tracer, err};
use crate::lower::value::{Tv, Value};

impl Tracer<'_, '_> {
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

    pub(super) fn dtype_arg(&mut self, a: Option<&ArgVal>) -> R<DType> {
        match a.map(|a| (&a.value, a.span)) {
            None => Ok(DType::F32),
            Some((Value::Builtin(Builtin::F32), _)) => Ok(DType::F32),
            Some((Value::Builtin(Builtin::I32), _)) => Ok(DType::I32),
            Some((Value::Builtin(Builtin::Bool), _)) => Ok(DType::Bool),
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
        // Before anything is sized by it: `zeros([1e5, 1e5, 1e5])`-sized shapes are refused.
        crate::lower::budget::check_tensor(
            &crate::ir::TensorType::f32(shape.clone()),
            self.lw.options.budget,
            a.span,
        )?;
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

    pub(super) fn axis_arg_rank(&mut self, a: Option<&ArgVal>, rank: usize, default: i64) -> R<usize> {
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

    /// A tensor that can be sorted: f32 or i32 (numbers become f32 scalars).
    pub(crate) fn sortable_arg(&mut self, a: &ArgVal) -> R<Tv> {
        let t = self.arg_tensor(a, Some(DType::F32))?;
        if t.ty.dtype == DType::Bool || t.ty.rank() == 0 {
            return Err(err(
                Code::TypeMismatch,
                "expected an f32 or i32 tensor with at least one axis",
                a.span,
                format!("this is {}", t.ty),
            ));
        }
        Ok(t)
    }

    /// An optional `true`/`false` argument called `what` (default false).
    pub(crate) fn flag_arg(&mut self, a: Option<&ArgVal>, what: &str) -> R<bool> {
        match a.map(|a| (&a.value, a.span)) {
            None | Some((Value::Bool(false), _)) => Ok(false),
            Some((Value::Bool(true), _)) => Ok(true),
            Some((other, span)) => Err(err(
                Code::BadArgument,
                format!("{what} is true or false"),
                span,
                format!("this is {}", other.describe()),
            )),
        }
    }
}
