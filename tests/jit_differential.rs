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
