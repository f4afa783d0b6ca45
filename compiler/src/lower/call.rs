//! Calls: functions, nets, targets, policies and methods; argument binding and type checks.

use super::args::{ArgVal, plural};
use super::tracer::{R, Tracer, err};
use super::value::{FnRef, Tv, Value};
use crate::diag::{Code, Diagnostic, Span, did_you_mean};
use crate::env_spec::ActionSpace;
use crate::ir::{DType, TensorType};
use crate::syntax::ast::{Decl, FnDecl, TypeExpr};
use std::collections::HashMap;

impl<'m> Tracer<'m, '_> {
    /// Applies a callable value.
    pub(crate) fn call(&mut self, callee: Value, cspan: Span, args: Vec<ArgVal>, whole: Span) -> R<Value> {
        match callee {
            Value::Fn(r) => self.call_fn(r, args, whole),
            Value::Net(n) => self.call_net(&n, None, args, whole),
            Value::Target(t) => {
                let net = self.target_net(&t, whole)?;
                self.call_net(&net, Some(&t), args, whole)
            }
            Value::Policy(p) => {
                let Some(Decl::Policy(decl)) = self.lw.decl(&p) else {
                    unreachable!("policy decl")
                };
                let ctx = self.ctx_of(self.lw.module, Some(self.lw.alg_index));
                self.apply_decl(&p, decl, ctx, args, whole)
            }
            Value::Builtin(b) => self.builtin(b, args, whole),
            Value::Loss(l) => self.reevaluate_loss(&l, args, whole),
            Value::Method(recv, m) => match *recv {
                Value::Dist(d) => self.dist_method(&d, &m, args, whole),
                Value::Loss(l) => self.loss_layers(&l, args, whole),
                Value::Data(d) => Err(err(
                    Code::TypeMismatch,
                    format!("`{d}.{m}(...)` can only be used as the source of a loss parameter"),
                    whole,
                    "not in a loss parameter",
                )
                .hint(format!("write `loss my_loss(b ~ {d}.{m}(...)) = ...`"))),
                other => Err(err(
                    Code::TypeMismatch,
                    format!("{} has no methods", other.describe()),
                    cspan,
                    "not callable",
                )),
            },
            other => Err(err(
                Code::TypeMismatch,
                format!("{} is not a function", other.describe()),
                cspan,
                "called here",
            )),
        }
    }

    /// The net a target copies.
    pub(crate) fn target_net(&mut self, target: &str, span: Span) -> R<String> {
        let Some(Decl::Target(t)) = self.lw.decl(target) else {
            unreachable!("target decl")
        };
        match &t.value.kind {
            crate::syntax::ast::ExprKind::Call(_, args) => match args.first().map(|a| &a.value.kind) {
                Some(crate::syntax::ast::ExprKind::Name(n)) => Ok(n.clone()),
                _ => Err(err(
                    Code::BadArgument,
                    "a target names the net it copies",
                    t.value.span,
                    "here",
                )),
            },
            _ => Err(err(
                Code::BadArgument,
                format!("target `{target}` is malformed"),
                span,
                "used here",
            )
            .also(t.value.span, "write `polyak(net, tau)` or `copy(net, every = K)`")),
        }
    }

    fn call_fn(&mut self, r: FnRef, args: Vec<ArgVal>, whole: Span) -> R<Value> {
        let m = self.lw.mods.get(r.module);
        let decl: &'m FnDecl = match r.alg {
            Some(a) => match &m.ast.algorithms[a].decls[r.index] {
                Decl::Fn(f) => f,
                _ => unreachable!("FnRef points at a fn"),
            },
            None => &m.ast.fns[r.index],
        };
        let ctx = self.ctx_of(r.module, r.alg);
        let name = decl.name.name.clone();
        self.apply_decl(&name, decl, ctx, args, whole)
    }

    /// Binds arguments and evaluates a declaration's body in its own scope.
    fn apply_decl(
        &mut self,
        name: &str,
        decl: &'m FnDecl,
        ctx: super::tracer::Ctx,
        args: Vec<ArgVal>,
        whole: Span,
    ) -> R<Value> {
        self.enter_call(name, decl.name.span, whole)?;
        let r = (|| {
            let frame = self.bind_args(name, &decl.params, decl.name.span, ctx, args, whole)?;
            let result = self.with_frame(ctx, frame, |t| t.eval(&decl.body))?;
            if let Some(rt) = &decl.ret {
                let want = self.with_frame(ctx, HashMap::new(), |t| t.resolve_type(rt))?;
                self.check_value_type(&result, &want, whole, rt.span, "result")?;
            }
            Ok(result)
        })();
        self.calls.pop();
        r.map_err(|d| called_from(d, name, whole))
    }

    /// Matches arguments to parameters: positional, then named, then defaults.
    pub(crate) fn bind_args(
        &mut self,
        name: &str,
        params: &'m [crate::syntax::ast::FnParam],
        def_span: Span,
        ctx: super::tracer::Ctx,
        args: Vec<ArgVal>,
        whole: Span,
    ) -> R<HashMap<String, Value>> {
        let mut slots: Vec<Option<(Value, Span)>> = vec![None; params.len()];
        let mut positional = 0;
        for a in args {
            let i = match &a.name {
                None => {
                    if positional >= params.len() {
                        return Err(err(
                            Code::Arity,
                            format!("`{name}` takes {} argument{}", params.len(), plural(params.len())),
                            a.span,
                            "unexpected argument",
                        )
                        .also(def_span, "defined here"));
                    }
                    positional += 1;
                    positional - 1
                }
                Some(n) => match params.iter().position(|p| p.name.name == n.name) {
                    Some(i) => i,
                    None => {
                        return Err(err(
                            Code::Arity,
                            format!("`{name}` has no parameter `{}`", n.name),
                            n.span,
                            "unknown parameter",
                        )
                        .also(def_span, "defined here")
                        .maybe_hint(did_you_mean(&n.name, params.iter().map(|p| p.name.name.as_str()))));
                    }
                },
            };
            if slots[i].is_some() {
                return Err(err(
                    Code::Arity,
                    format!("parameter `{}` of `{name}` is given twice", params[i].name.name),
                    a.span,
                    "given again",
                ));
            }
            slots[i] = Some((a.value, a.span));
        }
        let mut frame = HashMap::new();
        for (p, slot) in params.iter().zip(slots) {
            let (v, span) = match slot {
                Some(s) => s,
                None => match &p.default {
                    Some(d) => {
                        let f = frame.clone();
                        (self.with_frame(ctx, f, |t| t.eval(d))?, d.span)
                    }
                    None => {
                        let missing: Vec<&str> = params
                            .iter()
                            .filter(|q| q.default.is_none())
                            .map(|q| q.name.name.as_str())
                            .collect();
                        return Err(err(
                            Code::Arity,
                            format!("`{name}` is missing argument `{}`", p.name.name),
                            whole,
                            format!("expects ({})", missing.join(", ")),
                        )
                        .also(def_span, "defined here"));
                    }
                },
            };
            if let Some(te) = &p.ty {
                let f = frame.clone();
                let want = self.with_frame(ctx, f, |t| t.resolve_type(te))?;
                self.check_value_type(&v, &want, span, te.span, &format!("argument `{}`", p.name.name))?;
            }
            frame.insert(p.name.name.clone(), v);
        }
        Ok(frame)
    }

    /// A value fits a declared per-item type if it is a tensor whose trailing axes are the
    /// type's shape (leading axes are batch axes) with the same element type.
    pub(crate) fn check_value_type(
        &mut self,
        v: &Value,
        want: &TensorType,
        span: Span,
        decl_span: Span,
        what: &str,
    ) -> R<()> {
        let ty = match v {
            Value::Tensor(t) => t.ty.clone(),
            Value::Int(_) | Value::Float(_) if want.shape.is_empty() && want.dtype != DType::Bool => {
                return Ok(());
            }
            Value::Bool(_) if want.shape.is_empty() && want.dtype == DType::Bool => return Ok(()),
            Value::List(_) => {
                let t = self.tensor_of(v.clone(), span, Some(want.dtype))?;
                t.ty
            }
            other => {
                return Err(err(
                    Code::TypeMismatch,
                    format!("{what} must be a tensor {want}, found {}", other.describe()),
                    span,
                    format!("this is {}", other.describe()),
                )
                .also(decl_span, "declared here"));
            }
        };
        let r = want.rank();
        let fits = ty.dtype == want.dtype && ty.rank() >= r && ty.shape[ty.rank() - r..] == want.shape[..];
        if !fits {
            let code = if ty.dtype != want.dtype {
                Code::TypeMismatch
            } else {
                Code::ShapeMismatch
            };
            return Err(err(
                code,
                format!("{what} must end in {want}, found {}", ty),
                span,
                format!("this is {ty}"),
            )
            .also(decl_span, format!("declared as {want}"))
            .note("leading axes are batch axes; the declared type is the shape of one item"));
        }
        Ok(())
    }

    /// The per-item type a type expression denotes.
    pub(crate) fn resolve_type(&mut self, t: &TypeExpr) -> R<TensorType> {
        let mut shape = Vec::new();
        if let Some(dims) = &t.shape {
            for d in dims {
                let n = self.const_int(d)?;
                if n < 0 {
                    return Err(err(
                        Code::BadArgument,
                        "sizes cannot be negative",
                        d.span,
                        "negative",
                    ));
                }
                shape.push(n as usize);
            }
        }
        let Some(base) = &t.base else {
            return Ok(TensorType::f32(shape));
        };
        let env = self.lw.env.clone();
        let alias = |ty: TensorType| -> R<TensorType> {
            if t.shape.is_some() {
                return Err(err(
                    Code::BadArgument,
                    format!("`{}` already has a shape", base.name),
                    t.span,
                    "remove the brackets",
                ));
            }
            Ok(ty)
        };
        match base.name.as_str() {
            "f32" => Ok(TensorType::new(DType::F32, shape)),
            "i32" => Ok(TensorType::new(DType::I32, shape)),
            "bool" => Ok(TensorType::new(DType::Bool, shape)),
            "obs" => alias(TensorType::f32(vec![env.obs_dim])),
            "act" => alias(match env.action {
                ActionSpace::Discrete { .. } => TensorType::scalar(DType::I32),
                ActionSpace::Continuous { dim, .. } => TensorType::f32(vec![dim]),
            }),
            other => Err(err(
                Code::UnknownName,
                format!("unknown type `{other}`"),
                base.span,
                "not a type",
            )
            .maybe_hint(did_you_mean(other, ["f32", "i32", "bool", "obs", "act"]))),
        }
    }

    /// Applies a net (or, with `target`, the target's copy of its parameters).
    pub(crate) fn call_net(
        &mut self,
        net: &str,
        target: Option<&str>,
        args: Vec<ArgVal>,
        whole: Span,
    ) -> R<Value> {
        let Some(Decl::Net(decl)) = self.lw.decl(net) else {
            return Err(err(
                Code::TypeMismatch,
                format!("`{net}` is not a net"),
                whole,
                "called here",
            ));
        };
        // A target reads copies of its own net's parameters; the copies of nets it calls do
        // not exist, so nets called inside a target are rejected.
        if self.nets.last().is_some_and(|outer| outer.target.is_some()) {
            return Err(err(
                Code::BadArgument,
                "a target's net cannot call another net",
                whole,
                "net called from a target",
            )
            .note("give the inner net its own target, or fold it into this net"));
        }
        for p in &decl.params {
            if p.ty.is_none() {
                return Err(err(
                    Code::Missing,
                    format!("parameter `{}` of net `{net}` needs a type", p.name.name),
                    p.name.span,
                    "add e.g. `: obs` or `: [4]`",
                )
                .note("a net's parameter shapes are fixed by the per-item types of its inputs"));
            }
        }
        let ctx = self.ctx_of(self.lw.module, Some(self.lw.alg_index));
        self.enter_call(net, decl.name.span, whole)?;
        let r = (|| {
            let frame = self.bind_args(net, &decl.params, decl.name.span, ctx, args, whole)?;
            // All inputs must share their batch axes.
            let mut batch: Option<(Vec<usize>, &str)> = None;
            for p in &decl.params {
                let want = self.with_frame(ctx, HashMap::new(), |t| {
                    t.resolve_type(p.ty.as_ref().expect("checked above"))
                })?;
                if let Some(Value::Tensor(tv)) = frame.get(&p.name.name) {
                    let lead = tv.ty.shape[..tv.ty.rank() - want.rank()].to_vec();
                    match &batch {
                        None => batch = Some((lead, p.name.name.as_str())),
                        Some((b, other)) if *b != lead => {
                            return Err(err(
                                Code::ShapeMismatch,
                                format!(
                                    "inputs of net `{net}` have different batch shapes: `{other}` has {:?}, `{}` has {:?}",
                                    b, p.name.name, lead
                                ),
                                whole,
                                "in this call",
                            )
                            .also(decl.name.span, "net defined here"));
                        }
                        _ => {}
                    }
                }
            }
            self.nets.push(super::tracer::NetFrame {
                net: net.to_string(),
                target: target.map(String::from),
                layers: 0,
                call_span: whole,
            });
            let out = self.with_frame(ctx, frame, |t| t.eval(&decl.body));
            self.nets.pop();
            out
        })();
        self.calls.pop();
        r.map_err(|d| called_from(d, net, whole))
    }

    /// Converts the argument at `i` (or named `name`) to a tensor.
    pub(crate) fn arg_tensor(&mut self, a: &ArgVal, hint: Option<DType>) -> R<Tv> {
        self.tensor_of(a.value.clone(), a.span, hint)
    }
}

/// Adds the call site to an error raised inside a called function, so the user sees how
/// their code reached it (a few levels at most).
pub(crate) fn called_from(mut d: Diagnostic, name: &str, call: Span) -> Diagnostic {
    let inside = d
        .primary
        .as_ref()
        .is_some_and(|p| p.span.file == call.file && p.span.start >= call.start && p.span.end <= call.end);
    if !inside && d.secondary.len() < 4 && !d.secondary.iter().any(|l| l.span == call) {
        d = d.also(call, format!("in this call of `{name}`"));
    }
    d
}
