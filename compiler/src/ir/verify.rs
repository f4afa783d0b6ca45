//! The IR verifier: re-checks every node's typing rule and the ordering invariant.
//! Passes run it after each rewrite in debug builds.

use super::graph::{Graph, IrError};
use super::op::Op;
use super::types::TensorType;

/// Checks that operands come before their users, every node satisfies its typing rule, state
/// is assigned at most once, and scan bodies are valid graphs themselves.
pub fn verify(g: &Graph) -> Result<(), IrError> {
    let mut assigned = std::collections::HashSet::new();
    for id in g.ids() {
        let node = g.node(id);
        for a in &node.args {
            if a.index() >= id.index() {
                return Err(IrError(format!("%{} uses later node %{}", id.index(), a.index())));
            }
        }
        let tys: Vec<&TensorType> = node.args.iter().map(|a| g.ty(*a)).collect();
        let ops: Vec<&Op> = node.args.iter().map(|a| &g.node(*a).op).collect();
        node.op
            .check(&tys, &node.ty, &ops)
            .map_err(|e| IrError(format!("%{}: {e}", id.index())))?;
        match &node.op {
            Op::Assign(s) if !assigned.insert(*s) => {
                return Err(IrError(format!("state #{} assigned twice", s.0)));
            }
            Op::Scan(s) => {
                verify(&s.body)?;
                if s.body
                    .ids()
                    .any(|b| matches!(s.body.node(b).op, Op::State(_) | Op::Assign(_)))
                {
                    return Err(IrError(format!(
                        "%{}: scan bodies cannot touch state",
                        id.index()
                    )));
                }
            }
            _ => {}
        }
    }
    for i in &g.inputs {
        if !matches!(g.node(*i).op, Op::Input { .. }) {
            return Err(IrError(format!("%{} listed as input but is not one", i.index())));
        }
    }
    for (name, o) in &g.outputs {
        if o.index() >= g.len() {
            return Err(IrError(format!("output {name} refers to a missing node")));
        }
    }
    Ok(())
}
