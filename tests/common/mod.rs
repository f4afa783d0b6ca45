//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod differential;
pub mod learn;
pub mod program_gen;
pub mod random_graphs;
pub mod traces;

use rlc_compiler::driver::{Driver, EnvLookupError, Request};
use rlc_compiler::env_spec::EnvSpec;
use rlc_compiler::interp::{Real, Tensor};
use rlc_compiler::ir::{DType, Graph, Op};
use rlc_compiler::lower::Compiled;
use std::path::{Path, PathBuf};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the `rlc` binary from the repository root, without colours.
pub fn rlc(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_rlc"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("run rlc")
}

/// A path for test `name` of suite `suite` in the temporary directory, removed if it exists.
pub fn fresh_dir(suite: &str, name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rlc-{suite}-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// The records of a metrics.jsonl file, in order.
pub fn metrics_records(path: &Path) -> Vec<serde_json::Map<String, serde_json::Value>> {
    std::fs::read_to_string(path)
        .expect("metrics file")
        .lines()
        .map(|l| match serde_json::from_str(l).expect("json line") {
            serde_json::Value::Object(m) => m,
            other => panic!("not an object: {other}"),
        })
        .collect()
}

/// A short REINFORCE run on CartPole (about a second: 6,000 steps, 4 environments, an
/// evaluation of 3 episodes every 2,000 steps, a metrics line every 1,024) into `out`, with
/// `extra` arguments.
pub fn small_reinforce(out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "run",
        "stdlib/reinforce.rl",
        "--steps",
        "6000",
        "--out",
        out.to_str().unwrap(),
        "--eval-every",
        "2000",
        "--eval-episodes",
        "3",
        "--log-every",
        "1024",
        "--set",
        "horizon=32",
        "--set",
        "n_envs=4",
    ];
    args.extend_from_slice(extra);
    rlc(&args)
}

/// The standard library directory.
pub fn stdlib() -> PathBuf {
    root().join("stdlib")
}

/// Environment specs from the runtime's registry.
pub fn resolve(id: &str) -> Result<EnvSpec, EnvLookupError> {
    rlc_runtime::envs::spec(id).map_err(|_| EnvLookupError {
        suggestion: None,
        reason: None,
        known: rlc_runtime::envs::known_ids()
            .iter()
            .map(|s| s.to_string())
            .collect(),
    })
}

/// Compiles a file (panics with rendered diagnostics on failure).
pub fn compile(path: &Path, overrides: &[&str]) -> Vec<Compiled> {
    let mut d = Driver::new(Some(stdlib()));
    let m = d
        .load(path)
        .unwrap_or_else(|e| panic!("{}", rlc_compiler::diag::render_all(&e, &d.mods.sources, false)));
    let req = Request {
        env: None,
        overrides: overrides.iter().map(|s| s.to_string()).collect(),
        eval_batch: Some(3),
    };
    d.compile(m, &req, &resolve)
        .unwrap_or_else(|e| panic!("{}", rlc_compiler::diag::render_all(&e, &d.mods.sources, false)))
}

/// Compiles source text placed in `stdlib/` (so imports resolve), returning diagnostics on failure.
pub fn compile_text(text: &str, env: Option<&str>) -> Result<Vec<Compiled>, String> {
    let mut d = Driver::new(Some(stdlib()));
    let m = d
        .load_text("test.rl", Some(&stdlib()), text)
        .map_err(|e| rlc_compiler::diag::render_all(&e, &d.mods.sources, false))?;
    let req = Request {
        env: env.map(String::from),
        ..Request::default()
    };
    d.compile(m, &req, &resolve)
        .map_err(|e| rlc_compiler::diag::render_all(&e, &d.mods.sources, false))
}

/// Every stdlib file that defines an algorithm.
pub fn stdlib_algorithms() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(stdlib())
        .expect("stdlib exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "rl"))
        .filter(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains("algorithm ")))
        .collect();
    v.sort();
    v
}

