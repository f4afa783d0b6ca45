//! Logged metrics (`log NAME = ...`) end to end: every place a program may log, on the
//! interpreter and the JIT; logging never changes what is learned; a non-finite metric stops
//! the run; TensorBoard's own reader reads the event files back as metrics.jsonl has them.

mod common;

use common::rlc;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// A program logging in its acting policy, its derive and its loss (tests/programs).
const PROBE: &str = "tests/programs/metrics_probe.rl";

fn tmp(name: &str) -> PathBuf {
    common::fresh_dir("metrics", name)
}

fn records(path: &Path) -> Vec<Map<String, Value>> {
    common::metrics_records(path)
}

/// `rlc run FILE --quiet` with `args`, writing to `out`; panics unless it succeeds.
fn run(file: &str, out: &Path, args: &[&str]) {
    let o = out.to_str().unwrap();
    let mut all = vec!["run", file, "--quiet", "--out", o];
    all.extend(args);
    let r = rlc(&all);
    assert!(
        r.status.success(),
        "{all:?}: {}",
        String::from_utf8_lossy(&r.stderr)
    );
}

/// The tensor bytes of a checkpoint (its header names the program's hash, which differs).
fn tensor_bytes(ck: &Path) -> Vec<u8> {
    let b = std::fs::read(ck).unwrap();
    let n = u64::from_le_bytes(b[..8].try_into().unwrap()) as usize;
    b[8 + n..].to_vec()
}

/// The backends of this build: OpenCL (on PoCL in CI) with `--features opencl`.
const BACKENDS: &[&str] = if cfg!(feature = "opencl") {
    &["interp", "jit", "opencl"]
} else {
    &["interp", "jit"]
};

#[test]
fn metrics_of_policies_derives_and_losses_on_every_backend() {
    for &backend in BACKENDS {
        let out = tmp(&format!("probe-{backend}"));
        run(
            PROBE,
            &out,
            &["--steps", "256", "--log-every", "64", "--backend", backend],
        );
        let m = records(&out.join("metrics.jsonl"));
        assert_eq!(m.len(), 5, "{m:?}");
        // Every interval of 64 steps holds two rollouts of 8 steps x 4 envs, each trained on
        // for 2 epochs of 2 minibatches: all three entries logged in each.
        for r in &m[..4] {
            // The acting batch is the 4 environments; a rollout's reward sum is 8 x 4 x 1
            // (CartPole pays 1 a step); a minibatch holds 16 transitions.
            assert_eq!(r["metric/acting_envs"], 4.0, "{backend}: {r:?}");
            assert_eq!(r["metric/rollout_reward"], 32.0, "{backend}: {r:?}");
            assert_eq!(r["metric/batch_size"], 16.0, "{backend}: {r:?}");
            // The stored log-probabilities against the current policy's: 0 before the first
            // update, small after a few steps of lr 1e-3.
            let kl = r["metric/kl"].as_f64().unwrap();
            assert!(kl.abs() < 0.05 && kl != 0.0, "{backend}: {r:?}");
        }
        // The final record's interval is empty: no value, not a stale one.
        assert!(m[4]["metric/kl"].is_null(), "{:?}", m[4]);
        // The curve has a panel for the metrics, each in its legend.
        let svg = std::fs::read_to_string(out.join("curve.svg")).unwrap();
        for name in [
            "acting_envs",
            "rollout_reward",
            "batch_size",
            "kl",
            "\nmetric\n",
            "\nloss\n",
        ] {
            assert!(svg.contains(name), "{backend}: no {name:?} in the curve");
        }
    }
}

#[test]
fn logging_changes_nothing_that_is_learned() {
    // The stdlib's PPO (metrics in its derive and its loss), DQN and DDPG (in their TD
    // losses) with every `log` turned into a plain `let`: the same parameters, bit for bit.
    let cases: [(&str, &[&str]); 3] = [
        ("ppo", &["--steps", "1024", "--set", "epochs=2"]),
        (
            "dqn",
            &[
                "--steps",
                "1200",
                "--set",
                "learning_starts=1000",
                "--set",
                "hidden=[16]",
            ],
        ),
        (
            "ddpg",
            &[
                "--steps",
                "1100",
                "--set",
                "learning_starts=1000",
                "--set",
                "hidden=[16]",
            ],
        ),
    ];
    let dir = tmp("unlogged");
    std::fs::create_dir_all(&dir).unwrap();
    for (alg, args) in cases {
        let src = std::fs::read_to_string(common::stdlib().join(format!("{alg}.rl"))).unwrap();
        let plain: String = src
            .lines()
            .map(|l| match l.trim_start().strip_prefix("log ") {
                Some(rest) => format!("{}let {rest}\n", &l[..l.len() - l.trim_start().len()]),
                None => format!("{l}\n"),
            })
            .collect();
        assert_ne!(plain, src, "{alg} logs nothing");
        // Beside the stdlib, so that its imports resolve the same way.
        let plain_file = common::stdlib().join(format!("{alg}_unlogged_{}.rl", std::process::id()));
        std::fs::write(&plain_file, plain).unwrap();
        for backend in ["interp", "jit"] {
            if backend == "interp" && alg != "ppo" {
                continue; // the off-policy pair once, on the JIT: the interpreter is slow
            }
            let (a, b) = (
                dir.join(format!("{alg}-{backend}-log")),
                dir.join(format!("{alg}-{backend}-let")),
            );
            let mut with = args.to_vec();
            with.extend(["--backend", backend, "--seed", "5"]);
            run(&format!("stdlib/{alg}.rl"), &a, &with);
            run(plain_file.to_str().unwrap(), &b, &with);
            let logged = records(&a.join("metrics.jsonl"));
            assert!(
                logged
                    .iter()
                    .any(|r| r.keys().any(|k| k.starts_with("metric/") && r[k].is_f64())),
                "{alg} on {backend} logged no metric"
            );
            assert_eq!(
                tensor_bytes(&a.join("checkpoint.safetensors")),
                tensor_bytes(&b.join("checkpoint.safetensors")),
                "{alg} on {backend}: logging changed the parameters"
            );
        }
        std::fs::remove_file(&plain_file).unwrap();
    }
}

