//! Derived fields of full rollouts (`derive R(b) = ...`, e.g. GAE advantages), computed by
//! the derive entries before the rollout is trained on, and the metrics they log.

use super::interval::Interval;
use super::{Store, Trainer};
use crate::error::RunError;
use rlc_compiler::backend::{In, Out};
use rlc_compiler::ir::DType;
use rlc_compiler::signature::{InputRole, OutputRole};

impl Trainer<'_> {
    /// Computes the derived fields of full rollouts (e.g. advantages) before training.
    pub(super) fn run_derives(&mut self, interval: &mut Interval) -> Result<(), RunError> {
        let mut bad = None;
        for (si, id, g, sig, outs, ints) in &mut self.derives {
            let Store::Rollout(r) = &mut self.stores[*si] else {
                continue;
            };
            let spec = &self.program.data[*si];
            {
                let mut cols = Vec::with_capacity(g.inputs.len());
                for (k, role) in sig.inputs.iter().enumerate() {
                    let fi = match role {
                        InputRole::Field { data, field } if *data == spec.name => {
                            spec.fields.iter().position(|f| f.name == *field)
                        }
                        _ => None,
                    }
                    .ok_or_else(|| RunError::Setup(format!("derive input `{role}`")))?;
                    // Integer fields (discrete actions) are stored as floats.
                    for (d, x) in ints[k].iter_mut().zip(r.column(fi)) {
                        *d = *x as i32;
                    }
                    cols.push(fi);
                }
                let ins: Vec<In<'_>> = cols
                    .iter()
                    .zip(ints.iter())
                    .zip(&g.inputs)
                    .map(|((fi, iv), i)| {
                        if g.ty(*i).dtype == DType::I32 {
                            In::I32(iv)
                        } else {
                            In::F32(r.column(*fi))
                        }
                    })
                    .collect();
                let mut o: Vec<Out<'_>> = outs.iter_mut().map(|v| Out::F32(v.as_mut_slice())).collect();
                self.backend.call(*id, &ins, &mut o)?;
            }
            if let Some(g) = &self.index_guard {
                g.check(self.backend.as_ref(), || {
                    format!("deriving `{}` at step {}", spec.name, self.steps)
                })?;
            }
            for (role, v) in sig.outputs.iter().zip(outs.iter()) {
                let name = match role {
                    OutputRole::Metric { name } => {
                        let k = self.logged.index(name).expect("planned from the same entries");
                        if let Err(what) = self.logged.add(k, v[0], &mut interval.metrics) {
                            bad.get_or_insert(format!("{what} deriving `{}`", spec.name));
                        }
                        continue;
                    }
                    OutputRole::Derived { field } => field,
                    other => return Err(RunError::Setup(format!("derive output `{other}`"))),
                };
                let fi = spec
                    .fields
                    .iter()
                    .position(|f| f.name == *name)
                    .ok_or_else(|| RunError::Setup(format!("derived field `{name}`")))?;
                r.column_mut(fi).copy_from_slice(v);
            }
        }
        match bad {
            Some(what) => Err(self.non_finite(&what, None)),
            None => Ok(()),
        }
    }
}
