//! The small enums that choose between related builtins' lowerings.

use crate::ir::BinaryOp;

/// Elementwise `maximum` or `minimum`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Extremum {
    Max,
    Min,
}

impl Extremum {
    pub(super) fn op(self) -> BinaryOp {
        match self {
            Extremum::Max => BinaryOp::Max,
            Extremum::Min => BinaryOp::Min,
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
