//! Operators, conversions, indexing, fields and loops of the tracer.

use super::tracer::{Ctx, Level, R, Tracer, err, ir_err};
use super::value::{Tv, Value};
use crate::diag::{Code, Diagnostic, Span, did_you_mean};
use crate::ir::{BinaryOp, DType, Graph, Scan, TensorType, UnaryOp, broadcast_shapes};
use crate::syntax::ast::{BinOp, IndexItem, Loop, UnOp};
use std::collections::HashMap;

fn shape_str(s: &[usize]) -> String {
    TensorType::f32(s.to_vec())
        .to_string()
        .trim_start_matches("f32")
        .to_string()
}

impl Tracer<'_, '_> {
    /// A tensor constant of a type.
    pub(crate) fn fill(&mut self, v: f64, ty: TensorType) -> Tv {
        let n = self.g().fill(v, ty);
        self.tv(n)
    }

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
            let n = self
                .g()
                .constant(data, TensorType::new(dtype, shape))
                .map_err(|e| ir_err(e, span))?;
            return Ok(self.tv(n));
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
            let r = self.g().reshape(t.node, &s).map_err(|e| ir_err(e, span))?;
            parts.push(r);
        }
        let n = self.g().concat(&parts, 0).map_err(|e| ir_err(e, span))?;
        Ok(self.tv(n))
    }

    /// A list literal's value: a compile-time list if it holds constants or callables, else a tensor.
    pub(crate) fn list(&mut self, items: Vec<(Value, Span)>, span: Span) -> R<Value> {
        if items.iter().all(|(v, _)| !matches!(v, Value::Tensor(_))) {
            return Ok(Value::List(items.into_iter().map(|(v, _)| v).collect()));
        }
        let vals: Vec<Value> = items.into_iter().map(|(v, _)| v).collect();
        Ok(Value::Tensor(self.list_tensor(vals, span, None)?))
    }

    // ------------------------------------------------------------ unary/binary

    pub(crate) fn unary(&mut self, op: UnOp, v: Value, vspan: Span, whole: Span) -> R<Value> {
        match (op, v) {
            (UnOp::Neg, Value::Int(i)) => Ok(Value::Int(-i)),
            (UnOp::Neg, Value::Float(f)) => Ok(Value::Float(-f)),
            (UnOp::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
            (op, v @ (Value::Tensor(_) | Value::List(_))) => {
                let t = self.tensor_of(v, vspan, None)?;
                let (uop, ok) = match op {
                    UnOp::Neg => (UnaryOp::Neg, t.ty.dtype != DType::Bool),
                    UnOp::Not => (UnaryOp::Not, t.ty.dtype == DType::Bool),
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
                let n = self.g().unary(uop, t.node).map_err(|e| ir_err(e, whole))?;
                Ok(Value::Tensor(self.tv(n)))
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
            return v.map_err(|m| err(Code::BadArgument, m, whole, "in this constant expression"));
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
        let iop = match op {
            BinOp::Add => BinaryOp::Add,
            BinOp::Sub => BinaryOp::Sub,
            BinOp::Mul => BinaryOp::Mul,
            BinOp::Div => BinaryOp::Div,
            BinOp::Rem => BinaryOp::Rem,
            BinOp::Pow => BinaryOp::Pow,
            BinOp::Eq => BinaryOp::Eq,
            BinOp::Ne => BinaryOp::Ne,
            BinOp::Lt => BinaryOp::Lt,
            BinOp::Le => BinaryOp::Le,
            BinOp::Gt => BinaryOp::Gt,
            BinOp::Ge => BinaryOp::Ge,
            BinOp::And => BinaryOp::And,
            BinOp::Or => BinaryOp::Or,
        };
        if da != db {
            return Err(mismatch("needs operands of one element type")
                .hint("convert explicitly with `f32(x)`, `i32(x)` or `bool(x)`"));
        }
        if iop.is_logical() && da != DType::Bool {
            return Err(mismatch("needs booleans"));
        }
        if !iop.is_logical() && da == DType::Bool && !matches!(iop, BinaryOp::Eq | BinaryOp::Ne) {
            return Err(
                mismatch("is not defined for booleans").hint("convert with `f32(x)` to compute with flags")
            );
        }
        if matches!(iop, BinaryOp::Pow) && da != DType::F32 {
            return Err(mismatch("needs f32 operands"));
        }
        if matches!(iop, BinaryOp::Div) && da == DType::I32 {
            return Err(mismatch("on integers is ambiguous").hint("convert with `f32(x)` first"));
        }
        let shape = self.check_broadcast(&a.ty.shape, sa, &b.ty.shape, sb, op.symbol())?;
        let _ = shape;
        // x^2 is common in losses; a multiply is exact and cheaper than pow.
        if iop == BinaryOp::Pow
            && let crate::ir::Op::Const { values } = &self.g().node(b.node).op
            && values.len() == 1
            && values[0] == 2.0
        {
            let n = self
                .g()
                .binary_bcast(BinaryOp::Mul, a.node, a.node)
                .map_err(|e| ir_err(e, whole))?;
            let bs = b.ty.shape.clone();
            let out = self.g().ty(n).shape.clone();
            let target = broadcast_shapes(&out, &bs).unwrap_or(out);
            let n = self.g().broadcast_to(n, &target).map_err(|e| ir_err(e, whole))?;
            return Ok(self.tv(n));
        }
        let n = self
            .g()
            .binary_bcast(iop, a.node, b.node)
            .map_err(|e| ir_err(e, whole))?;
        Ok(self.tv(n))
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
        let g = self.g();
        let c2 = g.broadcast_to(ct.node, &shape).map_err(|e| ir_err(e, whole))?;
        let a2 = g.broadcast_to(ta.node, &shape).map_err(|e| ir_err(e, whole))?;
        let b2 = g.broadcast_to(tb.node, &shape).map_err(|e| ir_err(e, whole))?;
        let n = g.select(c2, a2, b2).map_err(|e| ir_err(e, whole))?;
        Ok(Value::Tensor(self.tv(n)))
    }

    // ------------------------------------------------------------ indexing

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
        let mut node = self.node(&t);
        let mut axis = 0;
        for it in items {
            let shape = self.g().ty(node).shape.clone();
            match it {
                IndexItem::Ellipsis(_) => axis += rank - consuming,
                IndexItem::Slice(a, b) => {
                    let (s, e) = self.slice_bounds(a.as_ref(), b.as_ref(), shape[axis])?;
                    node = self.g().slice(node, axis, s, e).map_err(|e| ir_err(e, whole))?;
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
                            let s = self
                                .g()
                                .slice(node, axis, j, j + 1)
                                .map_err(|er| ir_err(er, whole))?;
                            let mut ns = shape.clone();
                            ns.remove(axis);
                            node = self.g().reshape(s, &ns).map_err(|er| ir_err(er, whole))?;
                        }
                        Value::Tensor(it) if it.ty.dtype == DType::I32 => {
                            let idx = self.node(&it);
                            node = self.g().take(node, idx, axis).map_err(|er| ir_err(er, whole))?;
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
        Ok(self.tv(node))
    }

    // ------------------------------------------------------------ fields

    pub(crate) fn field(&mut self, v: Value, vspan: Span, name: &crate::syntax::ast::Ident) -> R<Value> {
        let n = name.name.as_str();
        let unknown = |what: String, known: &[&str]| {
            err(
                Code::UnknownField,
                format!("{what} has no field `{n}`"),
                name.span,
                "unknown field",
            )
            .maybe_hint(did_you_mean(n, known.iter().copied()))
            .note(format!("available: {}", known.join(", ")))
        };
        match v {
            Value::Record(fields) => match fields.iter().find(|(k, _)| k == n) {
                Some((_, v)) => Ok(v.clone()),
                None => {
                    let known: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
                    Err(unknown("this record".into(), &known).also(vspan, "this record"))
                }
            },
            Value::Env => self.env_field(n, name.span),
            Value::Dist(d) => {
                const MEMBERS: [&str; 9] = [
                    "sample",
                    "log_prob",
                    "entropy",
                    "mean",
                    "std",
                    "mode",
                    "probs",
                    "logits",
                    "log_probs",
                ];
                if !MEMBERS.contains(&n) {
                    return Err(unknown(format!("a {} distribution", d.name()), &MEMBERS));
                }
                if matches!(n, "mean" | "std" | "mode" | "probs" | "logits" | "log_probs") {
                    return self.dist_property(&d, n, name.span);
                }
                Ok(Value::Method(Box::new(Value::Dist(d)), n.to_string()))
            }
            Value::Data(d) => {
                if matches!(n, "sample" | "minibatch" | "all") {
                    Ok(Value::Method(Box::new(Value::Data(d)), n.to_string()))
                } else {
                    Err(unknown(
                        format!("data source `{d}`"),
                        &["sample", "minibatch", "all"],
                    ))
                }
            }
            Value::Module(m) => {
                let module = self.lw.mods.get(m);
                match module.ast.fns.iter().position(|f| f.name.name == n) {
                    Some(i) => Ok(Value::Fn(super::value::FnRef {
                        module: m,
                        alg: None,
                        index: i,
                    })),
                    None => {
                        let known: Vec<&str> = module.fn_names().collect();
                        Err(unknown(format!("module `{}`", module.name), &known))
                    }
                }
            }
            Value::Tensor(t) => match n {
                "shape" => Ok(Value::List(
                    t.ty.shape.iter().map(|d| Value::Int(*d as i64)).collect(),
                )),
                "T" => {
                    let x = self.node(&t);
                    let r = self.g().t(x).map_err(|_| {
                        err(
                            Code::BadArgument,
                            "`.T` needs at least 2 axes",
                            vspan,
                            format!("this is {}", t.ty),
                        )
                    })?;
                    Ok(Value::Tensor(self.tv(r)))
                }
                _ => Err(unknown(format!("a tensor {}", t.ty), &["shape", "T"])),
            },
            Value::List(xs) if n == "len" => Ok(Value::Int(xs.len() as i64)),
            other => Err(err(
                Code::UnknownField,
                format!("{} has no fields", other.describe()),
                name.span,
                "no such field",
            )
            .also(vspan, format!("this is {}", other.describe()))),
        }
    }

    fn env_field(&mut self, n: &str, span: Span) -> R<Value> {
        use crate::env_spec::ActionSpace;
        let env = self.lw.env.clone();
        let continuous_only = |what: &str| {
            err(
                Code::ActionSpaceKind,
                format!(
                    "`env.{what}` needs a continuous action space, but `{}` is discrete",
                    env.id
                ),
                span,
                "continuous only",
            )
            .hint("use `env.num_actions` for discrete environments")
        };
        Ok(match (n, &env.action) {
            ("obs_dim", _) => Value::Int(env.obs_dim as i64),
            ("discrete", a) => Value::Bool(a.is_discrete()),
            ("continuous", a) => Value::Bool(!a.is_discrete()),
            ("max_steps", _) => Value::Int(env.max_episode_steps as i64),
            ("num_actions", ActionSpace::Discrete { n }) => Value::Int(*n as i64),
            ("num_actions", ActionSpace::Continuous { .. }) => {
                return Err(err(
                    Code::ActionSpaceKind,
                    format!(
                        "`env.num_actions` needs a discrete action space, but `{}` is continuous",
                        env.id
                    ),
                    span,
                    "discrete only",
                )
                .hint("use `env.act_dim` for continuous environments"));
            }
            ("act_dim", ActionSpace::Continuous { dim, .. }) => Value::Int(*dim as i64),
            ("act_high" | "act_low", ActionSpace::Continuous { low, high, .. }) => {
                let v = if n == "act_high" { high } else { low };
                let data: Vec<f64> = v.iter().map(|x| f64::from(*x)).collect();
                let node = self
                    .g()
                    .constant(data, TensorType::f32(vec![v.len()]))
                    .map_err(|e| ir_err(e, span))?;
                Value::Tensor(self.tv(node))
            }
            ("act_dim" | "act_high" | "act_low", ActionSpace::Discrete { .. }) => {
                return Err(continuous_only(n));
            }
            _ => {
                const KNOWN: [&str; 8] = [
                    "obs_dim",
                    "act_dim",
                    "num_actions",
                    "act_high",
                    "act_low",
                    "discrete",
                    "continuous",
                    "max_steps",
                ];
                return Err(err(
                    Code::UnknownField,
                    format!("the environment has no field `{n}`"),
                    span,
                    "unknown",
                )
                .maybe_hint(did_you_mean(n, KNOWN))
                .note(format!("available: {}", KNOWN.join(", "))));
            }
        })
    }

    // ------------------------------------------------------------ loops

    /// `for x in LIST with c = init { body }`: unrolled at compile time.
    pub(crate) fn for_loop(&mut self, l: &Loop, whole: Span) -> R<Value> {
        let items = match self.eval(&l.over)? {
            Value::List(xs) | Value::Tuple(xs) => xs,
            Value::Int(n) if n >= 0 => (0..n).map(Value::Int).collect(),
            other => {
                return Err(err(
                    Code::NotConstant,
                    "`for` iterates over a compile-time list or count",
                    l.over.span,
                    format!("this is {}", other.describe()),
                )
                .hint("use `scan` to loop over a tensor axis"));
            }
        };
        let mut carries = Vec::new();
        for (_, init) in &l.carries {
            carries.push(self.eval(init)?);
        }
        for item in items {
            self.locals.push(HashMap::new());
            self.bind(&l.var.name, item);
            for ((n, _), v) in l.carries.iter().zip(&carries) {
                self.bind(&n.name, v.clone());
            }
            let r = self.eval(&l.body);
            self.locals.pop();
            carries = unpack_carries(r?, l.carries.len(), l.body.span)?;
        }
        let _ = whole;
        Ok(if carries.len() == 1 {
            carries.pop().expect("one")
        } else {
            Value::Tuple(carries)
        })
    }

    /// `scan [reverse] t in LEN with c = init { body }`: a `Scan` node whose result is the
    /// stack of carries after every step.
    pub(crate) fn scan(&mut self, l: &Loop, whole: Span) -> R<Value> {
        let len = match self.eval(&l.over)? {
            Value::Int(n) if n >= 0 => n as usize,
            other => {
                return Err(err(
                    Code::NotConstant,
                    "`scan` needs a compile-time length",
                    l.over.span,
                    format!("this is {}", other.describe()),
                )
                .hint("write e.g. `scan t in len(r) with ...`"));
            }
        };
        let mut inits = Vec::new();
        for (_, init) in &l.carries {
            let v = self.eval(init)?;
            let t = self.tensor_of(v, init.span, None)?;
            inits.push(t);
        }
        let mut tys: Vec<TensorType> = inits.iter().map(|t| t.ty.clone()).collect();
        // Trace the body; if it returns a larger carry than the initial value (e.g. `acc = 0`
        // for a [N] carry), retrace with the larger type.
        for attempt in 0..2 {
            let (body, consts, outs) = self.trace_scan_body(l, &tys)?;
            let out_tys: Vec<TensorType> = outs.iter().map(|o| body.ty(*o).clone()).collect();
            if out_tys == tys {
                return self.finish_scan(body, consts, &inits, len, l.reverse, whole);
            }
            let mut grown = Vec::new();
            for (i, (ot, it)) in out_tys.iter().zip(&tys).enumerate() {
                let fits = ot.dtype == it.dtype
                    && broadcast_shapes(&it.shape, &ot.shape).as_deref() == Some(ot.shape.as_slice());
                if !fits || attempt == 1 {
                    let (name, init) = &l.carries[i];
                    return Err(Diagnostic::new(
                        Code::ShapeMismatch,
                        format!(
                            "the scan body returns {ot} for `{}`, which starts as {it}",
                            name.name
                        ),
                    )
                    .at(l.body.span, format!("returns {ot}"))
                    .also(init.span, format!("starts as {it}"))
                    .hint("a carry must keep its type from step to step"));
                }
                grown.push(ot.clone());
            }
            tys = grown;
        }
        unreachable!("the loop returns")
    }

    #[allow(clippy::type_complexity)]
    fn trace_scan_body(
        &mut self,
        l: &Loop,
        tys: &[TensorType],
    ) -> R<(Graph, Vec<crate::ir::NodeId>, Vec<crate::ir::NodeId>)> {
        self.levels.push(Level {
            graph: Graph::new(),
            consts: Vec::new(),
            import_map: HashMap::new(),
        });
        let lvl = self.level();
        let tnode = self.g().input("t", TensorType::scalar(DType::I32));
        let mut frame = HashMap::new();
        frame.insert(
            l.var.name.clone(),
            Value::Tensor(Tv {
                node: tnode,
                level: lvl,
                ty: TensorType::scalar(DType::I32),
            }),
        );
        for ((n, _), ty) in l.carries.iter().zip(tys) {
            let c = self.g().input(n.name.clone(), ty.clone());
            frame.insert(
                n.name.clone(),
                Value::Tensor(Tv {
                    node: c,
                    level: lvl,
                    ty: ty.clone(),
                }),
            );
        }
        self.locals.push(frame);
        let r = self.eval(&l.body);
        self.locals.pop();
        let result = r
            .and_then(|v| unpack_carries(v, l.carries.len(), l.body.span))
            .and_then(|vals| {
                let mut outs = Vec::new();
                for (v, (_, init)) in vals.into_iter().zip(&l.carries) {
                    let t = self
                        .tensor_of(v, l.body.span, None)
                        .map_err(|d| d.also(init.span, "carried value"))?;
                    outs.push(t.node);
                }
                Ok(outs)
            });
        let level = self.levels.pop().expect("pushed above");
        let outs = result?;
        let mut body = level.graph;
        for (i, o) in outs.iter().enumerate() {
            body.output(format!("c{i}"), *o);
        }
        Ok((body, level.consts, outs))
    }

    fn finish_scan(
        &mut self,
        body: Graph,
        consts: Vec<crate::ir::NodeId>,
        inits: &[Tv],
        len: usize,
        reverse: bool,
        whole: Span,
    ) -> R<Value> {
        let mut operands = Vec::new();
        for (i, init) in inits.iter().enumerate() {
            let n = self.node(init);
            let want = body.ty(body.inputs[1 + i]).shape.clone();
            let b = self.g().broadcast_to(n, &want).map_err(|e| ir_err(e, whole))?;
            operands.push(b);
        }
        operands.extend(consts);
        let k = inits.len();
        let scan = Scan {
            body,
            length: len,
            reverse,
            n_carry: k,
            stacked: vec![true; k],
        };
        let outs = self.g().scan(scan, &operands).map_err(|e| ir_err(e, whole))?;
        let mut vals: Vec<Value> = outs.into_iter().map(|o| Value::Tensor(self.tv(o))).collect();
        Ok(if vals.len() == 1 {
            vals.pop().expect("one")
        } else {
            Value::Tuple(vals)
        })
    }

    /// Enters a context for a nested function body (used by calls).
    pub(crate) fn ctx_of(&self, module: crate::check::ModuleId, alg: Option<usize>) -> Ctx {
        Ctx { module, alg }
    }
}

fn unpack_carries(v: Value, n: usize, span: Span) -> R<Vec<Value>> {
    if n == 1 {
        return Ok(vec![v]);
    }
    match v {
        Value::Tuple(items) if items.len() == n => Ok(items),
        other => Err(err(
            Code::TypeMismatch,
            format!("the loop body must return a tuple of {n} values, one per carry"),
            span,
            format!("this is {}", other.describe()),
        )),
    }
}

/// Folds an operation on compile-time constants; `None` if an operand is not a constant.
fn fold(op: BinOp, a: &Value, b: &Value) -> Option<Result<Value, String>> {
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
                    Float(x as f64 / y as f64)
                }
                BinOp::Rem => {
                    if y == 0 {
                        return Some(Err("division by zero".into()));
                    }
                    Int(x.rem_euclid(y))
                }
                BinOp::Pow => {
                    if y >= 0 {
                        Int(x.checked_pow(u32::try_from(y).ok()?)?)
                    } else {
                        Float((x as f64).powf(y as f64))
                    }
                }
                BinOp::Eq => Bool(x == y),
                BinOp::Ne => Bool(x != y),
                BinOp::Lt => Bool(x < y),
                BinOp::Le => Bool(x <= y),
                BinOp::Gt => Bool(x > y),
                BinOp::Ge => Bool(x >= y),
                BinOp::And | BinOp::Or => return Some(Err("`&&`/`||` need booleans".into())),
            }
        }
        (Int(_) | Float(_), Int(_) | Float(_)) => {
            let (x, y) = (a.as_f64()?, b.as_f64()?);
            match op {
                BinOp::Add => Float(x + y),
                BinOp::Sub => Float(x - y),
                BinOp::Mul => Float(x * y),
                BinOp::Div => Float(x / y),
                BinOp::Rem => Float(x - (x / y).floor() * y),
                BinOp::Pow => Float(x.powf(y)),
                BinOp::Eq => Bool(x == y),
                BinOp::Ne => Bool(x != y),
                BinOp::Lt => Bool(x < y),
                BinOp::Le => Bool(x <= y),
                BinOp::Gt => Bool(x > y),
                BinOp::Ge => Bool(x >= y),
                BinOp::And | BinOp::Or => return Some(Err("`&&`/`||` need booleans".into())),
            }
        }
        (Bool(x), Bool(y)) => match op {
            BinOp::And => Bool(*x && *y),
            BinOp::Or => Bool(*x || *y),
            BinOp::Eq => Bool(x == y),
            BinOp::Ne => Bool(x != y),
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
