//! Running `rlc run` in learning tests and reading its final line.

use std::process::Command;

/// Runs `rlc run` and returns the final evaluation return (mean of 10 greedy episodes).
pub fn final_eval_return(args: &[&str]) -> f64 {
    let out = Command::new(env!("CARGO_BIN_EXE_rlc"))
        .args(args)
        .args(["--quiet", "--eval-episodes", "10"])
        .current_dir(super::root())
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

/// A scratch output directory for one run.
pub fn out_dir(name: &str) -> String {
    std::env::temp_dir()
        .join(format!("rlc-learn-{}-{name}", std::process::id()))
        .display()
        .to_string()
}

/// Trains `file` on `env` for `steps` with seed 1 on `backend` (with `--set` overrides
/// `sets`) and returns the final evaluation return.
pub fn seed1_return(file: &str, env: &str, steps: &str, backend: &str, sets: &[&str], tag: &str) -> f64 {
    let dir = out_dir(tag);
    let mut args = vec![
        "run",
        file,
        "--env",
        env,
        "--seed",
        "1",
        "--steps",
        steps,
        "--backend",
        backend,
        "--out",
        &dir,
    ];
    for s in sets {
        args.extend(["--set", s]);
    }
    final_eval_return(&args)
}
