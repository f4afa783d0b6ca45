//! Program state (`state`, `set`): when each kind of entry point changes it, that a call
//! reads the values from before it, that evaluations leave it alone, and the running
//! normaliser of `stdlib/normalize.rl` against a direct computation.

mod common;

use rlc_compiler::driver::{Driver, no_env};
use rlc_compiler::interp::eval;
use std::process::Command;

/// Reads scalar tensors of a checkpoint as f64.
fn scalars(path: &std::path::Path, names: &[&str]) -> Vec<f64> {
    let bytes = std::fs::read(path).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    names
        .iter()
        .map(|n| {
            let t = st
                .tensor(n)
                .unwrap_or_else(|_| panic!("no `{n}` in the checkpoint"));
            let b: [u8; 4] = t.data().try_into().expect("a scalar");
            match t.dtype() {
                safetensors::Dtype::I32 => f64::from(i32::from_le_bytes(b)),
                safetensors::Dtype::F32 => f64::from(f32::from_le_bytes(b)),
                d => panic!("{n} is {d:?}"),
            }
        })
        .collect()
}

#[test]
fn acting_derive_and_training_calls_change_state_and_evaluations_do_not() {
    let out = std::env::temp_dir().join(format!("rlc-state-{}", std::process::id()));
    let mut backends = vec!["interp", "jit"];
    if cfg!(feature = "opencl") {
        backends.push("opencl");
    }
    for backend in backends {
        let r = Command::new(env!("CARGO_BIN_EXE_rlc"))
            .current_dir(common::root())
            .args([
                "run",
                "tests/programs/state_counters.rl",
                "--steps",
                "64",
                "--eval-every",
                "16",
            ])
            .args(["--eval-episodes", "2", "--quiet", "--backend", backend, "--out"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        let v = scalars(
            &out.join("checkpoint.safetensors"),
            &["acted", "derived", "trained", "previous", "last_r"],
        );
        // 64 steps of 2 copies: 32 acting calls (evaluations, every 16 steps, add none);
        // 4-step rollouts: 8 of them; 8 items in 2 minibatches, 2 epochs: 4 calls each.
        assert_eq!(v[0], 32.0, "{backend}: acting calls");
        assert_eq!(v[1], 8.0, "{backend}: derive calls");
        assert_eq!(v[2], 32.0, "{backend}: training calls");
        // Every call reads the state from before it: the last one saw 31 (the JIT once copied
        // `previous` from `trained`'s buffer after updating that in place, and read 32).
        assert_eq!(v[3], 31.0, "{backend}: the value the last call read");
        // CartPole pays 1 per step, and `ret` is the derived copy of `r`.
        assert_eq!(v[4], 1.0, "{backend}: mean reward of the last minibatch");
    }
}

#[test]
fn running_moments_merge_batches_like_one_pass_over_all_of_them() {
    let mut d = Driver::new(Some(common::stdlib()));
    let m = d
        .load_text(
            "t.rl",
            Some(&common::stdlib()),
            "import normalize.{running_moments, normalize}\n",
        )
        .expect("load");
    let batches: [&[[f64; 2]]; 3] = [
        &[[1.0, -2.0], [3.0, 0.5]],
        &[[10.0, 4.0]],
        &[[-1.0, 2.0], [0.0, 0.0], [2.5, 7.0]],
    ];
    let lit = |b: &[[f64; 2]]| {
        let rows: Vec<String> = b.iter().map(|r| format!("[{:?}, {:?}]", r[0], r[1])).collect();
        format!("[{}]", rows.join(", "))
    };
    // Merged one batch at a time from nothing (count 0), then normalising the last batch.
    let expr = format!(
        "{{ let a = running_moments([0.0, 0.0], [0.0, 0.0], 0.0, {})\n\
           let b = running_moments(a.mean, a.var, a.count, {})\n\
           let c = running_moments(b.mean, b.var, b.count, {})\n\
           (c.mean, c.var, normalize({}, c.mean, c.var)) }}",
        lit(batches[0]),
        lit(batches[1]),
        lit(batches[2]),
        lit(batches[2])
    );
    let traced = d
        .trace_expr(m, None, no_env(), &expr)
        .unwrap_or_else(|e| panic!("{}", rlc_compiler::diag::render_all(&e, &d.mods.sources, false)));
    let r = eval::<f64>(&traced.graph, &[], &[]).expect("eval");
    // numpy: x.mean(axis=0), x.var(axis=0) over all six rows.
    let all: Vec<[f64; 2]> = batches.iter().flat_map(|b| b.iter().copied()).collect();
    let n = all.len() as f64;
    for k in 0..2 {
        let mean = all.iter().map(|r| r[k]).sum::<f64>() / n;
        let var = all.iter().map(|r| (r[k] - mean).powi(2)).sum::<f64>() / n;
        let (got_mean, got_var) = (r.outputs[0].to_f64()[k], r.outputs[1].to_f64()[k]);
        assert!((got_mean - mean).abs() < 1e-12, "mean[{k}]: {got_mean} vs {mean}");
        assert!((got_var - var).abs() < 1e-12, "var[{k}]: {got_var} vs {var}");
        for (i, row) in batches[2].iter().enumerate() {
            let want = ((row[k] - mean) / (var + 1e-8).sqrt()).clamp(-10.0, 10.0);
            let got = r.outputs[2].to_f64()[i * 2 + k];
            assert!((got - want).abs() < 1e-9, "normalised[{i}][{k}]: {got} vs {want}");
        }
    }
}

/// PPO's adaptive-KL objective, whose β is program state, learns CartPole like PPO.
#[test]
#[cfg_attr(debug_assertions, ignore = "learning tests run in release mode")]
fn ppo_with_an_adaptive_kl_penalty_solves_cartpole() {
    let ret = common::learn::seed1_return(
        "examples/ppo_adaptive_kl.rl",
        "CartPole-v1",
        "100000",
        "jit",
        &[],
        "ppo-adaptive-kl",
    );
    assert!(
        ret >= 475.0,
        "examples/ppo_adaptive_kl.rl reached only {ret} on CartPole-v1"
    );
}
