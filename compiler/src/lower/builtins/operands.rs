//! Builtins on whole arguments: elementwise operators with constants, `pick`, random
//! numbers, `stop` and `grad`.

use super::kinds::Extremum;
use crate::diag::{Code, Span};
use crate::ir::{DType, RandomDist};
use crate::lower::args::ArgVal;
use crate::lower::tracer::{R, Tracer, err};
use crate::lower::value::{Tv, Value};
use crate::syntax::ast::BinOp;

impl Tracer<'_, '_> {
    /// An operator as written in the source on two arguments, as a tensor.
    pub(super) fn binary_tensor(&mut self, op: BinOp, x: &ArgVal, y: &ArgVal, span: Span) -> R<Tv> {
        match self.binary(op, x.value.clone(), x.span, y.value.clone(), y.span, span)? {
            Value::Tensor(t) => Ok(t),
            other => self.tensor_of(other, span, Some(DType::F32)),
        }
    }

    /// Elementwise `max`/`min` of two arguments (constants adopt the tensor's type).
    pub(super) fn extremum(&mut self, which: Extremum, x: &ArgVal, y: &ArgVal, span: Span) -> R<Tv> {
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
                format!("`{}` needs two number tensors of one element type", which.name()),
                x.span,
                format!("this is {}", tx.ty),
            )
            .also(y.span, format!("this is {}", ty.ty)));
        }
        self.check_broadcast(&tx.ty.shape, x.span, &ty.ty.shape, y.span, which.name())?;
        self.gb(span).apply2(&tx, &ty, |g, a, b| which.build(g, a, b))
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
        let n = x.ty.shape[r - 1];
        self.check_index(a, n, as_, &format!("the {n} entries `pick` chooses from"))
            .map_err(|d| d.also(xs, format!("this is {}", x.ty)))?;
        let (x, a) = (self.here(x), self.here(a));
        self.gb(span).pick_rows(&x, &a)
    }

    /// Random numbers of a shape from a fresh stream of the entry's key.
    pub(crate) fn random(&mut self, dist: RandomDist, shape: Vec<usize>, span: Span) -> R<Tv> {
        let key = self.key(span)?;
        let stream = self.next_stream;
        self.next_stream += 1;
        self.gb(span).random(dist, stream, key, shape)
    }

    /// `stop(x)`, also for tuples, records and distributions' parameters.
    pub(crate) fn stop(&mut self, v: Value, span: Span) -> R<Value> {
        Ok(match v {
            Value::Tensor(t) => {
                let x = self.here(&t);
                Value::Tensor(self.gb(span).stop_grad(&x)?)
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
                let x = t.here(x);
                t.gb(span).stop_grad(&x)
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
    pub(super) fn grad_of(&mut self, loss: &ArgVal, x: &ArgVal, whole: Span) -> R<Value> {
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
        let l = self.here(&lt);
        let xn = self.node(&xt);
        if xn.index() >= l.node.index() && xn != l.node {
            return Err(err(
                Code::BadGrad,
                "the loss does not depend on this tensor",
                x.span,
                "computed after the loss",
            )
            .also(loss.span, "the loss"));
        }
        let mut gs = self.gb(whole).grad(&l, &[xn])?;
        match gs.pop().flatten() {
            Some(g) => Ok(Value::Tensor(g)),
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
