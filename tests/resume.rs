//! Exact resume: a run killed (SIGKILL) at random points and continued with `rlc resume`
//! ends with the same checkpoint, byte for byte, and the same metrics (timing fields aside)
//! as the run that was never interrupted — for every kind of data a program keeps: uniform
//! replay (DDPG, DQN), rollouts (PPO), sequence replay (ACER), prioritized N-step replay with
//! several actors (D4PG) and Ornstein-Uhlenbeck exploration noise (QT-Opt).

mod common;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rlc-resume-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn rlc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rlc"))
        .current_dir(common::root())
        .args(args)
        .output()
        .expect("run rlc")
}

/// One program's run: file, `--set`s, steps, evaluation (= checkpoint) and log intervals.
struct Case {
    file: &'static str,
    set: &'static [&'static str],
    steps: u64,
    eval_every: u64,
    log_every: u64,
    /// Further flags (`--backend opencl`).
    flags: &'static [&'static str],
}

impl Case {
    fn run_args(&self, out: &Path) -> Vec<String> {
        let mut a: Vec<String> = ["run", self.file, "--seed", "5", "--eval-episodes", "2", "--quiet"]
            .map(String::from)
            .to_vec();
        for (flag, v) in [
            ("--steps", self.steps),
            ("--eval-every", self.eval_every),
            ("--log-every", self.log_every),
        ] {
            a.push(flag.into());
            a.push(v.to_string());
        }
        a.extend(self.flags.iter().map(|f| f.to_string()));
        for s in self.set {
            a.push("--set".into());
            a.push(s.to_string());
        }
        a.push("--out".into());
        a.push(out.to_str().unwrap().into());
        a
    }
}

/// Metrics lines without the fields that depend on timing.
fn metrics(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            for f in rlc_runtime::metrics::TIMING_FIELDS {
                v.as_object_mut().unwrap().remove(f);
            }
            v
        })
        .collect()
}

fn spawn(args: &[String]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_rlc"))
        .current_dir(common::root())
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rlc")
}

/// Runs `case` once uninterrupted, then again with up to three SIGKILLs at random moments
/// (each after a checkpoint exists), resuming after each; compares the outcomes.
fn killed_and_resumed_equals_uninterrupted(case: &Case, tag: &str, seed: u64) {
    let whole = tmp(&format!("{tag}-whole"));
    let t = Instant::now();
    let r = rlc(&case
        .run_args(&whole)
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>());
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let wall = t.elapsed();

    let cut = tmp(&format!("{tag}-cut"));
    let resume_args: Vec<String> = ["resume", cut.to_str().unwrap(), "--quiet"]
        .map(String::from)
        .to_vec();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut kills = 0;
    let mut args = case.run_args(&cut);
    loop {
        let mut child = spawn(&args);
        let started = Instant::now();
        // Wait for a checkpoint to resume from (the first run has none at first).
        while !cut.join("resume.safetensors").exists() && child.try_wait().unwrap().is_none() {
            std::thread::sleep(Duration::from_millis(10));
        }
        let delay = wall.mul_f64(rng.random_range(0.0..0.5));
        while started.elapsed() < delay && child.try_wait().unwrap().is_none() {
            std::thread::sleep(Duration::from_millis(5));
        }
        if kills < 3 && child.try_wait().unwrap().is_none() {
            child.kill().expect("SIGKILL");
            child.wait().unwrap();
            kills += 1;
            args = resume_args.clone();
            continue;
        }
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{tag}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        break;
    }
    assert!(kills > 0, "{tag}: every run finished before it could be killed");
    let a = std::fs::read(whole.join("checkpoint.safetensors")).unwrap();
    let b = std::fs::read(cut.join("checkpoint.safetensors")).unwrap();
    assert!(a == b, "{tag}: the final checkpoints differ after {kills} kills");
    assert_eq!(
        metrics(&whole),
        metrics(&cut),
        "{tag}: metrics differ after {kills} kills"
    );
    eprintln!("{tag}: identical after {kills} kills (uninterrupted run {wall:.1?})");
}

#[test]
fn ddpg_replay_resumes_exactly() {
    let case = Case {
        file: "stdlib/ddpg.rl",
        set: &["hidden=[64, 64]", "learning_starts=300"],
        steps: 2400,
        eval_every: 300,
        log_every: 200,
        flags: &[],
    };
    killed_and_resumed_equals_uninterrupted(&case, "ddpg", 1);
}

#[test]
fn ppo_rollouts_resume_exactly() {
    // 256-step rollouts checkpointed every 200 steps: most kills land mid-rollout.
    let case = Case {
        file: "stdlib/ppo.rl",
        set: &["epochs=4"],
        steps: 4096,
        eval_every: 200,
        log_every: 512,
        flags: &[],
    };
    killed_and_resumed_equals_uninterrupted(&case, "ppo", 2);
}

#[test]
fn acer_sequence_replay_resumes_exactly() {
    let case = Case {
        file: "stdlib/acer.rl",
        set: &[],
        steps: 4000,
        eval_every: 300,
        log_every: 500,
        flags: &[],
    };
    killed_and_resumed_equals_uninterrupted(&case, "acer", 3);
}

