//! The JIT against the reference interpreter: every entry point of every stdlib program (and
//! the examples), odd sizes included, outputs and updated state; tolerance
//! |jit - interp| <= 2e-4 * max(1, |interp|) per element (f32; matrix products and
//! reductions sum in a different order).

mod common;

use common::differential::{check_examples, check_stdlib};
use rlc_compiler::backend::{Backend, JitBackend};

fn jit() -> Box<dyn Backend> {
    Box::new(JitBackend::new())
}

#[test]
fn every_stdlib_entry_point_matches_the_interpreter() {
    check_stdlib(jit, &["hidden=[16, 16]"]);
}

#[test]
fn odd_sizes_match_the_interpreter() {
    check_stdlib(jit, &["hidden=[1]", "hidden=[7, 3]", "hidden=[257]"]);
}

#[test]
fn examples_match_the_interpreter() {
    check_examples(jit);
}

/// A deep net's entries have more kernels than one generated function holds, so they are
/// split into chunk functions called in order: the results must not change.
#[test]
fn deep_nets_split_into_several_functions_match_the_interpreter() {
    let hidden = format!("hidden=[{}]", vec!["4"; 120].join(", "));
    let path = common::stdlib().join("reinforce.rl");
    let c = common::compile(&path, &[&hidden]).remove(0);
    let train = c.entry("train").expect("train");
    let plan = rlc_compiler::backend::kernel::plan(
        &rlc_compiler::passes::optimize(&train.graph).expect("optimizes"),
    )
    .expect("plans");
    assert!(
        plan.kernels.len() > 2 * 256,
        "{} kernels: not split",
        plan.kernels.len()
    );
    common::differential::check_program(jit, &path, &[&hidden]);
}
