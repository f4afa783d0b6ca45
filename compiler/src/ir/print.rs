//! Text dumps of graphs, one node per line, readable like a jaxpr.

use super::graph::{Graph, NodeId};
use super::op::Op;
use super::state::{StateId, StateTable};
use std::fmt::Write;

/// Prints a graph; state variables are shown by number.
pub fn print_graph(g: &Graph, name: &str) -> String {
    let mut out = String::new();
    write_graph(&mut out, g, name, None, 0);
    out
}

/// Prints a graph with state variables shown by name.
pub fn print_graph_with_states(g: &Graph, name: &str, states: &StateTable) -> String {
    let mut out = String::new();
    write_graph(&mut out, g, name, Some(states), 0);
    out
}

fn state_name(id: StateId, states: Option<&StateTable>) -> String {
    match states {
        Some(t) if (id.0 as usize) < t.len() => t.get(id).name.clone(),
        _ => format!("state#{}", id.0),
    }
}

fn fmt_value(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

/// The attribute part of an op, e.g. `[axes=0,1]`.
pub(crate) fn attrs(op: &Op, states: Option<&StateTable>) -> String {
    match op {
        Op::Input { name } => format!(" {name}"),
        Op::Const { values } => {
            if values.len() == 1 {
                format!(" {}", fmt_value(values[0]))
            } else if values.len() <= 8 {
                format!(
                    " [{}]",
                    values
                        .iter()
                        .map(|v| fmt_value(*v))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            } else {
                format!(" [{}, ... {} values]", fmt_value(values[0]), values.len())
            }
        }
        Op::Iota { axis } => format!("[axis={axis}]"),
        Op::State(id) | Op::Assign(id) => format!(" {}", state_name(*id, states)),
        Op::Random { stream, .. } => format!("[stream={stream}]"),
        Op::Reduce { axes, .. } => {
            format!(
                "[axes={}]",
                axes.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(",")
            )
        }
        Op::Transpose { perm } => {
            format!(
                "[perm={}]",
                perm.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(",")
            )
        }
        Op::Concat { axis } | Op::Take { axis } | Op::ScatterAdd { axis } => format!("[axis={axis}]"),
        Op::Slice { axis, start, end } => format!("[axis={axis}, {start}:{end}]"),
        Op::Scan(s) => format!(
            "[length={}{}, carries={}]",
            s.length,
            if s.reverse { ", reverse" } else { "" },
            s.n_carry
        ),
        Op::Project { index } => format!("[{index}]"),
        Op::Routine(r) => r.definition().attrs(),
        Op::Unary(_)
        | Op::Binary(_)
        | Op::Select
        | Op::Cast
        | Op::MatMul
        | Op::Reshape
        | Op::Broadcast
        | Op::StopGrad => String::new(),
    }
}

fn write_graph(out: &mut String, g: &Graph, name: &str, states: Option<&StateTable>, indent: usize) {
    let pad = "  ".repeat(indent);
    let params: Vec<String> = g
        .inputs
        .iter()
        .map(|i| format!("%{} {}: {}", i.index(), g.input_name(*i), g.ty(*i)))
        .collect();
    let _ = writeln!(out, "{pad}{name}({}) {{", params.join(", "));
    for id in g.ids() {
        let node = g.node(id);
        if matches!(node.op, Op::Input { .. }) {
            continue;
        }
        let line = node_line(g, id, states);
        let _ = writeln!(out, "{pad}  {line}");
        if let Op::Scan(s) = &node.op {
            write_graph(out, &s.body, "body", states, indent + 2);
        }
    }
    let rets: Vec<String> = g
        .outputs
        .iter()
        .map(|(n, id)| format!("{n} = %{}", id.index()))
        .collect();
    if !rets.is_empty() {
        let _ = writeln!(out, "{pad}  return {}", rets.join(", "));
    }
    let _ = writeln!(out, "{pad}}}");
}

/// One node as a dump line (`%12 = log %11 : f32[256]  # label`), without its scan body.
pub fn print_node(g: &Graph, id: NodeId, states: Option<&StateTable>) -> String {
    node_line(g, id, states)
}

fn node_line(g: &Graph, id: NodeId, states: Option<&StateTable>) -> String {
    let node = g.node(id);
    let args: Vec<String> = node.args.iter().map(|a| format!("%{}", a.index())).collect();
    let label = node
        .label
        .as_ref()
        .map(|l| format!("  # {l}"))
        .unwrap_or_default();
    let line = match &node.op {
        Op::Assign(_) => format!("{}{} {}", node.op.name(), attrs(&node.op, states), args.join(" ")),
        Op::Scan(_) => format!(
            "%{} = {}{} {}",
            id.index(),
            node.op.name(),
            attrs(&node.op, states),
            args.join(" ")
        ),
        _ => format!(
            "%{} = {}{}{}{} : {}",
            id.index(),
            node.op.name(),
            attrs(&node.op, states),
            if args.is_empty() { "" } else { " " },
            args.join(" "),
            node.ty
        ),
    };
    format!("{line}{label}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{BinaryOp, TensorType};

    #[test]
    fn prints_one_line_per_node() {
        let mut g = Graph::new();
        let x = g.input("x", TensorType::f32(vec![2]));
        let c = g.scalar(2.0);
        let c = g.broadcast_to(c, &[2]).unwrap();
        let y = g.binary(BinaryOp::Mul, x, c).unwrap();
        g.output("y", y);
        let text = print_graph(&g, "f");
        assert_eq!(
            text,
            "f(%0 x: f32[2]) {\n  %1 = const 2.0 : f32[]\n  %2 = broadcast %1 : f32[2]\n  %3 = mul %0 %2 : f32[2]\n  return y = %3\n}\n"
        );
    }
}
