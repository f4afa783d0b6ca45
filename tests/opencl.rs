//! The OpenCL backend (built with `--features opencl`; CI runs it on PoCL, the CPU OpenCL):
//! every entry point of every stdlib program and example against the interpreter, odd sizes,
//! random graphs of primitives (tolerance |opencl - interp| <= 2e-4 * max(1, |interp|), f32),
//! replay kept and sampled on the device against the host buffers and sampler, and REINFORCE
//! (CartPole-v1) and DDPG (Pendulum-v1, replay on the device) learning on it.
#![cfg(feature = "opencl")]

mod common;

use common::differential::{check_examples, check_stdlib};
use common::root;
use proptest::prelude::*;
use rlc_compiler::backend::{Backend, DeviceReplay, OpenClBackend};

fn opencl() -> Box<dyn Backend> {
    Box::new(OpenClBackend::new().unwrap_or_else(|e| panic!("{e}")))
}

/// The OpenCL backend's device replay.
fn replay(dev: &mut dyn Backend) -> &mut dyn DeviceReplay {
    dev.device_replay().expect("OpenCL keeps replay on the device")
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
    // A fixed seed: the same graphs every run (seed 5445510997833252828 is a known generator
    // problem, a `rem` whose divisor sums to ~0, left for a fix; see the closing note).
    #![proptest_config(ProptestConfig {
        cases: 48,
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(11),
        .. ProptestConfig::default()
    })]
    #[test]
    fn random_graphs_agree_on_opencl(seed in any::<u64>()) {
        common::random_graphs::check(opencl, seed);
    }
}

#[test]
#[cfg_attr(debug_assertions, ignore = "learning tests run in release mode")]
fn reinforce_solves_cartpole_on_opencl() {
    let ret = common::learn::seed1_return(
        "stdlib/reinforce.rl",
        "CartPole-v1",
        "300000",
        "opencl",
        &[],
        "reinforce-opencl",
    );
    assert!(
        ret >= 475.0,
        "REINFORCE (opencl) reached only {ret} on CartPole-v1"
    );
}

