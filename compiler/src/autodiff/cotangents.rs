//! The cotangents accumulated per node while a VJP walks the graph backwards.

use crate::ir::{BinaryOp, Graph, IrError, NodeId};
use std::collections::HashMap;

/// Accumulated cotangents per node.
#[derive(Default)]
pub(crate) struct Cotangents {
    map: HashMap<NodeId, NodeId>,
}

impl Cotangents {
    pub(crate) fn get(&self, id: NodeId) -> Option<NodeId> {
        self.map.get(&id).copied()
    }

    pub(crate) fn add(&mut self, g: &mut Graph, id: NodeId, c: NodeId) -> Result<(), IrError> {
        if g.ty(id).shape != g.ty(c).shape {
            return Err(IrError(format!(
                "cotangent shape {} does not match node %{} of type {}",
                g.ty(c),
                id.index(),
                g.ty(id)
            )));
        }
        let v = match self.map.get(&id) {
            Some(old) => g.binary(BinaryOp::Add, *old, c)?,
            None => c,
        };
        self.map.insert(id, v);
        Ok(())
    }
}
