//! Rules that treat the parameters as one vector and evaluate a loss again at candidate
//! parameters (`flatten`, `unflatten`, `loss(ps)`), and the `trpo` rule of stdlib/optim.rl:
//! one training step on the interpreter (f64) and the JIT (f32) against a direct f64
//! computation of the same step.

mod common;

use common::*;
use rlc_compiler::backend::{Backend, HostData, JitBackend};
use rlc_compiler::interp::{Tensor, eval, initial_state};
use rlc_compiler::lower::Compiled;

const Z0: [f64; 3] = [0.2, -0.1, 0.4];
const ADV: [f64; 3] = [1.0, -0.5, 0.3];
const W0: [f64; 3] = [1.0, -2.0, 0.5];
const K: [f64; 3] = [1.0, 2.0, 3.0];
/// The batch's `r`, the quadratic losses' target.
const C: f64 = 1.0;
const STEPS: [f64; 4] = [0.02, 0.1, 0.2, 0.5];

/// `z`: a softmax policy's logits updated by TRPO; `w`: updated by a rule that tries several
/// step sizes and keeps the one whose re-evaluated loss is lowest; `v`: SGD whose gradient is
/// taken of the loss re-evaluated at `unflatten(flatten(params))`.
fn program(max_kl: f64) -> Compiled {
    let src = format!(
        r#"
rule best_step() {{
  let theta = flatten(params)
  let g = flatten(grads)
  let (best, best_loss) = for s in [0.02, 0.1, 0.2, 0.5] with best = 0.0, best_loss = loss(params) {{
    let l = loss(unflatten(theta - s * g, params))
    (if l < best_loss then s else best, minimum(l, best_loss))
  }}
  unflatten(theta - best * g, params)
}}

rule reevaluated_sgd(lr) {{
  let theta = flatten(params)
  unflatten(theta - lr * grad(loss(unflatten(theta, params)), theta), params)
}}

algorithm tr {{
  env: continuous default "Pendulum-v1"
  learnable z: [3] = [0.2, -0.1, 0.4]
  learnable w: [3] = [1.0, -2.0, 0.5]
  learnable v: [3] = [1.0, -2.0, 0.5]
  learnable u: [3] = [1.0, -2.0, 0.5]
  net dummy(s: obs) = linear(s, 1)
  replay D capacity 10 of (s: obs, r: f32)
  policy p(s) = clip(dummy(s), -2, 2)
  loss surrogate(b ~ D.sample(1)) =
    -sum(softmax(z) * [1.0, -0.5, 0.3]) * mean(b.r) + sum((z - [0.2, -0.1, 0.4])^2)
  loss z_kl(b ~ D.sample(1)) =
    mean(b.r) * kl(categorical([0.2, -0.1, 0.4]), categorical(z))
  loss lw(b ~ D.sample(1)) = sum((w - b.r) ^ 2 * [1.0, 2.0, 3.0])
  loss lv(b ~ D.sample(1)) = sum((v - b.r) ^ 2 * [1.0, 2.0, 3.0])
  loss lu(b ~ D.sample(1)) = sum((u - b.r) ^ 2 * [1.0, 2.0, 3.0])
  loss ld(b ~ D.sample(1)) = mean(dummy(b.s))
  update z by trpo(kl = z_kl, max_kl = {max_kl}) on surrogate
  update w by best_step() on lw
  update v by reevaluated_sgd(lr = 0.05) on lv
  update u by adam_steps(lr = 0.1, steps = 3) on lu
  update dummy by sgd(lr = 0.1) on ld
  schedule {{ act p into D; train }}
}}"#
    );
    compile_text(&src, None)
        .unwrap_or_else(|e| panic!("{e}"))
        .remove(0)
}

fn input_value(name: &str) -> f64 {
    if name == "D.r" { C } else { 0.1 }
}