#[test]
#[ignore = "slow tier (minutes on PoCL): cargo test --release --features opencl --test opencl -- --ignored"]
fn ddpg_solves_pendulum_on_opencl_with_replay_on_the_device() {
    // 2x64 nets keep PoCL's run to about four minutes on a good day (ten on 2026-12-07, which
    // is why it left CI; REINFORCE still learns on OpenCL there, and DDPG's device replay is
    // checked by `ddpg_on_opencl_samples_replay_on_the_device` and the resume tests); the
    // batch of 256 is drawn on the device every step (seed 1 reached -177 at 20k steps).
    let ret = common::learn::seed1_return(
        "stdlib/ddpg.rl",
        "Pendulum-v1",
        "20000",
        "opencl",
        &["hidden=[64, 64]"],
        "ddpg-opencl",
    );
    assert!(ret >= -200.0, "DDPG (opencl) reached only {ret} on Pendulum-v1");
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
fn no_opencl_platform_at_all_is_a_clear_error_with_exit_2() {
    // An ICD loader with no vendor files: `ocl::Platform::list` would panic here.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rlc"))
        .args([
            "run",
            "stdlib/reinforce.rl",
            "--steps",
            "16",
            "--backend",
            "opencl",
            "--quiet",
            "--out",
        ])
        .arg(std::env::temp_dir().join(format!("rlc-ocl-noplat-{}", std::process::id())))
        .env("OCL_ICD_VENDORS", "/nonexistent")
        .current_dir(root())
        .output()
        .expect("run rlc");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("no OpenCL device found"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn the_repl_shows_the_opencl_kernels() {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_rlc"))
        .args(["repl", "stdlib/ddpg.rl", "--set", "hidden=[32]"])
        .current_dir(root())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start repl");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(
            b":code act_greedy --backend opencl\n:code train --backend opencl\n:time act_greedy --backend opencl\n",
        )
        .expect("script");
    let out = child.wait_with_output().expect("wait");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("__kernel void k0("), "{text}");
    // One observation's product is a plain dot-product kernel; the batch's are tiled.
    assert!(
        text.contains("for (int q = 0; q < 3; q++) acc +="),
        "acting should use the direct product\n{text}"
    );
    assert!(
        text.contains("__local float As[16][64]"),
        "training products should use the tiled kernel\n{text}"
    );
    assert!(text.contains("act_greedy on opencl:"), "{text}");
}

/// A graph that returns its three inputs negated: a batch of observations (f32[B,3]), a batch
/// of discrete actions (i32[B,1]) and a host scalar (f32[2]).
fn negate_graph(batch: usize) -> rlc_compiler::ir::Graph {
    use rlc_compiler::ir::{DType, Graph, TensorType};
    let mut g = Graph::new();
    let o = g.input("D.obs", TensorType::f32(vec![batch, 3]));
    let a = g.input("D.action", TensorType::new(DType::I32, vec![batch, 1]));
    let x = g.input("x", TensorType::f32(vec![2]));
    for (name, v) in [("obs", o), ("action", a), ("x", x)] {
        let n = g.neg(v).unwrap();
        g.output(name, n);
    }
    g
}

#[test]
fn replay_on_the_device_draws_the_slots_the_host_sampler_names() {
    use rlc_compiler::backend::{Draw, In, Out};
    use rlc_compiler::random::uniform_slot;
    use rlc_runtime::data::{Field, ReplayBuffer};
    const B: usize = 64;
    let mut dev = opencl();
    let id = replay(dev.as_mut())
        .replay_create(&[3, 1], 5, 1)
        .unwrap()
        .expect("OpenCL keeps replay on the device");
    let entry = dev.compile("negate", &negate_graph(B)).unwrap();
    let mut host = ReplayBuffer::new(&[Field::new("obs", [3]), Field::new("action", [1])], 5).unwrap();
    let mut draw = Draw {
        replay: id,
        batch: B,
        key: [0, 0],
        fields: vec![(0, 0), (1, 1)],
    };
    let (mut obs, mut act, mut x) = (vec![0f32; 3 * B], vec![0i32; B], vec![0f32; 2]);
    let empty = replay(dev.as_mut()).call_drawn(
        entry,
        &[In::F32(&[]), In::I32(&[]), In::F32(&[1.0, 2.0])],
        std::slice::from_ref(&draw),
        &mut [Out::F32(&mut obs), Out::I32(&mut act), Out::F32(&mut x)],
    );
    assert!(empty.unwrap_err().0.contains("empty replay"));
    // Malformed pushes write nothing.
    assert!(replay(dev.as_mut()).replay_push(id, 2, &[&[0.0; 6]]).is_err());
    assert!(
        replay(dev.as_mut())
            .replay_push(id, 2, &[&[0.0; 5], &[0.0; 2]])
            .is_err()
    );
    let mut item = 0;
    // 3 items, then 4 (wrapping the ring of 5), then 12 at once (more than it holds).
    for (round, n) in [3usize, 4, 12].into_iter().enumerate() {
        let o: Vec<f32> = (0..3 * n).map(|i| (item * 3 + i) as f32 + 0.5).collect();
        let a: Vec<f32> = (0..n).map(|i| (item + i) as f32).collect();
        item += n;
        replay(dev.as_mut()).replay_push(id, n, &[&o, &a]).unwrap();
        host.push_many(n, &[&o, &a]).unwrap();
        draw.key = [round as u32 + 7, 99];
        replay(dev.as_mut())
            .call_drawn(
                entry,
                &[In::F32(&[]), In::I32(&[]), In::F32(&[1.0, 2.0])],
                std::slice::from_ref(&draw),
                &mut [Out::F32(&mut obs), Out::I32(&mut act), Out::F32(&mut x)],
            )
            .unwrap();
        assert_eq!(x, [-1.0, -2.0]);
        let mut slots_seen = std::collections::BTreeSet::new();
        for b in 0..B {
            let slot = uniform_slot(draw.key, b as u32, host.len() as u32) as usize;
            slots_seen.insert(slot);
            let want_o: Vec<f32> = host.column(0)[3 * slot..3 * slot + 3]
                .iter()
                .map(|v| -v)
                .collect();
            assert_eq!(&obs[3 * b..3 * b + 3], &want_o[..], "round {round} item {b}");
            assert_eq!(act[b], -(host.column(1)[slot] as i32), "round {round} item {b}");
        }
        assert_eq!(
            slots_seen.len(),
            host.len(),
            "64 draws should reach every stored slot"
        );
    }
    // The batch was drawn on the device: only the host scalar went in.
    assert_eq!(dev.stats(entry).unwrap().bytes_in, 8);
    // A batch that does not fit the input, or no batch at all, is an error.
    for batch in [0, B - 1] {
        let bad = Draw {
            batch,
            ..draw.clone()
        };
        let err = replay(dev.as_mut()).call_drawn(
            entry,
            &[In::F32(&[]), In::I32(&[]), In::F32(&[1.0, 2.0])],
            &[bad],
            &mut [Out::F32(&mut obs), Out::I32(&mut act), Out::F32(&mut x)],
        );
        assert!(err.is_err(), "batch {batch}");
    }
}

#[test]
fn sequence_replay_on_the_device_gathers_time_major_like_the_host() {
    use rlc_compiler::backend::{Draw, In, Out};
    use rlc_compiler::ir::{Graph, TensorType};
    use rlc_compiler::random::uniform_slot;
    use rlc_runtime::data::{Field, RolloutStorage, SequenceReplay};
    // Sequences of T = 3 steps from 2 environments, a ring of 3 sequences, batches of 8.
    const T: usize = 3;
    const N: usize = 2;
    const B: usize = 8;
    let fields = [Field::new("obs", [2]), Field::scalar("r")];
    let mut g = Graph::new();
    let o = g.input("D.obs", TensorType::f32(vec![T, B, 2]));
    let r = g.input("D.r", TensorType::f32(vec![T, B]));
    for (name, v) in [("obs", o), ("r", r)] {
        let n = g.neg(v).unwrap();
        g.output(name, n);
    }
    let mut dev = opencl();
    let entry = dev.compile("negate", &g).unwrap();
    let id = replay(dev.as_mut())
        .replay_create(&[2, 1], 3, T)
        .unwrap()
        .expect("device replay");
    let mut host = SequenceReplay::new(&fields, 3, T).unwrap();
    let mut rollout = RolloutStorage::new(&fields, T, N).unwrap();
    let draw = |round: u32| Draw {
        replay: id,
        batch: B,
        key: [round, 5],
        fields: vec![(0, 0), (1, 1)],
    };
    let (mut obs, mut rew) = (vec![0f32; T * B * 2], vec![0f32; T * B]);
    let mut step = 0;
    for round in 0..3u32 {
        rollout.clear();
        for _ in 0..T {
            let o: Vec<f32> = (0..2 * N).map(|i| (step * 10 + i) as f32).collect();
            let r: Vec<f32> = (0..N).map(|i| (step * 10 + i) as f32 + 0.25).collect();
            rollout.push_step(&[&o, &r]).unwrap();
            step += 1;
        }
        host.push_rollout(&rollout).unwrap();
        // Push what the host ring just stored, oldest first, as the trainer does.
        for age in host.len() - N.min(host.capacity())..host.len() {
            let slot = host.slot(age).unwrap();
            replay(dev.as_mut())
                .replay_push(id, 1, &[host.sequence(0, slot), host.sequence(1, slot)])
                .unwrap();
        }
        replay(dev.as_mut())
            .call_drawn(
                entry,
                &[In::F32(&[]), In::F32(&[])],
                &[draw(round)],
                &mut [Out::F32(&mut obs), Out::F32(&mut rew)],
            )
            .unwrap();
        let key = draw(round).key;
        for b in 0..B {
            let slot = uniform_slot(key, b as u32, host.len() as u32) as usize;
            for t in 0..T {
                let want = &host.sequence(0, slot)[2 * t..2 * t + 2];
                let got = &obs[(t * B + b) * 2..(t * B + b) * 2 + 2];
                assert_eq!(got, [-want[0], -want[1]], "round {round} item {b} step {t}");
                assert_eq!(rew[t * B + b], -host.sequence(1, slot)[t]);
            }
        }
    }
}

#[test]
fn ddpg_on_opencl_samples_replay_on_the_device() {
    let small = [
        "--backend",
        "opencl",
        "--set",
        "hidden=[8, 8]",
        "--set",
        "batch=32",
        "--set",
        "learning_starts=100",
    ];
    let rlc = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_rlc"))
            .args(args)
            .args(small)
            .current_dir(root())
            .output()
            .expect("run rlc");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    };
    // Per env step only the observation, the action and the transition cross the bus: a
    // host-sampled batch of 32 transitions alone would be 1,152 bytes per training call.
    let text = rlc(&["bench", "stdlib/ddpg.rl", "--run-steps", "300", "--json"]);
    let v: serde_json::Value = serde_json::from_str(text.trim()).expect("json");
    let bytes = v["backends"][0]["bytes_per_env_step"]
        .as_f64()
        .expect("bytes per env step");
    // obs in (12) + action out (4) + transition pushed (9 floats, 36) + the train call's key,
    // step and loss outputs (~20): well under one sampled batch.
    assert!(
        bytes > 40.0 && bytes < 200.0,
        "{bytes} bytes per env step\n{text}"
    );
    // Sampling on the device draws from the run's seed: the same seed gives the same run.
    let dir = common::learn::out_dir("ddpg-opencl-replay");
    let run = || {
        let text = rlc(&[
            "run",
            "stdlib/ddpg.rl",
            "--steps",
            "400",
            "--seed",
            "3",
            "--quiet",
            "--eval-episodes",
            "2",
            "--out",
            &dir,
        ]);
        let last = text.lines().last().unwrap_or_default().to_string();
        last.split_whitespace()
            .find(|w| w.starts_with("eval_return="))
            .map(str::to_string)
    };
    let first = run().expect("final line");
    assert_eq!(Some(first), run());
}

