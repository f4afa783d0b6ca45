//! Graphviz DOT output of graphs.

use super::graph::Graph;
use super::op::Op;
use super::print::attrs;
use super::state::StateTable;
use std::fmt::Write;

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The graph in DOT format (scan bodies appear as clusters).
pub fn to_dot(g: &Graph, name: &str, states: Option<&StateTable>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "digraph \"{}\" {{", escape(name));
    let _ = writeln!(
        out,
        "  rankdir=TB;\n  node [shape=box, fontname=\"monospace\", fontsize=10];"
    );
    write_nodes(&mut out, g, "n", states, 1);
    for (name, id) in &g.outputs {
        let _ = writeln!(out, "  \"out_{0}\" [label=\"{0}\", shape=ellipse];", escape(name));
        let _ = writeln!(out, "  n{} -> \"out_{}\";", id.index(), escape(name));
    }
    out.push_str("}\n");
    out
}

fn write_nodes(out: &mut String, g: &Graph, prefix: &str, states: Option<&StateTable>, depth: usize) {
    let pad = "  ".repeat(depth);
    for id in g.ids() {
        let node = g.node(id);
        let shape = match node.op {
            Op::Input { .. } | Op::State(_) => ", shape=ellipse, style=filled, fillcolor=\"#e8f0ff\"",
            Op::Assign(_) => ", shape=ellipse, style=filled, fillcolor=\"#ffe8e8\"",
            Op::MatMul => ", style=filled, fillcolor=\"#fff2cc\"",
            _ => "",
        };
        let label = format!(
            "%{} {}{}\\n{}",
            id.index(),
            node.op.name(),
            escape(&attrs(&node.op, states)),
            node.ty
        );
        let _ = writeln!(out, "{pad}{prefix}{} [label=\"{}\"{shape}];", id.index(), label);
        for a in &node.args {
            let _ = writeln!(out, "{pad}{prefix}{} -> {prefix}{};", a.index(), id.index());
        }
        if let Op::Scan(s) = &node.op {
            let sub = format!("{prefix}{}_", id.index());
            let _ = writeln!(out, "{pad}subgraph cluster_{sub} {{\n{pad}  label=\"scan body\";");
            write_nodes(out, &s.body, &sub, states, depth + 1);
            let _ = writeln!(out, "{pad}}}");
        }
    }
}
