//! Running `rlc run` in learning tests and reading its final line.

use std::process::Command;

/// Runs `rlc` with `args`, quiet and evaluating 10 greedy episodes unless `args` say how
/// many, and returns its standard output (panicking with its output if it failed).
fn run_quietly(args: &[&str]) -> String {
    let episodes: &[&str] = if args.contains(&"--eval-episodes") {
        &[]
    } else {
        &["--eval-episodes", "10"]
    };
    let out = Command::new(env!("CARGO_BIN_EXE_rlc"))
        .args(args)
        .arg("--quiet")
        .args(episodes)
        .current_dir(super::root())
        .output()
        .expect("run rlc");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{}\n{}",
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Runs `rlc run` and returns the final evaluation return (mean of 10 greedy episodes).
pub fn final_eval_return(args: &[&str]) -> f64 {
    let stdout = run_quietly(args);
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

/// The seeds every learning test trains on (in parallel, with `rlc run --seeds`).
pub const SEEDS: &str = "1..3";

/// What a multi-seed run reached: each seed's final return and the interquartile mean
/// (of 3 seeds, their mean: rliable's IQM trims nothing below 4 values).
#[derive(Debug)]
pub struct Seeds {
    /// `(seed, final eval_return)`.
    pub per_seed: Vec<(u64, f64)>,
    /// IQM of the final returns.
    pub iqm: f64,
    /// Its 95% bootstrap interval.
    pub iqm_ci: (f64, f64),
}

impl Seeds {
    /// Panics unless every seed reached `threshold` (`what` names the run).
    pub fn assert_every_seed(&self, threshold: f64, what: &str) {
        let bad: Vec<_> = self.per_seed.iter().filter(|(_, r)| *r < threshold).collect();
        assert!(
            bad.is_empty(),
            "{what}: seeds below {threshold}: {bad:?} (all: {self:?})"
        );
    }

    /// Panics unless the IQM reached `threshold`.
    pub fn assert_iqm(&self, threshold: f64, what: &str) {
        assert!(
            self.iqm >= threshold,
            "{what}: IQM {} below {threshold} ({self:?})",
            self.iqm
        );
    }
}

/// Trains `file` on `env` for `steps` on seeds [`SEEDS`] on `backend` (with `--set`
/// overrides `sets`) and reads their final returns from `aggregate.json`.
pub fn three_seeds(file: &str, env: &str, steps: &str, backend: &str, sets: &[&str], tag: &str) -> Seeds {
    three_seeds_evaluated(10, file, env, steps, backend, sets, tag)
}

/// [`three_seeds`], each final return the mean of `episodes` greedy episodes (for tasks
/// whose episodes' returns vary widely with the start state, such as Pendulum's).
pub fn three_seeds_evaluated(
    episodes: usize,
    file: &str,
    env: &str,
    steps: &str,
    backend: &str,
    sets: &[&str],
    tag: &str,
) -> Seeds {
    let dir = out_dir(tag);
    let episodes = episodes.to_string();
    let mut args = vec![
        "run",
        file,
        "--env",
        env,
        "--seeds",
        SEEDS,
        "--steps",
        steps,
        "--backend",
        backend,
        "--out",
        &dir,
        "--eval-episodes",
        &episodes,
    ];
    for s in sets {
        args.extend(["--set", s]);
    }
    let t = std::time::Instant::now();
    run_quietly(&args);
    let text =
        std::fs::read_to_string(std::path::Path::new(&dir).join("aggregate.json")).expect("aggregate.json");
    let agg: serde_json::Value = serde_json::from_str(&text).expect("aggregate json");
    let per_seed = agg["final_return_per_seed"]
        .as_array()
        .expect("per-seed returns")
        .iter()
        .map(|s| (s["seed"].as_u64().unwrap(), s["eval_return"].as_f64().unwrap()))
        .collect();
    let iqm = &agg["final_return"]["iqm"];
    let seeds = Seeds {
        per_seed,
        iqm: iqm["value"].as_f64().unwrap(),
        iqm_ci: (iqm["ci95"][0].as_f64().unwrap(), iqm["ci95"][1].as_f64().unwrap()),
    };
    // Shown with --nocapture: what the README's table records.
    println!("{tag}: {seeds:?} in {:.0} s", t.elapsed().as_secs_f64());
    seeds
}
