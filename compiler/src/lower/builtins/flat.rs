//! `flatten` and `unflatten`: a list of tensors (a net's parameters) as one vector and back.
//! Rules that treat the parameters as one point in R^n — TRPO's conjugate gradient and line
//! search — work on the vector and hand the parameters back in their own shapes.

use super::super::args::ArgVal;
use super::super::tracer::{R, Tracer, err};
use super::super::value::{Tv, Value};
use crate::diag::{Code, Span};
use crate::ir::DType;

impl Tracer<'_, '_> {
    /// The f32 tensors of a list argument (empty lists and other items are errors).
    fn tensor_list(&mut self, a: &ArgVal, what: &str) -> R<Vec<Tv>> {
        let items = match &a.value {
            Value::List(xs) | Value::Tuple(xs) if !xs.is_empty() => xs.clone(),
            other => {
                return Err(err(
                    Code::TypeMismatch,
                    format!(
                        "{what} needs a non-empty list of f32 tensors; this is {}",
                        other.describe()
                    ),
                    a.span,
                    "not a list of tensors",
                ));
            }
        };
        let mut out = Vec::new();
        for (i, v) in items.into_iter().enumerate() {
            match v {
                Value::Tensor(t) if t.ty.dtype == DType::F32 => out.push(self.here(&t)),
                other => {
                    return Err(err(
                        Code::TypeMismatch,
                        format!("{what} needs f32 tensors; item {i} is {}", other.describe()),
                        a.span,
                        "not a list of f32 tensors",
                    ));
                }
            }
        }
        Ok(out)
    }

    /// `flatten(xs)`: every element of the tensors of `xs`, in order, as one vector.
    pub(super) fn flatten_builtin(&mut self, xs: &ArgVal, whole: Span) -> R<Value> {
        let parts = self.tensor_list(xs, "`flatten`")?;
        let mut flat = Vec::new();
        for p in &parts {
            flat.push(self.gb(whole).reshape(p, &[p.ty.numel()])?);
        }
        if flat.len() == 1 {
            return Ok(Value::Tensor(flat.pop().expect("one")));
        }
        self.gb(whole).concat(&flat, 0).map(Value::Tensor)
    }

    /// `unflatten(x, like)`: `x` cut into consecutive pieces shaped like the tensors of `like`.
    pub(super) fn unflatten_builtin(&mut self, x: &ArgVal, like: &ArgVal, whole: Span) -> R<Value> {
        // A literal vector (`[1.0, 2.0]`) is a list until it is made a tensor.
        let xv = match &x.value {
            Value::List(_) => Value::Tensor(self.tensor_of(x.value.clone(), x.span, Some(DType::F32))?),
            other => other.clone(),
        };
        let v = match &xv {
            Value::Tensor(t) if t.ty.dtype == DType::F32 && t.ty.rank() == 1 => self.here(t),
            other => {
                return Err(err(
                    Code::TypeMismatch,
                    format!(
                        "`unflatten` cuts an f32 vector; this is {}",
                        match other {
                            Value::Tensor(t) => format!("a {} tensor", t.ty),
                            o => o.describe(),
                        }
                    ),
                    x.span,
                    "not a vector",
                ));
            }
        };
        let shapes = self.tensor_list(like, "`unflatten`'s `like`")?;
        let total: usize = shapes.iter().map(|s| s.ty.numel()).sum();
        if total != v.ty.shape[0] {
            return Err(err(
                Code::ShapeMismatch,
                format!(
                    "`unflatten` of {} into tensors of {total} elements in all: the sizes must be equal",
                    v.ty
                ),
                whole,
                "sizes differ",
            )
            .also(like.span, format!("{total} elements"))
            .hint("`unflatten(x, like)` inverts `flatten(like)`"));
        }
        let mut out = Vec::new();
        let mut off = 0;
        for s in &shapes {
            let n = s.ty.numel();
            let piece = if n == total {
                v.clone()
            } else {
                self.gb(whole).slice(&v, 0, off, off + n)?
            };
            out.push(Value::Tensor(self.gb(whole).reshape(&piece, &s.ty.shape)?));
            off += n;
        }
        Ok(Value::List(out))
    }
}
