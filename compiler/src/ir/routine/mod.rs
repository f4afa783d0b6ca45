//! Routines: primitives that are not elementwise, reductions or layout — sorting, small
//! linear algebra — each defined completely in one file of this folder.
//!
//! A routine's file holds everything about it: its typing rule ([`Definition::output_type`]),
//! its reference evaluation ([`Definition::eval`]), its gradient ([`Definition::vjp`]) and its
//! cost. No backend has code for a particular routine: the interpreter calls `eval`, the JIT
//! calls `eval` on the host through one generic helper, and OpenCL reads the operands back,
//! calls `eval` and writes the result (see `backend/routine.rs`). That makes a routine the
//! cheapest kind of primitive to add — a new file here and one line per `match` below — at the
//! price of running on the host in f64: routines are for small, non-fusible operations whose
//! cost is dominated by the arithmetic around them.
//!
//! Adding a routine: write `my_routine.rs` with a type implementing [`Definition`], add a
//! variant to [`Routine`] and its arm to [`Routine::definition`]; then expose it as a builtin
//! (`builtins.rs` and `lower/builtins/`). See ARCHITECTURE.md, "How to add a primitive".

mod argsort;
mod cholesky;
mod solve;

pub use argsort::Argsort;
pub use cholesky::Cholesky;
pub use solve::Solve;

use super::graph::{Graph, IrError, NodeId};
use super::types::TensorType;

/// One operand of a routine's reference evaluation: its type and its elements in row-major
/// order as f64 (exact for every f32, i32 and bool value; booleans are 0 and 1).
#[derive(Clone, Copy, Debug)]
pub struct HostArg<'a> {
    /// The operand's type.
    pub ty: &'a TensorType,
    /// Its elements.
    pub data: &'a [f64],
}

/// Everything that defines a routine.
pub trait Definition {
    /// Name in dumps, e.g. `argsort`.
    fn name(&self) -> &'static str;

    /// Attributes shown in dumps after the name, e.g. `[axis=1, descending]`.
    fn attrs(&self) -> String;

    /// The typing rule: the result type for these operand types, or why they are invalid.
    fn output_type(&self, args: &[&TensorType]) -> Result<TensorType, String>;

    /// The reference evaluation: the result's elements (row-major, as f64) for operands that
    /// passed the typing rule. Every backend computes exactly this.
    fn eval(&self, args: &[HostArg<'_>], out: &TensorType) -> Vec<f64>;

    /// Positions of the operands the result is differentiable in.
    fn differentiable(&self, n_args: usize) -> Vec<usize>;

    /// The gradient: given the node `y` computed by this routine from `args` and the
    /// cotangent `g` of `y`, the cotangents of the differentiable operands as
    /// `(operand position, node)`, built into `gr` from primitives.
    fn vjp(
        &self,
        gr: &mut Graph,
        args: &[NodeId],
        y: NodeId,
        g: NodeId,
    ) -> Result<Vec<(usize, NodeId)>, IrError>;

    /// Estimated floating-point work of one evaluation (for `rlc bench` and cost reports).
    fn flops(&self, args: &[&TensorType], out: &TensorType) -> u64;
}

/// A routine with its parameters. A closed enum, so that graphs stay plain data (comparable
/// for common-subexpression elimination, printable, clonable).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Routine {
    /// Indices that sort an axis; see [`Argsort`].
    Argsort(Argsort),
    /// The solution of a small linear system; see [`Solve`].
    Solve(Solve),
    /// The Cholesky factor of a small positive-definite matrix; see [`Cholesky`].
    Cholesky(Cholesky),
}

impl Routine {
    /// The routine's definition.
    pub fn definition(&self) -> &dyn Definition {
        match self {
            Routine::Argsort(r) => r,
            Routine::Solve(r) => r,
            Routine::Cholesky(r) => r,
        }
    }
}

impl Graph {
    /// A routine applied to `args` (its result type comes from its typing rule).
    pub fn routine(&mut self, routine: Routine, args: &[NodeId]) -> Result<NodeId, IrError> {
        let ty = {
            let tys: Vec<&TensorType> = args.iter().map(|a| self.ty(*a)).collect();
            routine
                .definition()
                .output_type(&tys)
                .map_err(|e| IrError(format!("{}: {e}", routine.definition().name())))?
        };
        self.add(super::op::Op::Routine(routine), args, ty)
    }
}
