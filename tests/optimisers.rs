//! Optimisers and target updates lowered to IR behave like their textbook definitions:
//! several training steps on the interpreter against a direct f64 implementation.

mod common;

use common::*;
use rlc_compiler::interp::{Tensor, eval, initial_state};
use rlc_compiler::lower::Compiled;

/// A program whose loss is `sum((w - c)^2 * k)` for a learnable `w` and a data batch `c`, so
/// the gradient is known in closed form: `2 k (w - c)`.
fn program(opt: &str, extra: &str) -> Compiled {
    let src = format!(
        r#"
algorithm quad {{
  env: continuous default "Pendulum-v1"
  learnable w: [3] = [1.0, -2.0, 0.5]
  net dummy(s: obs) = linear(s, 1)
  {extra}
  replay D capacity 10 of (s: obs, r: f32)
  policy p(s) = clip(dummy(s), -2, 2)
  loss l(b ~ D.sample(1)) = sum((w - b.r) ^ 2 * [1.0, 2.0, 3.0])
  loss ld(b ~ D.sample(1)) = mean(dummy(b.s))
  update w by {opt} on l
  update dummy by sgd(lr = 0.1) on ld
  schedule {{ act p into D; train }}
}}"#
    );
    compile_text(&src, None)
        .unwrap_or_else(|e| panic!("{e}"))
        .remove(0)
}

/// Runs `steps` training steps with target `c` and returns the trajectory of `w`.
fn run(c: &Compiled, steps: usize, target: f64) -> Vec<Vec<f64>> {
    let train = &c.entry("train").unwrap().graph;
    let mut state = initial_state::<f64>(&c.states, 0);
    let w = c.states.find("w").unwrap();
    let mut out = Vec::new();
    for _ in 0..steps {
        let inputs: Vec<Tensor<f64>> = train
            .inputs
            .iter()
            .map(|i| {
                let ty = train.ty(*i);
                Tensor::filled(
                    ty,
                    if train.input_name(*i) == "D.r" {
                        target
                    } else {
                        0.1
                    },
                )
            })
            .collect();
        let r = eval(train, &inputs, &state).unwrap();
        for (id, v) in r.assigns {
            state[id.0 as usize] = v;
        }
        out.push(state[w.0 as usize].to_f64());
    }
    out
}

const K: [f64; 3] = [1.0, 2.0, 3.0];
const W0: [f64; 3] = [1.0, -2.0, 0.5];

fn grad(w: &[f64], c: f64) -> Vec<f64> {
    w.iter().zip(K).map(|(w, k)| 2.0 * k * (w - c)).collect()
}

fn close(a: &[Vec<f64>], b: &[Vec<f64>]) {
    for (t, (x, y)) in a.iter().zip(b).enumerate() {
        for (p, q) in x.iter().zip(y) {
            assert!(
                (p - q).abs() < 1e-12 * (1.0 + q.abs()),
                "step {t}: {x:?} vs {y:?}"
            );
        }
    }
}

#[test]
fn adam_matches_the_paper() {
    let c = program("adam(lr = 0.05, b1 = 0.8, b2 = 0.9, eps = 1e-6)", "");
    let got = run(&c, 20, 0.3);
    let (mut w, mut m, mut v) = (W0.to_vec(), vec![0.0; 3], vec![0.0; 3]);
    let mut want = Vec::new();
    for t in 1..=20 {
        let g = grad(&w, 0.3);
        for i in 0..3 {
            m[i] = 0.8 * m[i] + 0.2 * g[i];
            v[i] = 0.9 * v[i] + 0.1 * g[i] * g[i];
            let mh = m[i] / (1.0 - 0.8f64.powi(t));
            let vh = v[i] / (1.0 - 0.9f64.powi(t));
            w[i] -= 0.05 * mh / (vh.sqrt() + 1e-6);
        }
        want.push(w.clone());
    }
    close(&got, &want);
}

#[test]
fn sgd_with_momentum_matches_pytorch() {
    let c = program("sgd(lr = 0.01, momentum = 0.9)", "");
    let got = run(&c, 15, -0.5);
    let (mut w, mut buf) = (W0.to_vec(), vec![0.0; 3]);
    let mut want = Vec::new();
    for _ in 0..15 {
        let g = grad(&w, -0.5);
        for i in 0..3 {
            buf[i] = 0.9 * buf[i] + g[i];
            w[i] -= 0.01 * buf[i];
        }
        want.push(w.clone());
    }
    close(&got, &want);
}

#[test]
fn rmsprop_matches_pytorch() {
    let c = program("rmsprop(lr = 0.01, alpha = 0.95, eps = 1e-5)", "");
    let got = run(&c, 15, 0.0);
    let (mut w, mut sq) = (W0.to_vec(), vec![0.0; 3]);
    let mut want = Vec::new();
    for _ in 0..15 {
        let g = grad(&w, 0.0);
        for i in 0..3 {
            sq[i] = 0.95 * sq[i] + 0.05 * g[i] * g[i];
            w[i] -= 0.01 * g[i] / (sq[i].sqrt() + 1e-5);
        }
        want.push(w.clone());
    }
    close(&got, &want);
}

#[test]
fn global_norm_clipping_scales_the_gradient() {
    let c = program("sgd(lr = 0.1, clip_norm = 1.0)", "");
    let got = run(&c, 3, 0.0);
    let mut w = W0.to_vec();
    let mut want = Vec::new();
    for _ in 0..3 {
        let g = grad(&w, 0.0);
        let norm = g.iter().map(|x| x * x).sum::<f64>().sqrt();
        let scale = (1.0 / (norm + 1e-6)).min(1.0);
        for i in 0..3 {
            w[i] -= 0.1 * g[i] * scale;
        }
        want.push(w.clone());
    }
    close(&got, &want);
}

