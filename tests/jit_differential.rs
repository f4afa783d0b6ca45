//! The JIT against the reference interpreter: every entry point of every stdlib program (and
//! the examples), odd sizes included, outputs and updated state; tolerance
//! |jit - interp| <= 2e-4 * max(1, |interp|) per element (f32; matrix products and
//! reductions sum in a different order).

mod common;

use common::differential::check_program;
use common::*;
use rlc_compiler::backend::{Backend, JitBackend};

fn jit() -> Box<dyn Backend> {
    Box::new(JitBackend::new())
}

#[test]
fn every_stdlib_entry_point_matches_the_interpreter() {
    for f in stdlib_algorithms() {
        check_program(jit, &f, &["hidden=[16, 16]"]);
    }
}

#[test]
fn odd_sizes_match_the_interpreter() {
    for f in stdlib_algorithms() {
        for h in ["hidden=[1]", "hidden=[7, 3]", "hidden=[257]"] {
            check_program(jit, &f, &[h]);
        }
    }
}

#[test]
fn examples_match_the_interpreter() {
    let mut files: Vec<_> = std::fs::read_dir(root().join("examples"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    for f in files {
        check_program(jit, &f, &["hidden=[16, 16]"]);
    }
}
