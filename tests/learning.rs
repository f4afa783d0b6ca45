//! Learning is part of correctness: each algorithm reaches a stated return on a small task
//! with a fixed seed. These run in release mode (`cargo test --release`); in debug builds
//! they are ignored because they would take minutes.

mod common;

use std::process::Command;

/// Runs `rlc run` and returns the final evaluation return (mean of 10 greedy episodes).
fn final_eval_return(args: &[&str]) -> f64 {
    let out = Command::new(env!("CARGO_BIN_EXE_rlc"))
        .args(args)
        .args(["--quiet", "--eval-episodes", "10"])
        .current_dir(common::root())
        .output()
        .expect("run rlc");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}\n{}",
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout.lines().last().unwrap_or_default();
    line.split_whitespace()
        .find_map(|w| w.strip_prefix("eval_return="))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no final line in {stdout}"))
}

fn out_dir(name: &str) -> String {
    std::env::temp_dir()
        .join(format!("rlc-learn-{}-{name}", std::process::id()))
        .display()
        .to_string()
}

#[test]
#[cfg_attr(debug_assertions, ignore = "learning tests run in release mode")]
fn reinforce_solves_cartpole_within_300k_steps() {
    let ret = final_eval_return(&[
        "run",
        "stdlib/reinforce.rl",
        "--env",
        "CartPole-v1",
        "--seed",
        "1",
        "--steps",
        "300000",
        "--backend",
        "interp",
        "--out",
        &out_dir("reinforce"),
    ]);
    assert!(ret >= 475.0, "REINFORCE reached only {ret} on CartPole-v1");
}

#[test]
#[cfg_attr(debug_assertions, ignore = "learning tests run in release mode")]
fn reinforce_solves_cartpole_on_the_jit() {
    let ret = final_eval_return(&[
        "run",
        "stdlib/reinforce.rl",
        "--env",
        "CartPole-v1",
        "--seed",
        "1",
        "--steps",
        "300000",
        "--backend",
        "jit",
        "--out",
        &out_dir("reinforce-jit"),
    ]);
    assert!(ret >= 475.0, "REINFORCE (jit) reached only {ret} on CartPole-v1");
}

#[test]
#[cfg_attr(debug_assertions, ignore = "learning tests run in release mode")]
fn ddpg_solves_pendulum_within_20k_steps() {
    let ret = final_eval_return(&[
        "run",
        "stdlib/ddpg.rl",
        "--env",
        "Pendulum-v1",
        "--seed",
        "1",
        "--steps",
        "20000",
        "--backend",
        "jit",
        "--out",
        &out_dir("ddpg"),
    ]);
    assert!(ret >= -200.0, "DDPG reached only {ret} on Pendulum-v1");
}
