//! The reference interpreter: runs any graph, in f32 or in f64, node by node.
//!
//! It defines the semantics every other backend is tested against, so it is written to be
//! obviously right rather than fast (except matrix products, which use `matrixmultiply`).

mod eval;
mod init;
mod layout;
mod tensor;

pub use eval::{Evaluated, InterpError, eval};
pub use init::initial_state;
pub use tensor::{Buf, Real, Tensor};
