//! Rollout `derive` declarations: the entry computing derived fields of a rollout.

use super::program::Lowerer;
use super::schedule::{DataSpec, FieldSource, FieldSpec, Schedule};
use super::tracer::{Lowered, R, Tracer, err};
use super::value::Value;
use crate::diag::Code;
use crate::ir::DType;
use crate::signature::{InputRole, OutputRole};
use crate::syntax::ast::DataKind;
use std::collections::HashMap;

/// The entry computing a rollout's derived fields; adds them to the rollout's description.
pub(super) fn lower_derive(
    lw: &mut Lowerer<'_>,
    dd: &crate::syntax::ast::DeriveDecl,
    data: &mut [DataSpec],
    sch: &Schedule,
) -> R<Lowered> {
    let Some(spec) = data.iter_mut().find(|d| d.name == dd.data.name) else {
        return Err(err(
            Code::TypeMismatch,
            format!("`{}` is not a data source", dd.data.name),
            dd.data.span,
            "not data",
        ));
    };
    if spec.kind != DataKind::Rollout {
        return Err(err(
            Code::TypeMismatch,
            format!(
                "only rollouts have derived fields; `{}` is a {}",
                dd.data.name,
                spec.kind.word()
            ),
            dd.data.span,
            "not a rollout",
        ));
    }
    if spec.fields.iter().any(|f| f.source == FieldSource::Derived) {
        return Err(err(
            Code::Duplicate,
            format!("`{}` is derived twice", dd.data.name),
            dd.span,
            "second derive",
        ));
    }
    let lead = vec![spec.steps, sch.envs];
    let mut t = Tracer::new(lw);
    t.sets = super::program_state::StateWrites::Open(Vec::new());
    let mut fields = Vec::new();
    for f in &spec.fields {
        let mut shape = lead.clone();
        shape.extend(&f.ty.shape);
        let x = t.input(
            InputRole::Field {
                data: spec.name.clone(),
                field: f.name.clone(),
            },
            f.ty.with_shape(shape),
        );
        t.guarantee_stored_action(f, &x);
        fields.push((f.name.clone(), Value::Tensor(x)));
    }
    let mut frame = HashMap::new();
    frame.insert(dd.param.name.clone(), Value::Record(fields));
    let ctx = t.ctx;
    t.log_scopes = vec![dd.body.span];
    let v = t.with_frame(ctx, frame, |t| t.eval(&dd.body))?;
    let Value::Record(out) = v else {
        return Err(err(
            Code::TypeMismatch,
            "`derive` returns a record of new fields, e.g. `{ adv: ..., ret: ... }`",
            dd.body.span,
            format!("this is {}", v.describe()),
        ));
    };
    let mut derived = Vec::new();
    for (name, v) in out {
        let tv = t.tensor_of(v, dd.body.span, None)?;
        if tv.ty.dtype != DType::F32 || tv.ty.shape.len() < 2 || tv.ty.shape[..2] != lead[..] {
            return Err(err(
                Code::ShapeMismatch,
                format!(
                    "derived field `{name}` must be f32 with leading axes [{}, {}], found {}",
                    lead[0], lead[1], tv.ty
                ),
                dd.body.span,
                "returned here",
            ));
        }
        if spec.fields.iter().any(|f| f.name == name) {
            return Err(err(
                Code::Duplicate,
                format!("`{name}` is already a field of `{}`", spec.name),
                dd.body.span,
                "derived here",
            ));
        }
        let n = t.node(&tv);
        t.output(OutputRole::Derived { field: name.clone() }, n);
        derived.push(FieldSpec {
            name,
            ty: tv.ty.with_shape(tv.ty.shape[2..].to_vec()),
            source: FieldSource::Derived,
        });
    }
    spec.fields.extend(derived);
    t.output_metrics()?;
    t.finish()
}
