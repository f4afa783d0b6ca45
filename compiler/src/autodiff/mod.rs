//! Reverse-mode automatic differentiation as a graph-to-graph transform.
//!
//! [`vjp`] appends to a graph the nodes that compute vector-Jacobian products, using one rule
//! per primitive ([`rules`]); the rules emit only primitives, so gradient graphs are ordinary IR
//! that can be differentiated again, optimised, and run by every backend. `StopGrad` and
//! non-float values block gradients. Scans are differentiated by a reverse scan ([`scan`]).
//! Which nodes gradients flow through is decided by one rule ([`gradient_operands`]), used
//! both here and by tools asking where a loss's gradient goes ([`gradient_reach`]).

mod cotangents;
mod reach;
mod rules;
mod scan;

pub use reach::{gradient_operands, gradient_reach};

use cotangents::Cotangents;

use crate::ir::{DType, Graph, IrError, NodeId, Op, Origin};

/// Gradients of the scalar `loss` with respect to each node in `wrt` (`None` where the loss
/// does not depend on it through differentiable operations).
pub fn grad(g: &mut Graph, loss: NodeId, wrt: &[NodeId]) -> Result<Vec<Option<NodeId>>, IrError> {
    let ty = g.ty(loss).clone();
    if ty.dtype != DType::F32 || ty.rank() != 0 {
        return Err(IrError(format!("grad needs a scalar f32 loss, got {ty}")));
    }
    let one = g.scalar(1.0);
    vjp(g, &[(loss, one)], wrt)
}

/// Vector-Jacobian products: for cotangents `seeds` = (output node, cotangent node), the
/// cotangent reaching each node in `wrt` (`None` if none reaches it).
pub fn vjp(
    g: &mut Graph,
    seeds: &[(NodeId, NodeId)],
    wrt: &[NodeId],
) -> Result<Vec<Option<NodeId>>, IrError> {
    let depends = dependence(g, wrt);
    let mut ct = Cotangents::default();
    let mut top = 0;
    for (out, c) in seeds {
        if g.ty(*out) != g.ty(*c) {
            return Err(IrError(format!(
                "cotangent {} for output {}",
                g.ty(*c),
                g.ty(*out)
            )));
        }
        if depends[out.index()] {
            ct.add(g, *out, *c)?;
            top = top.max(out.index() + 1);
        }
    }
    for i in (0..top).rev() {
        let id = NodeId::new(i);
        if !depends[i] {
            continue;
        }
        match &g.node(id).op {
            // A scan collects the cotangents of its projections.
            Op::Scan(_) => {
                let origin = g.node(id).origin.map(|o| Origin { gradient: true, ..o });
                let outer = g.set_origin(origin);
                let r = scan::scan_vjp(g, id, &depends, &mut ct, vjp);
                g.set_origin(outer);
                r?;
            }
            Op::Project { .. } => {}
            _ => {
                let Some(c) = ct.get(id) else { continue };
                // The backward nodes point at the expression they differentiate.
                let origin = g.node(id).origin.map(|o| Origin { gradient: true, ..o });
                let outer = g.set_origin(origin);
                let r = (|| {
                    for (pos, contrib) in rules::vjp_rule(g, id, c)? {
                        let arg = g.args(id)[pos];
                        if depends[arg.index()] {
                            ct.add(g, arg, contrib)?;
                        }
                    }
                    Ok(())
                })();
                g.set_origin(outer);
                r?;
            }
        }
    }
    Ok(wrt.iter().map(|w| ct.get(*w)).collect())
}

/// Which nodes depend differentiably on any `wrt` node.
fn dependence(g: &Graph, wrt: &[NodeId]) -> Vec<bool> {
    let mut dep = vec![false; g.len()];
    for w in wrt {
        if w.index() < dep.len() && g.ty(*w).dtype == DType::F32 {
            dep[w.index()] = true;
        }
    }
    for id in g.ids() {
        if !dep[id.index()] {
            let args = g.args(id);
            dep[id.index()] = gradient_operands(g, id).into_iter().any(|p| dep[args[p].index()]);
        }
    }
    dep
}

#[cfg(test)]
pub(crate) mod tests;
