//! What an update hands its rule (`lower/rule.rs`): each parameter with its gradient; and the
//! training step's own counters.

use super::tracer::Tracer;
use super::value::Tv;
use crate::ir::{DType, Init, StateId, StateKind, StateVar, TensorType};

/// One parameter to update.
pub(crate) struct ParamGrad {
    pub id: StateId,
    pub param: Tv,
    pub grad: Tv,
}

impl Tracer<'_, '_> {
    /// A scalar counter state.
    pub(crate) fn counter(&mut self, name: &str, dtype: DType) -> StateId {
        match self.lw.states.find(name) {
            Some(id) => id,
            None => self.lw.states.add(StateVar {
                name: name.to_string(),
                ty: TensorType::scalar(dtype),
                kind: StateKind::Counter,
                init: Init::Zeros,
            }),
        }
    }
}
