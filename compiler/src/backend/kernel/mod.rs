//! The kernel planner, shared by every backend that generates code (the JIT, OpenCL): it
//! turns an optimised entry-point graph into a [`Plan`], the kernels to run in order over
//! buffers that live in one arena per entry point, in resident state, or in the caller's
//! inputs and outputs.
//!
//! Planning runs these named steps, one file each:
//! * `fold-views` ([`views`]): reshapes, transposes, broadcasts and slices become strided
//!   views of their operand's buffer, not copies;
//! * `fuse` ([`fuse`]): elementwise chains become one loop, and a reduction evaluates the
//!   chain feeding it inside its own loop;
//! * `in-place` ([`in_place`]): state assignments write straight into the state when safe;
//! * `pair-products` ([`pair`]): two large independent matrix products run side by side;
//! * `arena` ([`arena`]): offsets of temporaries by liveness, reusing freed space.
//!
//! The first two decide what each node becomes, so they run during the planner's single walk
//! over the graph ([`planner`]); the other three rewrite the finished kernel list, in this
//! order. [`dump`] prints a plan as text.

mod arena;
pub mod bounds;
mod dump;
mod fuse;
mod in_place;
mod pair;
mod planner;
mod types;
mod views;

pub use dump::dump;
pub use types::{Buffer, ENode, Expr, Kernel, Plan, PlanError, RoutineCall, ScanKernel, Storage, View};

use crate::ir::Graph;
use planner::Planner;

/// Plans a top-level entry-point graph.
pub fn plan(g: &Graph) -> Result<Plan, PlanError> {
    let mut p = Planner::new(g, None, Vec::new());
    p.run()?;
    // Outputs are copied to the caller's buffers at the end.
    for (i, (_, id)) in g.outputs.iter().enumerate() {
        let ty = g.ty(*id).clone();
        let out = p.new_buffer(Storage::Output(i), &ty);
        let src = p.val_as_expr(*id)?;
        p.kernels.push(Kernel::Map {
            out: View::whole(out, &ty.shape),
            expr: src,
        });
    }
    p.assign_states()?;
    let kernels = pair::pair_matmuls(p.kernels);
    let mut plan = Plan {
        buffers: p.buffers,
        kernels,
        arena_bytes: 0,
    };
    arena::allocate(&mut plan);
    bounds::check(&plan)?;
    Ok(plan)
}

/// Plans `g` and dumps the plan (for the steps' tests).
#[cfg(test)]
fn plan_text(g: &Graph) -> String {
    dump(&plan(g).expect("the test graph plans"))
}

/// Asserts a plan dump, printing the whole dump when it differs.
#[cfg(test)]
fn assert_plan(g: &Graph, expected: &str) {
    let got = plan_text(g);
    assert!(got == expected, "plan differs; got:\n{got}");
}
