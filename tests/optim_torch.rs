//! The update rules of stdlib/optim.rl against torch.optim: trajectories recorded with torch
//! 2.15.0 in float64 (tests/data/optim/record_torch.py makes them) — two parameters, 25 steps
//! of recorded gradients of varying scale, one step of exact zeros, with and without global-norm
//! clipping. The gradients are fed through a replay batch, so the loss `sum(w * g)` has exactly
//! the recorded gradient; parameters after every step must match torch's, on the interpreter
//! in f64 (to rounding) and on the JIT in f32.

mod common;

use common::*;
use rlc_compiler::backend::{Backend, HostData, JitBackend};
use rlc_compiler::interp::{Tensor, eval, initial_state};
use rlc_compiler::ir::{DType, Graph};
use rlc_compiler::lower::Compiled;
use serde_json::Value;

struct Case {
    rule: String,
    w1: Vec<f64>,
    w2: Vec<f64>,
    /// Per step: (g1, g2).
    grads: Vec<(Vec<f64>, Vec<f64>)>,
    /// Per step: (w1, w2) after it.
    params: Vec<(Vec<f64>, Vec<f64>)>,
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

fn pair(v: &Value) -> (Vec<f64>, Vec<f64>) {
    let a = v.as_array().expect("pair");
    (floats(&a[0]), floats(&a[1]))
}

fn cases() -> Vec<Case> {
    let path = root().join("tests/data/optim/torch_trajectories.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let data: Value = serde_json::from_str(&text).expect("json");
    assert!(data["torch_version"].as_str().unwrap().starts_with("2.15.0"));
    let cases: Vec<Case> = data["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| Case {
            rule: c["rule"].as_str().expect("rule").to_string(),
            w1: floats(&c["w1"]),
            w2: floats(&c["w2"]),
            grads: c["grads"].as_array().unwrap().iter().map(pair).collect(),
            params: c["params"].as_array().unwrap().iter().map(pair).collect(),
        })
        .collect();
    assert_eq!(cases.len(), 9, "every rule, with and without its options");
    cases
}

/// A program whose loss has the fed gradient: `sum(w1 * b.g1[0]) + sum(w2 * b.g2[0])`.
fn program(c: &Case) -> Compiled {
    let list = |v: &[f64]| v.iter().map(|x| format!("{x:e}")).collect::<Vec<_>>().join(", ");
    let src = format!(
        r#"
algorithm torch_case {{
  env: continuous default "Pendulum-v1"
  learnable w1: [3] = [{}]
  learnable w2: [2, 2] = [[{}], [{}]]
  net dummy(s: obs) = linear(s, 1)
  replay D capacity 10 of (s: obs, g1: [3], g2: [2, 2])
  // The acting policy provides the gradient fields (zeros); the test feeds the recorded ones.
  policy p(s) = {{
    action: clip(dummy(s), -2, 2),
    g1: zeros_like(s),
    g2: zeros_like(outer(s[..., :2], s[..., :2])),
  }}
  loss l(b ~ D.sample(1)) = sum(w1 * b.g1[0]) + sum(w2 * b.g2[0])
  loss ld(b ~ D.sample(1)) = mean(dummy(b.s))
  update w1, w2 by {} on l
  update dummy by sgd(lr = 0.1) on ld
  schedule {{ act p into D; train }}
}}"#,
        list(&c.w1),
        list(&c.w2[..2]),
        list(&c.w2[2..]),
        c.rule
    );
    compile_text(&src, None)
        .unwrap_or_else(|e| panic!("{}: {e}", c.rule))
        .remove(0)
}

/// The training call's inputs for one step: the recorded gradients, zeros elsewhere.
fn inputs(g: &Graph, step: &(Vec<f64>, Vec<f64>)) -> Vec<Vec<f64>> {
    g.inputs
        .iter()
        .map(|i| match g.input_name(*i) {
            "D.g1" => step.0.clone(),
            "D.g2" => step.1.clone(),
            _ => vec![0.0; g.ty(*i).numel()],
        })
        .collect()
}

fn check(what: &str, got: &[f64], want: &[f64], tol: f64) {
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * (1.0 + w.abs()),
            "{what}[{i}]: {g} vs torch {w} (|error| {:e})",
            (g - w).abs()
        );
    }
}

#[test]
fn update_rules_match_torch_optim_on_the_interpreter() {
    for c in cases() {
        let p = program(&c);
        let train = &p.entry("train").unwrap().graph;
        let mut state = initial_state::<f64>(&p.states, 0);
        let (w1, w2) = (p.states.find("w1").unwrap(), p.states.find("w2").unwrap());
        for (k, (step, want)) in c.grads.iter().zip(&c.params).enumerate() {
            let ins: Vec<Tensor<f64>> = inputs(train, step)
                .into_iter()
                .zip(&train.inputs)
                .map(|(v, i)| {
                    let ty = train.ty(*i);
                    match ty.dtype {
                        DType::F32 => Tensor::from_f64(ty.shape.clone(), &v),
                        _ => Tensor::filled(ty, 0.0),
                    }
                })
                .collect();
            let r = eval(train, &ins, &state).unwrap();
            for (id, v) in r.assigns {
                state[id.0 as usize] = v;
            }
            // float64 on both sides; the orders of operations differ (Adam's efficient form).
            let what = format!("{} step {}", c.rule, k + 1);
            check(
                &format!("{what} w1"),
                &state[w1.0 as usize].to_f64(),
                &want.0,
                1e-11,
            );
            check(
                &format!("{what} w2"),
                &state[w2.0 as usize].to_f64(),
                &want.1,
                1e-11,
            );
        }
    }
}

#[test]
fn update_rules_match_torch_optim_on_the_jit() {
    for c in cases() {
        let p = program(&c);
        let train = &p.entry("train").unwrap().graph;
        let mut jit = JitBackend::new();
        jit.init_state(&p.states, 0).unwrap();
        let id = jit.compile("train", train).unwrap();
        let (w1, w2) = (p.states.find("w1").unwrap(), p.states.find("w2").unwrap());
        for (k, (step, want)) in c.grads.iter().zip(&c.params).enumerate() {
            let fs: Vec<Vec<f32>> = inputs(train, step)
                .iter()
                .map(|v| v.iter().map(|x| *x as f32).collect())
                .collect();
            jit_call_f32(&mut jit, id, train, &fs);
            let read = |s| match jit.read_state(s).unwrap() {
                HostData::F32(x) => x.iter().map(|v| f64::from(*v)).collect::<Vec<_>>(),
                HostData::I32(_) => panic!("f32 parameters"),
            };
            let what = format!("{} step {} (JIT, f32)", c.rule, k + 1);
            check(&format!("{what} w1"), &read(w1), &want.0, 2e-4);
            check(&format!("{what} w2"), &read(w2), &want.1, 2e-4);
        }
    }
}
