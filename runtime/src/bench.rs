//! Benchmarks of compiled programs: per-entry compile time and call latency, GFLOP/s of the
//! training step against the GEMM kernel's own rate at the same shapes, and end-to-end
//! environment steps per second of a short real training run.

use crate::error::RunError;
use crate::progress::Progress;
use crate::trainer::{RunConfig, Trainer};
use rlc_compiler::backend::{self, Backend, In, Out, cost};
use rlc_compiler::env_spec::ActionSpace;
use rlc_compiler::ir::{DType, Graph};
use rlc_compiler::lower::Compiled;
use rlc_compiler::signature::{InputRole, Signature};
use std::time::Instant;

/// Timing of one entry point.
#[derive(Clone, Debug)]
pub struct EntryTiming {
    /// Entry name.
    pub name: String,
    /// Compile time.
    pub compile_ms: f64,
    /// Median microseconds per call.
    pub median_us: f64,
    /// FLOPs per call.
    pub flops: u64,
    /// Kernels, launches and bytes moved per call (kernel-launching backends).
    pub stats: Option<backend::EntryStats>,
}

/// Everything `rlc bench` reports for one backend.
#[derive(Clone, Debug)]
pub struct BackendReport {
    /// Backend name.
    pub backend: String,
    /// Per entry point.
    pub entries: Vec<EntryTiming>,
    /// Achieved GFLOP/s of `train`.
    pub train_gflops: f64,
    /// Environment steps per second of a short training run (after warm-up).
    pub env_steps_per_s: f64,
    /// Steps of that run.
    pub run_steps: u64,
    /// Bytes copied between host and device per environment step in that run's training
    /// phase (acting and training calls' inputs and outputs, replay pushes), as the backend
    /// counted them; for backends with separate memory.
    pub bytes_per_env_step: Option<f64>,
}

/// The GEMM kernel alone at the training step's shapes.
#[derive(Clone, Debug)]
pub struct MatmulReport {
    /// `(m, k, n, calls per step, microseconds per call, GFLOP/s)`.
    pub shapes: Vec<(usize, usize, usize, usize, f64, f64)>,
    /// Matrix-product FLOPs per training step.
    pub flops: u64,
    /// GFLOP/s of the kernel summed over the step's products.
    pub gflops: f64,
}

/// Plausible inputs for an entry: observations ~ N(0, 1)-ish, actions in range, flags 0/1,
/// probability vectors normalised; deterministic.
pub fn sample_inputs(g: &Graph, signature: &Signature, n_actions: usize) -> Vec<(Vec<f32>, Vec<i32>)> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 11) as f64 / (1u64 << 53) as f64
    };
    g.inputs
        .iter()
        .zip(&signature.inputs)
        .map(|(id, role)| {
            let ty = g.ty(*id);
            let field = match role {
                InputRole::Field { field, .. } => field.as_str(),
                InputRole::Weights { .. } => "weight",
                InputRole::Observation | InputRole::Key | InputRole::Step | InputRole::Argument { .. } => "",
            };
            let n = ty.numel();
            if ty.dtype == DType::I32 {
                return (
                    Vec::new(),
                    (0..n)
                        .map(|_| (next() * n_actions.max(1) as f64) as i32)
                        .collect(),
                );
            }
            let mut v: Vec<f32> = (0..n).map(|_| (next() * 2.0 - 1.0) as f32).collect();
            if field == "done" || field == "end" {
                v.iter_mut().for_each(|x| *x = f32::from(*x > 0.8));
            }
            if field == "mu" || field == "weight" {
                let a = *ty.shape.last().unwrap_or(&1);
                for row in v.chunks_mut(a.max(1)) {
                    let s: f32 = row.iter().map(|x| x.abs() + 0.1).sum();
                    row.iter_mut().for_each(|x| *x = (x.abs() + 0.1) / s);
                }
            }
            (v, Vec::new())
        })
        .collect()
}

/// Median microseconds per call of a compiled entry on `inputs` (see [`sample_inputs`]),
/// over batches of calls lasting about 0.3 s in all.
pub fn median_call_us(
    b: &mut dyn Backend,
    id: backend::EntryId,
    g: &Graph,
    inputs: &[(Vec<f32>, Vec<i32>)],
) -> Result<f64, RunError> {
    let ins: Vec<In<'_>> = g
        .inputs
        .iter()
        .zip(inputs)
        .map(|(i, (f, n))| {
            if g.ty(*i).dtype == DType::I32 {
                In::I32(n)
            } else {
                In::F32(f)
            }
        })
        .collect();
    let mut fbufs: Vec<Vec<f32>> = g
        .outputs
        .iter()
        .map(|(_, o)| vec![0.0; g.ty(*o).numel()])
        .collect();
    let mut ibufs: Vec<Vec<i32>> = g.outputs.iter().map(|(_, o)| vec![0; g.ty(*o).numel()]).collect();
    let mut outs: Vec<Out<'_>> = fbufs
        .iter_mut()
        .zip(ibufs.iter_mut())
        .zip(&g.outputs)
        .map(|((f, i), (_, o))| {
            if g.ty(*o).dtype == DType::I32 {
                Out::I32(i)
            } else {
                Out::F32(f)
            }
        })
        .collect();
    for _ in 0..3 {
        b.call(id, &ins, &mut outs)?;
    }
    // Batches of calls for ~0.3 s, median of batch means.
    let t = Instant::now();
    b.call(id, &ins, &mut outs)?;
    let one = t.elapsed().as_secs_f64().max(1e-7);
    let per_batch = ((0.03 / one) as usize).clamp(1, 10_000);
    let mut samples = Vec::new();
    for _ in 0..9 {
        let t = Instant::now();
        for _ in 0..per_batch {
            b.call(id, &ins, &mut outs)?;
        }
        samples.push(t.elapsed().as_secs_f64() / per_batch as f64);
    }
    samples.sort_by(|a, b| a.total_cmp(b));
    Ok(samples[samples.len() / 2] * 1e6)
}

