//! The REPL's commands: a table (name, usage, help) and one function per command.

use super::Flow;
use super::format::{count, num, tensor};
use super::session::{Loaded, Reply, Session};
use crate::cli::CompileArgs;
use rlc_compiler::backend::{self, BACKENDS, cost};
use rlc_compiler::diag::{Code, did_you_mean};
use rlc_compiler::interp::{Tensor, eval as interp_eval, initial_state};
use rlc_compiler::ir::{DType, Graph, NodeId, Op, StateId, StateKind, print_graph_with_states, to_dot};
use rlc_compiler::lower::{Compiled, Entry, EntryKind, Traced};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

/// One command.
pub struct Command {
    /// Name with the colon.
    pub name: &'static str,
    /// Arguments.
    pub usage: &'static str,
    /// What it does.
    pub help: &'static str,
}

/// Every command, in `:help` order.
pub const COMMANDS: &[Command] = &[
    Command {
        name: ":load",
        usage: "FILE",
        help: "load and compile a program (the session's --env and :set apply)",
    },
    Command {
        name: ":reload",
        usage: "",
        help: "re-read the loaded file after editing it, keeping the settings",
    },
    Command {
        name: ":entries",
        usage: "",
        help: "every entry point with its inputs, outputs and state, shapes included",
    },
    Command {
        name: ":show",
        usage: "ENTRY [--after PASS]",
        help: "the IR of an entry point, optionally after a pass (fold, cse, dce, all)",
    },
    Command {
        name: ":passes",
        usage: "ENTRY",
        help: "the pass pipeline with node counts before and after each pass",
    },
    Command {
        name: ":dot",
        usage: "ENTRY PATH",
        help: "write the graph of an entry point as Graphviz DOT",
    },
    Command {
        name: ":params",
        usage: "",
        help: "parameters, optimiser moments, target copies and learnables, by net",
    },
    Command {
        name: ":grad",
        usage: "LOSS",
        help: "which parameters a loss reaches, and its gradient graph",
    },
    Command {
        name: ":eval",
        usage: "EXPR",
        help: "evaluate an expression (a line without a colon does the same)",
    },
    Command {
        name: ":time",
        usage: "ENTRY [--backend NAME]",
        help: "median µs per call and GFLOP/s of an entry point",
    },
    Command {
        name: ":code",
        usage: "ENTRY [--backend NAME]",
        help: "the code a backend generated for an entry point",
    },
    Command {
        name: ":set",
        usage: "[NAME=VALUE]",
        help: "change a hyperparameter and recompile; alone, list them",
    },
    Command {
        name: ":env",
        usage: "ID",
        help: "compile for another environment",
    },
    Command {
        name: ":backend",
        usage: "[NAME]",
        help: "the backend :time and :code use (jit, interp)",
    },
    Command {
        name: ":help",
        usage: "[COMMAND]",
        help: "this list, or one command's help",
    },
    Command {
        name: ":quit",
        usage: "",
        help: "leave (also :q or end of input)",
    },
];

/// Runs one non-empty line.
pub fn dispatch(s: &mut Session, line: &str) -> Reply {
    let Some(cmd_line) = line.strip_prefix(':') else {
        return eval(s, line).unwrap_or_else(|e| e);
    };
    let (name, rest) = match cmd_line.split_once(char::is_whitespace) {
        Some((n, r)) => (n, r.trim()),
        None => (cmd_line, ""),
    };
    let r = match name {
        "load" | "l" => load(s, rest),
        "reload" | "r" => reload(s),
        "entries" => entries(s),
        "show" => show(s, rest),
        "passes" => passes(s, rest),
        "dot" => dot(s, rest),
        "params" => params(s),
        "grad" => grad(s, rest),
        "eval" | "e" => eval(s, rest),
        "time" => time(s, rest),
        "code" => code(s, rest),
        "set" => set(s, rest),
        "env" => env(s, rest),
        "backend" => set_backend(s, rest),
        "help" | "h" | "?" => Ok(help(rest)),
        "quit" | "q" | "exit" => {
            return Reply {
                flow: Flow::Quit,
                ..Reply::ok("")
            };
        }
        other => {
            let mut t = format!("error: unknown command `:{other}`\n");
            let names = COMMANDS.iter().map(|c| &c.name[1..]);
            if let Some(h) = did_you_mean(other, names) {
                let _ = writeln!(t, "  help: {}", h.replacen('`', "`:", 1));
            }
            t.push_str("  note: `:help` lists the commands\n");
            Err(Reply::err(t))
        }
    };
    r.unwrap_or_else(|e| e)
}