#[test]
fn acer_on_opencl_samples_sequences_on_the_device() {
    // ACER's sequence replay goes through the trainer to the device: per env step only the
    // transition, the acting call and a share of the training call's key cross the bus (its
    // sampled sequences alone are 17,920 bytes per training call when drawn on the host).
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rlc"))
        .args([
            "bench",
            "stdlib/acer.rl",
            "--backend",
            "opencl",
            "--run-steps",
            "500",
            "--json",
        ])
        .current_dir(root())
        .output()
        .expect("run rlc");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(text.trim()).expect("json");
    let bytes = v["backends"][0]["bytes_per_env_step"]
        .as_f64()
        .expect("bytes per env step");
    assert!(
        bytes > 20.0 && bytes < 300.0,
        "{bytes} bytes per env step\n{text}"
    );
}

#[test]
fn nstep_replay_on_the_device_holds_well_formed_windows() {
    // The trainer pushes the n-step items (not the steps) to the device ring: sampled there,
    // every window the program checks is well formed (`loss/violations` is exactly 0 at every
    // log line), through time limits and three environments' interleaved windows.
    let metrics = std::env::temp_dir().join(format!("rlc-nstep-{}.jsonl", std::process::id()));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rlc"))
        .args([
            "run",
            "tests/programs/nstep_check.rl",
            "--backend",
            "opencl",
            "--steps",
            "900",
        ])
        .args(["--log-every", "150", "--quiet", "--metrics"])
        .arg(&metrics)
        .arg("--out")
        .arg(std::env::temp_dir().join(format!("rlc-nstep-{}", std::process::id())))
        .current_dir(root())
        .output()
        .expect("run rlc");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("stays on the host"), "{stderr}");
    let text = std::fs::read_to_string(&metrics).expect("metrics");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .filter(|v: &serde_json::Value| v["final"].is_null())
        .collect();
    assert_eq!(lines.len(), 6);
    for v in &lines {
        assert_eq!(v["loss/violations"].as_f64(), Some(0.0), "{v}");
    }
    assert!(
        lines.last().unwrap()["episodes"].as_u64().unwrap() >= 3,
        "reaches the time limits"
    );
}

