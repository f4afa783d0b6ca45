//! The small enums that choose between related builtins' lowerings.

use crate::ir::{BinaryOp, Graph, IrError, NodeId};

/// Elementwise `maximum` or `minimum`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Extremum {
    Max,
    Min,
}

impl Extremum {
    /// The name in messages.
    pub(super) fn name(self) -> &'static str {
        match self {
            Extremum::Max => "max",
            Extremum::Min => "min",
        }
    }

    /// Builds it on equal-shaped operands (`min` is a composite of `max`).
    pub(super) fn build(self, g: &mut Graph, a: NodeId, b: NodeId) -> Result<NodeId, IrError> {
        match self {
            Extremum::Max => g.binary(BinaryOp::Max, a, b),
            Extremum::Min => g.min(a, b),
        }
    }
}

/// The reductions `sum`, `mean`, `max` and `min`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Reduction {
    Sum,
    Mean,
    Max,
    Min,
}
