//! Fields: records, the environment, distributions, data sources, modules and tensors.

use super::tracer::{R, Tracer, err};
use super::value::Value;
use crate::diag::{Code, Span, did_you_mean};
use crate::ir::TensorType;

impl Tracer<'_, '_> {
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
            Value::Loss(l) => {
                if n == "layers" {
                    Ok(Value::Method(Box::new(Value::Loss(l)), n.to_string()))
                } else {
                    Err(unknown(format!("the loss `{l}`"), &["layers"]))
                }
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
                Value::Tensor(self.gb(span).constant(data, TensorType::f32(vec![v.len()]))?)
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
}