#[test]
fn integer_division_and_remainder_match_the_interpreter_at_the_edges() {
    use rlc_compiler::backend::{In, InterpBackend, Out};
    use rlc_compiler::ir::{BinaryOp, DType, Graph, StateTable, TensorType};
    // C leaves INT_MIN / -1 and INT_MIN % -1 undefined (x86 traps) and `(x % y + y) % y`
    // overflows; the interpreter defines them (wrap, 0, floored remainder).
    let (min, max) = (i32::MIN, i32::MAX);
    let pairs = [
        (min, -1),
        (min + 1, min),
        (max, min),
        (min, min),
        (max, -1),
        (7, -3),
        (-7, 3),
        (-7, -3),
        (5, 0),
        (0, -1),
        (min, 1),
        (-1, max),
    ];
    let n = pairs.len();
    let mut g = Graph::new();
    let x = g.input("x", TensorType::new(DType::I32, vec![n]));
    let y = g.input("y", TensorType::new(DType::I32, vec![n]));
    let q = g.binary(BinaryOp::Div, x, y).unwrap();
    let r = g.binary(BinaryOp::Rem, x, y).unwrap();
    g.output("q", q);
    g.output("r", r);
    let xs: Vec<i32> = pairs.iter().map(|p| p.0).collect();
    let ys: Vec<i32> = pairs.iter().map(|p| p.1).collect();
    let run = |b: &mut dyn Backend| {
        b.init_state(&StateTable::default(), 0).unwrap();
        let e = b.compile("divrem", &g).unwrap();
        let (mut q, mut r) = (vec![0i32; n], vec![0i32; n]);
        b.call(
            e,
            &[In::I32(&xs), In::I32(&ys)],
            &mut [Out::I32(&mut q), Out::I32(&mut r)],
        )
        .unwrap();
        (q, r)
    };
    let want = run(&mut InterpBackend::new());
    assert_eq!(want.1[0], 0, "i32::MIN % -1 is 0");
    assert_eq!(want.0[0], min, "i32::MIN / -1 wraps");
    assert_eq!(run(opencl().as_mut()), want);
}

