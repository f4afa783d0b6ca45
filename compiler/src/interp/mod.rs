//! The reference interpreter: runs any graph, in f32 or in f64, node by node.
//!
//! It defines the semantics every other backend is tested against, so it is written to be
//! obviously right rather than fast (except matrix products, which use `matrixmultiply`).

mod eval;
mod init;
mod layout;
mod scalar;
mod tensor;

pub use eval::{Evaluated, InterpError, eval, non_finite_source};
pub use init::initial_state;
pub use scalar::{
    eval_binary, eval_binary_i32, eval_compare, eval_logical, eval_unary, reduce_init, reduce_init_i32,
    reduce_step, reduce_step_i32,
};
pub use tensor::{Buf, Real, Tensor};