type Res = Result<Reply, Reply>;

fn usage(name: &str) -> Reply {
    let c = COMMANDS.iter().find(|c| c.name == name).expect("known command");
    Reply::err(format!("error: usage: {} {}", c.name, c.usage))
}

fn help(rest: &str) -> Reply {
    let want = rest.trim_start_matches(':');
    if !want.is_empty() {
        return match COMMANDS.iter().find(|c| &c.name[1..] == want) {
            Some(c) => Reply::ok(format!("{} {}\n  {}", c.name, c.usage, c.help)),
            None => Reply::err(format!("error: no command `:{want}`")),
        };
    }
    let mut t = String::from("commands:\n");
    for c in COMMANDS {
        let _ = writeln!(t, "  {:<32} {}", format!("{} {}", c.name, c.usage), c.help);
    }
    t.push_str("a line without a leading colon is evaluated as an expression, e.g.\n");
    t.push_str("  gae([1, 1, 1], [0.9, 0.9, 0.9], [0, 0, 0, 0], 0.95)\n");
    Reply::ok(t)
}

/// Splits `ARGS --flag VALUE` into positional words and flag values.
fn split_flags<'a>(
    rest: &'a str,
    flags: &[&str],
) -> Result<(Vec<&'a str>, BTreeMap<String, &'a str>), Reply> {
    let mut pos = Vec::new();
    let mut vals = BTreeMap::new();
    let mut words = rest.split_whitespace();
    while let Some(w) = words.next() {
        if let Some(f) = w.strip_prefix("--") {
            if !flags.contains(&f) {
                return Err(Reply::err(format!(
                    "error: unknown option `--{f}`{}",
                    if flags.is_empty() {
                        String::new()
                    } else {
                        format!(" (options: --{})", flags.join(", --"))
                    }
                )));
            }
            let Some(v) = words.next() else {
                return Err(Reply::err(format!("error: `--{f}` needs a value")));
            };
            vals.insert(f.to_string(), v);
        } else {
            pos.push(w);
        }
    }
    Ok((pos, vals))
}

fn find_entry<'a>(p: &'a Compiled, name: &str) -> Result<&'a Entry, Reply> {
    p.entry(name).ok_or_else(|| {
        let names: Vec<&str> = p.entries.iter().map(|e| e.name.as_str()).collect();
        let mut t = format!("error: `{}` has no entry point `{name}`\n", p.name);
        if let Some(h) = did_you_mean(name, names.iter().copied()) {
            let _ = writeln!(t, "  help: {h}");
        }
        let _ = writeln!(t, "  note: entry points: {}", names.join(", "));
        Reply::err(t)
    })
}

fn load(s: &mut Session, rest: &str) -> Res {
    if rest.is_empty() {
        return Err(usage(":load"));
    }
    let r = s.load(Path::new(rest));
    if r.failed { Err(r) } else { Ok(r) }
}

fn reload(s: &mut Session) -> Res {
    let Some(file) = s.loaded.as_ref().map(|l| l.file.clone()) else {
        return Err(Reply::err(
            "error: nothing to reload\n  help: `:load FILE` loads a program",
        ));
    };
    let r = s.load(&file);
    if r.failed { Err(r) } else { Ok(r) }
}

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
            StateKind::Optimiser { .. } => opt += 1,
            StateKind::Target { .. } => tgt += 1,
            StateKind::Counter => ctr += 1,
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

