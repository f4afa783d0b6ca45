//! The intermediate representation: graphs of primitive operations with static shapes.
//!
//! A [`Graph`] is a petgraph DAG whose nodes are [`Op`]s with one [`TensorType`] each.
//! Nodes are only ever appended and every operand is an earlier node, so index order is a
//! topological order; passes build new graphs instead of editing in place.
//! State (parameters, optimiser moments, target copies, counters) lives outside graphs, in a
//! [`StateTable`]; graphs read it with [`Op::State`] and write it with [`Op::Assign`]. All reads
//! see the values from before the call and all assignments take effect together at its end.

mod compose;
mod dot;
mod graph;
mod op;
mod print;
mod range;
mod routine;
mod state;
mod types;
mod verify;

pub use dot::to_dot;
pub use graph::{Graph, IrError, Node, NodeId, Origin};
pub use op::{BinaryOp, Op, RandomDist, ReduceOp, Scan, UnaryOp};
pub use print::{print_graph, print_graph_with_states, print_node};
// Every routine type, so that adding one does not touch this file.
pub use range::{IntRange, int_range};
pub use routine::*;
pub use state::{Init, StateId, StateKind, StateTable, StateVar};
pub use types::{DType, Shape, TensorType, broadcast_shapes};
pub use verify::verify;
