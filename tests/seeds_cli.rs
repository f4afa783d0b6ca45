//! `rlc run --seeds` and sweeps end to end: each seed's directory holds exactly the single-seed
//! run, the aggregate summarises them, failures are reported and kept apart, usage errors exit
//! with status 2, and no run outlives a killed parent.

mod common;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::{rlc, small_reinforce};

fn tmp(name: &str) -> PathBuf {
    common::fresh_dir("seeds", name)
}

/// metrics.jsonl without the fields that depend on timing.
fn deterministic_metrics(path: &Path) -> Vec<serde_json::Map<String, Value>> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| {
            let Value::Object(mut m) = serde_json::from_str(l).expect("json line") else {
                panic!("not an object: {l}")
            };
            for k in rlc_runtime::metrics::TIMING_FIELDS {
                assert!(m.remove(k).is_some(), "{k} missing");
            }
            m
        })
        .collect()
}

fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("json")
}

fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn each_seed_is_the_single_seed_run_and_the_aggregate_summarises_them() {
    let multi = tmp("multi");
    let r = small_reinforce(&multi, &["--seeds", "1..2", "--jobs", "2"]);
    assert!(r.status.success(), "{}", text(&r));
    let mut finals = Vec::new();
    for seed in ["1", "2"] {
        let single = tmp(&format!("single-{seed}"));
        let s = small_reinforce(&single, &["--seed", seed, "--quiet"]);
        assert!(s.status.success(), "{}", text(&s));
        let dir = multi.join(format!("seed-{seed}"));
        assert_eq!(
            deterministic_metrics(&dir.join("metrics.jsonl")),
            deterministic_metrics(&single.join("metrics.jsonl")),
            "seed {seed}"
        );
        let ck = |d: &Path| std::fs::read(d.join("checkpoint.safetensors")).expect("checkpoint");
        assert!(ck(&dir) == ck(&single), "seed {seed}: checkpoints differ");
        assert_eq!(json(&dir.join("run.json"))["seed"], seed.parse::<u64>().unwrap());
        let last = deterministic_metrics(&single.join("metrics.jsonl"))
            .pop()
            .unwrap();
        finals.push(last["eval_return"].as_f64().unwrap());
    }
    let out = String::from_utf8_lossy(&r.stdout);
    assert!(
        out.contains("seed 1: eval_return=") && out.contains("seed 2: eval_return="),
        "{out}"
    );
    assert!(out.contains("final eval_return over 2 seeds: mean"), "{out}");
    let agg = json(&multi.join("aggregate.json"));
    assert_eq!(agg["algorithm"], "reinforce");
    assert_eq!(agg["seeds"], serde_json::json!([1, 2]));
    let f = &agg["final_return"];
    let mean = (finals[0] + finals[1]) / 2.0;
    assert!((f["mean"]["value"].as_f64().unwrap() - mean).abs() < 1e-9, "{f}");
    let (lo, hi) = (
        f["mean"]["ci95"][0].as_f64().unwrap(),
        f["mean"]["ci95"][1].as_f64().unwrap(),
    );
    // Two seeds: the bootstrap resamples reach both extremes.
    assert_eq!((lo, hi), (finals[0].min(finals[1]), finals[0].max(finals[1])));
    let curve = agg["curve"].as_array().unwrap();
    // One point per logged step (1024 ... 5120), and the final evaluation at 6000.
    assert_eq!(curve.len(), 6, "{curve:?}");
    assert_eq!(curve[0]["step"], 1024);
    assert_eq!(curve[5]["step"], 6000);
    assert_eq!(curve[5]["eval_return"]["mean"], f["mean"]["value"]);
    assert_eq!(curve[5]["eval_return"]["seeds"], 2);
    let svg = std::fs::read_to_string(multi.join("aggregate.svg")).expect("aggregate.svg");
    assert!(
        svg.contains("<svg") && svg.contains("mean of 2 seeds"),
        "{svg:.300}"
    );
    // The aggregate is a function of the runs: a second aggregate of the same seeds agrees.
    let again = tmp("multi-again");
    let r2 = small_reinforce(&again, &["--seeds", "1,2", "--quiet"]);
    assert!(r2.status.success(), "{}", text(&r2));
    assert_eq!(
        json(&again.join("aggregate.json"))["final_return"],
        agg["final_return"]
    );
}