#[test]
fn dqn_replay_resumes_exactly() {
    let case = Case {
        file: "stdlib/dqn.rl",
        set: &["hidden=[64, 64]", "learning_starts=300"],
        steps: 3000,
        eval_every: 300,
        log_every: 250,
        flags: &[],
    };
    killed_and_resumed_equals_uninterrupted(&case, "dqn", 4);
}

#[test]
fn d4pg_prioritized_nstep_replay_with_two_actors_resumes_exactly() {
    let case = Case {
        file: "stdlib/d4pg.rl",
        set: &["hidden=[64, 64]", "learning_starts=300", "envs=2"],
        steps: 1600,
        eval_every: 200,
        log_every: 200,
        flags: &[],
    };
    killed_and_resumed_equals_uninterrupted(&case, "d4pg", 5);
}

#[test]
fn qtopt_with_ou_noise_resumes_exactly() {
    let case = Case {
        file: "stdlib/qtopt.rl",
        set: &["hidden=[32, 32]", "learning_starts=200", "ou_sigma=0.4"],
        steps: 1200,
        eval_every: 200,
        log_every: 200,
        flags: &[],
    };
    killed_and_resumed_equals_uninterrupted(&case, "qtopt", 6);
}

/// OpenCL draws batches from its own copies of the replay rings, in device memory: a resumed
/// run refills them slot for slot, so the device draws what it would have drawn.
#[cfg(feature = "opencl")]
#[test]
fn device_replay_rings_resume_exactly_on_opencl() {
    let ddpg = Case {
        file: "stdlib/ddpg.rl",
        set: &["hidden=[32, 32]", "learning_starts=200", "buffer=700"],
        steps: 1600,
        eval_every: 200,
        log_every: 200,
        flags: &["--backend", "opencl"],
    };
    // A 700-slot ring wraps before the end, so the write position matters.
    killed_and_resumed_equals_uninterrupted(&ddpg, "ddpg-opencl", 7);
    let acer = Case {
        file: "stdlib/acer.rl",
        set: &["buffer=40"],
        steps: 2400,
        eval_every: 300,
        log_every: 300,
        flags: &["--backend", "opencl"],
    };
    killed_and_resumed_equals_uninterrupted(&acer, "acer-opencl", 8);
}

/// What cannot be resumed is refused with a reason, exit status 2, and nothing changed.
#[test]
fn runs_that_cannot_be_resumed_are_refused_with_a_reason() {
    let out = tmp("refused");
    let program = out.join("prog.rl");
    std::fs::copy(common::stdlib().join("dqn.rl"), &program).unwrap();
    let p = program.to_str().unwrap().to_string();
    let args = |steps: &str, dir: &Path| -> Vec<String> {
        [
            "run",
            &p,
            "--steps",
            steps,
            "--eval-every",
            "400",
            "--eval-episodes",
            "1",
            "--log-every",
            "200",
            "--quiet",
            "--set",
            "hidden=[16]",
            "--set",
            "learning_starts=100",
            "--out",
            dir.to_str().unwrap(),
        ]
        .map(String::from)
        .to_vec()
    };
    let o = out.join("run");
    let r = rlc(&args("1200", &o).iter().map(String::as_str).collect::<Vec<_>>());
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let refused = |dir: &Path, want: &str| {
        let r = rlc(&["resume", dir.to_str().unwrap()]);
        let e = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(2), "{e}");
        assert!(e.contains(want), "expected `{want}` in: {e}");
        assert!(!e.contains("panicked"), "{e}");
    };
    // A finished run.
    refused(&o, "the run finished at step 1200");
    // Not a run directory.
    refused(&out, "holds no `resume.safetensors`");
    // An unfinished run (killed after its first checkpoint) whose program was edited since.
    let cut = out.join("cut");
    let mut child = spawn(&args("1000000", &cut));
    while !cut.join("resume.safetensors").exists() {
        assert!(child.try_wait().unwrap().is_none(), "the run stopped early");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let text = std::fs::read_to_string(&program).unwrap();
    std::fs::write(&program, text.replace("param gamma = 0.99", "param gamma = 0.98")).unwrap();
    assert_ne!(
        std::fs::read_to_string(&program).unwrap(),
        text,
        "the edit changed nothing"
    );
    refused(&cut, "program hash differs");
    std::fs::write(&program, &text).unwrap();
    // A truncated metrics file.
    let metrics = cut.join("metrics.jsonl");
    let kept = std::fs::read(&metrics).unwrap();
    std::fs::write(&metrics, b"").unwrap();
    refused(&cut, "holds 0 records, but the run had written 2");
    std::fs::write(&metrics, &kept).unwrap();
    // A damaged state file.
    let state = cut.join("resume.safetensors");
    let bytes = std::fs::read(&state).unwrap();
    std::fs::write(&state, &bytes[..bytes.len() / 2]).unwrap();
    refused(&cut, "cannot resume from");
    std::fs::write(&state, &bytes).unwrap();
    // Intact again, it resumes (and is killed: a million steps are not the point).
    let mut child = spawn(&["resume".to_string(), cut.to_str().unwrap().to_string()]);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the intact run did not resume"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}