/// Compiles and times every entry point on `backend_name`, then trains for `run_steps`.
pub fn bench_backend(
    program: &Compiled,
    backend_name: &str,
    run_steps: u64,
) -> Result<BackendReport, RunError> {
    let n_actions = match &program.env.action {
        ActionSpace::Discrete { n } => *n,
        ActionSpace::Continuous { .. } => 1,
    };
    let mut b = backend::create(backend_name)?;
    b.init_state(&program.states, 0)?;
    let mut entries = Vec::new();
    let mut train_gflops = 0.0;
    for e in &program.entries {
        let t = Instant::now();
        let id = b.compile(&e.name, &e.graph)?;
        let compile_ms = t.elapsed().as_secs_f64() * 1e3;
        let inputs = sample_inputs(&e.graph, &e.signature, n_actions);
        let us = median_call_us(b.as_mut(), id, &e.graph, &inputs)?;
        // Count the work the backend actually runs: the graph after the optimisation passes.
        let opt = rlc_compiler::passes::optimize(&e.graph).unwrap_or_else(|_| e.graph.clone());
        let flops = cost::flops(&opt).total;
        if e.name == "train" {
            train_gflops = flops as f64 / (us * 1e-6) / 1e9;
        }
        entries.push(EntryTiming {
            name: e.name.clone(),
            compile_ms,
            median_us: us,
            flops,
            stats: b.stats(id),
        });
    }
    let warm = program.schedule.warmup.max(program.schedule.train_after) as u64;
    // Whole vector steps: the trainer runs a multiple of the environments it steps together.
    let steps = (warm + run_steps).next_multiple_of(program.schedule.envs as u64);
    let cfg = RunConfig {
        steps,
        seed: 0,
        eval_every: 0,
        eval_episodes: program
            .entry("eval")
            .map_or(1, |e| e.graph.ty(e.graph.inputs[0]).shape[0]),
        log_every: steps,
        metrics: None,
        checkpoint: None,
        curve: None,
        tensorboard: None,
        program_hash: 0,
        debug_nans: false,
        vectorize: Default::default(),
    };
    let mut trainer = Trainer::new(program, backend::create(backend_name)?, cfg)?;
    let s = trainer.run(&mut Progress::Quiet)?;
    // Measured by the backend over the training phase: inputs, outputs and replay pushes.
    let bytes_per_env_step = s.train_phase_bytes_per_step;
    Ok(BackendReport {
        backend: backend_name.to_string(),
        entries,
        train_gflops,
        env_steps_per_s: s.train_phase_steps_per_s,
        run_steps,
        bytes_per_env_step,
    })
}

/// Times the GEMM kernel alone at the shapes of the training step's matrix products.
pub fn bench_matmuls(program: &Compiled) -> MatmulReport {
    let Some(train) = program.entry("train") else {
        return MatmulReport {
            shapes: Vec::new(),
            flops: 0,
            gflops: 0.0,
        };
    };
    let mut shapes: Vec<((usize, usize, usize), usize)> = Vec::new();
    let opt = rlc_compiler::passes::optimize(&train.graph).unwrap_or_else(|_| train.graph.clone());
    for s in cost::matmul_shapes(&opt) {
        match shapes.iter_mut().find(|(x, _)| *x == s) {
            Some((_, c)) => *c += 1,
            None => shapes.push((s, 1)),
        }
    }
    let mut total_t = 0.0;
    let mut total_f = 0u64;
    let mut out = Vec::new();
    for ((m, k, n), count) in shapes {
        let t = cost::time_matmul(m, k, n);
        let f = 2 * m * k * n;
        total_t += t * count as f64;
        total_f += (f * count) as u64;
        out.push((m, k, n, count, t * 1e6, f as f64 / t / 1e9));
    }
    MatmulReport {
        shapes: out,
        flops: total_f,
        gflops: if total_t > 0.0 {
            total_f as f64 / total_t / 1e9
        } else {
            0.0
        },
    }
}
