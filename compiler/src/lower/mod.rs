//! Lowering: tracing a checked algorithm into entry-point graphs with static shapes.
//!
//! The tracer evaluates the AST with real sizes (from the environment and hyperparameters),
//! emitting primitive IR nodes for tensor work; this is also where types and shapes are
//! checked. See [`entries::lower_algorithm`] for the order of the steps.

pub mod builtins;
mod call;
mod dists;
mod entries;
mod expr;
mod nets;
mod ops;
mod optim;
mod program;
mod schedule;
mod tracer;
mod value;

pub use entries::{BatchMode, Compiled, Entry, EntryKind, TargetRule, TargetSpec, lower_algorithm};
pub use expr::{Traced, trace_expression};
pub use optim::{OptKind, OptSpec};
pub use program::{LowerOptions, Lowerer};
pub use schedule::{DataSpec, ENV_FIELDS, FieldSource, FieldSpec, Schedule};
pub use tracer::Tracer;
pub use value::{Dist, FnRef, Tv, Value};
