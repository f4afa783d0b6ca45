//! Optimisers as IR: SGD (momentum), Adam, RMSProp and global-norm gradient clipping. Each
//! step reads the parameter, its gradient and its optimiser state, and returns new values to
//! assign, so the whole training step stays one graph.

use super::args::Args;
use super::tracer::{R, Tracer, err};
use super::value::{Tv, Value};
use crate::builtins::{Builtin, Declaration, Form};
use crate::diag::{Code, Diagnostic, Span, did_you_mean};
use crate::ir::{BinaryOp, DType, Init, StateId, StateKind, StateVar, TensorType, UnaryOp};
use crate::syntax::ast::{Expr, ExprKind};

/// Which optimiser.
#[derive(Clone, Debug, PartialEq)]
pub enum OptKind {
    /// `p -= lr * v`, `v = momentum * v + g` (PyTorch's convention).
    Sgd {
        /// Momentum coefficient (0 disables the buffer).
        momentum: f64,
    },
    /// Adam with bias correction (Kingma & Ba, 2015).
    Adam {
        /// First-moment decay.
        b1: f64,
        /// Second-moment decay.
        b2: f64,
        /// Denominator epsilon.
        eps: f64,
    },
    /// RMSProp (PyTorch's convention: eps outside the square root).
    RmsProp {
        /// Decay of the squared-gradient average.
        alpha: f64,
        /// Denominator epsilon.
        eps: f64,
    },
}

/// A parsed `update ... by OPT(...)`.
#[derive(Clone, Debug, PartialEq)]
pub struct OptSpec {
    /// The algorithm.
    pub kind: OptKind,
    /// Learning rate (a constant).
    pub lr: f64,
    /// A learning-rate schedule: a scalar f32 tensor computed each step (e.g. decaying with
    /// `step_count()`); used instead of `lr` when present.
    pub lr_tensor: Option<Tv>,
    /// Global-norm clipping threshold, if any.
    pub clip_norm: Option<f64>,
}

/// One parameter to update.
pub(crate) struct ParamGrad {
    pub id: StateId,
    pub param: Tv,
    pub grad: Tv,
}

impl Tracer<'_, '_> {
    /// Reads `adam(lr = 1e-3, ...)` and friends; every argument must be a constant.
    pub(crate) fn parse_optimiser(&mut self, e: &Expr) -> R<OptSpec> {
        let (name, args, nspan) = match &e.kind {
            ExprKind::Call(f, args) => match &f.kind {
                ExprKind::Name(n) => (n.as_str(), args.as_slice(), f.span),
                _ => {
                    return Err(err(
                        Code::BadArgument,
                        "expected an optimiser such as `adam(lr = 1e-3)`",
                        e.span,
                        "here",
                    ));
                }
            },
            ExprKind::Name(n) => (n.as_str(), &[][..], e.span),
            _ => {
                return Err(err(
                    Code::BadArgument,
                    "expected an optimiser such as `adam(lr = 1e-3)`",
                    e.span,
                    "here",
                ));
            }
        };
        let opt = match Builtin::from_name(name) {
            Some(b) if b.form() == Form::Declaration(Declaration::Optimiser) => b,
            _ => {
                return Err(err(
                    Code::UnknownName,
                    format!("unknown optimiser `{name}`"),
                    nspan,
                    "not an optimiser",
                )
                .maybe_hint(did_you_mean(
                    name,
                    Builtin::names_of(Form::Declaration(Declaration::Optimiser)),
                )));
            }
        };
        let name = opt.name();
        let params = opt.params();
        let bound = Args::bind(name, params, args.iter().collect(), e.span)?;
        let mut vals: Vec<Option<(f64, Span)>> = vec![None; params.len()];
        let mut lr_tensor = None;
        for (slot, a) in bound.vals.iter().enumerate() {
            let Some(a) = a else { continue };
            let v = match self.eval(&a.value)? {
                Value::Int(i) => i as f64,
                Value::Float(f) => f,
                Value::Tensor(t) if slot == 0 && t.ty == TensorType::f32(vec![]) => {
                    lr_tensor = Some(t);
                    vals[0] = Some((1.0, a.value.span));
                    continue;
                }
                other => {
                    return Err(err(
                        Code::NotConstant,
                        format!(
                            "optimiser settings are constants; `{}` is {}",
                            params[slot],
                            other.describe()
                        ),
                        a.value.span,
                        "not a constant",
                    ));
                }
            };
            if !v.is_finite() || v < 0.0 {
                return Err(err(
                    Code::BadArgument,
                    format!("`{}` must be a non-negative number", params[slot]),
                    a.value.span,
                    "invalid",
                ));
            }
            vals[slot] = Some((v, a.value.span));
        }
        let get =
            |n: &str, d: f64| vals[params.iter().position(|p| *p == n).expect("listed")].map_or(d, |v| v.0);
        let lr = match vals[0] {
            Some((v, _)) => v,
            None => {
                return Err(err(
                    Code::Arity,
                    format!("`{name}` needs a learning rate"),
                    e.span,
                    "add `lr = ...`",
                ));
            }
        };
        for (n, hi) in [("b1", 1.0), ("b2", 1.0), ("alpha", 1.0), ("momentum", 1.0)] {
            if let Some(i) = params.iter().position(|p| *p == n)
                && let Some((v, s)) = vals[i]
                && v >= hi
            {
                return Err(err(
                    Code::BadArgument,
                    format!("`{n}` must be below {hi}"),
                    s,
                    "too large",
                ));
            }
        }
        let clip_norm = params
            .iter()
            .position(|p| *p == "clip_norm")
            .and_then(|i| vals[i])
            .map(|v| v.0);
        let kind = match opt {
            Builtin::Sgd => OptKind::Sgd {
                momentum: get("momentum", 0.0),
            },
            Builtin::Adam => OptKind::Adam {
                b1: get("b1", 0.9),
                b2: get("b2", 0.999),
                eps: get("eps", 1e-8),
            },
            Builtin::Rmsprop => OptKind::RmsProp {
                alpha: get("alpha", 0.99),
                eps: get("eps", 1e-8),
            },
            other => {
                return Err(
                    Diagnostic::internal(format!("`{}` is not an optimiser", other.name())).at(nspan, "here"),
                );
            }
        };
        Ok(OptSpec {
            kind,
            lr,
            lr_tensor,
            clip_norm,
        })
    }

