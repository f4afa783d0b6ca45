//! Distributions: construction, reparameterised sampling, log-probabilities, entropies and
//! KL divergences, all composed from primitives. Events are the last axis.

use super::args::{ArgVal, Args};
use super::tracer::{R, Tracer, err};
use super::value::{Dist, Tv, Value};
use crate::builtins::Builtin;
use crate::diag::{Code, Span};
use crate::ir::{BinaryOp, DType, RandomDist, UnaryOp};
use std::rc::Rc;

const LN_2PI: f64 = 1.837_877_066_409_345_3;

impl Tracer<'_, '_> {
    /// `categorical(logits)`: choices along the last axis.
    pub(crate) fn categorical_dist(&mut self, b: Builtin, args: Vec<ArgVal>, whole: Span) -> R<Value> {
        let a = Args::bind(b.name(), b.params(), args, whole)?;
        let logits = self.float_arg(a.req(0)?)?;
        if logits.ty.rank() == 0 {
            return Err(err(
                Code::ShapeMismatch,
                "categorical logits need an axis of choices",
                a.req(0)?.span,
                format!("this is {}", logits.ty),
            ));
        }
        Ok(Value::Dist(Rc::new(Dist::Categorical { logits })))
    }

    /// `normal(mean, std)` or, with `tanh`, `tanh_normal(mean, std)`; the parameters are
    /// broadcast to one shape.
    pub(crate) fn normal_dist(&mut self, b: Builtin, tanh: bool, args: Vec<ArgVal>, whole: Span) -> R<Value> {
        let name = b.name();
        let a = Args::bind(name, b.params(), args, whole)?;
        let (m, s) = (a.req(0)?, a.req(1)?);
        let mean = self.float_arg(m)?;
        let std = self.float_arg(s)?;
        let shape = self.check_broadcast(&mean.ty.shape, m.span, &std.ty.shape, s.span, name)?;
        let mean = self.gb(whole).broadcast_to(&mean, &shape)?;
        let std = self.gb(whole).broadcast_to(&std, &shape)?;
        Ok(Value::Dist(Rc::new(if tanh {
            Dist::TanhNormal { mean, std }
        } else {
            Dist::Normal { mean, std }
        })))
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

    pub(crate) fn dist_property(&mut self, d: &Dist, name: &str, span: Span) -> R<Value> {
        let v = match (d, name) {
            (Dist::Normal { mean, .. }, "mean" | "mode") => self.here(mean),
            (Dist::TanhNormal { mean, .. }, "mean" | "mode") => {
                let m = self.here(mean);
                self.gb(span).unary(UnaryOp::Tanh, &m)?
            }
            (Dist::Normal { std, .. } | Dist::TanhNormal { std, .. }, "std") => self.here(std),
            (Dist::Categorical { logits }, "logits") => self.here(logits),
            (Dist::Categorical { logits }, "mode") => {
                let l = self.here(logits);
                let r = l.ty.rank();
                self.gb(span).argext(&l, r - 1, true)?
            }
            (Dist::Categorical { logits }, "probs" | "log_probs") => {
                let l = self.here(logits);
                let ls = self.gb(span).log_softmax_last(&l)?;
                if name == "probs" {
                    self.gb(span).unary(UnaryOp::Exp, &ls)?
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
                let se = self.gb(span).binary(BinaryOp::Mul, &s, &eps)?;
                let u = self.gb(span).binary(BinaryOp::Add, &m, &se)?;
                if matches!(d, Dist::TanhNormal { .. }) {
                    let a = self.gb(span).unary(UnaryOp::Tanh, &u)?;
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
                let u = self.gb(span).binary(BinaryOp::Max, &u, &tiny)?;
                let lu = self.gb(span).unary(UnaryOp::Log, &u)?;
                let nlu = self.gb(span).neg(&lu)?;
                let llu = self.gb(span).unary(UnaryOp::Log, &nlu)?;
                let pert = self.gb(span).sub(&l, &llu)?;
                let r = l.ty.rank();
                self.gb(span).argext(&pert, r - 1, true)?
            }
        };
        Ok(Value::Tensor(t))
    }

    fn normal_log_density(&mut self, x: &Tv, m: &Tv, s: &Tv, span: Span) -> R<Tv> {
        // -(x-m)^2 / (2 s^2) - log s - log(2 pi)/2, summed over the last axis.
        let d = self.gb(span).sub(x, m)?;
        let z = self.gb(span).binary(BinaryOp::Div, &d, s)?;
        let z2 = self.gb(span).binary(BinaryOp::Mul, &z, &z)?;
        let half = self.fill(-0.5, z2.ty.clone());
        let q = self.gb(span).binary(BinaryOp::Mul, &half, &z2)?;
        let ls = self.gb(span).unary(UnaryOp::Log, s)?;
        let ls = self.gb(span).broadcast_to(&ls, &q.ty.shape)?;
        let c = self.fill(0.5 * LN_2PI, q.ty.clone());
        let a = self.gb(span).sub(&q, &ls)?;
        let lp = self.gb(span).sub(&a, &c)?;
        self.sum_event(&lp, span)
    }

    fn sum_event(&mut self, x: &Tv, span: Span) -> R<Tv> {
        if x.ty.rank() == 0 {
            return Ok(x.clone());
        }
        self.gb(span).sum(x, &[x.ty.rank() - 1])
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
                        let c = self.gb(span).min(&x, &lim)?;
                        let c = self.gb(span).binary(BinaryOp::Max, &c, &nlim)?;
                        let one = self.fill(1.0, x.ty.clone());
                        let num = self.gb(span).binary(BinaryOp::Add, &one, &c)?;
                        let den = self.gb(span).sub(&one, &c)?;
                        let q = self.gb(span).binary(BinaryOp::Div, &num, &den)?;
                        let l = self.gb(span).unary(UnaryOp::Log, &q)?;
                        let half = self.fill(0.5, x.ty.clone());
                        self.gb(span).binary(BinaryOp::Mul, &half, &l)?
                    }
                };
                let base = self.normal_log_density(&u, &m, &s, span)?;
                // log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)), stable for large |u|.
                let m2 = self.fill(-2.0, u.ty.clone());
                let n2u = self.gb(span).binary(BinaryOp::Mul, &m2, &u)?;
                let sp = self.gb(span).softplus(&n2u)?;
                let ln2 = self.fill(std::f64::consts::LN_2, u.ty.clone());
                let a = self.gb(span).sub(&ln2, &u)?;
                let a = self.gb(span).sub(&a, &sp)?;
                let two = self.fill(2.0, u.ty.clone());
                let corr = self.gb(span).binary(BinaryOp::Mul, &two, &a)?;
                let corr = self.sum_event(&corr, span)?;
                self.gb(span).sub(&base, &corr)
            }
            Dist::Categorical { logits } => {
                let x = self.arg_tensor(xa, Some(DType::I32))?;
                let l = self.here(logits);
                let ls = self.gb(span).log_softmax_last(&l)?;
                self.pick(&ls, span, &x, xa.span, span)
            }
        }
    }

    fn entropy(&mut self, d: &Dist, span: Span) -> R<Tv> {
        match d {
            Dist::Normal { std, .. } => {
                let s = self.here(std);
                let ls = self.gb(span).unary(UnaryOp::Log, &s)?;
                let c = self.fill(0.5 + 0.5 * LN_2PI, ls.ty.clone());
                let h = self.gb(span).binary(BinaryOp::Add, &ls, &c)?;
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
                let ls = self.gb(span).log_softmax_last(&l)?;
                let p = self.gb(span).unary(UnaryOp::Exp, &ls)?;
                let pl = self.gb(span).binary(BinaryOp::Mul, &p, &ls)?;
                let s = self.sum_event(&pl, span)?;
                self.gb(span).neg(&s)
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
                let lr = self.gb(span).binary(BinaryOp::Div, &sq, &sp)?;
                let lr = self.gb(span).unary(UnaryOp::Log, &lr)?;
                let sp2 = self.gb(span).binary(BinaryOp::Mul, &sp, &sp)?;
                let dm = self.gb(span).sub(&mp, &mq)?;
                let dm2 = self.gb(span).binary(BinaryOp::Mul, &dm, &dm)?;
                let num = self.gb(span).binary(BinaryOp::Add, &sp2, &dm2)?;
                let sq2 = self.gb(span).binary(BinaryOp::Mul, &sq, &sq)?;
                let two = self.fill(2.0, sq2.ty.clone());
                let den = self.gb(span).binary(BinaryOp::Mul, &two, &sq2)?;
                let frac = self.gb(span).binary(BinaryOp::Div, &num, &den)?;
                let s = self.gb(span).binary(BinaryOp::Add, &lr, &frac)?;
                let half = self.fill(0.5, s.ty.clone());
                let k = self.gb(span).sub(&s, &half)?;
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
                let a = self.gb(span).log_softmax_last(&lp)?;
                let b = self.gb(span).log_softmax_last(&lq)?;
                let p = self.gb(span).unary(UnaryOp::Exp, &a)?;
                let d = self.gb(span).sub(&a, &b)?;
                let pd = self.gb(span).binary(BinaryOp::Mul, &p, &d)?;
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
