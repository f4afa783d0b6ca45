//! Commands that inspect the loaded program: its entry points, their IR before and after the
//! passes, Graphviz output and the state variables.

use super::args::{Failure, Res, find_entry, split_flags};
use crate::cli::repl::format::count;
use crate::cli::repl::session::{Reply, Session};
use rlc_compiler::backend::cost;
use rlc_compiler::diag::did_you_mean;
use rlc_compiler::ir::{Graph, Op, StateId, StateKind, print_graph_with_states, to_dot};
use rlc_compiler::lower::{Compiled, Entry, EntryKind};
use std::fmt::Write;

/// States read and written by a graph, in id order.
fn state_use(g: &Graph) -> (Vec<StateId>, Vec<StateId>) {
    let live = g.live();
    let mut reads = Vec::new();
    let mut writes = Vec::new();
    for id in g.ids() {
        match g.node(id).op {
            Op::State(s) if live[id.index()] => reads.push(s),
            Op::Assign(s) => writes.push(s),
            _ => {}
        }
    }
    reads.sort();
    reads.dedup();
    writes.sort();
    writes.dedup();
    (reads, writes)
}

/// Parameters by name and shape; optimiser state, targets and counters summarised by count.
fn state_list(p: &Compiled, ids: &[StateId]) -> String {
    if ids.is_empty() {
        return "(none)".into();
    }
    let mut items = Vec::new();
    let (mut opt, mut tgt, mut ctr) = (0, 0, 0);
    for i in ids {
        let v = p.states.get(*i);
        match v.kind {
            StateKind::Param { .. } | StateKind::Learnable => items.push(format!("{}: {}", v.name, v.ty)),
            StateKind::Program => items.push(format!("state {}: {}", v.name, v.ty)),
            StateKind::Rule { .. } => opt += 1,
            StateKind::Target { .. } => tgt += 1,
            StateKind::Counter | StateKind::IndexFault => ctr += 1,
        }
    }
    for (n, what) in [
        (tgt, "target tensors"),
        (opt, "optimiser tensors"),
        (ctr, "counters"),
    ] {
        if n > 0 {
            items.push(format!("{n} {what}"));
        }
    }
    items.join(", ")
}

fn kind_text(k: &EntryKind) -> String {
    match k {
        EntryKind::Act { policy } => format!("acts with policy `{policy}`"),
        EntryKind::Eval { policy } => format!("greedy evaluation with policy `{policy}`"),
        EntryKind::Train => "one training step: losses, gradients, optimiser steps, targets".into(),
        EntryKind::Derive { data } => format!("derives the fields of rollout `{data}` before training"),
        EntryKind::Net { net } => format!("applies net `{net}` to one item"),
    }
}

/// `:entries`: every entry point with its inputs, outputs and state use.
pub(super) fn entries(s: &mut Session, _rest: &str) -> Res {
    let p = s.program()?;
    let mut t = String::new();
    for e in &p.entries {
        let g = &e.graph;
        let _ = writeln!(t, "{} — {}", e.name, kind_text(&e.kind));
        let ins: Vec<String> = g
            .inputs
            .iter()
            .map(|i| format!("{}: {}", g.input_name(*i), g.ty(*i)))
            .collect();
        let outs: Vec<String> = g
            .outputs
            .iter()
            .map(|(n, o)| format!("{n}: {}", g.ty(*o)))
            .collect();
        let _ = writeln!(
            t,
            "  inputs   {}",
            if ins.is_empty() {
                "(none)".into()
            } else {
                ins.join(", ")
            }
        );
        let _ = writeln!(
            t,
            "  outputs  {}",
            if outs.is_empty() {
                "(none)".into()
            } else {
                outs.join(", ")
            }
        );
        let (reads, writes) = state_use(g);
        let _ = writeln!(t, "  reads    {}", state_list(p, &reads));
        let _ = writeln!(t, "  writes   {}", state_list(p, &writes));
    }
    Ok(Reply::ok(t))
}

/// The graph of `entry` after the first `upto` passes.
fn after_passes(e: &Entry, upto: usize) -> Result<Graph, Reply> {
    let passes = rlc_compiler::passes::pipeline();
    rlc_compiler::passes::run_pipeline(&e.graph, &passes[..upto])
        .map(|mut v| v.pop().map_or_else(|| e.graph.clone(), |(_, g)| g))
        .map_err(|err| Reply::err(format!("error: {err}")))
}

fn pass_index(name: &str) -> Result<usize, Reply> {
    let passes = rlc_compiler::passes::pipeline();
    if name == "all" {
        return Ok(passes.len());
    }
    match passes.iter().position(|p| p.name == name) {
        Some(i) => Ok(i + 1),
        None => {
            let names: Vec<&str> = passes.iter().map(|p| p.name).collect();
            let mut t = format!("error: unknown pass `{name}`\n");
            if let Some(h) = did_you_mean(name, names.iter().copied()) {
                let _ = writeln!(t, "  help: {h}");
            }
            let _ = writeln!(t, "  note: passes: {}, all", names.join(", "));
            Err(Reply::err(t))
        }
    }
}

/// `:show ENTRY [--after PASS]`: the IR of an entry point.
pub(super) fn show(s: &mut Session, rest: &str) -> Res {
    let (pos, flags) = split_flags(rest, &["after"])?;
    let [name] = pos[..] else {
        return Err(Failure::Usage);
    };
    let p = s.program()?;
    let e = find_entry(p, name)?;
    let upto = match flags.get("after") {
        Some(pass) => pass_index(pass)?,
        None => 0,
    };
    let g = after_passes(e, upto)?;
    Ok(Reply::ok(print_graph_with_states(&g, &e.name, &p.states)))
}

