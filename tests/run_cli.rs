//! `rlc run` end to end: outputs, determinism, checkpoints and usage errors.

mod common;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::rlc;

fn tmp(name: &str) -> PathBuf {
    common::fresh_dir("run", name)
}

fn metrics(path: &Path) -> Vec<serde_json::Map<String, Value>> {
    common::metrics_records(path)
}

/// The final line, parsed: eval_return, steps, wall_s, steps_per_s.
fn final_line(out: &Output) -> (f64, u64, f64, f64) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or("");
    assert!(
        line.starts_with("final: eval_return="),
        "last line: {line:?}\n{stdout}"
    );
    let get = |k: &str| -> String {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{k}=")).map(String::from))
            .expect(k)
    };
    (
        get("eval_return").parse().unwrap(),
        get("steps").parse().unwrap(),
        get("wall_s").parse().unwrap(),
        get("steps_per_s").parse().unwrap(),
    )
}

fn small_reinforce(out: &Path, seed: &str) -> Output {
    common::small_reinforce(out, &["--seed", seed])
}

#[test]
fn a_run_writes_metrics_curve_checkpoint_and_the_final_line() {
    let out = tmp("outputs");
    let r = small_reinforce(&out, "3");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let (eval_return, steps, wall, sps) = final_line(&r);
    assert_eq!(steps, 6000);
    assert!(eval_return > 0.0 && wall > 0.0 && sps > 0.0);
    let m = metrics(&out.join("metrics.jsonl"));
    assert!(m.len() >= 5, "{m:?}");
    for rec in &m {
        for k in [
            "step",
            "episodes",
            "episode_return",
            "eval_return",
            "steps_per_s",
            "wall_s",
            "loss/policy_loss",
            "loss/value_loss",
        ] {
            assert!(rec.contains_key(k), "missing {k} in {rec:?}");
        }
    }
    // Steps increase; the last record is the final evaluation.
    let steps: Vec<u64> = m.iter().map(|r| r["step"].as_u64().unwrap()).collect();
    assert!(steps.windows(2).all(|w| w[0] <= w[1]));
    let last = m.last().unwrap();
    assert_eq!(last["final"], Value::Bool(true));
    assert!((last["eval_return"].as_f64().unwrap() - eval_return).abs() < 0.01);
    // Losses were logged while training.
    assert!(m.iter().any(|r| r["loss/policy_loss"].is_f64()));
    let svg = std::fs::read_to_string(out.join("curve.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("reinforce on CartPole-v1"));
    // The checkpoint holds every state variable and the run's metadata.
    let ck = std::fs::read(out.join("checkpoint.safetensors")).unwrap();
    let (_, header) = safetensors::SafeTensors::read_metadata(&ck).unwrap();
    let meta: Value = serde_json::from_str(&header.metadata().as_ref().unwrap()["rlc"]).unwrap();
    assert_eq!(meta["step"], 6000);
    assert_eq!(meta["seed"], 3);
    assert_eq!(meta["algorithm"], "reinforce");
    assert!(meta["program_hash"].as_str().unwrap().len() == 16);
    let st = safetensors::SafeTensors::deserialize(&ck).unwrap();
    let names: Vec<String> = st.names().into_iter().map(String::from).collect();
    for n in [
        "pi/l0/w",
        "pi/l0/b",
        "pi/l2/w",
        "value/l0/w",
        "pi/l0/w/adam.m",
        "pi/l0/w/adam.v",
        "train/step",
    ] {
        assert!(names.iter().any(|x| x == n), "missing {n} in {names:?}");
    }
    assert_eq!(st.tensor("pi/l0/w").unwrap().shape(), &[4, 64]);
}

#[test]
fn same_seed_same_metrics_other_seed_other_metrics() {
    let strip = |m: Vec<serde_json::Map<String, Value>>| {
        m.into_iter()
            .map(|mut r| {
                for k in rlc_runtime::metrics::TIMING_FIELDS {
                    r.remove(k);
                }
                r
            })
            .collect::<Vec<_>>()
    };
    let (a, b, c) = (tmp("det-a"), tmp("det-b"), tmp("det-c"));
    assert!(small_reinforce(&a, "7").status.success());
    assert!(small_reinforce(&b, "7").status.success());
    assert!(small_reinforce(&c, "8").status.success());
    let (ma, mb, mc) = (
        strip(metrics(&a.join("metrics.jsonl"))),
        strip(metrics(&b.join("metrics.jsonl"))),
        strip(metrics(&c.join("metrics.jsonl"))),
    );
    assert_eq!(ma, mb, "same seed, different metrics");
    assert_ne!(ma, mc, "different seeds, identical metrics");
    // Checkpoints are identical too (apart from nothing: they hold no timing).
    assert_eq!(
        std::fs::read(a.join("checkpoint.safetensors")).unwrap(),
        std::fs::read(b.join("checkpoint.safetensors")).unwrap()
    );
}

#[test]
fn ddpg_trains_a_few_hundred_steps_on_the_interpreter() {
    let out = tmp("ddpg");
    let r = rlc(&[
        "run",
        "stdlib/ddpg.rl",
        "--env",
        "Pendulum-v1",
        "--steps",
        "700",
        "--seed",
        "1",
        "--out",
        out.to_str().unwrap(),
        "--eval-episodes",
        "1",
        "--set",
        "learning_starts=300",
        "--set",
        "hidden=[64, 64]",
        "--quiet",
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let (ret, steps, _, _) = final_line(&r);
    assert_eq!(steps, 700);
    assert!(ret.is_finite() && ret < 0.0);
    let last = metrics(&out.join("metrics.jsonl")).pop().unwrap();
    assert_eq!(last["updates"], 400);
    // --quiet prints only the final line.
    assert_eq!(String::from_utf8_lossy(&r.stdout).lines().count(), 1);
}

#[test]
fn usage_errors_exit_with_status_2() {
    let out = tmp("usage");
    let o = out.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["run", "stdlib/reinforce.rl", "--steps", "abc"],
            "invalid value",
        ),
        (
            vec!["run", "stdlib/reinforce.rl", "--bogus"],
            "unexpected argument",
        ),
        (
            vec!["run", "stdlib/reinforce.rl", "--env", "CartPole-v0", "--out", o],
            "unknown environment `CartPole-v0`",
        ),
        (
            vec!["run", "stdlib/ddpg.rl", "--env", "CartPole-v1", "--out", o],
            "needs a continuous action space",
        ),
        (
            vec!["run", "stdlib/reinforce.rl", "--set", "gama=0.5", "--out", o],
            "not a hyperparameter",
        ),
        (
            vec!["run", "stdlib/reinforce.rl", "--backend", "gpu9000", "--out", o],
            "unknown backend",
        ),
        (
            vec!["run", "stdlib/reinforce.rl", "--steps", "0", "--out", o],
            "at least 1",
        ),
        (
            vec![
                "run",
                "stdlib/reinforce.rl",
                "--out",
                "/proc/rlc-cannot-write-here",
            ],
            "cannot write",
        ),
        (
            vec![
                "run",
                "stdlib/reinforce.rl",
                "--metrics",
                "/proc/nope/metrics.jsonl",
                "--out",
                o,
            ],
            "cannot write",
        ),
        // A path that cannot be read is a usage error, in every subcommand.
        (
            vec!["run", "no/such/file.rl", "--out", o],
            "cannot read `no/such/file.rl`",
        ),
        (vec!["check", "no/such/file.rl"], "cannot read `no/such/file.rl`"),
        (vec!["graph", "no/such/file.rl"], "cannot read `no/such/file.rl`"),
        (vec!["bench", "no/such/file.rl"], "cannot read `no/such/file.rl`"),
        // So is an override the program is fine without, whatever check rejects it.
        (
            vec!["run", "stdlib/reinforce.rl", "--set", "lr=-1", "--out", o],
            "compiles without the `--set` overrides",
        ),
        // An evaluation batch larger than the memory budget is the flag's fault.
        (
            vec![
                "run",
                "stdlib/reinforce.rl",
                "--eval-episodes",
                "100000000",
                "--out",
                o,
            ],
            "too large",
        ),
        // All copies of the environment step together: 500 is not a multiple of 8.
        (
            vec!["run", "stdlib/reinforce.rl", "--steps", "500", "--out", o],
            "500 steps is not a multiple of the 8 environments `reinforce` steps together: use --steps 496 or 504",
        ),
        (
            vec!["run", "stdlib/reinforce.rl", "--steps", "5", "--out", o],
            "use --steps 8",
        ),
    ];
    #[cfg(not(feature = "opencl"))]
    let cases = {
        let mut c = cases;
        c.push((
            vec!["run", "stdlib/reinforce.rl", "--backend", "opencl", "--out", o],
            "built without the OpenCL backend",
        ));
        c
    };
    for (args, msg) in cases {
        let r = rlc(&args);
        let err = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(msg), "{args:?}: expected {msg:?} in {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    // A thread count the JIT would ignore is refused, not silently replaced.
    for threads in ["abc", "0", ""] {
        let r = std::process::Command::new(env!("CARGO_BIN_EXE_rlc"))
            .args([
                "run",
                "stdlib/reinforce.rl",
                "--steps",
                "16",
                "--quiet",
                "--out",
                o,
            ])
            .current_dir(common::root())
            .env("RLC_THREADS", threads)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(2), "RLC_THREADS={threads:?}: {err}");
        assert!(err.contains("is not a positive integer"), "{err}");
    }
    // `check` reports every file; a missing one (2) outweighs a broken one (1).
    let r = rlc(&["check", "stdlib/ddpg.rl", "no/such/file.rl"]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stdout).contains("stdlib/ddpg.rl: ok"));
    // A broken program is a diagnostic with status 1.
    let bad = std::env::temp_dir().join(format!("rlc-bad-{}.rl", std::process::id()));
    std::fs::write(&bad, "algorithm a { param x = }").unwrap();
    let r = rlc(&["run", bad.to_str().unwrap(), "--out", o]);
    assert_eq!(r.status.code(), Some(1));
}

#[test]
fn checkpoints_reload_and_corrupt_ones_are_rejected() {
    use rlc_compiler::backend::{Backend, InterpBackend};
    let out = tmp("ckpt");
    assert!(small_reinforce(&out, "5").status.success());
    let path = out.join("checkpoint.safetensors");
    let c = common::compile(
        &common::stdlib().join("reinforce.rl"),
        &["horizon=32", "n_envs=4"],
    )
    .remove(0);
    let mut b = InterpBackend::new();
    b.init_state(&c.states, 0).unwrap();
    let meta = rlc_runtime::checkpoint::load(&path, &c.states, &mut b).expect("load");
    assert_eq!(meta.step, 6000);
    let w = c.states.find("pi/l0/w").unwrap();
    let st_bytes = std::fs::read(&path).unwrap();
    let st = safetensors::SafeTensors::deserialize(&st_bytes).unwrap();
    let want: Vec<f32> = st
        .tensor("pi/l0/w")
        .unwrap()
        .data()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    assert_eq!(
        b.read_state(w).unwrap(),
        rlc_compiler::backend::HostData::F32(want)
    );
    // Corrupt or truncated files and files of another program are clear errors, and leave state alone.
    let before = b.read_state(w).unwrap();
    for (name, bytes) in [
        ("truncated", st_bytes[..st_bytes.len() / 2].to_vec()),
        ("garbage", b"not a checkpoint at all".to_vec()),
        ("empty", Vec::new()),
    ] {
        let p = out.join(format!("{name}.safetensors"));
        std::fs::write(&p, bytes).unwrap();
        let e = rlc_runtime::checkpoint::load(&p, &c.states, &mut b)
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot load checkpoint"), "{name}: {e}");
        assert_eq!(b.read_state(w).unwrap(), before);
    }
    let other = common::compile(&common::stdlib().join("reinforce.rl"), &["hidden=[32]"]).remove(0);
    let mut b2 = InterpBackend::new();
    b2.init_state(&other.states, 0).unwrap();
    let e = rlc_runtime::checkpoint::load(&path, &other.states, &mut b2)
        .unwrap_err()
        .to_string();
    assert!(e.contains("has shape") || e.contains("missing tensor"), "{e}");
}

/// Checkpoints are written atomically and durably: a run killed at any moment leaves a
/// loadable checkpoint (or none yet), and the temporary file a killed write leaves behind is
/// removed when the next run starts.
#[test]
fn killed_runs_leave_loadable_checkpoints_and_no_stale_temporary_file() {
    use rlc_compiler::backend::{Backend, InterpBackend};
    use std::process::{Command, Stdio};
    let out = tmp("killed");
    let path = out.join("checkpoint.safetensors");
    let c = common::compile(&common::stdlib().join("ddpg.rl"), &["hidden=[64, 64]"]).remove(0);
    // DDPG with 64-wide nets, checkpointing every 200 steps.
    let args = |steps: &str| -> Vec<String> {
        let o = out.to_str().unwrap();
        [
            "run",
            "stdlib/ddpg.rl",
            "--steps",
            steps,
            "--eval-every",
            "200",
            "--eval-episodes",
            "1",
            "--quiet",
            "--set",
            "hidden=[64, 64]",
            "--out",
            o,
        ]
        .map(String::from)
        .to_vec()
    };
    let load = || {
        let mut b = InterpBackend::new();
        b.init_state(&c.states, 0).unwrap();
        rlc_runtime::checkpoint::load(&path, &c.states, &mut b)
    };
    // Kills land between and during writes.
    for (k, ms) in [150u64, 400, 650, 900, 1300, 1700].iter().enumerate() {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rlc"))
            .current_dir(common::root())
            .args(args("100000"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn rlc");
        std::thread::sleep(std::time::Duration::from_millis(*ms));
        child.kill().expect("kill");
        child.wait().expect("reap");
        if path.exists() {
            load().unwrap_or_else(|e| panic!("kill {k} after {ms} ms: {e}"));
        }
    }
    // A stale temporary file (as a kill during a write leaves) is removed by the next run.
    let stale = rlc_runtime::checkpoint::temp_path(&path);
    std::fs::write(&stale, vec![7u8; 1 << 20]).unwrap();
    let a = args("300");
    let r = rlc(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(!stale.exists(), "the stale temporary file is still there");
    assert_eq!(load().expect("final checkpoint").step, 300);
}

/// `rlc eval` rebuilds the program from the run's record, loads the checkpoint and reports
/// greedy episodes as mean ± std, reproducibly; a different program or no record is exit 2.
#[test]
fn eval_reports_a_checkpoints_greedy_return() {
    let out = tmp("eval");
    assert!(small_reinforce(&out, "3").status.success());
    let o = out.to_str().unwrap();
    let eval = |extra: &[&str]| {
        let mut a = vec!["eval", o, "--episodes", "6"];
        a.extend_from_slice(extra);
        rlc(&a)
    };
    let r = eval(&[]);
    let text = String::from_utf8_lossy(&r.stdout).to_string();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(
        text.contains("reinforce on CartPole-v1 (checkpoint at step 6000): 6 greedy episodes, return "),
        "{text}"
    );
    assert!(text.contains(" ± "), "{text}");
    // Same seed, same episodes; the interpreter agrees with the JIT on a greedy policy.
    assert_eq!(String::from_utf8_lossy(&eval(&[]).stdout), text);
    assert_eq!(
        String::from_utf8_lossy(&eval(&["--backend", "interp"]).stdout),
        text
    );
    // Another net size is not this checkpoint's program.
    let r = eval(&["--set", "hidden=[32]"]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("cannot load checkpoint"));
    // The same net with another setting: the program hash differs.
    let r = eval(&["--set", "horizon=32", "--set", "n_envs=4", "--set", "gamma=0.5"]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("written by a different program"));
    // Without a record, the program must be named.
    let alone = tmp("eval-alone");
    std::fs::create_dir_all(&alone).unwrap();
    std::fs::copy(
        out.join("checkpoint.safetensors"),
        alone.join("checkpoint.safetensors"),
    )
    .unwrap();
    let r = rlc(&["eval", alone.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("--program FILE"));
}

/// A build without the `python` feature refuses `gym:` ids, saying how to build with it.
#[cfg(not(feature = "python"))]
#[test]
fn gym_ids_need_the_python_feature() {
    let o = common::rlc(&[
        "run",
        "stdlib/td3.rl",
        "--env",
        "gym:HalfCheetah-v5",
        "--steps",
        "10",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--features python") && err.contains("gym:HalfCheetah-v5"),
        "{err}"
    );
}
