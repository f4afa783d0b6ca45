//! `:grad LOSS`: which parameters a loss's gradient reaches (by autodiff's own rule), how
//! often each net is differentiated through, and the gradient graph.

use super::args::{Failure, Res};
use crate::cli::repl::format::count;
use crate::cli::repl::session::{Reply, Session};
use rlc_compiler::autodiff::{gradient_operands, gradient_reach};
use rlc_compiler::diag::did_you_mean;
use rlc_compiler::ir::{Graph, NodeId, Op, StateId, StateKind, print_graph_with_states};
use rlc_compiler::lower::Compiled;
use rlc_compiler::signature::OutputRole;
use std::fmt::Write;

/// Parameters (net parameters and learnables) the gradient of `root` flows to, by autodiff's
/// own rule ([`gradient_reach`]), in state order. Also returns every node it flows to.
fn reached_params(g: &Graph, p: &Compiled, root: NodeId) -> (Vec<NodeId>, Vec<bool>) {
    let reached = gradient_reach(g, &[root]);
    let mut out: Vec<NodeId> = g
        .ids()
        .filter(|n| reached[n.index()])
        .filter(|n| match g.node(*n).op {
            Op::State(s) => matches!(
                p.states.get(s).kind,
                StateKind::Param { .. } | StateKind::Learnable
            ),
            _ => false,
        })
        .collect();
    out.sort_by_key(|n| match g.node(*n).op {
        Op::State(s) => s,
        _ => StateId(u32::MAX),
    });
    (out, reached)
}

/// How many distinct operations pass the gradient on to `param` (those in `reached` that take
/// it at a position gradients flow to): each application of a net reads its weights once, so
/// 2 means the loss goes through the net twice.
fn applications(g: &Graph, param: NodeId, reached: &[bool]) -> usize {
    let mut users: Vec<NodeId> = g
        .users(param)
        .filter(|(u, pos)| reached[u.index()] && gradient_operands(g, *u).contains(pos))
        .map(|(u, _)| u)
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

/// `:grad LOSS`: the parameters the loss's gradient reaches, and its gradient graph.
pub(super) fn grad(s: &mut Session, rest: &str) -> Res {
    let [name] = rest.split_whitespace().collect::<Vec<_>>()[..] else {
        return Err(Failure::Usage);
    };
    let p = s.program()?;
    let Some(train) = p.entry("train") else {
        return Err(Reply::err(format!("error: `{}` has no training step", p.name)).into());
    };
    if !p.losses.iter().any(|l| l == name) {
        let mut t = format!("error: `{}` has no loss `{name}`\n", p.name);
        if let Some(h) = did_you_mean(name, p.losses.iter().map(String::as_str)) {
            let _ = writeln!(t, "  help: {h}");
        }
        let _ = writeln!(t, "  note: losses: {}", p.losses.join(", "));
        return Err(Reply::err(t).into());
    }
    let mut g =
        rlc_compiler::passes::optimize(&train.graph).map_err(|e| Reply::err(format!("error: {e}")))?;
    let role = OutputRole::Loss {
        name: name.to_string(),
    };
    let Some(loss) = train.signature.output(&role).map(|i| g.outputs[i].1) else {
        return Err(Reply::err(format!("error: the training step does not compute `{name}`")).into());
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
