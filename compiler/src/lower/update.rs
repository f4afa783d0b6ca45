//! `update` declarations: the gradient of a loss with respect to nets and learnables, and
//! the optimiser step that applies it.

use super::optim::ParamGrad;
use super::tracer::{R, Tracer, err};
use super::value::Tv;
use crate::diag::{Code, Span, did_you_mean};
use crate::ir::{BinaryOp, DType, Origin, StateId, TensorType};
use crate::syntax::ast::Decl;
use std::collections::HashMap;

pub(super) fn lower_update(
    t: &mut Tracer<'_, '_>,
    u: &crate::syntax::ast::UpdateDecl,
    losses: &HashMap<String, Tv>,
    step: &Tv,
    assigned: &mut HashMap<StateId, (Tv, Span)>,
) -> R<()> {
    // The optimiser's nodes come from the `update` declaration (gradient nodes keep pointing
    // at the expressions they differentiate): a NaN in Adam's moments is located there.
    let outer = t.g().set_origin(Some(Origin {
        span: u.span,
        gradient: false,
    }));
    let r = lower_update_here(t, u, losses, step, assigned);
    t.g().set_origin(outer);
    r
}

fn lower_update_here(
    t: &mut Tracer<'_, '_>,
    u: &crate::syntax::ast::UpdateDecl,
    losses: &HashMap<String, Tv>,
    step: &Tv,
    assigned: &mut HashMap<StateId, (Tv, Span)>,
) -> R<()> {
    let Some(loss) = losses.get(&u.loss.name) else {
        let what =
            t.lw.decl(&u.loss.name)
                .map(|d| format!("a {}", d.kind_word()))
                .unwrap_or_else(|| "not defined".into());
        let cands: Vec<&str> = losses.keys().map(String::as_str).collect();
        return Err(err(
            Code::TypeMismatch,
            format!("`{}` is not a loss", u.loss.name),
            u.loss.span,
            what,
        )
        .maybe_hint(did_you_mean(&u.loss.name, cands.iter().copied())));
    };
    let mut params: Vec<StateId> = Vec::new();
    for tg in &u.targets {
        match t.lw.decl(&tg.name) {
            Some(Decl::Net(_)) | Some(Decl::Learnable(_)) => params.extend(t.lw.states.params_of(&tg.name)),
            Some(d) => {
                return Err(err(
                    Code::TypeMismatch,
                    format!(
                        "only nets and learnables can be updated; `{}` is a {}",
                        tg.name,
                        d.kind_word()
                    ),
                    tg.span,
                    "not trainable",
                )
                .maybe_hint(matches!(d, Decl::Target(_)).then(|| {
                    "targets follow their net by their own rule; update the net instead".to_string()
                })));
            }
            None => {
                return Err(err(
                    Code::UnknownName,
                    format!("cannot find `{}`", tg.name),
                    tg.span,
                    "not defined",
                ));
            }
        }
    }
    let reads: Vec<Tv> = params.iter().map(|p| t.state(*p)).collect();
    let nodes: Vec<_> = reads.iter().map(|r| r.node).collect();
    let grads = t.gb(u.span).grad(loss, &nodes)?;
    if grads.iter().all(Option::is_none) {
        let names: Vec<&str> = u.targets.iter().map(|x| x.name.as_str()).collect();
        return Err(err(
            Code::NoGradient,
            format!(
                "loss `{}` does not depend on any parameter of {}",
                u.loss.name,
                names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            u.span,
            "this update would change nothing",
        )
        .hint("check that the loss calls the net and that `stop(...)` is not around every use"));
    }
    let mut pg = Vec::new();
    for ((id, read), g) in params.iter().zip(reads).zip(grads) {
        let grad = match g {
            Some(g) => g,
            None => t.fill(0.0, read.ty.clone()),
        };
        pg.push(ParamGrad {
            id: *id,
            param: read,
            grad,
        });
    }
    let update = u
        .targets
        .iter()
        .map(|x| x.name.as_str())
        .collect::<Vec<_>>()
        .join("+");
    let mut news = t.apply_rule(&u.optimiser, &pg, &update, &u.loss.name, u.span)?;
    if let Some(e) = &u.every {
        let k = t.const_int(e)?;
        if k < 1 {
            return Err(err(
                Code::BadArgument,
                "`every` must be at least 1",
                e.span,
                "too small",
            ));
        }
        let kk = t.fill(k as f64, TensorType::scalar(DType::I32));
        let m = t.gb(u.span).binary(BinaryOp::Rem, step, &kk)?;
        let z = t.fill(0.0, TensorType::scalar(DType::I32));
        let c = t.gb(u.span).binary(BinaryOp::Eq, &m, &z)?;
        for (id, v) in &mut news {
            let old = t.state(*id);
            let cb = t.gb(u.span).broadcast_to(&c, &old.ty.shape)?;
            *v = t.gb(u.span).select(&cb, v, &old)?;
        }
    }
    for (id, v) in news {
        if let Some((_, first)) = assigned.get(&id) {
            let name = t.lw.states.get(id).name.clone();
            return Err(err(
                Code::DoubleAssign,
                format!("`{name}` is updated twice in one training step"),
                u.span,
                "second update",
            )
            .also(*first, "first update")
            .hint("update each net by exactly one `update`; to combine losses, add them in one loss"));
        }
        assigned.insert(id, (v, u.span));
    }
    Ok(())
}
