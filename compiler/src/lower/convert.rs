//! Values to tensors: numbers, booleans and (nested) lists.

use super::tracer::{R, Tracer, err};
use super::value::{Tv, Value};
use crate::diag::{Code, Span};
use crate::ir::{DType, TensorType};

impl Tracer<'_, '_> {
    /// Converts a value to a tensor; numbers take `hint` as their element type.
    pub(crate) fn tensor_of(&mut self, v: Value, span: Span, hint: Option<DType>) -> R<Tv> {
        match v {
            Value::Tensor(t) => {
                let n = self.node(&t);
                Ok(Tv {
                    node: n,
                    level: self.level(),
                    ty: t.ty,
                })
            }
            Value::Int(i) => {
                let d = match hint {
                    Some(DType::I32) => DType::I32,
                    Some(DType::Bool) => DType::Bool,
                    _ => DType::F32,
                };
                if d == DType::I32 && i32::try_from(i).is_err() {
                    return Err(err(
                        Code::BadArgument,
                        format!("{i} does not fit in i32"),
                        span,
                        "too large",
                    ));
                }
                Ok(self.fill(i as f64, TensorType::scalar(d)))
            }
            Value::Float(f) => {
                if hint == Some(DType::I32) {
                    return Err(err(
                        Code::TypeMismatch,
                        "a float constant cannot be combined with an i32 tensor",
                        span,
                        format!("{f} is a float"),
                    )
                    .hint("convert the tensor with `f32(...)`"));
                }
                Ok(self.fill(f, TensorType::scalar(DType::F32)))
            }
            Value::Bool(b) => Ok(self.fill(f64::from(u8::from(b)), TensorType::scalar(DType::Bool))),
            Value::List(items) => self.list_tensor(items, span, hint),
            other => Err(err(
                Code::TypeMismatch,
                format!("expected a tensor, found {}", other.describe()),
                span,
                format!("this is {}", other.describe()),
            )),
        }
    }

    /// A list literal: constant data if every item is a number, else a stack of tensors.
    fn list_tensor(&mut self, items: Vec<Value>, span: Span, hint: Option<DType>) -> R<Tv> {
        if let Some((shape, data, dtype)) = flatten_constant(&items) {
            let dtype = match (dtype, hint) {
                (DType::I32, Some(DType::I32)) => DType::I32,
                (DType::Bool, _) => DType::Bool,
                _ => DType::F32,
            };
            return self.gb(span).constant(data, TensorType::new(dtype, shape));
        }
        if items.is_empty() {
            return Ok(self.fill(0.0, TensorType::f32(vec![0])));
        }
        let mut parts = Vec::new();
        let mut first: Option<TensorType> = None;
        for it in items {
            let t = self.tensor_of(it, span, hint)?;
            match &first {
                None => first = Some(t.ty.clone()),
                Some(f) if *f != t.ty => {
                    return Err(err(
                        Code::ShapeMismatch,
                        format!("list items must all have one type; found {f} and {}", t.ty),
                        span,
                        "in this list",
                    ));
                }
                _ => {}
            }
            let mut s = vec![1];
            s.extend(&t.ty.shape);
            parts.push(self.gb(span).reshape(&t, &s)?);
        }
        self.gb(span).concat(&parts, 0)
    }

    /// A list literal's value: a compile-time list if it holds constants or callables, else a tensor.
    pub(crate) fn list(&mut self, items: Vec<(Value, Span)>, span: Span) -> R<Value> {
        if items.iter().all(|(v, _)| !matches!(v, Value::Tensor(_))) {
            return Ok(Value::List(items.into_iter().map(|(v, _)| v).collect()));
        }
        let vals: Vec<Value> = items.into_iter().map(|(v, _)| v).collect();
        Ok(Value::Tensor(self.list_tensor(vals, span, None)?))
    }
}

/// Shape, row-major data and element type of a nested list of constants.
fn flatten_constant(items: &[Value]) -> Option<(Vec<usize>, Vec<f64>, DType)> {
    if items.is_empty() {
        return None;
    }
    let mut data = Vec::new();
    let mut dtype = DType::I32;
    let mut inner: Option<Vec<usize>> = None;
    for it in items {
        let (shape, d, dt) = match it {
            Value::Int(i) => (vec![], vec![*i as f64], DType::I32),
            Value::Float(f) => (vec![], vec![*f], DType::F32),
            Value::Bool(b) => (vec![], vec![f64::from(u8::from(*b))], DType::Bool),
            Value::List(xs) => flatten_constant(xs)?,
            _ => return None,
        };
        match &inner {
            None => inner = Some(shape),
            Some(s) if *s != shape => return None,
            _ => {}
        }
        dtype = match (dtype, dt) {
            (DType::Bool, _) | (_, DType::Bool) => DType::Bool,
            (DType::F32, _) | (_, DType::F32) => DType::F32,
            _ => DType::I32,
        };
        data.extend(d);
    }
    let mut shape = vec![items.len()];
    shape.extend(inner.unwrap_or_default());
    Some((shape, data, dtype))
}