#[test]
fn a_non_finite_metric_stops_the_run_like_a_non_finite_loss() {
    let src = std::fs::read_to_string(common::root().join(PROBE)).unwrap();
    // Each place a metric is computed, made -inf (`log(0)`), and what the error says.
    let cases = [
        (
            "log acting_envs = sum(ones_like(s[..., 0]))",
            "log acting_envs = log(0 * sum(s))",
            "metric `acting_envs` is -inf in acting call 1 after training call 0",
        ),
        (
            "log rollout_reward = sum(b.r)",
            "log rollout_reward = log(0 * sum(b.r))",
            "metric `rollout_reward` is -inf deriving `R` after training call 0",
        ),
        (
            "log batch_size = sum(ones_like(b.r))",
            "log batch_size = log(0 * sum(b.r))",
            "metric `batch_size` is -inf after training call 1",
        ),
    ];
    let dir = tmp("non-finite");
    std::fs::create_dir_all(&dir).unwrap();
    for (k, (from, to, says)) in cases.into_iter().enumerate() {
        let bad = src.replace(from, to);
        assert_ne!(bad, src, "{from}");
        let file = dir.join(format!("bad{k}.rl"));
        std::fs::write(&file, bad).unwrap();
        let out = dir.join(format!("out{k}"));
        let r = rlc(&[
            "run",
            file.to_str().unwrap(),
            "--steps",
            "256",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ]);
        let stderr = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(3), "{stderr}");
        assert!(stderr.contains(says), "{says}: {stderr}");
    }
}

/// Reads an event directory with TensorBoard's own reader: `{tag: [[step, value], ...]}`.
const READ_EVENTS: &str = r#"
import json, sys
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
acc = EventAccumulator(sys.argv[1], size_guidance={"scalars": 0})
acc.Reload()
print(json.dumps({t: [[e.step, e.value] for e in acc.Scalars(t)] for t in acc.Tags()["scalars"]}))
"#;

/// The Python with the `tensorboard` package: `RLC_TENSORBOARD_PYTHON` (CI sets it, and then
/// it must work), else `python3` if it has the package.
fn tensorboard_python() -> Option<String> {
    if let Ok(p) = std::env::var("RLC_TENSORBOARD_PYTHON") {
        return Some(p);
    }
    let has = std::process::Command::new("python3")
        .args(["-c", "import tensorboard"])
        .output()
        .is_ok_and(|o| o.status.success());
    has.then(|| "python3".to_string())
}

#[test]
fn tensorboard_reads_the_event_files_as_metrics_jsonl_has_them() {
    let Some(python) = tensorboard_python() else {
        eprintln!(
            "skipped: no Python with the `tensorboard` package (set RLC_TENSORBOARD_PYTHON, \
             e.g. python3 -m venv /tmp/tbvenv && /tmp/tbvenv/bin/pip install tensorboard)"
        );
        return;
    };
    let out = tmp("tensorboard");
    let tb = out.join("tb");
    run(
        PROBE,
        &out,
        &[
            "--steps",
            "256",
            "--log-every",
            "64",
            "--tensorboard",
            tb.to_str().unwrap(),
        ],
    );
    let files: Vec<_> = std::fs::read_dir(&tb)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(
        files[0].to_string_lossy().starts_with("events.out.tfevents."),
        "{files:?}"
    );
    let r = std::process::Command::new(&python)
        .args(["-c", READ_EVENTS, tb.to_str().unwrap()])
        .output()
        .expect("run the TensorBoard reader");
    assert!(
        r.status.success(),
        "{python}: {}",
        String::from_utf8_lossy(&r.stderr)
    );
    let got: Map<String, Value> = serde_json::from_slice(&r.stdout).expect("reader output");
    // What metrics.jsonl says, series by series: every number but the counters and times.
    let mut want: Map<String, Value> = Map::new();
    for rec in records(&out.join("metrics.jsonl")) {
        for (k, v) in &rec {
            let series = ["episode_return", "eval_return", "steps_per_s"].contains(&k.as_str())
                || k.starts_with("loss/")
                || k.starts_with("metric/");
            if let (true, Some(x)) = (series, v.as_f64()) {
                let points = want.entry(k.clone()).or_insert(Value::Array(Vec::new()));
                points
                    .as_array_mut()
                    .unwrap()
                    .push(serde_json::json!([rec["step"], x]));
            }
        }
    }
    assert!(
        want.contains_key("metric/kl") && want.contains_key("loss/l"),
        "{want:?}"
    );
    let keys = |m: &Map<String, Value>| {
        let mut k: Vec<String> = m.keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&got), keys(&want));
    for (tag, points) in &want {
        let (w, g) = (points.as_array().unwrap(), got[tag].as_array().unwrap());
        assert_eq!(w.len(), g.len(), "{tag}: {g:?}");
        for (w, g) in w.iter().zip(g) {
            assert_eq!(w[0], g[0], "{tag}: steps");
            // Event files hold f32 scalars.
            assert_eq!(
                w[1].as_f64().unwrap() as f32,
                g[1].as_f64().unwrap() as f32,
                "{tag}"
            );
        }
    }
}
