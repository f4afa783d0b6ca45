//! Logged metrics: `log NAME = EXPR` in a loss, policy or derive body makes the scalar value
//! an extra output of that body's entry point (`OutputRole::Metric`), which the trainer
//! averages per logging interval as `metric/NAME`.
//!
//! A metric is observed, never differentiated: its output goes through `stop` and no loss
//! reads the output, so adding or removing `log` lines changes neither the gradients nor
//! the parameters. Where `log` may stand is checked before lowering (`check/logs.rs`); here
//! the value is checked to be a scalar.

use super::tracer::{R, Tracer, err};
use super::value::Value;
use crate::diag::{Code, Span};
use crate::ir::{DType, TensorType};
use crate::signature::OutputRole;
use crate::syntax::ast::{Let, Pattern};

impl Tracer<'_, '_> {
    /// Records the value of a `log` statement as a metric of this entry, when the statement
    /// belongs to a body this entry logs for (a policy called from a loss is traced there
    /// too, but its metrics belong to its acting entry).
    pub(crate) fn log_metric(&mut self, l: &Let, v: &Value) -> R<()> {
        let Pattern::Name(name) = &l.pattern else {
            return Ok(());
        };
        let inside = |s: &Span| s.file == l.span.file && s.start <= l.span.start && l.span.end <= s.end;
        if !self.log_scopes.iter().any(inside) || self.logs.iter().any(|(n, _, _)| *n == name.name) {
            return Ok(());
        }
        let scalar = match v {
            Value::Tensor(t) if t.ty.shape.is_empty() => Some(t.clone()),
            Value::Tensor(_) => None,
            Value::Int(_) | Value::Float(_) | Value::Bool(_) => {
                Some(self.tensor_of(v.clone(), l.value.span, Some(DType::F32))?)
            }
            _ => None,
        };
        let Some(t) = scalar else {
            let what = match v {
                Value::Tensor(t) => format!("a tensor of type {}", t.ty),
                other => other.describe(),
            };
            return Err(err(
                Code::Metric,
                format!("metric `{}` must be a scalar, found {what}", name.name),
                l.value.span,
                "not a scalar",
            )
            .hint("log a summary of it, e.g. `mean(...)`, `max(...)` or `x[0]`"));
        };
        if self.level() > 0 {
            return Err(err(
                Code::Metric,
                format!("metric `{}` is computed inside a loop", name.name),
                l.span,
                "logged here",
            ));
        }
        let t = self.here(&t);
        let t = if t.ty.dtype == DType::F32 {
            t
        } else {
            self.gb(l.value.span).cast(&t, DType::F32)?
        };
        debug_assert_eq!(t.ty, TensorType::f32(vec![]));
        self.logs.push((name.name.clone(), t, l.span));
        Ok(())
    }

    /// Makes every recorded metric an output of the entry (after its other outputs).
    pub(crate) fn output_metrics(&mut self) -> R<()> {
        for (name, t, span) in std::mem::take(&mut self.logs) {
            let s = self.gb(span).stop_grad(&t)?;
            self.output(OutputRole::Metric { name }, s.node);
        }
        Ok(())
    }
}
