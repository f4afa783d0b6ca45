//! Every `train` option must change what the trainer does. The trainer runs on-policy
//! training (a loss reads a rollout) each time the rollout is full, `epochs` passes of
//! minibatches, and off-policy training (losses sample replay) `K` calls `every` E steps
//! `after` S: an option of the other kind would be silently ignored, so it is an error at the
//! option. `minibatches M` states the count a minibatch size implies and is checked against it.

use super::schedule::Schedule;
use super::tracer::{R, Tracer, err};
use crate::diag::Code;
use crate::syntax::ast::{DataDecl, DataKind, Decl, Expr, ExprKind, Ident};

/// A data source a trained loss reads: the declaration and, for `R.minibatch(m)`, `m`'s
/// expression.
struct Source<'a> {
    data: &'a DataDecl,
    minibatch: Option<&'a Expr>,
}

impl Tracer<'_, '_> {
    /// Checks the `train` statement's `options` against the sources of the updated losses.
    pub(super) fn check_train_options(&mut self, sch: &Schedule, options: &[(Ident, Expr)]) -> R<()> {
        let alg = self.lw.alg;
        let sources = trained_sources(&alg.decls);
        let on_policy = sources.iter().any(|s| s.data.kind == DataKind::Rollout);
        for (k, v) in options {
            let ignored = match (k.name.as_str(), on_policy) {
                ("every" | "after", true) => {
                    Some("on-policy training runs each time the rollout is full, so this has no effect")
                }
                ("epochs" | "minibatches", false) => Some(
                    "no trained loss reads a rollout: replay is sampled `train K` times per trigger, \
                     so this has no effect",
                ),
                _ => None,
            };
            if let Some(why) = ignored {
                return Err(err(
                    Code::Schedule,
                    format!("`{}` does nothing in this schedule", k.name),
                    k.span,
                    why,
                ));
            }
            if k.name == "minibatches" {
                self.check_minibatch_count(sch, &sources, k, v)?;
            }
        }
        Ok(())
    }

    /// `minibatches M` must be what the rollout size and the drawn minibatch size give.
    fn check_minibatch_count(
        &mut self,
        sch: &Schedule,
        sources: &[Source<'_>],
        k: &Ident,
        v: &Expr,
    ) -> R<()> {
        let drawn: Vec<&Source<'_>> = sources.iter().filter(|s| s.minibatch.is_some()).collect();
        if drawn.is_empty() {
            return Err(err(
                Code::Schedule,
                "`minibatches` does nothing in this schedule",
                k.span,
                "every trained loss reads its whole rollout (`b ~ R`); draw minibatches with `b ~ R.minibatch(m)`",
            )
            .hint("the number of minibatches follows from the rollout size and `m`"));
        }
        for s in drawn {
            let Some(m_expr) = s.minibatch else { continue };
            let m = self.const_usize(m_expr, "the minibatch size", 1)?;
            let steps = s
                .data
                .options
                .iter()
                .find(|(o, _)| o.name == "steps")
                .map(|(_, e)| e);
            let Some(steps) = steps else { continue };
            let total = self
                .const_usize(steps, "rollout steps", 1)?
                .saturating_mul(sch.envs);
            let count = total / m;
            if count != sch.minibatches {
                return Err(err(
                    Code::Schedule,
                    format!(
                        "`minibatches {}` disagrees with the data: rollout `{}` holds {total} transitions, \
                         which minibatches of {m} split into {count}",
                        sch.minibatches, s.data.name.name
                    ),
                    v.span,
                    format!("{count} minibatches per epoch"),
                ));
            }
        }
        Ok(())
    }
}

/// The data sources of the losses that `update` statements minimise.
fn trained_sources(decls: &[Decl]) -> Vec<Source<'_>> {
    let data = |name: &str| {
        decls.iter().find_map(|d| match d {
            Decl::Data(x) if x.name.name == name => Some(x),
            _ => None,
        })
    };
    let mut out = Vec::new();
    for d in decls {
        let Decl::Update(u) = d else { continue };
        let loss = decls.iter().find_map(|d| match d {
            Decl::Loss(l) if l.name.name == u.loss.name => Some(l),
            _ => None,
        });
        for (_, binding) in loss.iter().flat_map(|l| &l.params) {
            let Some(e) = binding else { continue };
            // `R` (the whole rollout) or `R.method(arg)`.
            let (name, minibatch) = match &e.kind {
                ExprKind::Name(n) => (n.as_str(), None),
                ExprKind::Call(f, args) => match &f.kind {
                    ExprKind::Field(x, method) => match &x.kind {
                        ExprKind::Name(n) => (
                            n.as_str(),
                            (method.name == "minibatch")
                                .then(|| args.first().map(|a| &a.value))
                                .flatten(),
                        ),
                        _ => continue,
                    },
                    _ => continue,
                },
                _ => continue,
            };
            if let Some(data) = data(name) {
                out.push(Source { data, minibatch });
            }
        }
    }
    out
}
