//! The vector-Jacobian product of a scan: a scan running the other way.
//!
//! For a forward scan `c_t = body(t, c_prev, consts)`, the backward scan carries the cotangent
//! of the carry and accumulators for the constants' cotangents. Each backward step recomputes
//! the forward step from the stored carry history (so no other residuals are kept) and applies
//! the body's own VJP, which is built by the same [`super::vjp`] on the body graph.

use super::cotangents::Cotangents;
use crate::ir::{BinaryOp, DType, Graph, IrError, Node, NodeId, Op, Scan, TensorType};

/// The graph-level VJP ([`super::vjp`]), passed in by the caller so that this module, which it
/// calls, does not import it back.
pub(crate) type Vjp = fn(&mut Graph, &[(NodeId, NodeId)], &[NodeId]) -> Result<Vec<Option<NodeId>>, IrError>;

pub(crate) fn scan_vjp(
    g: &mut Graph,
    id: NodeId,
    depends: &[bool],
    ct: &mut Cotangents,
    vjp: Vjp,
) -> Result<(), IrError> {
    let node = g.node(id).clone();
    let Op::Scan(scan) = &node.op else {
        unreachable!("called on scans")
    };
    let k = scan.n_carry;
    let operands = node.args.clone();
    let t_len = scan.length;

    // Cotangents of the scan's outputs, gathered from its projections.
    let mut g_out: Vec<Option<NodeId>> = vec![None; k];
    let users: Vec<NodeId> = g.users(id).map(|(u, _)| u).collect();
    for u in users {
        if let Op::Project { index } = g.node(u).op
            && let Some(c) = ct.get(u)
        {
            g_out[index] = Some(match g_out[index] {
                Some(old) => g.binary(BinaryOp::Add, old, c)?,
                None => c,
            });
        }
    }
    let need: Vec<bool> = operands
        .iter()
        .map(|a| depends[a.index()] && g.ty(*a).dtype == DType::F32)
        .collect();
    if g_out.iter().all(Option::is_none) || !need.iter().any(|n| *n) {
        return Ok(());
    }
    if t_len == 0 {
        // No steps: final carries are the initial ones.
        for i in 0..k {
            if let (true, false, Some(c)) = (need[i], scan.stacked[i], g_out[i]) {
                ct.add(g, operands[i], c)?;
            }
        }
        return Ok(());
    }

    let carry_tys: Vec<TensorType> = (0..k).map(|i| g.ty(operands[i]).clone()).collect();
    let float_carries: Vec<usize> = (0..k).filter(|i| carry_tys[*i].dtype == DType::F32).collect();
    let consts: Vec<NodeId> = operands[k..].to_vec();
    let needed_consts: Vec<usize> = (0..consts.len()).filter(|j| need[k + j]).collect();

    // The carry history [T, ..] of every carry (re-running the scan stacked if needed).
    let hist = history(g, id, scan)?;
    // prev[i][t] = the carry before step t.
    let mut prev = Vec::with_capacity(k);
    for i in 0..k {
        let mut one = vec![1];
        one.extend(&carry_tys[i].shape);
        let init = g.reshape(operands[i], &one)?;
        let p = if t_len == 1 {
            init
        } else if scan.reverse {
            let rest = g.slice(hist[i], 0, 1, t_len)?;
            g.concat(&[rest, init], 0)?
        } else {
            let rest = g.slice(hist[i], 0, 0, t_len - 1)?;
            g.concat(&[init, rest], 0)?
        };
        prev.push(p);
    }
    let stacked_ct: Vec<usize> = (0..k)
        .filter(|i| scan.stacked[*i] && g_out[*i].is_some())
        .collect();

    // ---- the backward body
    let mut body = Graph::new();
    let t = body.input("t", TensorType::scalar(DType::I32));
    let ct_in: Vec<NodeId> = float_carries
        .iter()
        .map(|i| body.input(format!("ct_c{i}"), carry_tys[*i].clone()))
        .collect();
    let acc_in: Vec<NodeId> = needed_consts
        .iter()
        .map(|j| body.input(format!("acc_k{j}"), g.ty(consts[*j]).clone()))
        .collect();
    let prev_in: Vec<NodeId> = (0..k)
        .map(|i| body.input(format!("prev_c{i}"), g.ty(prev[i]).clone()))
        .collect();
    let const_in: Vec<NodeId> = consts
        .iter()
        .enumerate()
        .map(|(j, c)| body.input(format!("k{j}"), g.ty(*c).clone()))
        .collect();
    let ghist_in: Vec<NodeId> = stacked_ct
        .iter()
        .map(|i| body.input(format!("g_c{i}"), g.ty(g_out[*i].expect("filtered")).clone()))
        .collect();

    let carry_now: Vec<NodeId> = prev_in
        .iter()
        .map(|p| body.take(*p, t, 0))
        .collect::<Result<_, _>>()?;
    // Inline the forward step.
    let mut map: Vec<NodeId> = Vec::with_capacity(scan.body.len());
    for bid in scan.body.ids() {
        let bn = scan.body.node(bid);
        let new = if let Op::Input { .. } = bn.op {
            let pos = scan
                .body
                .inputs
                .iter()
                .position(|x| *x == bid)
                .expect("inputs are listed");
            if pos == 0 {
                t
            } else if pos <= k {
                carry_now[pos - 1]
            } else {
                const_in[pos - 1 - k]
            }
        } else {
            body.add_unchecked(Node {
                op: bn.op.clone(),
                ty: bn.ty.clone(),
                args: bn.args.iter().map(|a| map[a.index()]).collect(),
                label: bn.label.clone(),
                origin: bn.origin,
            })
        };
        map.push(new);
    }
    let outs: Vec<NodeId> = scan.body.outputs.iter().map(|(_, o)| map[o.index()]).collect();
    // Cotangent of each float carry after this step.
    let mut seeds = Vec::new();
    for (n, i) in float_carries.iter().enumerate() {
        let mut c = ct_in[n];
        if let Some(pos) = stacked_ct.iter().position(|s| s == i) {
            let gt = body.take(ghist_in[pos], t, 0)?;
            c = body.binary(BinaryOp::Add, c, gt)?;
        }
        seeds.push((outs[*i], c));
    }
    let mut wrt: Vec<NodeId> = float_carries.iter().map(|i| carry_now[*i]).collect();
    wrt.extend(needed_consts.iter().map(|j| const_in[*j]));
    let grads = vjp(&mut body, &seeds, &wrt)?;
    for (n, i) in float_carries.iter().enumerate() {
        let v = match grads[n] {
            Some(v) => v,
            None => body.zeros(carry_tys[*i].clone()),
        };
        body.output(format!("ct_c{i}"), v);
    }
    for (n, j) in needed_consts.iter().enumerate() {
        let v = match grads[float_carries.len() + n] {
            Some(gj) => body.binary(BinaryOp::Add, acc_in[n], gj)?,
            None => acc_in[n],
        };
        body.output(format!("acc_k{j}"), v);
    }

    // ---- the backward scan in the outer graph
    let mut ops = Vec::new();
    for i in &float_carries {
        let init = match (scan.stacked[*i], g_out[*i]) {
            (false, Some(c)) => c,
            _ => g.zeros(carry_tys[*i].clone()),
        };
        ops.push(init);
    }
    for j in &needed_consts {
        let ty = g.ty(consts[*j]).clone();
        ops.push(g.zeros(ty));
    }
    ops.extend(&prev);
    ops.extend(&consts);
    ops.extend(stacked_ct.iter().map(|i| g_out[*i].expect("filtered")));
    let n_carry = float_carries.len() + needed_consts.len();
    let back = Scan {
        body,
        length: t_len,
        reverse: !scan.reverse,
        n_carry,
        stacked: vec![false; n_carry],
    };
    let res = g.scan(back, &ops)?;
    for (n, i) in float_carries.iter().enumerate() {
        if need[*i] {
            ct.add(g, operands[*i], res[n])?;
        }
    }
    for (n, j) in needed_consts.iter().enumerate() {
        ct.add(g, consts[*j], res[float_carries.len() + n])?;
    }
    Ok(())
}

/// Stacked histories of all carries of the scan node `id`.
fn history(g: &mut Graph, id: NodeId, scan: &Scan) -> Result<Vec<NodeId>, IrError> {
    let (node_id, s) = if scan.stacked.iter().all(|s| *s) {
        (id, scan.clone())
    } else {
        let mut s = scan.clone();
        s.stacked = vec![true; s.n_carry];
        let args = g.args(id).to_vec();
        let outs = g.scan(s.clone(), &args)?;
        return Ok(outs);
    };
    (0..s.n_carry)
        .map(|i| {
            let ty = s.output_types()[i].clone();
            g.add(Op::Project { index: i }, &[node_id], ty)
        })
        .collect()
}
