//! Distributions: construction, reparameterised sampling, log-probabilities, entropies and
//! KL divergences, all composed from primitives. Events are the last axis.

use super::call::{ArgVal, Args};
use super::tracer::{R, Tracer, err, ir_err};
use super::value::{Dist, Tv, Value};
use crate::diag::{Code, Span};
use crate::ir::{BinaryOp, DType, RandomDist, UnaryOp};
use std::rc::Rc;

const LN_2PI: f64 = 1.837_877_066_409_345_3;

impl Tracer<'_, '_> {
    pub(crate) fn make_dist(&mut self, name: &'static str, args: Vec<ArgVal>, whole: Span) -> R<Value> {
        let d = match name {
            "categorical" => {
                let a = Args::bind(name, &["logits"], args, whole)?;
                let logits = self.float_arg(a.req(0)?)?;
                if logits.ty.rank() == 0 {
                    return Err(err(
                        Code::ShapeMismatch,
                        "categorical logits need an axis of choices",
                        a.req(0)?.span,
                        format!("this is {}", logits.ty),
                    ));
                }
                Dist::Categorical { logits }
            }
            _ => {
                let a = Args::bind(name, &["mean", "std"], args, whole)?;
                let (m, s) = (a.req(0)?, a.req(1)?);
                let mean = self.float_arg(m)?;
                let std = self.float_arg(s)?;
                let shape = self.check_broadcast(&mean.ty.shape, m.span, &std.ty.shape, s.span, name)?;
                let mb = self
                    .g()
                    .broadcast_to(mean.node, &shape)
                    .map_err(|e| ir_err(e, whole))?;
                let sb = self
                    .g()
                    .broadcast_to(std.node, &shape)
                    .map_err(|e| ir_err(e, whole))?;
                let (mean, std) = (self.tv(mb), self.tv(sb));
                if name == "normal" {
                    Dist::Normal { mean, std }
                } else {
                    Dist::TanhNormal { mean, std }
                }
            }
        };
        Ok(Value::Dist(Rc::new(d)))
    }

    /// Applies `f` to every parameter tensor of a distribution.
    pub(crate) fn map_dist(
        &mut self,
        d: &Dist,
        _span: Span,
        mut f: impl FnMut(&mut Self, &Tv) -> R<Tv>,
    ) -> R<Dist> {
        Ok(match d {
            Dist::Normal { mean, std } => Dist::Normal {
                mean: f(self, mean)?,
                std: f(self, std)?,
            },
            Dist::TanhNormal { mean, std } => Dist::TanhNormal {
                mean: f(self, mean)?,
                std: f(self, std)?,
            },
            Dist::Categorical { logits } => Dist::Categorical {
                logits: f(self, logits)?,
            },
        })
    }

    /// A distribution's tensors in the current level.
    fn here(&mut self, t: &Tv) -> Tv {
        let n = self.node(t);
        self.tv(n)
    }

    pub(crate) fn dist_property(&mut self, d: &Dist, name: &str, span: Span) -> R<Value> {
        let v = match (d, name) {
            (Dist::Normal { mean, .. }, "mean" | "mode") => self.here(mean),
            (Dist::TanhNormal { mean, .. }, "mean" | "mode") => {
                let m = self.here(mean);
                self.u(UnaryOp::Tanh, &m, span)?
            }
            (Dist::Normal { std, .. } | Dist::TanhNormal { std, .. }, "std") => self.here(std),
            (Dist::Categorical { logits }, "logits") => self.here(logits),
            (Dist::Categorical { logits }, "mode") => {
                let l = self.here(logits);
                let r = l.ty.rank();
                self.argext(&l, r - 1, true, span)?
            }
            (Dist::Categorical { logits }, "probs" | "log_probs") => {
                let l = self.here(logits);
                let ls = self.log_softmax(&l, span)?;
                if name == "probs" {
                    self.u(UnaryOp::Exp, &ls, span)?
                } else {
                    ls
                }
            }
            _ => {
                return Err(err(
                    Code::UnknownField,
                    format!("a {} distribution has no `{name}`", d.name()),
                    span,
                    "not defined for this distribution",
                ));
            }
        };
        Ok(Value::Tensor(v))
    }