/// `:passes ENTRY`: node counts before and after each pass.
pub(super) fn passes(s: &mut Session, rest: &str) -> Res {
    let [name] = rest.split_whitespace().collect::<Vec<_>>()[..] else {
        return Err(Failure::Usage);
    };
    let p = s.program()?;
    let e = find_entry(p, name)?;
    let pipeline = rlc_compiler::passes::pipeline();
    let steps = rlc_compiler::passes::run_pipeline(&e.graph, &pipeline)
        .map_err(|err| Reply::err(format!("error: {err}")))?;
    let live = |g: &Graph| g.live().iter().filter(|x| **x).count();
    let mut t = format!(
        "{}: {} nodes ({} needed) before the passes\n",
        e.name,
        e.graph.len(),
        live(&e.graph)
    );
    let _ = writeln!(t, "  {:<6} {:>7} {:>7}  what", "pass", "before", "after");
    let mut before = e.graph.len();
    for (pass, (_, g)) in pipeline.iter().zip(&steps) {
        let _ = writeln!(
            t,
            "  {:<6} {:>7} {:>7}  {}",
            pass.name,
            before,
            g.len(),
            pass.about
        );
        before = g.len();
    }
    if let Some((_, last)) = steps.last() {
        let f = cost::flops(last);
        let _ = writeln!(
            t,
            "after all passes: {} nodes, {} matrix products, {} FLOPs per call",
            last.len(),
            cost::matmul_shapes(last).len(),
            count(f.total as usize)
        );
    }
    Ok(Reply::ok(t))
}

/// `:dot ENTRY PATH`: writes the entry point's graph as Graphviz DOT.
pub(super) fn dot(s: &mut Session, rest: &str) -> Res {
    let [name, path] = rest.split_whitespace().collect::<Vec<_>>()[..] else {
        return Err(Failure::Usage);
    };
    let p = s.program()?;
    let e = find_entry(p, name)?;
    let text = to_dot(&e.graph, &e.name, Some(&p.states));
    std::fs::write(path, &text).map_err(|err| Reply::err(format!("error: cannot write `{path}`: {err}")))?;
    Ok(Reply::ok(format!(
        "wrote {path} ({} nodes; render with `dot -Tsvg {path} -o {name}.svg`)",
        e.graph.len()
    )))
}

/// `:params`: every state variable, grouped by the net it belongs to.
pub(super) fn params(s: &mut Session, _rest: &str) -> Res {
    let p = s.program()?;
    // Group every state variable under the net (or target, or learnable) it belongs to.
    let owner = |id: StateId| -> String {
        let mut id = id;
        loop {
            match &p.states.get(id).kind {
                StateKind::Param { net } => return format!("net {net}"),
                StateKind::Learnable => return "learnable scalars".into(),
                StateKind::Program => return "program state".into(),
                StateKind::Target { target, .. } => return format!("target {target}"),
                StateKind::Rule { of: Some(of), .. } => id = *of,
                // Shared state of a rule (Adam's step count), named `opt/UPDATE/RULE.SLOT`.
                StateKind::Rule { rule, of: None, .. } => {
                    let name = &p.states.get(id).name;
                    let update = name
                        .strip_prefix("opt/")
                        .and_then(|r| r.rsplit_once('/'))
                        .map_or(name.as_str(), |(u, _)| u);
                    return format!("update {update} by {rule}");
                }
                StateKind::Counter | StateKind::IndexFault => return "counters".into(),
            }
        }
    };
    let mut groups: Vec<(String, Vec<StateId>)> = Vec::new();
    for (id, _) in p.states.iter() {
        let o = owner(id);
        match groups.iter_mut().find(|(g, _)| *g == o) {
            Some((_, v)) => v.push(id),
            None => groups.push((o, vec![id])),
        }
    }
    let mut t = String::new();
    let (mut trainable, mut optim, mut target) = (0, 0, 0);
    for (g, ids) in &groups {
        let role = |id: StateId| match &p.states.get(id).kind {
            StateKind::Param { .. } | StateKind::Learnable => "parameter".to_string(),
            StateKind::Rule { rule, .. } => format!("rule {rule}"),
            StateKind::Target { .. } => "target".into(),
            StateKind::Counter | StateKind::IndexFault => "counter".into(),
            StateKind::Program => "state".into(),
        };
        let n: usize = ids
            .iter()
            .filter(|i| role(**i) == "parameter")
            .map(|i| p.states.get(*i).ty.numel())
            .sum();
        let values: usize = ids.iter().map(|i| p.states.get(*i).ty.numel()).sum();
        if n > 0 {
            let _ = writeln!(t, "{g}: {} parameters", count(n));
        } else {
            let _ = writeln!(t, "{g}: {} values", count(values));
        }
        for id in ids {
            let v = p.states.get(*id);
            let k = v.ty.numel();
            match &v.kind {
                StateKind::Param { .. } | StateKind::Learnable => trainable += k,
                StateKind::Rule { .. } => optim += k,
                StateKind::Target { .. } => target += k,
                _ => {}
            }
            let _ = writeln!(
                t,
                "  {:<28} {:<14} {:>9}  {}",
                v.name,
                v.ty.to_string(),
                count(k),
                role(*id)
            );
        }
    }
    let _ = writeln!(
        t,
        "total: {} parameters, {} optimiser values, {} target values",
        count(trainable),
        count(optim),
        count(target)
    );
    Ok(Reply::ok(t))
}
