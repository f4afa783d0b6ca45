//! Random graphs of primitives: the JIT and the interpreter agree on every output
//! (|jit - interp| <= 2e-4 * max(1, |interp|); f32).

mod common;

use proptest::prelude::*;
use rlc_compiler::backend::{Backend, JitBackend};

fn jit() -> Box<dyn Backend> {
    Box::new(JitBackend::new())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, .. ProptestConfig::default() })]
    #[test]
    fn random_graphs_agree(seed in any::<u64>()) {
        common::random_graphs::check(jit, seed);
    }
}
