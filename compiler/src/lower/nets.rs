//! Layers: the only place parameters are created. A layer inside a net gets a stable name
//! from its position (`actor/l0/w`), so calling a net twice shares its parameters and target
//! copies mirror them (`actor_t/l0/w`).

use super::tracer::{R, Tracer, err};
use super::value::Tv;
use crate::diag::{Code, Span};
use crate::ir::{BinaryOp, Init, StateId, StateKind, StateVar, TensorType};

impl Tracer<'_, '_> {
    /// `linear(x, out)`: `x @ w + b` over the last axis of `x`.
    pub(crate) fn linear(
        &mut self,
        x: &Tv,
        xspan: Span,
        out: usize,
        init: Option<f64>,
        whole: Span,
    ) -> R<Tv> {
        let Some(frame) = self.nets.last_mut() else {
            return Err(err(
                Code::LayerOutsideNet,
                "`linear` creates parameters and can only be used inside a `net`",
                whole,
                "outside any net",
            )
            .hint("declare a net, e.g. `net f(x: obs) = linear(x, 64)`, and call it"));
        };
        let k = frame.layers;
        frame.layers += 1;
        let (net, target, call_span) = (frame.net.clone(), frame.target.clone(), frame.call_span);
        if x.ty.rank() == 0 {
            return Err(err(
                Code::ShapeMismatch,
                "`linear` needs an input with a feature axis",
                xspan,
                "a scalar",
            ));
        }
        let fan_in = x.ty.shape[x.ty.rank() - 1];
        let bound = init.unwrap_or(1.0 / (fan_in.max(1) as f64).sqrt());
        let w = self.layer_param(
            &net,
            target.as_deref(),
            k,
            "w",
            vec![fan_in, out],
            bound,
            whole,
            call_span,
        )?;
        let b = self.layer_param(
            &net,
            target.as_deref(),
            k,
            "b",
            vec![out],
            bound,
            whole,
            call_span,
        )?;
        let wt = self.state(w);
        let bt = self.state(b);
        // Flatten leading (batch) axes into one for the matrix product.
        let lead: Vec<usize> = x.ty.shape[..x.ty.rank() - 1].to_vec();
        let rows: usize = lead.iter().product();
        let x2 = self.gb(whole).reshape(x, &[rows, fan_in])?;
        let wn = self.here(&wt);
        let mm = self.gb(whole).matmul(&x2, &wn)?;
        let bh = self.here(&bt);
        let y = self.gb(whole).binary(BinaryOp::Add, &mm, &bh)?;
        if target.is_none()
            && self.level() == 0
            && let Some(taps) = &mut self.taps
        {
            taps.push(super::reevaluate::Tap {
                w,
                b,
                x: x2.clone(),
                y: y.clone(),
            });
        }
        let mut shape = lead;
        shape.push(out);
        self.gb(whole).reshape(&y, &shape)
    }

    /// Finds (or, while instantiating nets, creates) one parameter of layer `k`.
    #[allow(clippy::too_many_arguments)]
    fn layer_param(
        &mut self,
        net: &str,
        target: Option<&str>,
        k: usize,
        which: &str,
        shape: Vec<usize>,
        bound: f64,
        whole: Span,
        call_span: Span,
    ) -> R<StateId> {
        let name = format!("{net}/l{k}/{which}");
        let ty = TensorType::f32(shape);
        super::budget::check_bytes(
            &format!("parameter `{name}` ({ty})"),
            ty.checked_bytes(),
            self.lw.options.budget,
            whole,
        )?;
        let id = match self.lw.states.find(&name) {
            Some(id) => id,
            None if self.lw.instantiating && target.is_none() => self.lw.states.add(StateVar {
                name: name.clone(),
                ty: ty.clone(),
                kind: StateKind::Param { net: net.to_string() },
                init: Init::Uniform {
                    low: -bound,
                    high: bound,
                },
            }),
            None => {
                return Err(err(
                    Code::ShapeMismatch,
                    format!("layer {k} of net `{net}` does not exist for this input"),
                    whole,
                    "an extra layer",
                )
                .also(call_span, "in this call of the net")
                .note("a net's layers are fixed when it is built from its declared input types; its structure must not depend on batch sizes"));
            }
        };
        let have = self.lw.states.get(id).ty.clone();
        if have != ty {
            return Err(err(
                Code::ShapeMismatch,
                format!("layer {k} of net `{net}` has a {which} of shape {have} but this input needs {ty}",),
                whole,
                format!("needs {ty}"),
            )
            .also(call_span, "in this call of the net")
            .note(
                "a net's parameters are created from its declared input types; check the input's last axis",
            ));
        }
        match target {
            None => Ok(id),
            Some(t) => {
                let tname = format!("{t}/l{k}/{which}");
                self.lw.states.find(&tname).ok_or_else(|| {
                    err(
                        Code::ShapeMismatch,
                        format!("target `{t}` has no copy of `{name}`"),
                        whole,
                        "here",
                    )
                })
            }
        }
    }
}
