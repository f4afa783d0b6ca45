//! `rlc run --debug-nans`: when a loss or a state goes NaN or infinite, find the operation that
//! produced it, as `jax_debug_nans` does. Before each training call the trainer copies the
//! state and the call's inputs; after a fault it replays that one call on the reference
//! interpreter (in f32, like the JIT) and walks back from the bad result to the node that made
//! a non-finite value out of finite operands, with the source expression it came from.

use crate::error::{FaultSource, RunError};
use rlc_compiler::backend::{Backend, HostData, In};
use rlc_compiler::interp::{Tensor, non_finite_source};
use rlc_compiler::ir::{DType, Graph, StateTable, print_node};

/// The state and inputs of one training call, as interpreter tensors.
pub(super) struct Snapshot {
    states: Vec<Tensor<f32>>,
    inputs: Vec<Tensor<f32>>,
}

impl Snapshot {
    /// Copies every state variable out of `backend` and the call's `inputs` (in `g.inputs`
    /// order).
    pub(super) fn take(
        backend: &dyn Backend,
        table: &StateTable,
        g: &Graph,
        inputs: &[In<'_>],
    ) -> Result<Snapshot, RunError> {
        let mut states = Vec::with_capacity(table.len());
        for (id, v) in table.iter() {
            let shape = v.ty.shape.clone();
            states.push(match (backend.read_state(id)?, v.ty.dtype) {
                (HostData::F32(x), _) => Tensor::f(shape, x),
                (HostData::I32(x), DType::Bool) => Tensor::b(shape, x.iter().map(|b| *b != 0).collect()),
                (HostData::I32(x), _) => Tensor::i(shape, x),
            });
        }
        let inputs = g
            .inputs
            .iter()
            .zip(inputs)
            .map(|(id, x)| {
                let shape = g.ty(*id).shape.clone();
                match x {
                    In::F32(v) => Tensor::f(shape, v.to_vec()),
                    In::I32(v) => Tensor::i(shape, v.to_vec()),
                }
            })
            .collect();
        Ok(Snapshot { states, inputs })
    }

    /// Replays the call on the interpreter: the operation the fault comes from, if the replay
    /// reproduces it.
    pub(super) fn source(
        &self,
        g: &Graph,
        entry: &str,
        table: &StateTable,
    ) -> Result<Option<FaultSource>, RunError> {
        let node = non_finite_source(g, &self.inputs, &self.states)
            .map_err(|e| RunError::Setup(format!("--debug-nans could not replay `{entry}`: {e}")))?;
        Ok(node.map(|id| FaultSource {
            entry: entry.to_string(),
            node: print_node(g, id, Some(table)),
            origin: g.node(id).origin,
        }))
    }
}