    fn log_softmax(&mut self, l: &Tv, span: Span) -> R<Tv> {
        let ax = l.ty.rank() - 1;
        let lse = self.logsumexp(l, ax, span)?;
        let lk = self.keepdim(&lse, ax, span)?;
        self.b(BinaryOp::Sub, l, &lk, span)
    }

    pub(crate) fn dist_method(&mut self, d: &Rc<Dist>, m: &str, args: Vec<ArgVal>, whole: Span) -> R<Value> {
        match m {
            "sample" => {
                Args::bind("sample", &[], args, whole)?;
                self.sample_dist(d, whole)
            }
            "log_prob" => {
                let a = Args::bind("log_prob", &["x"], args, whole)?;
                let x = a.req(0)?;
                self.log_prob(d, x, whole).map(Value::Tensor)
            }
            "entropy" => {
                Args::bind("entropy", &[], args, whole)?;
                self.entropy(d, whole).map(Value::Tensor)
            }
            _ => unreachable!("checked by field()"),
        }
    }

    /// `x ~ d` and `sample(d)`.
    pub(crate) fn sample_value(&mut self, v: Value, span: Span) -> R<Value> {
        match v {
            Value::Dist(d) => self.sample_dist(&d, span),
            other => Err(err(
                Code::TypeMismatch,
                format!("only distributions can be sampled, found {}", other.describe()),
                span,
                "not a distribution",
            )
            .hint("`let x ~ normal(mean, std)` samples; use `=` to bind a plain value")),
        }
    }

    fn sample_dist(&mut self, d: &Dist, span: Span) -> R<Value> {
        let t = match d {
            Dist::Normal { mean, std } | Dist::TanhNormal { mean, std } => {
                let (m, s) = (self.here(mean), self.here(std));
                let eps = self.random(RandomDist::Normal, m.ty.shape.clone(), span)?;
                let se = self.b(BinaryOp::Mul, &s, &eps, span)?;
                let u = self.b(BinaryOp::Add, &m, &se, span)?;
                if matches!(d, Dist::TanhNormal { .. }) {
                    let a = self.u(UnaryOp::Tanh, &u, span)?;
                    self.pre_tanh.insert((a.level, a.node), u);
                    a
                } else {
                    u
                }
            }
            Dist::Categorical { logits } => {
                // Gumbel-max: argmax(logits - log(-log(U))).
                let l = self.here(logits);
                let u = self.random(RandomDist::Uniform, l.ty.shape.clone(), span)?;
                let tiny = self.fill(1e-7, u.ty.clone());
                let u = self.b(BinaryOp::Max, &u, &tiny, span)?;
                let lu = self.u(UnaryOp::Log, &u, span)?;
                let nlu = self.u(UnaryOp::Neg, &lu, span)?;
                let llu = self.u(UnaryOp::Log, &nlu, span)?;
                let pert = self.b(BinaryOp::Sub, &l, &llu, span)?;
                let r = l.ty.rank();
                self.argext(&pert, r - 1, true, span)?
            }
        };
        Ok(Value::Tensor(t))
    }

    fn normal_log_density(&mut self, x: &Tv, m: &Tv, s: &Tv, span: Span) -> R<Tv> {
        // -(x-m)^2 / (2 s^2) - log s - log(2 pi)/2, summed over the last axis.
        let d = self.b(BinaryOp::Sub, x, m, span)?;
        let z = self.b(BinaryOp::Div, &d, s, span)?;
        let z2 = self.b(BinaryOp::Mul, &z, &z, span)?;
        let half = self.fill(-0.5, z2.ty.clone());
        let q = self.b(BinaryOp::Mul, &half, &z2, span)?;
        let ls = self.u(UnaryOp::Log, s, span)?;
        let ls = self
            .g()
            .broadcast_to(ls.node, &q.ty.shape)
            .map_err(|e| ir_err(e, span))?;
        let ls = self.tv(ls);
        let c = self.fill(0.5 * LN_2PI, q.ty.clone());
        let a = self.b(BinaryOp::Sub, &q, &ls, span)?;
        let lp = self.b(BinaryOp::Sub, &a, &c, span)?;
        self.sum_event(&lp, span)
    }

