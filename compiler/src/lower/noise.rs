//! Exploration noise in the schedule (`act POLICY into D noise ou(theta = .., sigma = ..)`):
//! checked here, applied by the runtime's trainer to the acting policy's actions.

use super::args::Args;
use super::tracer::{R, Tracer, err};
use crate::builtins::{Builtin, Declaration, Form};
use crate::diag::{Code, did_you_mean};
use crate::signature::EnvField;
use crate::syntax::ast::{DataKind, Decl, Expr, ExprKind, Ident};

/// Exploration noise added to a continuous policy's actions when acting (not during the
/// uniform warm-up, not in evaluation), in units of the action bound, then clipped to the box.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Noise {
    /// `ou(theta, sigma)`: per environment copy and action dimension,
    /// `x <- x - theta x + sigma N(0, 1)` each step, from 0 at every episode start
    /// (Lillicrap et al., 2015). `sigma = 0` adds nothing.
    OrnsteinUhlenbeck {
        /// Pull back towards 0 per step, in (0, 1]: the noise keeps its sign for about
        /// `1 / theta` steps.
        theta: f64,
        /// Scale of each step's normal draw, >= 0.
        sigma: f64,
    },
}

impl Tracer<'_, '_> {
    /// Reads `ou(theta = .., sigma = ..)` after `noise`: constant settings in range, a
    /// continuous action space, and data that the noisy actions do not make wrong.
    pub(super) fn noise(&mut self, e: &Expr, into: &[Ident]) -> R<Noise> {
        let kinds = || Builtin::names_of(Form::Declaration(Declaration::Noise));
        let (callee, args) = match &e.kind {
            ExprKind::Call(f, args) => (f.as_ref(), args.as_slice()),
            _ => (e, &[][..]),
        };
        let b = match &callee.kind {
            ExprKind::Name(n) => match Builtin::from_name(n) {
                Some(b) if b.form() == Form::Declaration(Declaration::Noise) => b,
                _ => {
                    return Err(err(
                        Code::UnknownName,
                        format!("unknown exploration noise `{n}`"),
                        callee.span,
                        "not a noise process",
                    )
                    .maybe_hint(did_you_mean(n, kinds()))
                    .note(format!(
                        "noise processes: {}",
                        kinds().collect::<Vec<_>>().join(", ")
                    )));
                }
            },
            _ => {
                return Err(err(
                    Code::BadArgument,
                    "expected exploration noise such as `ou(theta = 0.15, sigma = 0.2)`",
                    e.span,
                    "here",
                ));
            }
        };
        let bound = Args::bind(b.name(), b.params(), args.iter().collect(), e.span)?;
        let (theta_arg, sigma_arg) = (bound.req(0)?.value.clone(), bound.req(1)?.value.clone());
        let theta = self.const_f64(&theta_arg)?;
        let sigma = self.const_f64(&sigma_arg)?;
        if !(theta > 0.0 && theta <= 1.0) {
            return Err(err(
                Code::BadArgument,
                "`theta` must be in (0, 1]",
                theta_arg.span,
                format!("this is {theta}"),
            )
            .note("each step pulls the noise back by `theta` times its value: 0 never pulls it back, above 1 overshoots"));
        }
        if !(sigma >= 0.0 && sigma.is_finite()) {
            return Err(err(
                Code::BadArgument,
                "`sigma` must be a finite number >= 0",
                sigma_arg.span,
                format!("this is {sigma}"),
            ));
        }
        for d in into {
            let Some(Decl::Data(dd)) = self.lw.decl(&d.name) else {
                continue;
            };
            if dd.kind == DataKind::Rollout {
                return Err(err(
                    Code::Schedule,
                    format!("exploration noise with the rollout `{}`", d.name),
                    e.span,
                    "noise added outside the policy",
                )
                .also(d.span, "on-policy data")
                .note("on-policy training assumes the stored actions came from the policy itself")
                .hint("put the exploration into the policy's distribution instead"));
            }
            if let Some((f, _)) = dd
                .fields
                .iter()
                .find(|(f, _)| EnvField::from_name(&f.name).is_none())
            {
                return Err(err(
                    Code::Schedule,
                    format!(
                        "exploration noise changes the actions, but `{}` stores the policy's `{}` beside them",
                        d.name, f.name
                    ),
                    e.span,
                    "noise added outside the policy",
                )
                .also(f.span, "describes the policy's action, not the noisy one")
                .note("log-probabilities and behaviour-policy statistics would not match the stored actions"));
            }
        }
        if let crate::env_spec::ActionSpace::Discrete { n } = self.lw.env.action {
            return Err(err(
                Code::ActionSpaceKind,
                format!(
                    "`{}` adds noise to continuous actions, but `{}` has {n} discrete actions",
                    b.name(),
                    self.lw.env.id
                ),
                e.span,
                "continuous actions only",
            )
            .hint("explore discrete actions in the policy (e.g. epsilon-greedy)"));
        }
        Ok(match b {
            Builtin::Ou => Noise::OrnsteinUhlenbeck { theta, sigma },
            other => {
                return Err(crate::diag::Diagnostic::internal(format!(
                    "`{}` is not a noise process",
                    other.name()
                ))
                .at(callee.span, "here"));
            }
        })
    }
}
