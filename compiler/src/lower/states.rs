//! States declared by nets and learnables: parameters created with their initialisers.

use super::args::ArgVal;
use super::tracer::{R, Tracer, err};
use super::value::Value;
use crate::diag::{Code, Span};
use crate::ir::{DType, Init, StateKind, StateVar, TensorType};
use crate::signature::InputRole;
use crate::syntax::ast::Decl;

pub(super) fn instantiate_net(t: &mut Tracer<'_, '_>, name: &str, span: Span) -> R<()> {
    let Some(Decl::Net(decl)) = t.lw.decl(name) else {
        unreachable!("net decl")
    };
    let mut args = Vec::new();
    for p in &decl.params {
        let Some(te) = &p.ty else {
            return Err(err(
                Code::Missing,
                format!("parameter `{}` of net `{name}` needs a type", p.name.name),
                p.name.span,
                "add e.g. `: obs` or `: [4]`",
            )
            .note("a net's parameter shapes are fixed by the per-item types of its inputs"));
        };
        let ty = t.resolve_type(te)?;
        super::budget::check_tensor(&ty, t.lw.options.budget, te.span)?;
        let x = t.input(
            InputRole::Argument {
                name: p.name.name.clone(),
            },
            ty,
        );
        args.push(ArgVal {
            name: None,
            value: Value::Tensor(x),
            span: p.name.span,
        });
    }
    t.call_net(name, None, args, span)?;
    Ok(())
}

pub(super) fn add_learnable(t: &mut Tracer<'_, '_>, l: &crate::syntax::ast::LearnableDecl) -> R<()> {
    let ty = match &l.ty {
        Some(te) => t.resolve_type(te)?,
        None => TensorType::f32(vec![]),
    };
    if ty.dtype != DType::F32 {
        return Err(err(Code::TypeMismatch, "learnables are f32", l.span, "not f32"));
    }
    let init = constant_init(t, &l.init, &ty, "a learnable")?;
    t.lw.states.add(StateVar {
        name: l.name.name.clone(),
        ty,
        kind: StateKind::Learnable,
        init,
    });
    Ok(())
}

/// The initial value of a declared state (`learnable`, `state`) of type `ty`: a number fills
/// it, a list gives every element; anything else is refused (`what` names the declaration).
pub(super) fn constant_init(
    t: &mut Tracer<'_, '_>,
    init: &crate::syntax::ast::Expr,
    ty: &TensorType,
    what: &str,
) -> R<Init> {
    Ok(match t.eval(init)? {
        Value::Int(i) => Init::Fill(i as f64),
        Value::Float(f) => Init::Fill(f),
        v @ Value::List(_) => {
            let tv = t.tensor_of(v, init.span, Some(ty.dtype))?;
            if tv.ty.shape != ty.shape {
                return Err(err(
                    Code::ShapeMismatch,
                    format!("initial value {} for {what} of type {ty}", tv.ty),
                    init.span,
                    "wrong shape",
                ));
            }
            match &t.g().node(tv.node).op {
                crate::ir::Op::Const { values } => Init::Values(values.clone()),
                _ => unreachable!("constant lists become constants"),
            }
        }
        other => {
            return Err(err(
                Code::NotConstant,
                format!("{what} starts from a constant"),
                init.span,
                format!("this is {}", other.describe()),
            ));
        }
    })
}
