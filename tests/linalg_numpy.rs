//! The small linear algebra K-FAC and natural-gradient rules use — `cholesky` and `solve` —
//! against numpy/LAPACK on random well-conditioned (condition number 10) and ill-conditioned
//! (1e5) symmetric positive-definite matrices from 3x3 to 128x128, recorded by
//! `tests/data/linalg/record_numpy.py`: the interpreter in f64, the JIT and OpenCL (with
//! `--features opencl`) in f32. Their gradients are checked against finite differences in
//! the routines' own files (`compiler/src/ir/routine/`).

mod common;

use rlc_compiler::backend::{Backend, In, JitBackend, Out};
use rlc_compiler::interp::{Tensor, eval};
use rlc_compiler::ir::{Cholesky, Graph, Routine, Solve, StateTable, TensorType};

struct Case {
    name: String,
    n: usize,
    a: Vec<f64>,
    b: Vec<f64>,
    cholesky: Vec<f64>,
    solve: Vec<f64>,
}

fn cases() -> Vec<Case> {
    let path = common::root().join("tests/data/linalg/numpy_references.json");
    let text = std::fs::read_to_string(&path).expect("numpy references");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    let nums = |x: &serde_json::Value| -> Vec<f64> {
        x.as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect()
    };
    // The matrices are f32 values written with 9 significant digits, which name them exactly
    // as f32 (not as f64): numpy computed from the f32 values, so do we.
    let f32s = |x: &serde_json::Value| -> Vec<f64> { nums(x).iter().map(|v| f64::from(*v as f32)).collect() };
    v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| Case {
            name: c["name"].as_str().unwrap().to_string(),
            n: c["n"].as_u64().unwrap() as usize,
            a: f32s(&c["a"]),
            b: f32s(&c["b"]),
            cholesky: nums(&c["cholesky"]),
            solve: nums(&c["solve"]),
        })
        .collect()
}

/// `cholesky(a)` and `solve(a, b)` as one graph.
fn graph(n: usize) -> Graph {
    let mut g = Graph::new();
    let a = g.input("a", TensorType::f32(vec![n, n]));
    let b = g.input("b", TensorType::f32(vec![n]));
    let l = g.routine(Routine::Cholesky(Cholesky), &[a]).unwrap();
    g.output("cholesky", l);
    let x = g.routine(Routine::Solve(Solve), &[a, b]).unwrap();
    g.output("solve", x);
    g
}

/// `|got - want| <= tol * max |want|` for every entry.
fn close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}");
    let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let worst = got
        .iter()
        .zip(want)
        .map(|(g, w)| (g - w).abs())
        .fold(0.0f64, f64::max);
    assert!(
        worst <= tol * scale,
        "{what}: largest error {worst:e} (scale {scale:e}, tolerance {tol:e})"
    );
}

fn on_device(dev: &mut dyn Backend, c: &Case) -> (Vec<f64>, Vec<f64>) {
    dev.init_state(&StateTable::default(), 0).unwrap();
    let id = dev.compile("linalg", &graph(c.n)).unwrap();
    let a: Vec<f32> = c.a.iter().map(|v| *v as f32).collect();
    let b: Vec<f32> = c.b.iter().map(|v| *v as f32).collect();
    let (mut l, mut x) = (vec![0.0f32; c.n * c.n], vec![0.0f32; c.n]);
    dev.call(
        id,
        &[In::F32(&a), In::F32(&b)],
        &mut [Out::F32(&mut l), Out::F32(&mut x)],
    )
    .unwrap();
    let wide = |v: &[f32]| v.iter().map(|x| f64::from(*x)).collect::<Vec<_>>();
    (wide(&l), wide(&x))
}

#[test]
fn cholesky_and_solve_match_numpy_on_the_interpreter() {
    for c in cases() {
        let g = graph(c.n);
        let r = eval::<f64>(
            &g,
            &[
                Tensor::f(vec![c.n, c.n], c.a.clone()),
                Tensor::f(vec![c.n], c.b.clone()),
            ],
            &[],
        )
        .unwrap();
        // Both in f64: what is left is rounding, amplified by the condition number for solve.
        close(
            &format!("cholesky {}", c.name),
            &r.outputs[0].to_f64(),
            &c.cholesky,
            1e-12,
        );
        close(
            &format!("solve {}", c.name),
            &r.outputs[1].to_f64(),
            &c.solve,
            1e-9,
        );
    }
}

#[test]
fn cholesky_and_solve_match_numpy_on_the_jit() {
    for c in cases() {
        let (l, x) = on_device(&mut JitBackend::new(), &c);
        // The routine runs in f64 on the f32 operands; the result is rounded to f32.
        close(&format!("cholesky {} (JIT)", c.name), &l, &c.cholesky, 1e-6);
        close(&format!("solve {} (JIT)", c.name), &x, &c.solve, 1e-6);
    }
}

#[cfg(feature = "opencl")]
#[test]
fn cholesky_and_solve_match_numpy_on_opencl() {
    let mut dev = rlc_compiler::backend::OpenClBackend::new().unwrap_or_else(|e| panic!("{e}"));
    for c in cases() {
        let (l, x) = on_device(&mut dev, &c);
        close(&format!("cholesky {} (OpenCL)", c.name), &l, &c.cholesky, 1e-6);
        close(&format!("solve {} (OpenCL)", c.name), &x, &c.solve, 1e-6);
    }
}
