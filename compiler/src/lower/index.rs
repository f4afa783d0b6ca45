//! Indexing: compile-time lists and tuples, and tensors (integers, slices, `...`, i32 tensors).

use super::tracer::{R, Tracer, err};
use super::value::{Tv, Value};
use crate::diag::{Code, Span};
use crate::ir::DType;
use crate::syntax::ast::IndexItem;

impl Tracer<'_, '_> {
    pub(crate) fn index(&mut self, v: Value, vspan: Span, items: &[IndexItem], whole: Span) -> R<Value> {
        match v {
            Value::List(xs) if !self.list_index_is_static(items)? => {
                // A list of numbers indexed by a tensor (e.g. the loop variable of a scan):
                // it is a tensor literal.
                let t = self.tensor_of(Value::List(xs), vspan, None)?;
                self.index_tensor(t, vspan, items, whole).map(Value::Tensor)
            }
            Value::List(xs) | Value::Tuple(xs) => {
                if items.len() != 1 {
                    return Err(err(Code::BadArgument, "lists take one index", whole, "here"));
                }
                match &items[0] {
                    IndexItem::At(e) => {
                        let i = self.const_int(e)?;
                        let n = xs.len() as i64;
                        let j = if i < 0 { i + n } else { i };
                        if j < 0 || j >= n {
                            return Err(err(
                                Code::IndexOutOfBounds,
                                format!("index {i} is out of bounds for {} items", xs.len()),
                                e.span,
                                "out of bounds",
                            ));
                        }
                        Ok(xs[j as usize].clone())
                    }
                    IndexItem::Slice(a, b) => {
                        let (s, e) = self.slice_bounds(a.as_ref(), b.as_ref(), xs.len())?;
                        Ok(Value::List(xs[s..e].to_vec()))
                    }
                    IndexItem::Ellipsis(s) => {
                        Err(err(Code::BadArgument, "`...` indexes tensors", *s, "here"))
                    }
                }
            }
            Value::Tensor(t) => self.index_tensor(t, vspan, items, whole).map(Value::Tensor),
            other => Err(err(
                Code::TypeMismatch,
                format!("{} cannot be indexed", other.describe()),
                vspan,
                format!("this is {}", other.describe()),
            )),
        }
    }

    /// True if indexing a compile-time list with these items stays at compile time (one
    /// integer index or a slice); false for tensor indices or several axes.
    fn list_index_is_static(&mut self, items: &[IndexItem]) -> R<bool> {
        Ok(match items {
            [IndexItem::At(e)] => !matches!(self.eval(e)?, Value::Tensor(_)),
            [IndexItem::Slice(..)] => true,
            _ => false,
        })
    }

    fn slice_bounds(
        &mut self,
        a: Option<&crate::syntax::ast::Expr>,
        b: Option<&crate::syntax::ast::Expr>,
        len: usize,
    ) -> R<(usize, usize)> {
        let n = len as i64;
        let norm = |i: i64| (if i < 0 { i + n } else { i }).clamp(0, n) as usize;
        let s = match a {
            Some(e) => norm(self.const_int(e)?),
            None => 0,
        };
        let e = match b {
            Some(e) => norm(self.const_int(e)?),
            None => len,
        };
        Ok((s, e.max(s)))
    }

    /// Evaluates an expression that must be a compile-time integer.
    pub(crate) fn const_int(&mut self, e: &crate::syntax::ast::Expr) -> R<i64> {
        match self.eval(e)? {
            Value::Int(i) => Ok(i),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => Ok(f as i64),
            other => Err(err(
                Code::NotConstant,
                "expected a compile-time integer",
                e.span,
                format!("this is {}", other.describe()),
            )),
        }
    }

    fn index_tensor(&mut self, t: Tv, vspan: Span, items: &[IndexItem], whole: Span) -> R<Tv> {
        let rank = t.ty.rank();
        let ellipses = items
            .iter()
            .filter(|i| matches!(i, IndexItem::Ellipsis(_)))
            .count();
        if ellipses > 1 {
            return Err(err(Code::BadArgument, "only one `...` is allowed", whole, "here"));
        }
        let consuming = items.len() - ellipses;
        if consuming > rank {
            return Err(err(
                Code::IndexOutOfBounds,
                format!("{consuming} indices for a tensor with {rank} axes"),
                whole,
                "too many indices",
            )
            .also(vspan, format!("this is {}", t.ty)));
        }
        let mut cur = self.here(&t);
        let mut axis = 0;
        for it in items {
            let shape = cur.ty.shape.clone();
            match it {
                IndexItem::Ellipsis(_) => axis += rank - consuming,
                IndexItem::Slice(a, b) => {
                    let (s, e) = self.slice_bounds(a.as_ref(), b.as_ref(), shape[axis])?;
                    cur = self.gb(whole).slice(&cur, axis, s, e)?;
                    axis += 1;
                }
                IndexItem::At(e) => {
                    let iv = self.eval(e)?;
                    match iv {
                        Value::Int(i) => {
                            let n = shape[axis] as i64;
                            let j = if i < 0 { i + n } else { i };
                            if j < 0 || j >= n {
                                return Err(err(
                                    Code::IndexOutOfBounds,
                                    format!("index {i} is out of bounds for axis {axis} of size {n}"),
                                    e.span,
                                    "out of bounds",
                                )
                                .also(vspan, format!("this is {}", t.ty)));
                            }
                            let j = j as usize;
                            let s = self.gb(whole).slice(&cur, axis, j, j + 1)?;
                            let mut ns = shape.clone();
                            ns.remove(axis);
                            cur = self.gb(whole).reshape(&s, &ns)?;
                        }
                        Value::Tensor(it) if it.ty.dtype == DType::I32 => {
                            // No position exists to read: a program error, not an IR one.
                            if shape[axis] == 0 {
                                return Err(err(
                                    Code::IndexOutOfBounds,
                                    format!("axis {axis} has size 0: no index is in bounds"),
                                    e.span,
                                    "indexes an empty axis",
                                )
                                .also(vspan, format!("this is {}", t.ty)));
                            }
                            self.check_time_axis(&cur, axis, e.span, vspan)?;
                            let what = format!("axis {axis} of size {}", shape[axis]);
                            self.check_index(&it, shape[axis], e.span, &what)
                                .map_err(|d| d.also(vspan, format!("this is {}", t.ty)))?;
                            let idx = self.here(&it);
                            cur = self.gb(whole).take(&cur, &idx, axis)?;
                            axis += it.ty.rank();
                        }
                        other => {
                            return Err(err(
                                Code::TypeMismatch,
                                "tensor indices must be integers",
                                e.span,
                                format!("this is {}", other.describe()),
                            )
                            .hint(
                                "to pick one entry per row (e.g. Q-values of taken actions) use `pick(q, a)`",
                            ));
                        }
                    }
                }
            }
        }
        Ok(cur)
    }
}
