//! The reference interpreter as a backend: state held as f32 host tensors, graphs optimised
//! by the pass pipeline (which preserves results exactly) and evaluated node by node.

use super::api::Backend;
use super::types::{BackendError, EntryId, HostData, In, Out};
use crate::interp::{Buf, Tensor, eval, initial_state};
use crate::ir::{DType, Graph, StateId, StateTable};

/// Runs graphs on the reference interpreter in f32.
#[derive(Default)]
pub struct InterpBackend {
    state: Vec<Tensor<f32>>,
    entries: Vec<(String, Graph)>,
}

impl InterpBackend {
    /// An empty backend.
    pub fn new() -> InterpBackend {
        InterpBackend::default()
    }
}

impl Backend for InterpBackend {
    fn name(&self) -> &'static str {
        "interp"
    }

    fn init_state(&mut self, states: &StateTable, seed: u64) -> Result<(), BackendError> {
        self.state = initial_state(states, seed);
        Ok(())
    }

    fn compile(&mut self, name: &str, graph: &Graph) -> Result<EntryId, BackendError> {
        let g = crate::passes::optimize(graph).map_err(|e| BackendError(format!("{name}: {e}")))?;
        self.entries.push((name.to_string(), g));
        Ok(EntryId(self.entries.len() - 1))
    }

    fn call(
        &mut self,
        entry: EntryId,
        inputs: &[In<'_>],
        outputs: &mut [Out<'_>],
    ) -> Result<(), BackendError> {
        let (name, g) = self
            .entries
            .get(entry.0)
            .ok_or_else(|| BackendError("no such entry".into()))?;
        if inputs.len() != g.inputs.len() || outputs.len() != g.outputs.len() {
            return Err(BackendError(format!(
                "{name}: expected {} inputs and {} outputs, got {} and {}",
                g.inputs.len(),
                g.outputs.len(),
                inputs.len(),
                outputs.len()
            )));
        }
        let mut tensors = Vec::with_capacity(inputs.len());
        for (id, x) in g.inputs.iter().zip(inputs) {
            let ty = g.ty(*id);
            let t = match (x, ty.dtype) {
                (In::F32(v), DType::F32) if v.len() == ty.numel() => Tensor::f(ty.shape.clone(), v.to_vec()),
                (In::I32(v), DType::I32) if v.len() == ty.numel() => Tensor::i(ty.shape.clone(), v.to_vec()),
                _ => {
                    return Err(BackendError(format!(
                        "{name}: input `{}` must be {} ({} values)",
                        g.input_name(*id),
                        ty,
                        ty.numel()
                    )));
                }
            };
            tensors.push(t);
        }
        let r = eval(g, &tensors, &self.state).map_err(|e| BackendError(format!("{name}: {e}")))?;
        for ((oname, _), (o, v)) in g.outputs.iter().zip(outputs.iter_mut().zip(r.outputs)) {
            match (o, v.buf) {
                (Out::F32(dst), Buf::F(src)) if dst.len() == src.len() => dst.copy_from_slice(&src),
                (Out::I32(dst), Buf::I(src)) if dst.len() == src.len() => dst.copy_from_slice(&src),
                _ => {
                    return Err(BackendError(format!(
                        "{name}: output `{oname}` buffer does not fit {}",
                        v.ty
                    )));
                }
            }
        }
        for (id, v) in r.assigns {
            self.state[id.0 as usize] = v;
        }
        Ok(())
    }

    fn read_state(&self, id: StateId) -> Result<HostData, BackendError> {
        let t = self
            .state
            .get(id.0 as usize)
            .ok_or_else(|| BackendError(format!("no state #{}", id.0)))?;
        Ok(match &t.buf {
            Buf::F(v) => HostData::F32(v.clone()),
            Buf::I(v) => HostData::I32(v.clone()),
            Buf::B(v) => HostData::I32(v.iter().map(|b| i32::from(*b)).collect()),
        })
    }

    fn write_state(&mut self, id: StateId, data: &HostData) -> Result<(), BackendError> {
        let t = self
            .state
            .get_mut(id.0 as usize)
            .ok_or_else(|| BackendError(format!("no state #{}", id.0)))?;
        if t.len() != data.len() || t.ty.dtype != data.dtype() {
            return Err(BackendError(format!(
                "state #{} is {}, got {} {} values",
                id.0,
                t.ty,
                data.len(),
                data.dtype()
            )));
        }
        t.buf = match data {
            HostData::F32(v) => Buf::F(v.clone()),
            HostData::I32(v) => Buf::I(v.clone()),
        };
        Ok(())
    }
}