/// Plausible random inputs for a graph: observations and batches ~ N(0, 1), integer actions
/// in range, flags in {0, 1}, probability vectors normalised, a random key.
pub fn random_inputs<T: Real>(g: &Graph, n_actions: usize, seed: u64) -> Vec<Tensor<T>> {
    let key = rlc_compiler::random::stream_key([seed as i32, 7], 99);
    let mut counter = 0u64;
    let mut next = || {
        counter += 1;
        counter
    };
    g.inputs
        .iter()
        .map(|id| {
            let ty = g.ty(*id).clone();
            let name = match &g.node(*id).op {
                Op::Input { name } => name.clone(),
                _ => unreachable!(),
            };
            let n = ty.numel();
            match ty.dtype {
                DType::I32 if name == "key" => Tensor::i(ty.shape.clone(), vec![seed as i32, 12345]),
                DType::I32 => Tensor::i(
                    ty.shape.clone(),
                    (0..n)
                        .map(|_| (rlc_compiler::random::uniform(key, next()) * n_actions as f64) as i32)
                        .collect(),
                ),
                DType::Bool => Tensor::b(ty.shape.clone(), vec![false; n]),
                DType::F32 => {
                    let flag = name.ends_with(".done") || name.ends_with(".end");
                    let mut v: Vec<f64> = (0..n)
                        .map(|_| {
                            let u = rlc_compiler::random::normal(key, next());
                            if flag { f64::from(u > 1.0) } else { u }
                        })
                        .collect();
                    if name.ends_with(".mu") || name.ends_with(".weight") {
                        let a = *ty.shape.last().unwrap_or(&1);
                        for row in v.chunks_mut(a.max(1)) {
                            let e: Vec<f64> = row.iter().map(|x| x.exp()).collect();
                            let s: f64 = e.iter().sum();
                            for (r, x) in row.iter_mut().zip(e) {
                                *r = x / s;
                            }
                        }
                    }
                    Tensor::from_f64(ty.shape.clone(), &v)
                }
            }
        })
        .collect()
}

/// A quiet run configuration: no files written, evaluation only at the end (10 episodes).
pub fn run_config(steps: u64, seed: u64) -> rlc_runtime::trainer::RunConfig {
    rlc_runtime::trainer::RunConfig {
        steps,
        seed,
        eval_every: 0,
        eval_episodes: 10,
        log_every: 100,
        metrics: None,
        checkpoint: None,
        curve: None,
        tensorboard: None,
        program_hash: 0,
        debug_nans: false,
        vectorize: Default::default(),
    }
}

/// Identifier occurrences (byte ranges) in a source.
pub fn identifiers(src: &str) -> Vec<(usize, usize)> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_alphabetic() || b[i] == b'_' {
            let s = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push((s, i));
        } else {
            i += 1;
        }
    }
    out
}

/// Calls compiled entry `id` of `jit` once with f32 `inputs` (one vector per graph input,
/// in order; i32 inputs are zeros), discarding the outputs: a training step whose effect is
/// read back from the state.
pub fn jit_call_f32(
    jit: &mut rlc_compiler::backend::JitBackend,
    id: rlc_compiler::backend::EntryId,
    g: &Graph,
    inputs: &[Vec<f32>],
) {
    use rlc_compiler::backend::{Backend, In, Out};
    let is: Vec<Vec<i32>> = inputs.iter().map(|v| vec![0; v.len()]).collect();
    let ins: Vec<In<'_>> = g
        .inputs
        .iter()
        .enumerate()
        .map(|(j, i)| match g.ty(*i).dtype {
            DType::F32 => In::F32(&inputs[j]),
            _ => In::I32(&is[j]),
        })
        .collect();
    let mut of: Vec<Vec<f32>> = g
        .outputs
        .iter()
        .map(|(_, o)| vec![0.0; g.ty(*o).numel()])
        .collect();
    let mut oi: Vec<Vec<i32>> = g.outputs.iter().map(|(_, o)| vec![0; g.ty(*o).numel()]).collect();
    let mut outs: Vec<Out<'_>> = of
        .iter_mut()
        .zip(oi.iter_mut())
        .zip(&g.outputs)
        .map(|((f, i), (_, o))| match g.ty(*o).dtype {
            DType::F32 => Out::F32(f),
            _ => Out::I32(i),
        })
        .collect();
    jit.call(id, &ins, &mut outs).unwrap();
}