fn entries(s: &mut Session) -> Res {
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

fn show(s: &mut Session, rest: &str) -> Res {
    let (pos, flags) = split_flags(rest, &["after"])?;
    let [name] = pos[..] else {
        return Err(usage(":show"));
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

fn passes(s: &mut Session, rest: &str) -> Res {
    let [name] = rest.split_whitespace().collect::<Vec<_>>()[..] else {
        return Err(usage(":passes"));
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

fn dot(s: &mut Session, rest: &str) -> Res {
    let [name, path] = rest.split_whitespace().collect::<Vec<_>>()[..] else {
        return Err(usage(":dot"));
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

fn params(s: &mut Session) -> Res {
    let p = s.program()?;
    // Group every state variable under the net (or target, or learnable) it belongs to.
    let owner = |id: StateId| -> String {
        let mut id = id;
        loop {
            match &p.states.get(id).kind {
                StateKind::Param { net } => return format!("net {net}"),
                StateKind::Learnable => return "learnable scalars".into(),
                StateKind::Target { target, .. } => return format!("target {target}"),
                StateKind::Optimiser { of, .. } => id = *of,
                StateKind::Counter => return "counters".into(),
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
            StateKind::Param { .. } | StateKind::Learnable => "parameter",
            StateKind::Optimiser { .. } => "optimiser",
            StateKind::Target { .. } => "target",
            StateKind::Counter => "counter",
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
            match role(*id) {
                "parameter" => trainable += k,
                "optimiser" => optim += k,
                "target" => target += k,
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

/// Parameters (net parameters and learnables) `root` depends on through differentiable
/// operations: a backwards walk that does not cross `stop`. Also returns the nodes the walk
/// visited (those on differentiable paths).
fn reached_params(g: &Graph, p: &Compiled, root: NodeId) -> (Vec<NodeId>, Vec<bool>) {
    let mut seen = vec![false; g.len()];
    let mut stack = vec![root];
    let mut out = Vec::new();
    while let Some(n) = stack.pop() {
        if std::mem::replace(&mut seen[n.index()], true) {
            continue;
        }
        match &g.node(n).op {
            Op::StopGrad => continue,
            Op::State(s)
                if matches!(
                    p.states.get(*s).kind,
                    StateKind::Param { .. } | StateKind::Learnable
                ) =>
            {
                out.push(n)
            }
            _ => {}
        }
        if g.ty(n).dtype == DType::F32 {
            stack.extend(g.args(n).iter().copied());
        }
    }
    out.sort_by_key(|n| match g.node(*n).op {
        Op::State(s) => s,
        _ => StateId(u32::MAX),
    });
    (out, seen)
}

/// How many distinct operations use `param` on differentiable paths to the loss: each
/// application of a net reads its weights once, so 2 means the loss goes through the net twice.
fn applications(g: &Graph, param: NodeId, on_path: &[bool]) -> usize {
    let mut users: Vec<NodeId> = g
        .users(param)
        .map(|(u, _)| u)
        .filter(|u| on_path[u.index()] && !matches!(g.node(*u).op, Op::StopGrad))
        .collect();
    users.sort();
    users.dedup();
    users.len()
}

/// Nets and learnables that `update ... on LOSS` declarations change.
fn updated_by(s: &Session, loss: &str) -> Vec<String> {
    let Some(l) = &s.loaded else { return Vec::new() };
    let ast = &l.driver.mods.get(l.module).ast;
    let Some(alg) = ast.algorithms.first() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for d in &alg.decls {
        if let rlc_compiler::syntax::ast::Decl::Update(u) = d
            && u.loss.name == loss
        {
            out.extend(u.targets.iter().map(|t| t.name.clone()));
        }
    }
    out
}

fn grad(s: &mut Session, rest: &str) -> Res {
    let [name] = rest.split_whitespace().collect::<Vec<_>>()[..] else {
        return Err(usage(":grad"));
    };
    let p = s.program()?;
    let Some(train) = p.entry("train") else {
        return Err(Reply::err(format!("error: `{}` has no training step", p.name)));
    };
    if !p.losses.iter().any(|l| l == name) {
        let mut t = format!("error: `{}` has no loss `{name}`\n", p.name);
        if let Some(h) = did_you_mean(name, p.losses.iter().map(String::as_str)) {
            let _ = writeln!(t, "  help: {h}");
        }
        let _ = writeln!(t, "  note: losses: {}", p.losses.join(", "));
        return Err(Reply::err(t));
    }
    let mut g =
        rlc_compiler::passes::optimize(&train.graph).map_err(|e| Reply::err(format!("error: {e}")))?;
    let Some(loss) = g.find_output(&format!("loss/{name}")) else {
        return Err(Reply::err(format!(
            "error: the training step does not compute `{name}`"
        )));
    };
    let (wrt, on_path) = reached_params(&g, p, loss);
    let mut t = String::new();
    if wrt.is_empty() {
        let _ = writeln!(
            t,
            "`{name}` reaches no parameter: every path to one goes through `stop` or a non-float value"
        );
        return Ok(Reply::ok(t));
    }
    let state_of = |g: &Graph, n: NodeId| match g.node(n).op {
        Op::State(s) => s,
        _ => unreachable!("reached_params returns state reads"),
    };
    // (net, tensors, values, applications on differentiable paths)
    let mut by_net: Vec<(String, usize, usize, usize)> = Vec::new();
    for n in &wrt {
        let v = p.states.get(state_of(&g, *n));
        let net = match &v.kind {
            StateKind::Param { net } => net.clone(),
            _ => v.name.clone(),
        };
        let apps = applications(&g, *n, &on_path);
        match by_net.iter_mut().find(|(k, _, _, _)| *k == net) {
            Some((_, c, e, a)) => {
                *c += 1;
                *e += v.ty.numel();
                *a = (*a).max(apps);
            }
            None => by_net.push((net, 1, v.ty.numel(), apps)),
        }
    }
    let updated = updated_by(s, name);
    let _ = writeln!(t, "`{name}` reaches {} parameter tensors:", wrt.len());
    for (net, c, e, a) in &by_net {
        let how = if updated.contains(net) {
            "updated by this loss"
        } else {
            "gradient flows through, but no `update ... on` this loss changes it"
        };
        let times = if *a > 1 {
            format!(", differentiated through {a} applications")
        } else {
            String::new()
        };
        let _ = writeln!(t, "  {net}: {c} tensors, {} values{times}  ({how})", count(*e));
    }
    if by_net
        .iter()
        .any(|(net, _, _, a)| *a > 1 && updated.contains(net))
    {
        t.push_str("  note: a net updated by this loss is differentiated through more than once; if one\n");
        t.push_str("        application is a bootstrap target, it needs `stop(...)` or a target net\n");
    }
    for net in updated
        .iter()
        .filter(|u| !by_net.iter().any(|(n, _, _, _)| n == *u))
    {
        let _ = writeln!(
            t,
            "  {net}: updated by this loss, but the loss does not reach it (its gradient is zero)"
        );
    }
    let grads =
        rlc_compiler::autodiff::grad(&mut g, loss, &wrt).map_err(|e| Reply::err(format!("error: {e}")))?;
    // Keep only what the gradients need: drop the other outputs and every assignment.
    g.outputs = wrt
        .iter()
        .zip(&grads)
        .filter_map(|(n, d)| d.map(|d| (format!("d/{}", p.states.get(state_of(&g, *n)).name), d)))
        .collect();
    let needed = {
        let mut live = vec![false; g.len()];
        let mut stack: Vec<NodeId> = g.outputs.iter().map(|(_, id)| *id).collect();
        while let Some(n) = stack.pop() {
            if !std::mem::replace(&mut live[n.index()], true) {
                stack.extend(g.args(n).iter().copied());
            }
        }
        live
    };
    let (pruned, _) = g.rebuild(|id| needed[id.index()], |_, _, _, _| None);
    let pruned = rlc_compiler::passes::optimize(&pruned).map_err(|e| Reply::err(format!("error: {e}")))?;
    let _ = writeln!(t, "gradient graph ({} nodes):", pruned.len());
    t.push_str(&print_graph_with_states(
        &pruned,
        &format!("grad_{name}"),
        &p.states,
    ));
    Ok(Reply::ok(t))
}

/// Evaluates an expression in the loaded program's scope (nets at their initial
/// parameters), falling back to the standard library's scope for names the program does
/// not import.
fn eval(s: &mut Session, text: &str) -> Res {
    if text.trim().is_empty() {
        return Err(usage(":eval"));
    }
    s.evals += 1;
    let seed = s.evals;
    let color = s.color;
    let traced = match &mut s.loaded {
        Some(Loaded {
            driver,
            module,
            program,
            ..
        }) => {
            let env = program
                .as_ref()
                .map_or_else(rlc_compiler::driver::no_env, |p| p.env.clone());
            let alg = program.as_ref().map(|p| (0, p.states.clone()));
            match driver.trace_expr(*module, alg, env, text) {
                Ok(t) => t,
                Err(d) => {
                    let rendered = render(driver, &d, color);
                    // A name the program does not import may be a standard-library function.
                    if !d.iter().all(|x| matches!(x.code, Code::UnknownName)) {
                        return Err(Reply::err(rendered));
                    }
                    stdlib_scope(text, color).map_err(|_| Reply::err(rendered))?
                }
            }
        }
        None => stdlib_scope(text, color).map_err(Reply::err)?,
    };
    show_values(&traced, seed).map(Reply::ok).map_err(Reply::err)
}

fn render(
    driver: &rlc_compiler::driver::Driver,
    d: &[rlc_compiler::diag::Diagnostic],
    color: bool,
) -> String {
    let mut t = rlc_compiler::diag::render_all(d, &driver.mods.sources, color);
    let n = d.len();
    let _ = writeln!(t, "error: {n} problem{} found", if n == 1 { "" } else { "s" });
    t
}

/// Traces `text` in a scope importing every function of the standard library's libraries.
fn stdlib_scope(text: &str, color: bool) -> Result<Traced, String> {
    let Some(dir) = rlc_compiler::check::find_stdlib() else {
        return Err("error: the standard library was not found (set RLC_STDLIB)\n".into());
    };
    let mut driver = rlc_compiler::driver::Driver::new(Some(dir.clone()));
    let mut imports = String::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map_err(|e| format!("error: cannot read {}: {e}\n", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "rl"))
        .collect();
    files.sort();
    for f in files {
        let Ok(m) = driver.load(&f) else { continue };
        let ast = &driver.mods.get(m).ast;
        if !ast.algorithms.is_empty() || ast.fns.is_empty() {
            continue;
        }
        let stem = f.file_stem().and_then(|x| x.to_str()).unwrap_or_default();
        let names: Vec<String> = ast.fns.iter().map(|f| f.name.name.clone()).collect();
        let _ = writeln!(imports, "import {stem}.{{{}}}", names.join(", "));
    }
    let m = driver
        .load_text("<repl>", Some(&dir), &imports)
        .map_err(|d| render(&driver, &d, color))?;
    driver
        .trace_expr(m, None, rlc_compiler::driver::no_env(), text)
        .map_err(|d| render(&driver, &d, color))
}

/// Runs a traced expression on the interpreter (f64) and prints its values.
fn show_values(t: &Traced, seed: u64) -> Result<String, String> {
    if let Some(c) = &t.constant {
        return Ok(format!("{c}\n"));
    }
    let g = &t.graph;
    let mut inputs = Vec::new();
    for i in &g.inputs {
        match g.input_name(*i) {
            "key" => inputs.push(Tensor::<f64>::i(
                vec![2],
                rlc_compiler::random::key_from_seed(seed).to_vec(),
            )),
            "step" => inputs.push(Tensor::<f64>::i(Vec::<usize>::new(), vec![0])),
            other => {
                return Err(format!(
                    "error: the expression reads the input `{other}`, which :eval cannot supply\n"
                ));
            }
        }
    }
    let state = initial_state::<f64>(&t.states, 0);
    let r = interp_eval::<f64>(g, &inputs, &state).map_err(|e| format!("error: {e}\n"))?;
    let mut out = String::new();
    let single = g.outputs.len() == 1 && g.outputs[0].0 == "value";
    for ((name, id), v) in g.outputs.iter().zip(&r.outputs) {
        let ty = g.ty(*id);
        let body = tensor(ty, &v.to_f64());
        if single {
            let _ = writeln!(out, "{ty} {body}");
        } else {
            let _ = writeln!(out, "{name}: {ty} {body}");
        }
    }
    Ok(out)
}

fn backend_flag(s: &Session, flags: &BTreeMap<String, &str>) -> Result<String, Reply> {
    let b = flags.get("backend").map_or(s.backend.clone(), |b| b.to_string());
    if BACKENDS.contains(&b.as_str()) {
        Ok(b)
    } else {
        Err(unknown_backend(&b))
    }
}

fn unknown_backend(b: &str) -> Reply {
    let mut t = format!("error: unknown backend `{b}`\n");
    if let Some(h) = did_you_mean(b, BACKENDS.iter().copied()) {
        let _ = writeln!(t, "  help: {h}");
    }
    let _ = writeln!(t, "  note: backends: {}", BACKENDS.join(", "));
    Reply::err(t)
}

fn compile_on(
    p: &Compiled,
    e: &Entry,
    backend_name: &str,
) -> Result<(Box<dyn backend::Backend>, backend::EntryId, f64), Reply> {
    let mut b = backend::create(backend_name).map_err(|e| Reply::err(format!("error: {e}")))?;
    b.init_state(&p.states, 0)
        .map_err(|e| Reply::err(format!("error: {e}")))?;
    let t0 = std::time::Instant::now();
    let id = b
        .compile(&e.name, &e.graph)
        .map_err(|e| Reply::err(format!("error: {e}")))?;
    Ok((b, id, t0.elapsed().as_secs_f64() * 1e3))
}

fn time(s: &mut Session, rest: &str) -> Res {
    let (pos, flags) = split_flags(rest, &["backend"])?;
    let [name] = pos[..] else {
        return Err(usage(":time"));
    };
    let bname = backend_flag(s, &flags)?;
    let p = s.program()?;
    let e = find_entry(p, name)?;
    let (mut b, id, compile_ms) = compile_on(p, e, &bname)?;
    let n_actions = match &p.env.action {
        rlc_compiler::env_spec::ActionSpace::Discrete { n } => *n,
        _ => 1,
    };
    let inputs = rlc_runtime::bench::sample_inputs(&e.graph, n_actions);
    let us = rlc_runtime::bench::median_call_us(b.as_mut(), id, &e.graph, &inputs)
        .map_err(|err| Reply::err(format!("error: {err}")))?;
    let opt = rlc_compiler::passes::optimize(&e.graph).unwrap_or_else(|_| e.graph.clone());
    let f = cost::flops(&opt);
    let gflops = f.total as f64 / (us * 1e-6) / 1e9;
    Ok(Reply::ok(format!(
        "{name} on {bname}: {} µs per call (median), {} FLOPs per call, {} GFLOP/s, compiled in {} ms",
        num(sig3(us)),
        count(f.total as usize),
        num(sig3(gflops)),
        num(compile_ms.round())
    )))
}

/// `v` rounded to 3 significant digits.
fn sig3(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return v;
    }
    let scale = 10f64.powi(2 - v.log10().floor() as i32);
    (v * scale).round() / scale
}

fn code(s: &mut Session, rest: &str) -> Res {
    let (pos, flags) = split_flags(rest, &["backend"])?;
    let [name] = pos[..] else {
        return Err(usage(":code"));
    };
    let bname = backend_flag(s, &flags)?;
    let p = s.program()?;
    let e = find_entry(p, name)?;
    let (b, id, _) = compile_on(p, e, &bname)?;
    match b.code(id) {
        Some(c) => Ok(Reply::ok(c)),
        None => Err(Reply::err(format!(
            "error: the `{bname}` backend generates no code (it runs the graph directly)\n  help: `:code {name} --backend jit`"
        ))),
    }
}

fn set(s: &mut Session, rest: &str) -> Res {
    if rest.is_empty() {
        let p = s.program()?;
        let mut t = String::new();
        for (n, v) in &p.params {
            let _ = writeln!(t, "  {n} = {v}");
        }
        return Ok(Reply::ok(t));
    }
    let Some((name, _)) = rest.split_once('=') else {
        return Err(Reply::err(format!(
            "error: `:set {rest}` is not of the form NAME=VALUE"
        )));
    };
    let name = name.trim();
    let mut args: CompileArgs = s.compile.clone();
    args.set
        .retain(|o| o.split_once('=').map(|(n, _)| n.trim()) != Some(name));
    args.set.push(rest.to_string());
    let r = s.recompile_with(args);
    if r.failed { Err(r) } else { Ok(r) }
}

fn env(s: &mut Session, rest: &str) -> Res {
    if rest.is_empty() || rest.contains(char::is_whitespace) {
        return Err(usage(":env"));
    }
    let mut args = s.compile.clone();
    args.env = Some(rest.to_string());
    let r = s.recompile_with(args);
    if r.failed { Err(r) } else { Ok(r) }
}

fn set_backend(s: &mut Session, rest: &str) -> Res {
    if rest.is_empty() {
        return Ok(Reply::ok(format!(
            "backend: {} (known: {})",
            s.backend,
            BACKENDS.join(", ")
        )));
    }
    if !BACKENDS.contains(&rest) {
        return Err(unknown_backend(rest));
    }
    s.backend = rest.to_string();
    Ok(Reply::ok(format!("backend: {rest}")))
}