    /// The learning rate of this step: the schedule's value or the constant.
    fn lr(&mut self, spec: &OptSpec) -> Tv {
        match &spec.lr_tensor {
            Some(t) => {
                let n = self.node(t);
                self.tv(n)
            }
            None => self.fill(spec.lr, TensorType::f32(vec![])),
        }
    }

    /// A zero-initialised optimiser buffer for a parameter.
    fn opt_state(&mut self, of: StateId, slot: &str) -> StateId {
        let p = self.lw.states.get(of).clone();
        let name = format!("{}/{slot}", p.name);
        match self.lw.states.find(&name) {
            Some(id) => id,
            None => self.lw.states.add(StateVar {
                name,
                ty: p.ty.clone(),
                kind: StateKind::Optimiser {
                    of,
                    slot: slot.to_string(),
                },
                init: Init::Zeros,
            }),
        }
    }

    /// A scalar counter state.
    pub(crate) fn counter(&mut self, name: &str, dtype: DType) -> StateId {
        match self.lw.states.find(name) {
            Some(id) => id,
            None => self.lw.states.add(StateVar {
                name: name.to_string(),
                ty: TensorType::scalar(dtype),
                kind: StateKind::Counter,
                init: Init::Zeros,
            }),
        }
    }

    /// One optimiser step for `params`; returns `(state, new value)` pairs to assign.
    pub(crate) fn optimiser_step(
        &mut self,
        spec: &OptSpec,
        params: &[ParamGrad],
        prefix: &str,
        span: Span,
    ) -> R<Vec<(StateId, Tv)>> {
        let mut grads: Vec<Tv> = params.iter().map(|p| p.grad.clone()).collect();
        if let Some(c) = spec.clip_norm {
            // Global norm over this update's gradients: scale = min(1, c / (norm + 1e-6)).
            let mut total: Option<Tv> = None;
            for g in &grads {
                let sq = self.gb(span).binary(BinaryOp::Mul, g, g)?;
                let axes: Vec<usize> = (0..sq.ty.rank()).collect();
                let s = self.gb(span).sum(&sq, &axes)?;
                total = Some(match total {
                    Some(t) => self.gb(span).binary(BinaryOp::Add, &t, &s)?,
                    None => s,
                });
            }
            if let Some(t) = total {
                let norm = self.gb(span).unary(UnaryOp::Sqrt, &t)?;
                let e = self.fill(1e-6, norm.ty.clone());
                let den = self.gb(span).binary(BinaryOp::Add, &norm, &e)?;
                let cn = self.fill(c, norm.ty.clone());
                let ratio = self.gb(span).binary(BinaryOp::Div, &cn, &den)?;
                let one = self.fill(1.0, norm.ty.clone());
                let scale = self.gb(span).min(&ratio, &one)?;
                for g in &mut grads {
                    *g = self.gb(span).binary(BinaryOp::Mul, g, &scale)?;
                }
            }
        }
        let mut out = Vec::new();
        let scalar = |t: &mut Self, v: f64| t.fill(v, TensorType::f32(vec![]));
        match spec.kind {
            OptKind::Sgd { momentum } => {
                for (p, g) in params.iter().zip(&grads) {
                    let step = if momentum > 0.0 {
                        let buf = self.opt_state(p.id, "momentum");
                        let v = self.state(buf);
                        let mu = scalar(self, momentum);
                        let mv = self.gb(span).binary(BinaryOp::Mul, &mu, &v)?;
                        let nv = self.gb(span).binary(BinaryOp::Add, &mv, g)?;
                        out.push((buf, nv.clone()));
                        nv
                    } else {
                        g.clone()
                    };
                    let lr = self.lr(spec);
                    let d = self.gb(span).binary(BinaryOp::Mul, &lr, &step)?;
                    let np = self.gb(span).sub(&p.param, &d)?;
                    out.push((p.id, np));
                }
            }
            OptKind::Adam { b1, b2, eps } => {
                let tid = self.counter(&format!("{prefix}/adam_t"), DType::F32);
                let t_old = self.state(tid);
                let one = scalar(self, 1.0);
                let t = self.gb(span).binary(BinaryOp::Add, &t_old, &one)?;
                out.push((tid, t.clone()));
                // Bias corrections 1 - b^t, with b^t = exp(t ln b).
                let corr = |tr: &mut Self, b: f64| -> R<Tv> {
                    let lb = tr.fill(
                        crate::interp::eval_unary(UnaryOp::Log, b),
                        TensorType::f32(vec![]),
                    );
                    let x = tr.gb(span).binary(BinaryOp::Mul, &t, &lb)?;
                    let p = tr.gb(span).unary(UnaryOp::Exp, &x)?;
                    let one = tr.fill(1.0, TensorType::f32(vec![]));
                    tr.gb(span).sub(&one, &p)
                };
                let c1 = corr(self, b1)?;
                let c2 = corr(self, b2)?;
                // Step size lr * sqrt(c2) / c1 and eps * sqrt(c2), as in the paper's efficient form.
                let lr = self.lr(spec);
                let sc2 = self.gb(span).unary(UnaryOp::Sqrt, &c2)?;
                let num = self.gb(span).binary(BinaryOp::Mul, &lr, &sc2)?;
                let alpha = self.gb(span).binary(BinaryOp::Div, &num, &c1)?;
                let eps_t = scalar(self, eps);
                let eps_hat = self.gb(span).binary(BinaryOp::Mul, &eps_t, &sc2)?;
                for (p, g) in params.iter().zip(&grads) {
                    let mid = self.opt_state(p.id, "adam_m");
                    let vid = self.opt_state(p.id, "adam_v");
                    let m = self.state(mid);
                    let v = self.state(vid);
                    let b1t = scalar(self, b1);
                    let b1c = scalar(self, 1.0 - b1);
                    let b2t = scalar(self, b2);
                    let b2c = scalar(self, 1.0 - b2);
                    let m1 = self.gb(span).binary(BinaryOp::Mul, &b1t, &m)?;
                    let g1 = self.gb(span).binary(BinaryOp::Mul, &b1c, g)?;
                    let nm = self.gb(span).binary(BinaryOp::Add, &m1, &g1)?;
                    let gg = self.gb(span).binary(BinaryOp::Mul, g, g)?;
                    let v1 = self.gb(span).binary(BinaryOp::Mul, &b2t, &v)?;
                    let g2 = self.gb(span).binary(BinaryOp::Mul, &b2c, &gg)?;
                    let nv = self.gb(span).binary(BinaryOp::Add, &v1, &g2)?;
                    let sv = self.gb(span).unary(UnaryOp::Sqrt, &nv)?;
                    let den = self.gb(span).binary(BinaryOp::Add, &sv, &eps_hat)?;
                    let q = self.gb(span).binary(BinaryOp::Div, &nm, &den)?;
                    let d = self.gb(span).binary(BinaryOp::Mul, &alpha, &q)?;
                    let np = self.gb(span).sub(&p.param, &d)?;
                    out.push((mid, nm));
                    out.push((vid, nv));
                    out.push((p.id, np));
                }
            }
            OptKind::RmsProp { alpha, eps } => {
                for (p, g) in params.iter().zip(&grads) {
                    let sid = self.opt_state(p.id, "rms_sq");
                    let s = self.state(sid);
                    let a = scalar(self, alpha);
                    let ac = scalar(self, 1.0 - alpha);
                    let s1 = self.gb(span).binary(BinaryOp::Mul, &a, &s)?;
                    let gg = self.gb(span).binary(BinaryOp::Mul, g, g)?;
                    let g2 = self.gb(span).binary(BinaryOp::Mul, &ac, &gg)?;
                    let ns = self.gb(span).binary(BinaryOp::Add, &s1, &g2)?;
                    let ss = self.gb(span).unary(UnaryOp::Sqrt, &ns)?;
                    let e = scalar(self, eps);
                    let den = self.gb(span).binary(BinaryOp::Add, &ss, &e)?;
                    let q = self.gb(span).binary(BinaryOp::Div, g, &den)?;
                    let lr = self.lr(spec);
                    let d = self.gb(span).binary(BinaryOp::Mul, &lr, &q)?;
                    let np = self.gb(span).sub(&p.param, &d)?;
                    out.push((sid, ns));
                    out.push((p.id, np));
                }
            }
        }
        Ok(out)
    }
}
