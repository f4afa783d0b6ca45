//! A backend against the reference interpreter: outputs and updated state of an entry point
//! on random inputs; tolerance |backend - interp| <= 2e-4 * max(1, |interp|) per element (f32;
//! matrix products and reductions sum in a different order).

use super::*;
use rlc_compiler::backend::{Backend, HostData, In, Out};
use rlc_compiler::env_spec::ActionSpace;
use rlc_compiler::interp::{Buf, Tensor, eval, initial_state};
use rlc_compiler::ir::{DType, Graph};
use rlc_compiler::lower::Compiled;

/// Makes a fresh backend.
pub type Make = fn() -> Box<dyn Backend>;

const TOL: f64 = 2e-4;

fn n_actions(c: &Compiled) -> usize {
    match c.env.action {
        ActionSpace::Discrete { n } => n,
        ActionSpace::Continuous { .. } => 1,
    }
}

fn close(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    let mut worst = 0.0f64;
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let err = (g - w).abs() / 1f64.max(w.abs());
        let both_nan = g.is_nan() && w.is_nan();
        if err.is_nan() && !both_nan || err > TOL {
            panic!("{what}[{i}]: backend {g} vs interp {w} (error {err:e})");
        }
        worst = worst.max(err);
    }
}

/// Runs `g` on a fresh backend from `make` and compares outputs and state with the interpreter.
pub fn check_entry(make: Make, c: &Compiled, name: &str, g: &Graph, seed: u64) {
    let state = initial_state::<f32>(&c.states, 7);
    let inputs = random_inputs::<f32>(g, n_actions(c), seed);
    let want = eval(g, &inputs, &state).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut jit = make();
    jit.init_state(&c.states, 7).unwrap();
    let id = jit
        .compile(name, g)
        .unwrap_or_else(|e| panic!("{} {name}: {e}", c.name));
    let ins: Vec<In<'_>> = inputs
        .iter()
        .map(|t| match &t.buf {
            Buf::F(v) => In::F32(v),
            Buf::I(v) => In::I32(v),
            Buf::B(_) => panic!("bool inputs"),
        })
        .collect();
    let mut outs_f: Vec<Vec<f32>> = Vec::new();
    let mut outs_i: Vec<Vec<i32>> = Vec::new();
    for (_, o) in &g.outputs {
        let ty = g.ty(*o);
        outs_f.push(vec![0.0; if ty.dtype == DType::F32 { ty.numel() } else { 0 }]);
        outs_i.push(vec![0; if ty.dtype == DType::F32 { 0 } else { ty.numel() }]);
    }
    {
        let mut outs: Vec<Out<'_>> = outs_f
            .iter_mut()
            .zip(outs_i.iter_mut())
            .zip(&g.outputs)
            .map(|((f, i), (_, o))| {
                if g.ty(*o).dtype == DType::F32 {
                    Out::F32(f)
                } else {
                    Out::I32(i)
                }
            })
            .collect();
        jit.call(id, &ins, &mut outs)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    for (k, ((oname, o), w)) in g.outputs.iter().zip(&want.outputs).enumerate() {
        let got: Vec<f64> = if g.ty(*o).dtype == DType::F32 {
            outs_f[k].iter().map(|x| f64::from(*x)).collect()
        } else {
            outs_i[k].iter().map(|x| f64::from(*x)).collect()
        };
        close(&format!("{} {name} output {oname}", c.name), &got, &w.to_f64());
    }
    // Assigned state took the interpreter's new values; everything else is unchanged.
    let mut expected: Vec<Tensor<f32>> = state.clone();
    for (id, v) in &want.assigns {
        expected[id.0 as usize] = v.clone();
    }
    for (id, v) in c.states.iter() {
        let got = match jit.read_state(id).unwrap() {
            HostData::F32(x) => x.iter().map(|f| f64::from(*f)).collect::<Vec<_>>(),
            HostData::I32(x) => x.iter().map(|i| f64::from(*i)).collect(),
        };
        close(
            &format!("{} {name} state {}", c.name, v.name),
            &got,
            &expected[id.0 as usize].to_f64(),
        );
    }
}

pub fn check_program(make: Make, path: &std::path::Path, overrides: &[&str]) {
    for c in compile(path, overrides) {
        for e in &c.entries {
            check_entry(make, &c, &e.name, &e.graph, 5);
        }
    }
}

/// Every entry point of every stdlib algorithm, with the given net sizes.
pub fn check_stdlib(make: Make, sizes: &[&str]) {
    for f in stdlib_algorithms() {
        for h in sizes {
            check_program(make, &f, &[h]);
        }
    }
}

/// Every entry point of every example program (small nets).
pub fn check_examples(make: Make) {
    let mut files: Vec<_> = std::fs::read_dir(root().join("examples"))
        .expect("examples/")
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    for f in files {
        check_program(make, &f, &["hidden=[16, 16]"]);
    }
}
