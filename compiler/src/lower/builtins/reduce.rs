//! Reductions (`sum`, `mean`, `max`, `min`) and `concat`.

use super::kinds::Reduction;
use crate::builtins::Builtin;
use crate::diag::{Code, Span};
use crate::ir::{BinaryOp, DType, ReduceOp};
use crate::lower::args::{ArgVal, Args};
use crate::lower::tracer::{R, Tracer, err};
use crate::lower::value::Value;

impl Tracer<'_, '_> {
    /// `sum`, `mean`, `max`, `min` over all axes or some; compile-time lists fold.
    pub(super) fn reduction(
        &mut self,
        b: Builtin,
        which: Reduction,
        args: Vec<ArgVal>,
        whole: Span,
    ) -> R<Value> {
        let name = b.name();
        let extremum = matches!(which, Reduction::Max | Reduction::Min);
        // max/min of compile-time numbers fold. Deliberately not the interpreter's
        // `reduce_step`: `f64::max`/`min` skip NaN where the IR reduction propagates it, and
        // folded constants have always behaved this way (only NaN and signed zeros differ).
        if extremum && args.len() >= 2 && args.iter().all(|a| a.value.as_f64().is_some()) {
            let vals: Vec<f64> = args.iter().filter_map(|a| a.value.as_f64()).collect();
            let all_int = args.iter().all(|a| matches!(a.value, Value::Int(_)));
            let r = if which == Reduction::Max {
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
        if extremum && args.len() == 2 && args[1].name.is_none() && matches!(args[1].value, Value::Tensor(_))
        {
            return Err(err(
                Code::Arity,
                format!("`{name}(a, b)` of two tensors is elementwise: use `{name}imum(a, b)`"),
                whole,
                "second argument is a tensor",
            ));
        }
        let a = Args::bind(name, b.params(), args, whole)?;
        let xa = a.req(0)?;
        if let Value::List(items) = &xa.value
            && items.iter().all(|v| v.as_f64().is_some())
            && a.opt(1).is_none()
        {
            // Folded in f64 as before, not with the interpreter's `reduce_step`: `max`/`min`
            // skip NaN (see above) and `Iterator::sum` starts from -0.0 rather than the IR's
            // 0.0, so only NaN and the sign of a zero sum can differ from the IR reduction.
            let vals: Vec<f64> = items.iter().filter_map(Value::as_f64).collect();
            let all_int = items.iter().all(|v| matches!(v, Value::Int(_)));
            let r = match which {
                Reduction::Sum => vals.iter().sum(),
                Reduction::Mean => vals.iter().sum::<f64>() / vals.len().max(1) as f64,
                Reduction::Max => vals.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                Reduction::Min => vals.iter().copied().fold(f64::INFINITY, f64::min),
            };
            return Ok(if all_int && which != Reduction::Mean {
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
        if which == Reduction::Mean && x.ty.dtype != DType::F32 {
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
        let op = match which {
            Reduction::Sum | Reduction::Mean => ReduceOp::Sum,
            Reduction::Max => ReduceOp::Max,
            Reduction::Min => ReduceOp::Min,
        };
        let mut r = self.gb(whole).reduce(op, &x, &axes)?;
        if which == Reduction::Mean {
            let count: usize = axes.iter().map(|a| x.ty.shape[*a]).product();
            let c = self.fill(1.0 / count.max(1) as f64, r.ty.clone());
            r = self.gb(whole).binary(BinaryOp::Mul, &r, &c)?;
        }
        if keep {
            let shape: Vec<usize> =
                x.ty.shape
                    .iter()
                    .enumerate()
                    .map(|(i, d)| if axes.contains(&i) { 1 } else { *d })
                    .collect();
            r = self.gb(whole).reshape(&r, &shape)?;
        }
        Ok(Value::Tensor(r))
    }

    pub(super) fn concat(&mut self, args: Vec<ArgVal>, whole: Span) -> R<Value> {
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
        self.gb(whole).concat(&tvs, axis).map(Value::Tensor)
    }
}