/// `calls` training steps on the interpreter: the new `z`, `w`, `v`, `u`.
fn interp_steps(c: &Compiled, calls: usize) -> [Vec<f64>; 4] {
    let train = &c.entry("train").unwrap().graph;
    let mut state = initial_state::<f64>(&c.states, 0);
    let inputs: Vec<Tensor<f64>> = train
        .inputs
        .iter()
        .map(|i| Tensor::filled(train.ty(*i), input_value(train.input_name(*i))))
        .collect();
    for _ in 0..calls {
        let r = eval(train, &inputs, &state).unwrap();
        for (id, v) in r.assigns {
            state[id.0 as usize] = v;
        }
    }
    ["z", "w", "v", "u"].map(|n| state[c.states.find(n).unwrap().0 as usize].to_f64())
}

/// `calls` training steps on the JIT: the new `z`, `w`, `v`, `u`.
fn jit_steps(c: &Compiled, calls: usize) -> [Vec<f64>; 4] {
    let train = &c.entry("train").unwrap().graph;
    let mut jit = JitBackend::new();
    jit.init_state(&c.states, 0).unwrap();
    let id = jit.compile("train", train).unwrap();
    let fs: Vec<Vec<f32>> = train
        .inputs
        .iter()
        .map(|i| vec![input_value(train.input_name(*i)) as f32; train.ty(*i).numel()])
        .collect();
    for _ in 0..calls {
        jit_call_f32(&mut jit, id, train, &fs);
    }
    ["z", "w", "v", "u"].map(|n| match jit.read_state(c.states.find(n).unwrap()).unwrap() {
        HostData::F32(x) => x.iter().map(|v| f64::from(*v)).collect(),
        HostData::I32(_) => panic!("f32 parameters"),
    })
}

