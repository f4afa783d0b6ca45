//! Lowering: tracing a checked algorithm into entry-point graphs with static shapes.
//!
//! The tracer evaluates the AST with real sizes (from the environment and hyperparameters),
//! emitting primitive IR nodes for tensor work; this is also where types and shapes are
//! checked. See [`entries::lower_algorithm`] for the order of the steps.
//!
//! Imports have no cycles. At the bottom, `value` (traced values) and `builder` (span-aware
//! node emission and composites over [`crate::ir`], where IR errors become diagnostics);
//! `args` binds builtin arguments; `tracer` defines the [`Tracer`]; the expression modules
//! (`operators`, `index`, `fields`, `loops`, `convert`, `call`, `nets`, `dists`, `builtins`)
//! add methods to it; the declaration modules (`states`, `targets`, `policy`, `derive`,
//! `update`, `rule`, `train`, `schedule`) lower declarations with it, and `entries` drives
//! them. Builtin names live in [`crate::builtins`], below both checking and lowering.

mod args;
mod bounds;
pub mod budget;
mod builder;
mod builtins;
mod call;
mod convert;
mod derive;
mod dists;
mod entries;
mod expr;
mod fields;
mod index;
mod loops;
mod metrics;
mod nets;
mod noise;
mod operators;
mod optim;
mod policy;
mod program;
mod program_state;
mod reevaluate;
mod rule;
mod schedule;
mod states;
mod targets;
mod time_axis;
mod tracer;
mod train;
mod train_options;
mod update;
mod value;

pub use bounds::{INDEX_FAULT_STATE, IndexCheck};
pub use entries::{Compiled, Entry, EntryKind, lower_algorithm};
pub use expr::{Traced, trace_expression};
pub use noise::Noise;
pub use program::{LowerOptions, Lowerer};
pub use rule::RULE_LISTS;
pub use schedule::{DataSpec, FieldSource, FieldSpec, Schedule};
pub use targets::TargetSpec;
pub use tracer::Tracer;
pub use train::BatchMode;
pub use value::{Dist, FnRef, Tv, Value};
