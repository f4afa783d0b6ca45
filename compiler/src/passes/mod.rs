//! Graph-to-graph optimisation passes. Each pass is a function `&Graph -> Graph` in its own
//! file with its own tests; [`pipeline`] lists them in order, and [`run_pipeline`] runs them
//! with the IR verifier after each one in debug builds.

mod cse;
mod dce;
mod fold;

pub use cse::cse;
pub use dce::dce;
pub use fold::fold;

use crate::ir::{Graph, IrError, verify};

/// A named pass.
#[derive(Clone, Copy)]
pub struct Pass {
    /// Name used by `--after PASS` and the REPL.
    pub name: &'static str,
    /// What it does, in one line.
    pub about: &'static str,
    /// The rewrite.
    pub run: fn(&Graph) -> Graph,
}

/// The default pass pipeline, in order.
pub fn pipeline() -> Vec<Pass> {
    vec![
        Pass {
            name: "fold",
            about: "evaluate operations on constants at compile time",
            run: fold,
        },
        Pass {
            name: "cse",
            about: "merge identical operations on identical operands",
            run: cse,
        },
        Pass {
            name: "dce",
            about: "remove nodes no output or assignment needs",
            run: dce,
        },
    ]
}

/// Runs passes in order, returning the graph after each (`(name, graph)`). In debug builds
/// the verifier checks every result.
pub fn run_pipeline(g: &Graph, passes: &[Pass]) -> Result<Vec<(&'static str, Graph)>, IrError> {
    let mut out = Vec::with_capacity(passes.len());
    let mut cur = g.clone();
    for p in passes {
        cur = (p.run)(&cur);
        if cfg!(debug_assertions) {
            verify(&cur).map_err(|e| IrError(format!("after pass `{}`: {}", p.name, e.0)))?;
        }
        out.push((p.name, cur.clone()));
    }
    Ok(out)
}

/// Runs the whole default pipeline and returns the final graph.
pub fn optimize(g: &Graph) -> Result<Graph, IrError> {
    Ok(run_pipeline(g, &pipeline())?
        .pop()
        .map_or_else(|| g.clone(), |(_, g)| g))
}