#[test]
fn a_sweep_runs_every_setting_and_keeps_array_values_whole() {
    let out = tmp("sweep");
    let r = small_reinforce(
        &out,
        &[
            "--seeds",
            "3",
            "--set",
            "lr=1e-3,3e-3",
            "--set",
            "hidden=[16, 16]",
        ],
    );
    assert!(r.status.success(), "{}", text(&r));
    for lr in ["1e-3", "3e-3"] {
        let dir = out.join(format!("lr={lr}"));
        let record = json(&dir.join("seed-3/run.json"));
        let want = serde_json::json!(["horizon=32", "n_envs=4", format!("lr={lr}"), "hidden=[16, 16]"]);
        assert_eq!(record["set"], want);
        assert_eq!(json(&dir.join("aggregate.json"))["seeds"], serde_json::json!([3]));
    }
    let sweep = json(&out.join("sweep.json"));
    let rows = sweep.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["settings"], "lr=1e-3");
    assert!(rows[1]["final_return"]["iqm"].is_number(), "{sweep}");
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert!(
        stdout.contains("lr=3e-3  final eval_return over 1 seed"),
        "{stdout}"
    );
}

#[test]
fn a_failing_setting_is_reported_and_the_others_are_kept() {
    let out = tmp("fail");
    // The second learning rate overflows the critic on its second update (exit 3).
    let r = rlc(&[
        "run",
        "stdlib/ddpg.rl",
        "--set",
        "lr_critic=1e-3,1e6",
        "--set",
        "hidden=[32,32]",
        "--steps",
        "1500",
        "--eval-episodes",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    let all = text(&r);
    assert_eq!(r.status.code(), Some(3), "{all}");
    assert!(
        all.contains("seed 0 [lr_critic=1e6] failed, exit status 3"),
        "{all}"
    );
    assert!(all.contains("loss `critic_loss` is"), "{all}");
    assert!(all.contains("1 of 2 runs failed"), "{all}");
    let good = json(&out.join("lr_critic=1e-3/aggregate.json"));
    assert!(good["final_return"]["mean"]["value"].is_number(), "{good}");
    let bad = json(&out.join("lr_critic=1e6/aggregate.json"));
    assert_eq!(bad["failed"][0]["seed"], 0);
    assert!(bad["final_return"].is_null());
}

#[test]
fn bad_seed_lists_and_options_are_usage_errors() {
    let out = tmp("usage");
    let cases: &[&[&str]] = &[
        &["--seed", "1", "--seeds", "1..2"],
        &["--seeds", "3..1"],
        &["--seeds", "1,1"],
        &["--seeds", "x"],
        &["--seeds", "1..2", "--jobs", "0"],
        &["--jobs", "2"],
        &["--seeds", "1..2", "--metrics", "m.jsonl"],
        &["--set", "lr=1e-3,"],
        &["--seeds", "1..2", "--backend", "nope"],
    ];
    for extra in cases {
        let r = small_reinforce(&out, extra);
        assert_eq!(r.status.code(), Some(2), "{extra:?}: {}", text(&r));
    }
    // A program error is reported once, by the parent, before any seed runs.
    let r = small_reinforce(&out, &["--seeds", "1..2", "--set", "horizon=[1]"]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(2), "{err}");
    assert_eq!(
        err.matches("error[").count() + err.matches("Error:").count(),
        1,
        "{err}"
    );
}

/// Whether process `pid` is gone (or a zombie waiting to be reaped).
#[cfg(target_os = "linux")]
fn gone(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|s| s.trim_start().starts_with('Z')),
        Err(_) => true,
    }
}

/// The processes whose command line contains `needle`.
#[cfg(target_os = "linux")]
fn processes_with(needle: &str) -> Vec<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let pid = e.file_name().to_string_lossy().into_owned();
            pid.parse::<u32>().ok()?;
            let cmd = std::fs::read(e.path().join("cmdline")).ok()?;
            (String::from_utf8_lossy(&cmd).contains(needle) && !gone(&pid)).then_some(pid)
        })
        .collect()
}

#[test]
#[cfg(target_os = "linux")]
fn killing_the_parent_stops_every_seed() {
    let out = tmp("kill");
    let mut parent = std::process::Command::new(env!("CARGO_BIN_EXE_rlc"))
        .args([
            "run",
            "stdlib/reinforce.rl",
            "--steps",
            "1000000000000",
            "--seeds",
            "1..2",
        ])
        .args(["--jobs", "2", "--quiet", "--out", out.to_str().unwrap()])
        .current_dir(common::root())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start rlc");
    let needle = format!("{}/seed-", out.display());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let children = loop {
        let c = processes_with(&needle);
        if c.len() == 2 {
            break c;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the seeds did not start: {c:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    parent.kill().expect("SIGKILL the parent");
    parent.wait().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !children.iter().all(|p| gone(p)) {
        assert!(
            std::time::Instant::now() < deadline,
            "seeds outlived their parent: {children:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