fn softmax(z: &[f64]) -> Vec<f64> {
    let m = z.iter().cloned().fold(f64::MIN, f64::max);
    let e: Vec<f64> = z.iter().map(|x| (x - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|x| x / s).collect()
}

/// A linear objective in the probabilities plus a penalty that is flat at `Z0` (so the
/// gradient and the natural-gradient direction are the linear part's) but makes long steps
/// worse: the line search has something to reject.
fn surrogate(z: &[f64]) -> f64 {
    -softmax(z).iter().zip(ADV).map(|(p, a)| p * a).sum::<f64>() * C
        + z.iter().zip(Z0).map(|(a, b)| (a - b).powi(2)).sum::<f64>()
}

fn kl(z: &[f64]) -> f64 {
    let (p, q) = (softmax(&Z0), softmax(z));
    p.iter().zip(&q).map(|(p, q)| p * (p / q).ln()).sum::<f64>() * C
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// TRPO's step, directly: F = diag(p) - p p' (the Hessian of KL(p0 || softmax(z)) at z0),
/// conjugate gradient on (F + damping I) x = g exactly as the rule writes it, the step scaled
/// to x'Fx / 2 = max_kl, and the line search over 0.8^k. Returns the new z and the fraction
/// of the full step the line search took.
fn trpo_reference(max_kl: f64) -> (Vec<f64>, f64) {
    let (damping, cg_iters, backtracks, shrink) = (0.1, 15, 10, 0.8);
    let p = softmax(&Z0);
    let pa = dot(&p, &ADV);
    let g: Vec<f64> = (0..3).map(|i| -p[i] * (ADV[i] - pa) * C).collect();
    let fv = |v: &[f64]| -> Vec<f64> {
        let pv = dot(&p, v);
        (0..3)
            .map(|i| (p[i] * v[i] - p[i] * pv) * C + damping * v[i])
            .collect()
    };
    let (mut x, mut r, mut d) = (vec![0.0; 3], g.clone(), g.clone());
    let mut rr = dot(&g, &g);
    for _ in 0..cg_iters {
        let fd = fv(&d);
        let live = rr > 1e-10;
        let alpha = if live { rr / dot(&d, &fd) } else { 0.0 };
        let r_new: Vec<f64> = (0..3).map(|i| r[i] - alpha * fd[i]).collect();
        let rr_new = dot(&r_new, &r_new);
        let beta = if live { rr_new / rr } else { 0.0 };
        x = (0..3).map(|i| x[i] + alpha * d[i]).collect();
        d = (0..3).map(|i| r_new[i] + beta * d[i]).collect();
        r = r_new;
        rr = rr_new;
    }
    let x_fx = dot(&x, &fv(&x));
    let full: Vec<f64> = x
        .iter()
        .map(|v| v * (2.0 * max_kl / x_fx.max(1e-20)).sqrt())
        .collect();
    let l0 = surrogate(&Z0);
    let mut frac = 0.0;
    for i in 0..backtracks {
        let s = f64::powi(shrink, backtracks - 1 - i);
        let cand: Vec<f64> = (0..3).map(|j| Z0[j] - s * full[j]).collect();
        if kl(&cand) <= max_kl && surrogate(&cand) < l0 {
            frac = s;
        }
    }
    ((0..3).map(|j| Z0[j] - frac * full[j]).collect(), frac)
}

fn lw(w: &[f64]) -> f64 {
    w.iter().zip(K).map(|(w, k)| (w - C).powi(2) * k).sum()
}

/// The step of `best_step` and of `reevaluated_sgd`, directly.
fn quad_reference() -> (Vec<f64>, Vec<f64>) {
    let g: Vec<f64> = W0.iter().zip(K).map(|(w, k)| 2.0 * k * (w - C)).collect();
    let (mut best, mut best_loss) = (0.0, lw(&W0));
    for s in STEPS {
        let l = lw(&(0..3).map(|i| W0[i] - s * g[i]).collect::<Vec<_>>());
        if l < best_loss {
            best = s;
        }
        best_loss = best_loss.min(l);
    }
    assert_eq!(best, 0.2, "the reference picks the third step size");
    (
        (0..3).map(|i| W0[i] - best * g[i]).collect(),
        (0..3).map(|i| W0[i] - 0.05 * g[i]).collect(),
    )
}

fn close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    for (a, b) in got.iter().zip(want) {
        assert!(
            (a - b).abs() <= tol * (1.0 + b.abs()),
            "{what}: {got:?}, expected {want:?}"
        );
    }
}

#[test]
fn a_rule_evaluates_its_loss_at_candidate_parameters() {
    let (w, v) = quad_reference();
    let c = program(0.01);
    let [_, gw, gv, _] = interp_steps(&c, 1);
    close("best_step (interpreter)", &gw, &w, 1e-12);
    close("reevaluated_sgd (interpreter)", &gv, &v, 1e-12);
    let [_, gw, gv, _] = jit_steps(&c, 1);
    close("best_step (JIT)", &gw, &w, 1e-5);
    close("reevaluated_sgd (JIT)", &gv, &v, 1e-5);
}

#[test]
fn trpo_takes_the_natural_gradient_step_within_the_trust_region() {
    // A small radius: the full step is accepted; a larger one: the line search shrinks the
    // step until the loss improves; a large one: no fraction improves it, so no step.
    let mut fracs = Vec::new();
    for max_kl in [0.01, 0.3, 1.0] {
        let (want, frac) = trpo_reference(max_kl);
        fracs.push(frac);
        let c = program(max_kl);
        let [z, _, _, _] = interp_steps(&c, 1);
        close(&format!("trpo max_kl={max_kl} (interpreter)"), &z, &want, 1e-10);
        let [z, _, _, _] = jit_steps(&c, 1);
        close(&format!("trpo max_kl={max_kl} (JIT)"), &z, &want, 1e-4);
        assert!(kl(&z) <= max_kl * 1.001, "KL {} beyond {max_kl}", kl(&z));
    }
    assert_eq!(fracs[0], 1.0, "the full step within a small trust region");
    assert!(
        fracs[1] < 1.0 && fracs[1] > 0.0,
        "the line search shrinks: {fracs:?}"
    );
    assert_eq!(fracs[2], 0.0, "no step when no fraction improves the loss");
}

/// torch.optim.Adam's update, called `calls * steps` times, each on the gradient at the
/// parameters the previous call left (the moments and step count carry over).
fn adam_reference(calls: usize, steps: usize, lr: f64) -> Vec<f64> {
    let (b1, b2, eps) = (0.9, 0.999, 1e-8);
    let mut w = W0.to_vec();
    let (mut m, mut v) = (vec![0.0; 3], vec![0.0; 3]);
    for t in 1..=calls * steps {
        let t = t as f64;
        for i in 0..3 {
            let g = 2.0 * K[i] * (w[i] - C);
            m[i] = b1 * m[i] + (1.0 - b1) * g;
            v[i] = b2 * v[i] + (1.0 - b2) * g * g;
            let (mh, vh) = (m[i] / (1.0 - b1.powf(t)), v[i] / (1.0 - b2.powf(t)));
            w[i] -= lr * mh / (vh.sqrt() + eps);
        }
    }
    w
}

#[test]
fn adam_steps_takes_several_steps_per_call_and_keeps_its_moments() {
    let c = program(0.01);
    for calls in [1, 2] {
        let want = adam_reference(calls, 3, 0.1);
        let [_, _, _, u] = interp_steps(&c, calls);
        close(
            &format!("adam_steps, {calls} calls (interpreter)"),
            &u,
            &want,
            1e-12,
        );
        let [_, _, _, u] = jit_steps(&c, calls);
        close(&format!("adam_steps, {calls} calls (JIT)"), &u, &want, 1e-5);
    }
    // Discriminates: one Adam step per call would be elsewhere.
    let one = adam_reference(2, 1, 0.1);
    let [_, _, _, u] = interp_steps(&c, 2);
    assert!((u[1] - one[1]).abs() > 1e-3, "{u:?} vs one step per call {one:?}");
}

/// One `linear` layer `f` updated by `kfac`; its Fisher loss is linear in the outputs, so the
/// gradients at the pre-activations are the same known row for every sample.
fn kfac_program() -> Compiled {
    let src = r#"
algorithm k {
  env: continuous default "Pendulum-v1"
  net f(s: obs) = linear(s, 2)
  replay D capacity 10 of (s: obs, r: f32)
  policy p(s) = clip(f(s)[..., :1], -2, 2)
  loss main(b ~ D.sample(4)) = mean(f(b.s)[..., 0] * b.r)
  loss fisher(b ~ D.sample(4)) = mean(sum(f(b.s) * [0.5, -1.0], axis = -1))
  update f by kfac(fisher = fisher, lr = 0.25, momentum = 0.9, kl_clip = 0.001, damping = 0.01) on main
  schedule { act p into D; train }
}"#;
    compile_text(src, None)
        .unwrap_or_else(|e| panic!("{e}"))
        .remove(0)
}

/// The sampled batch: observations `X` [4, 3] and rewards `R` [4].
const X: [f64; 12] = [0.3, -1.2, 0.5, 1.1, 0.4, -0.7, -0.2, 0.9, 1.5, 0.8, -0.6, 0.1];
const R: [f64; 4] = [1.0, -0.5, 2.0, 0.25];

fn kfac_input(name: &str) -> Vec<f64> {
    match name {
        "D.s" => X.to_vec(),
        "D.r" => R.to_vec(),
        _ => Vec::new(),
    }
}

/// `a x = b` for a small square `a` (row-major), by Gauss-Jordan elimination.
fn solve_small(a: &[f64], b: &[f64], n: usize, m: usize) -> Vec<f64> {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    for c in 0..n {
        let p = (c..n)
            .max_by(|i, j| a[i * n + c].abs().total_cmp(&a[j * n + c].abs()))
            .unwrap();
        for k in 0..n {
            a.swap(p * n + k, c * n + k);
        }
        for k in 0..m {
            b.swap(p * m + k, c * m + k);
        }
        for r in 0..n {
            if r != c {
                let f = a[r * n + c] / a[c * n + c];
                for k in 0..n {
                    a[r * n + k] -= f * a[c * n + k];
                }
                for k in 0..m {
                    b[r * m + k] -= f * b[c * m + k];
                }
            }
        }
    }
    (0..n * m).map(|i| b[i] / a[(i / m) * n + i / m]).collect()
}

/// (a + damp I)^-1 g (s + damp I)^-1 for g [n, m], a [n, n], s [m, m] (s symmetric).
fn precondition(a: &[f64], g: &[f64], s: &[f64], n: usize, m: usize, damp: f64) -> Vec<f64> {
    let ad: Vec<f64> = (0..n * n)
        .map(|i| a[i] + if i / n == i % n { damp } else { 0.0 })
        .collect();
    let sd: Vec<f64> = (0..m * m)
        .map(|i| s[i] + if i / m == i % m { damp } else { 0.0 })
        .collect();
    let left = solve_small(&ad, g, n, m);
    let lt: Vec<f64> = (0..m * n).map(|i| left[(i % n) * m + i / n]).collect();
    let right = solve_small(&sd, &lt, m, n);
    (0..n * m).map(|i| right[(i % m) * n + i / m]).collect()
}

#[test]
fn kfac_preconditions_each_layer_by_its_kronecker_factors() {
    let c = kfac_program();
    let train = &c.entry("train").unwrap().graph;
    let mut state = initial_state::<f64>(&c.states, 0);
    let (wid, bid) = (c.states.find("f/l0/w").unwrap(), c.states.find("f/l0/b").unwrap());
    let w0 = state[wid.0 as usize].to_f64();
    let b0 = state[bid.0 as usize].to_f64();
    let inputs: Vec<Tensor<f64>> = train
        .inputs
        .iter()
        .map(|i| {
            let ty = train.ty(*i);
            let v = kfac_input(train.input_name(*i));
            if v.is_empty() {
                Tensor::filled(ty, 0.0)
            } else {
                Tensor::f(ty.shape.clone(), v)
            }
        })
        .collect();
    let r = eval(train, &inputs, &state).unwrap();
    for (id, v) in r.assigns {
        state[id.0 as usize] = v;
    }
    let (w1, b1) = (state[wid.0 as usize].to_f64(), state[bid.0 as usize].to_f64());

    // Directly: gradients of mean(y[:, 0] * r), factors from the batch (the first step's
    // running averages, bias-corrected, are the batch's own), preconditioning, KL scaling.
    let rows = 4.0;
    let mut gw = vec![0.0; 6];
    let mut gb = vec![0.0; 2];
    for i in 0..4 {
        for k in 0..3 {
            gw[k * 2] += X[i * 3 + k] * R[i] / rows;
        }
        gb[0] += R[i] / rows;
    }
    let mut a = vec![0.0; 9];
    for i in 0..4 {
        for p in 0..3 {
            for q in 0..3 {
                a[p * 3 + q] += X[i * 3 + p] * X[i * 3 + q] / rows;
            }
        }
    }
    // Every row's gradient at the pre-activations is [0.5, -1] / rows: G = rows * sum d d'.
    let cvec = [0.5, -1.0];
    let s: Vec<f64> = (0..4).map(|i| cvec[i / 2] * cvec[i % 2]).collect();
    let damp = 0.01f64.sqrt();
    let nat_w = precondition(&a, &gw, &s, 3, 2, damp);
    let nat_b = precondition(&[1.0], &gb, &s, 1, 2, damp);
    let g_nat_g: f64 = nat_w
        .iter()
        .zip(&gw)
        .chain(nat_b.iter().zip(&gb))
        .map(|(x, y)| x * y)
        .sum();
    let (lr, momentum, kl_clip) = (0.25, 0.9, 0.001);
    let scale = (kl_clip / (lr * lr * g_nat_g)).sqrt().min(1.0);
    let want_w: Vec<f64> = w0
        .iter()
        .zip(&nat_w)
        .map(|(p, n)| p - lr * (1.0 - momentum) * scale * n)
        .collect();
    let want_b: Vec<f64> = b0
        .iter()
        .zip(&nat_b)
        .map(|(p, n)| p - lr * (1.0 - momentum) * scale * n)
        .collect();
    assert!(scale < 1.0, "the KL clip is active ({scale})");
    close("kfac weight", &w1, &want_w, 1e-10);
    close("kfac bias", &b1, &want_b, 1e-10);
}
