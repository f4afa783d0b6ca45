//! The OpenCL backend (built with `--features opencl`; CI runs it on PoCL, the CPU OpenCL):
//! every entry point of every stdlib program and example against the interpreter, odd sizes,
//! random graphs of primitives (tolerance |opencl - interp| <= 2e-4 * max(1, |interp|), f32),
//! and REINFORCE learning CartPole-v1 on it.
#![cfg(feature = "opencl")]

mod common;

use common::differential::{check_examples, check_stdlib};
use common::root;
use proptest::prelude::*;
use rlc_compiler::backend::{Backend, OpenClBackend};

fn opencl() -> Box<dyn Backend> {
    Box::new(OpenClBackend::new().unwrap_or_else(|e| panic!("{e}")))
}

#[test]
fn every_stdlib_entry_point_matches_the_interpreter_on_opencl() {
    check_stdlib(opencl, &["hidden=[16, 16]"]);
}

#[test]
fn odd_sizes_match_the_interpreter_on_opencl() {
    // (257 wide is covered on the JIT; PoCL's compiler makes it slow here.)
    check_stdlib(opencl, &["hidden=[1]", "hidden=[7, 3]"]);
}

#[test]
fn examples_match_the_interpreter_on_opencl() {
    check_examples(opencl);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, .. ProptestConfig::default() })]
    #[test]
    fn random_graphs_agree_on_opencl(seed in any::<u64>()) {
        common::random_graphs::check(opencl, seed);
    }
}

#[test]
#[cfg_attr(debug_assertions, ignore = "learning tests run in release mode")]
fn reinforce_solves_cartpole_on_opencl() {
    let ret = common::learn::final_eval_return(&[
        "run",
        "stdlib/reinforce.rl",
        "--env",
        "CartPole-v1",
        "--seed",
        "1",
        "--steps",
        "300000",
        "--backend",
        "opencl",
        "--out",
        &common::learn::out_dir("reinforce-opencl"),
    ]);
    assert!(
        ret >= 475.0,
        "REINFORCE (opencl) reached only {ret} on CartPole-v1"
    );
}

#[test]
fn a_device_that_does_not_exist_is_a_clear_error_with_exit_2() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rlc"))
        .args([
            "run",
            "stdlib/reinforce.rl",
            "--steps",
            "10",
            "--backend",
            "opencl",
            "--quiet",
            "--out",
        ])
        .arg(std::env::temp_dir().join(format!("rlc-ocl-nodev-{}", std::process::id())))
        .env("RLC_OPENCL_DEVICE", "no-such-device-anywhere")
        .current_dir(root())
        .output()
        .expect("run rlc");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("RLC_OPENCL_DEVICE=no-such-device-anywhere matches no OpenCL device"),
        "{err}"
    );
}

#[test]
fn the_repl_shows_the_opencl_kernels() {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_rlc"))
        .args(["repl", "stdlib/ddpg.rl", "--set", "hidden=[8]"])
        .current_dir(root())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start repl");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b":code act_greedy --backend opencl\n:time act_greedy --backend opencl\n")
        .expect("script");
    let out = child.wait_with_output().expect("wait");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("__kernel void k0("), "{text}");
    assert!(
        text.contains("__local float As[16][16]"),
        "the product should use the tiled kernel\n{text}"
    );
    assert!(text.contains("act_greedy on opencl:"), "{text}");
}