    fn sum_event(&mut self, x: &Tv, span: Span) -> R<Tv> {
        if x.ty.rank() == 0 {
            return Ok(x.clone());
        }
        self.sum_axes(x, &[x.ty.rank() - 1], span)
    }

    fn log_prob(&mut self, d: &Dist, xa: &ArgVal, span: Span) -> R<Tv> {
        match d {
            Dist::Normal { mean, std } | Dist::TanhNormal { mean, std } => {
                let x = self.float_arg(xa)?;
                let (m, s) = (self.here(mean), self.here(std));
                self.check_broadcast(&x.ty.shape, xa.span, &m.ty.shape, span, "log_prob")?;
                if x.ty.shape != m.ty.shape {
                    return Err(err(
                        Code::ShapeMismatch,
                        format!("log_prob of a value {} under a distribution over {}", x.ty, m.ty),
                        xa.span,
                        format!("this is {}", x.ty),
                    ));
                }
                if matches!(d, Dist::Normal { .. }) {
                    return self.normal_log_density(&x, &m, &s, span);
                }
                // Tanh-normal: density of u = atanh(x) minus log|d tanh/du|.
                let u = match self.pre_tanh.get(&(x.level, x.node)) {
                    Some(u) => {
                        let u = u.clone();
                        self.here(&u)
                    }
                    None => {
                        let lim = self.fill(1.0 - 1e-6, x.ty.clone());
                        let nlim = self.fill(-(1.0 - 1e-6), x.ty.clone());
                        let c = self.b(BinaryOp::Min, &x, &lim, span)?;
                        let c = self.b(BinaryOp::Max, &c, &nlim, span)?;
                        let one = self.fill(1.0, x.ty.clone());
                        let num = self.b(BinaryOp::Add, &one, &c, span)?;
                        let den = self.b(BinaryOp::Sub, &one, &c, span)?;
                        let q = self.b(BinaryOp::Div, &num, &den, span)?;
                        let l = self.u(UnaryOp::Log, &q, span)?;
                        let half = self.fill(0.5, x.ty.clone());
                        self.b(BinaryOp::Mul, &half, &l, span)?
                    }
                };
                let base = self.normal_log_density(&u, &m, &s, span)?;
                // log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)), stable for large |u|.
                let m2 = self.fill(-2.0, u.ty.clone());
                let n2u = self.b(BinaryOp::Mul, &m2, &u, span)?;
                let sp = self.softplus(&n2u, span)?;
                let ln2 = self.fill(std::f64::consts::LN_2, u.ty.clone());
                let a = self.b(BinaryOp::Sub, &ln2, &u, span)?;
                let a = self.b(BinaryOp::Sub, &a, &sp, span)?;
                let two = self.fill(2.0, u.ty.clone());
                let corr = self.b(BinaryOp::Mul, &two, &a, span)?;
                let corr = self.sum_event(&corr, span)?;
                self.b(BinaryOp::Sub, &base, &corr, span)
            }
            Dist::Categorical { logits } => {
                let x = self.arg_tensor(xa, Some(DType::I32))?;
                let l = self.here(logits);
                let ls = self.log_softmax(&l, span)?;
                self.pick(&ls, span, &x, xa.span, span)
            }
        }
    }