/// A run-time index check fails on the device as on the CPU: the run stops with an error at
/// the index (the fault state is read back after each call).
#[test]
fn an_index_from_data_outside_its_axis_stops_the_run_on_opencl() {
    let src = "import nets.{mlp}
algorithm t {
  env: discrete default \"CartPole-v1\"
  net q(s: obs) = mlp(s, [8], env.num_actions)
  replay D capacity 1000 of (s: obs, a: act, r: f32, s2: obs, done: f32)
  policy greedy(s) = argmax(q(s))
  loss l(b ~ D.sample(16)) = mean(pick(q(b.s), i32(b.r * 5.0))^2)
  update q by adam(lr = 1e-3) on l
  schedule { envs 1; warmup 100; act greedy into D; train 1 every 1 after 100; eval greedy }
}";
    let c = common::compile_text(src, None).expect("compiles").remove(0);
    let cfg = common::run_config(300, 3);
    let mut t = rlc_runtime::trainer::Trainer::new(&c, opencl(), cfg).expect("trainer");
    match t.run(&mut rlc_runtime::progress::Progress::Quiet) {
        Err(rlc_runtime::trainer::RunError::IndexOutOfRange { message, check }) => {
            assert!(message.contains("training at step 101"), "{message}");
            assert_eq!(check.size, 2);
        }
        other => panic!("expected an index fault, got {other:?}"),
    }
}
