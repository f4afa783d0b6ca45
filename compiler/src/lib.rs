//! rlc's compiler: it turns `.rl` programs into dataflow graphs of primitive operations,
//! differentiates them, and runs them on the reference interpreter.
//!
//! Pipeline: [`syntax`] (pest grammar, AST with spans) → [`check`] (modules, imports, names)
//! → [`lower`] (tracing to IR graphs with static shapes: the type and shape checker) →
//! [`autodiff`] (reverse mode, graph to graph) → [`passes`] → [`interp`] and other backends.
//! [`builtins`] lists the builtin functions for both checking and lowering.
//! [`driver`] ties the stages together for the command line.

// Errors are rich diagnostics (spans, labels, hints) returned on the cold path; boxing them
// would only add noise to every `?`.
#![allow(clippy::result_large_err)]

pub mod autodiff;
pub mod backend;
pub mod builtin_docs;
pub mod builtins;
pub mod check;
pub mod diag;
pub mod driver;
pub mod env_spec;
pub mod interp;
pub mod ir;
pub mod lower;
pub mod passes;
pub mod random;
pub mod signature;
pub mod syntax;