#[test]
fn polyak_and_periodic_targets_follow_their_net() {
    let c = program(
        "sgd(lr = 0.1)",
        "target soft = polyak(dummy, 0.25)\n  target hard = copy(dummy, 3)",
    );
    let train = &c.entry("train").unwrap().graph;
    let mut state = initial_state::<f64>(&c.states, 0);
    let p = c.states.find("dummy/l0/b").unwrap().0 as usize;
    let soft = c.states.find("soft/l0/b").unwrap().0 as usize;
    let hard = c.states.find("hard/l0/b").unwrap().0 as usize;
    // Targets start as exact copies.
    assert_eq!(state[soft], state[p]);
    assert_eq!(state[hard], state[p]);
    let mut expect_soft = state[soft].get(0);
    let mut last_copy = state[p].get(0);
    for step in 1..=7 {
        let inputs: Vec<Tensor<f64>> = train
            .inputs
            .iter()
            .map(|i| Tensor::filled(train.ty(*i), 0.1))
            .collect();
        let r = eval(train, &inputs, &state).unwrap();
        for (id, v) in r.assigns {
            state[id.0 as usize] = v;
        }
        let pn = state[p].get(0);
        expect_soft = 0.75 * expect_soft + 0.25 * pn;
        assert!(
            (state[soft].get(0) - expect_soft).abs() < 1e-12,
            "polyak at step {step}"
        );
        if step % 3 == 0 {
            last_copy = pn;
        }
        assert_eq!(state[hard].get(0), last_copy, "hard copy at step {step}");
    }
}

#[test]
fn delayed_updates_apply_every_k_steps() {
    let src = r#"
algorithm delayed {
  env: continuous default "Pendulum-v1"
  learnable w = 1.0
  replay D capacity 10 of (s: obs, r: f32)
  net n(s: obs) = linear(s, 1)
  policy p(s) = clip(n(s), -2, 2)
  loss l(b ~ D.sample(1)) = sum(w * b.r)
  loss l2(b ~ D.sample(1)) = mean(n(b.s))
  update w by sgd(lr = 1.0) on l every 2
  update n by sgd(lr = 0.1) on l2
  schedule { act p into D; train }
}"#;
    let c = compile_text(src, None).unwrap().remove(0);
    let train = &c.entry("train").unwrap().graph;
    let mut state = initial_state::<f64>(&c.states, 0);
    let w = c.states.find("w").unwrap().0 as usize;
    let mut seen = Vec::new();
    for _ in 0..5 {
        let inputs: Vec<Tensor<f64>> = train
            .inputs
            .iter()
            .map(|i| Tensor::filled(train.ty(*i), 1.0))
            .collect();
        let r = eval(train, &inputs, &state).unwrap();
        for (id, v) in r.assigns {
            state[id.0 as usize] = v;
        }
        seen.push(state[w].get(0));
    }
    // Steps 0, 2, 4 apply (gradient 1.0, lr 1.0); 1 and 3 do not.
    assert_eq!(seen, vec![0.0, 0.0, -1.0, -1.0, -2.0]);
}

/// A rule written in a program (the README's example): Adam without bias correction, with
/// global-norm clipping at 1, against a direct implementation.
#[test]
fn a_rule_defined_in_the_program_is_applied() {
    let rule = r#"
import optim.{clip_scale}

/// Adam without bias correction, clipped.
rule my_adam(lr, b1 = 0.9, b2 = 0.999, eps = 1e-8) {
  state t = 0.0
  require lr >= 0, "`lr` must be non-negative"
  let scale = clip_scale(grads, 1.0)
  each (p, g) {
    state m = zeros_like(p)
    state v = zeros_like(p)
    let m_new = b1 * m + (1 - b1) * g * scale
    let v_new = b2 * v + (1 - b2) * (g * scale)^2
    set m = m_new
    set v = v_new
    p - lr * m_new / (sqrt(v_new) + eps)
  }
}
"#;
    let text = format!(
        r#"{rule}
algorithm quad {{
  env: continuous default "Pendulum-v1"
  learnable w: [3] = [1.0, -2.0, 0.5]
  net dummy(s: obs) = linear(s, 1)
  replay D capacity 10 of (s: obs, r: f32)
  policy p(s) = clip(dummy(s), -2, 2)
  loss l(b ~ D.sample(1)) = sum((w - b.r) ^ 2 * [1.0, 2.0, 3.0])
  loss ld(b ~ D.sample(1)) = mean(dummy(b.s))
  update w by my_adam(lr = 0.05, b2 = 0.9) on l
  update dummy by sgd(lr = 0.1) on ld
  schedule {{ act p into D; train }}
}}"#
    );
    let c = compile_text(&text, None)
        .unwrap_or_else(|e| panic!("{e}"))
        .remove(0);
    // The rule's state is named by parameter and rule, and by update when shared.
    assert!(c.states.find("w/my_adam.m").is_some());
    assert!(c.states.find("opt/w/my_adam.t").is_some());
    let got = run(&c, 12, 0.3);
    let (mut w, mut m, mut v) = (W0.to_vec(), vec![0.0; 3], vec![0.0; 3]);
    let mut want = Vec::new();
    for _ in 0..12 {
        let g = grad(&w, 0.3);
        let norm = g.iter().map(|x| x * x).sum::<f64>().sqrt();
        let scale = (1.0 / (norm + 1e-6)).min(1.0);
        for i in 0..3 {
            let gs = g[i] * scale;
            m[i] = 0.9 * m[i] + 0.1 * gs;
            v[i] = 0.9 * v[i] + 0.1 * gs * gs;
            w[i] -= 0.05 * m[i] / (v[i].sqrt() + 1e-8);
        }
        want.push(w.clone());
    }
    close(&got, &want);
}