    fn entropy(&mut self, d: &Dist, span: Span) -> R<Tv> {
        match d {
            Dist::Normal { std, .. } => {
                let s = self.here(std);
                let ls = self.u(UnaryOp::Log, &s, span)?;
                let c = self.fill(0.5 + 0.5 * LN_2PI, ls.ty.clone());
                let h = self.b(BinaryOp::Add, &ls, &c, span)?;
                self.sum_event(&h, span)
            }
            Dist::TanhNormal { .. } => Err(err(
                Code::BadArgument,
                "a tanh-normal distribution has no closed-form entropy",
                span,
                "entropy of tanh_normal",
            )
            .hint("estimate it with `-d.log_prob(a)` for a sample `a ~ d`")),
            Dist::Categorical { logits } => {
                let l = self.here(logits);
                let ls = self.log_softmax(&l, span)?;
                let p = self.u(UnaryOp::Exp, &ls, span)?;
                let pl = self.b(BinaryOp::Mul, &p, &ls, span)?;
                let s = self.sum_event(&pl, span)?;
                self.u(UnaryOp::Neg, &s, span)
            }
        }
    }

    /// `kl(p, q)` for two distributions of the same kind.
    pub(crate) fn kl(&mut self, pa: &ArgVal, qa: &ArgVal, span: Span) -> R<Value> {
        let (p, q) = match (&pa.value, &qa.value) {
            (Value::Dist(p), Value::Dist(q)) => (p.clone(), q.clone()),
            (a, b) => {
                let (bad, s) = if matches!(a, Value::Dist(_)) {
                    (b, qa.span)
                } else {
                    (a, pa.span)
                };
                return Err(err(
                    Code::TypeMismatch,
                    format!("`kl` compares two distributions, found {}", bad.describe()),
                    s,
                    "not a distribution",
                ));
            }
        };
        let t = match (&*p, &*q) {
            (Dist::Normal { mean: mp, std: sp }, Dist::Normal { mean: mq, std: sq }) => {
                let (mp, sp, mq, sq) = (self.here(mp), self.here(sp), self.here(mq), self.here(sq));
                self.check_broadcast(&mp.ty.shape, pa.span, &mq.ty.shape, qa.span, "kl")?;
                let lr = self.b(BinaryOp::Div, &sq, &sp, span)?;
                let lr = self.u(UnaryOp::Log, &lr, span)?;
                let sp2 = self.b(BinaryOp::Mul, &sp, &sp, span)?;
                let dm = self.b(BinaryOp::Sub, &mp, &mq, span)?;
                let dm2 = self.b(BinaryOp::Mul, &dm, &dm, span)?;
                let num = self.b(BinaryOp::Add, &sp2, &dm2, span)?;
                let sq2 = self.b(BinaryOp::Mul, &sq, &sq, span)?;
                let two = self.fill(2.0, sq2.ty.clone());
                let den = self.b(BinaryOp::Mul, &two, &sq2, span)?;
                let frac = self.b(BinaryOp::Div, &num, &den, span)?;
                let s = self.b(BinaryOp::Add, &lr, &frac, span)?;
                let half = self.fill(0.5, s.ty.clone());
                let k = self.b(BinaryOp::Sub, &s, &half, span)?;
                self.sum_event(&k, span)?
            }
            (Dist::Categorical { logits: lp }, Dist::Categorical { logits: lq }) => {
                let (lp, lq) = (self.here(lp), self.here(lq));
                if lp.ty.shape != lq.ty.shape {
                    return Err(err(
                        Code::ShapeMismatch,
                        format!("kl of categoricals over {} and {}", lp.ty, lq.ty),
                        pa.span,
                        format!("this has logits {}", lp.ty),
                    )
                    .also(qa.span, format!("this has logits {}", lq.ty)));
                }
                let a = self.log_softmax(&lp, span)?;
                let b = self.log_softmax(&lq, span)?;
                let p = self.u(UnaryOp::Exp, &a, span)?;
                let d = self.b(BinaryOp::Sub, &a, &b, span)?;
                let pd = self.b(BinaryOp::Mul, &p, &d, span)?;
                self.sum_event(&pd, span)?
            }
            _ => {
                return Err(err(
                    Code::TypeMismatch,
                    format!(
                        "`kl` between a {} and a {} distribution is not available",
                        p.name(),
                        q.name()
                    ),
                    span,
                    "different kinds",
                ));
            }
        };
        Ok(Value::Tensor(t))
    }
}
