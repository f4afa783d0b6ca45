//! NaN and infinity are run-time faults: a diverging run stops with exit status 3 and a message
//! naming the loss or state, keeps its last good checkpoint, never writes a non-finite value
//! to a checkpoint or reads one back, and `--debug-nans` points at the expression that produced
//! it. Non-finite continuous actions are refused like out-of-range discrete ones.

mod common;

use rlc_compiler::backend::{Backend, HostData, InterpBackend};
use std::path::{Path, PathBuf};
use std::process::Output;

use common::rlc;

fn tmp(name: &str) -> PathBuf {
    common::fresh_dir("nan", name)
}

/// DDPG with a critic learning rate that overflows on the second update (2x32 nets to be quick).
fn diverging_ddpg(out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "run",
        "stdlib/ddpg.rl",
        "--set",
        "lr_critic=1e6",
        "--set",
        "hidden=[32,32]",
        "--steps",
        "3000",
        "--eval-episodes",
        "1",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    rlc(&args)
}

fn all_finite(path: &Path) -> bool {
    let c = common::compile(&common::stdlib().join("ddpg.rl"), &["hidden=[32,32]"]).remove(0);
    let mut b = InterpBackend::new();
    b.init_state(&c.states, 0).unwrap();
    rlc_runtime::checkpoint::load(path, &c.states, &mut b).expect("the kept checkpoint loads");
    c.states.iter().all(|(id, _)| match b.read_state(id).unwrap() {
        HostData::F32(x) => x.iter().all(|v| v.is_finite()),
        HostData::I32(_) => true,
    })
}

#[test]
fn a_diverging_run_stops_with_status_3_and_keeps_the_last_good_checkpoint() {
    let out = tmp("diverge");
    let r = diverging_ddpg(&out, &[]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(3), "{err}");
    assert!(err.contains("loss `critic_loss` is"), "{err}");
    assert!(err.contains("the run stopped"), "{err}");
    assert!(err.contains("last good checkpoint"), "{err}");
    assert!(err.contains("--debug-nans"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // No `final:` line: the run did not finish.
    assert!(!String::from_utf8_lossy(&r.stdout).contains("final:"));
    // The checkpoint from the last evaluation before the fault is there, and finite.
    assert!(all_finite(&out.join("checkpoint.safetensors")));
    // The metrics written so far hold no non-finite loss and no `null` loss after an update.
    for line in std::fs::read_to_string(out.join("metrics.jsonl"))
        .unwrap()
        .lines()
    {
        assert!(!line.contains("NaN") && !line.contains("inf"), "{line}");
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if v["updates"].as_u64().unwrap() > 0 {
            assert!(v["loss/critic_loss"].is_number(), "{line}");
        }
    }
}

#[test]
fn debug_nans_points_at_the_expression_that_produced_the_value() {
    let out = tmp("debug");
    let r = diverging_ddpg(&out, &["--debug-nans"]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(3), "{err}");
    assert!(err.contains("[E0027]"), "{err}");
    assert!(err.contains("first non-finite value:"), "{err}");
    assert!(err.contains("in `train`"), "{err}");
    // The critic's squared error overflows first: a location, not a guess.
    let src = std::fs::read_to_string(common::stdlib().join("ddpg.rl")).unwrap();
    let line = 1 + src
        .lines()
        .position(|l| l.trim() == "mean((q - y)^2)")
        .expect("ddpg.rl computes the critic's squared error");
    assert!(err.contains(&format!("stdlib/ddpg.rl:{line}:10")), "{err}");
    assert!(err.contains("produced it"), "{err}");
}

#[test]
fn non_finite_continuous_actions_stop_the_run() {
    // A greedy policy taking the square root of a negative number: NaN actions at evaluation.
    let src = std::fs::read_to_string(common::stdlib().join("ddpg.rl"))
        .unwrap()
        .replace(
            "policy greedy(s) = actor(s)",
            "policy greedy(s) = actor(s) * sqrt(s[..., :1] - 5.0)",
        );
    assert!(src.contains("sqrt(s[..., :1] - 5.0)"));
    let dir = tmp("action");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("nan_policy.rl");
    std::fs::write(&file, src).unwrap();
    let out = dir.join("out");
    let r = rlc(&[
        "run",
        file.to_str().unwrap(),
        "--set",
        "hidden=[8]",
        "--steps",
        "2000",
        "--eval-every",
        "500",
        "--eval-episodes",
        "1",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(3), "{err}");
    assert!(err.contains("Pendulum-v1: continuous action NaN"), "{err}");
    assert!(err.contains("not a finite number"), "{err}");
}

#[test]
fn checkpoints_with_non_finite_values_are_neither_written_nor_loaded() {
    let c = common::compile(&common::stdlib().join("ddpg.rl"), &["hidden=[8]"]).remove(0);
    let mut b = InterpBackend::new();
    b.init_state(&c.states, 0).unwrap();
    let dir = tmp("ckpt");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("checkpoint.safetensors");
    let meta = rlc_runtime::checkpoint::Meta {
        program_hash: "0".into(),
        algorithm: "ddpg".into(),
        env: "Pendulum-v1".into(),
        step: 1,
        seed: 0,
    };
    rlc_runtime::checkpoint::save(&path, &c.states, &b, &meta).unwrap();
    let good = std::fs::read(&path).unwrap();
    // A NaN in one parameter: saving fails and the good file is untouched.
    let w = c.states.find("critic/l0/w").unwrap();
    let HostData::F32(mut x) = b.read_state(w).unwrap() else {
        panic!("f32 state")
    };
    x[3] = f32::NAN;
    b.write_state(w, &HostData::F32(x)).unwrap();
    let e = rlc_runtime::checkpoint::save(&path, &c.states, &b, &meta)
        .unwrap_err()
        .to_string();
    assert!(e.contains("state `critic/l0/w` holds NaN (element 3)"), "{e}");
    assert!(e.contains("previous one is kept"), "{e}");
    assert_eq!(std::fs::read(&path).unwrap(), good);
    // A file holding an infinity (written by hand) is refused as corrupt, state unchanged.
    let st = safetensors::SafeTensors::deserialize(&good).unwrap();
    let t = st.tensor("critic/l0/w").unwrap();
    let mut vals: Vec<f32> = t
        .data()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    vals[0] = f32::INFINITY;
    let bytes: Vec<u8> = vals.iter().flat_map(|v| v.to_le_bytes()).collect();
    let mut views: Vec<(String, safetensors::tensor::TensorView<'_>)> = Vec::new();
    for (name, view) in st.tensors() {
        if name == "critic/l0/w" {
            continue;
        }
        views.push((name, view));
    }
    views.push((
        "critic/l0/w".into(),
        safetensors::tensor::TensorView::new(t.dtype(), t.shape().to_vec(), &bytes).unwrap(),
    ));
    let (_, header) = safetensors::SafeTensors::read_metadata(&good).unwrap();
    let bad = dir.join("bad.safetensors");
    safetensors::serialize_to_file(views, header.metadata().clone(), &bad).unwrap();
    let mut b2 = InterpBackend::new();
    b2.init_state(&c.states, 0).unwrap();
    let before = b2.read_state(w).unwrap();
    let e = rlc_runtime::checkpoint::load(&bad, &c.states, &mut b2)
        .unwrap_err()
        .to_string();
    assert!(e.contains("`critic/l0/w` holds inf (element 0): corrupt"), "{e}");
    assert_eq!(b2.read_state(w).unwrap(), before);
}
