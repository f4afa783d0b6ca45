//! `rlc._rlc`: the native half of the `rlc` Python package (the public API is `rlc/__init__.py`).
//!
//! A [`Program`] is a compiled `.rl` file for one environment and one set of overrides. It
//! trains with the same trainer as `rlc run` (metrics, curve and checkpoint in a directory)
//! and acts greedily from a checkpoint with the program's `eval` entry point, compiled for the
//! batch of observations it is given. Diagnostics become `rlc.CompileError` with the rendered
//! report (source lines and carets); failed runs `rlc.RunError`.

use std::path::{Path, PathBuf};

use numpy::{PyArray1, PyArrayMethods, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use rlc_compiler::backend::{self, Backend, EntryId};
use rlc_compiler::check::find_stdlib;
use rlc_compiler::diag::{Diagnostic, render_all};
use rlc_compiler::driver::{Driver, Request, program_hash};
use rlc_compiler::env_spec::ActionSpace;
use rlc_compiler::lower::Compiled;
use rlc_runtime::checkpoint;
use rlc_runtime::progress::Progress;
use rlc_runtime::trainer::{
    EvalPolicy, IndexGuard, RunConfig, RunError as TrainError, Trainer, greedy_actions,
};

create_exception!(
    _rlc,
    CompileError,
    PyException,
    "A program that does not compile: the message is rlc's rendered diagnostics."
);
create_exception!(
    _rlc,
    RunError,
    PyException,
    "A run that failed: a setup error, a broken environment, a NaN, a bad checkpoint."
);

fn compile_error(driver: &Driver, diags: &[Diagnostic]) -> PyErr {
    CompileError::new_err(render_all(diags, &driver.mods.sources, false))
}

fn run_error(e: TrainError) -> PyErr {
    RunError::new_err(e.to_string())
}

/// The greedy policy compiled for one batch size, with the parameters of one checkpoint file
/// as it was when loaded (its modification time and size: a run rewrites the file).
struct Policy {
    batch: usize,
    checkpoint: PathBuf,
    stamp: Option<(std::time::SystemTime, u64)>,
    backend: Box<dyn Backend>,
    compiled: Compiled,
    entry: EntryId,
}

/// A compiled program (see the module's documentation).
#[pyclass(unsendable, module = "rlc._rlc")]
struct Program {
    file: PathBuf,
    /// The environment asked for (`None`: the program's default).
    env: Option<String>,
    /// The name the program hash uses for the environment: the id, or a stable name for an
    /// environment object (whose id differs between processes).
    hash_env: String,
    sets: Vec<String>,
    backend: String,
    driver: Driver,
    compiled: Compiled,
    policy: Option<Policy>,
}

/// Compiles the first algorithm of `file` with the `eval` entry point for `eval_batch` rows.
fn compile_file(
    driver: &mut Driver,
    file: &Path,
    env: Option<&str>,
    sets: &[String],
    eval_batch: usize,
) -> PyResult<Compiled> {
    let module = driver.load(file).map_err(|d| compile_error(driver, &d))?;
    let req = Request {
        env: env.map(String::from),
        overrides: sets.to_vec(),
        eval_batch: Some(eval_batch),
    };
    let mut compiled = driver
        .compile(module, &req, &rlc_runtime::envs::resolve)
        .map_err(|d| compile_error(driver, &d))?;
    if compiled.is_empty() {
        return Err(CompileError::new_err(format!(
            "`{}` defines no algorithm",
            file.display()
        )));
    }
    Ok(compiled.swap_remove(0))
}

impl Program {
    fn compile(&mut self, eval_batch: usize) -> PyResult<Compiled> {
        compile_file(
            &mut self.driver,
            &self.file,
            self.env.as_deref(),
            &self.sets,
            eval_batch,
        )
    }

    fn hash(&self) -> String {
        format!(
            "{:016x}",
            program_hash(&self.driver.mods, &self.hash_env, &self.sets)
        )
    }

    /// The policy for `batch` observations with the parameters in `checkpoint`, compiled and
    /// loaded on first use.
    fn policy(&mut self, batch: usize, checkpoint: &Path) -> PyResult<&mut Policy> {
        let checkpoint = &std::path::absolute(checkpoint).unwrap_or_else(|_| checkpoint.to_path_buf());
        let stamp = std::fs::metadata(checkpoint).ok().and_then(|m| Some((m.modified().ok()?, m.len())));
        let fresh = self
            .policy
            .as_ref()
            .is_some_and(|p| p.batch == batch && &p.checkpoint == checkpoint && p.stamp == stamp && stamp.is_some());
        if !fresh {
            let compiled = self.compile(batch)?;
            let mut backend =
                backend::create(&self.backend).map_err(|e| PyValueError::new_err(e.to_string()))?;
            let hash = self.hash();
            let entry = (|| {
                backend.init_state(&compiled.states, 0)?;
                let meta = checkpoint::load(checkpoint, &compiled.states, backend.as_mut())?;
                if meta.program_hash != hash {
                    return Err(TrainError::Setup(format!(
                        "`{}` was written by a different program than `{}` with these settings \
                         (program hash {} vs {hash})",
                        checkpoint.display(),
                        self.file.display(),
                        meta.program_hash
                    )));
                }
                let e = compiled
                    .entry("eval")
                    .ok_or_else(|| TrainError::Setup("the program has no eval entry point".into()))?;
                Ok(backend.compile("eval", &e.graph)?)
            })()
            .map_err(run_error)?;
            self.policy = Some(Policy {
                batch,
                checkpoint: checkpoint.to_path_buf(),
                stamp,
                backend,
                compiled,
                entry,
            });
        }
        Ok(self.policy.as_mut().expect("set above"))
    }
}

#[pymethods]
impl Program {
    /// Compiles `file` for environment `env` (an id, `gym:ID`, or the `gym:@k` id of a
    /// registered object) with `name=value` overrides, on `backend` (`jit`, `interp`).
    #[new]
    #[pyo3(signature = (file, env, sets, backend, hash_env))]
    fn new(
        file: PathBuf,
        env: Option<String>,
        sets: Vec<String>,
        backend: String,
        hash_env: Option<String>,
    ) -> PyResult<Self> {
        backend::create(&backend).map_err(|e| PyValueError::new_err(e.to_string()))?;
        let mut driver = Driver::new(find_stdlib());
        let compiled = compile_file(&mut driver, &file, env.as_deref(), &sets, 10)?;
        let hash_env = hash_env.unwrap_or_else(|| compiled.env.id.clone());
        Ok(Program {
            file,
            env,
            hash_env,
            sets,
            backend,
            driver,
            compiled,
            policy: None,
        })
    }

    /// The algorithm's name.
    #[getter]
    fn name(&self) -> String {
        self.compiled.name.clone()
    }

    /// The environment's facts: id, obs_dim, action kind, its size and bounds, time limit.
    #[getter]
    fn env_spec<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        let e = &self.compiled.env;
        d.set_item("id", &e.id)?;
        d.set_item("obs_dim", e.obs_dim)?;
        d.set_item("max_episode_steps", e.max_episode_steps)?;
        match &e.action {
            ActionSpace::Discrete { n } => {
                d.set_item("action", "discrete")?;
                d.set_item("n", n)?;
            }
            ActionSpace::Continuous { dim, low, high } => {
                d.set_item("action", "continuous")?;
                d.set_item("dim", dim)?;
                d.set_item("low", low.clone())?;
                d.set_item("high", high.clone())?;
            }
        }
        Ok(d)
    }

    /// Trains for `steps` environment steps from `seed`, writing metrics.jsonl, curve.svg and
    /// checkpoint.safetensors into `out`; returns the run's summary.
    #[pyo3(signature = (steps, seed, out, eval_every, eval_episodes, log_every, quiet, vectorize))]
    #[allow(clippy::too_many_arguments)]
    fn learn<'py>(
        &mut self,
        py: Python<'py>,
        steps: u64,
        seed: u64,
        out: PathBuf,
        eval_every: u64,
        eval_episodes: usize,
        log_every: u64,
        quiet: bool,
        vectorize: &str,
    ) -> PyResult<Bound<'py, PyDict>> {
        if steps == 0 || eval_every == 0 || log_every == 0 || eval_episodes == 0 {
            return Err(PyValueError::new_err(
                "steps, eval_every, eval_episodes and log_every must be at least 1",
            ));
        }
        let vectorize = vectorize.parse().map_err(PyValueError::new_err)?;
        std::fs::create_dir_all(&out)
            .map_err(|e| PyValueError::new_err(format!("cannot write to `{}`: {e}", out.display())))?;
        // Whatever happens, the parameters acted with are read again after this.
        self.policy = None;
        let compiled = self.compile(eval_episodes)?;
        let cfg = RunConfig {
            steps,
            seed,
            eval_every,
            eval_episodes,
            log_every,
            metrics: Some(out.join("metrics.jsonl")),
            checkpoint: Some(out.clone()),
            curve: Some(out.join("curve.svg")),
            tensorboard: None,
            program_hash: program_hash(&self.driver.mods, &self.hash_env, &self.sets),
            debug_nans: false,
            vectorize,
        };
        let backend = backend::create(&self.backend).map_err(|e| PyValueError::new_err(e.to_string()))?;
        let mut progress = if quiet { Progress::Quiet } else { Progress::Lines };
        let s = Trainer::new(&compiled, backend, cfg)
            .and_then(|mut t| t.run(&mut progress))
            .map_err(run_error)?;
        // The policy now acts with the new parameters.
        self.policy = None;
        let d = PyDict::new(py);
        d.set_item("eval_return", s.eval_return)?;
        d.set_item("steps", s.steps)?;
        d.set_item("episodes", s.episodes)?;
        d.set_item("updates", s.updates)?;
        d.set_item("wall_s", s.wall_s)?;
        d.set_item("steps_per_s", s.steps_per_s)?;
        Ok(d)
    }

    /// Greedy actions for the rows of `obs` (float32, `[batch, obs_dim]`) with the
    /// parameters in `checkpoint`: `[batch]` int64 for discrete actions, `[batch, dim]`
    /// float32 for continuous ones.
    fn act<'py>(
        &mut self,
        py: Python<'py>,
        obs: PyReadonlyArray2<'py, f32>,
        checkpoint: PathBuf,
    ) -> PyResult<Bound<'py, PyAny>> {
        let shape = obs.shape().to_vec();
        let obs_dim = self.compiled.env.obs_dim;
        if shape[1] != obs_dim || shape[0] == 0 {
            return Err(PyValueError::new_err(format!(
                "observations of shape {shape:?}: `{}` needs [batch, {obs_dim}] with batch ≥ 1",
                self.compiled.env.id
            )));
        }
        let rows = obs
            .as_slice()
            .map_err(|e| PyValueError::new_err(e.to_string()))?
            .to_vec();
        if let Some(i) = rows.iter().position(|x| !x.is_finite()) {
            return Err(PyValueError::new_err(format!(
                "observation {} (row {}) is not a finite number",
                rows[i],
                i / obs_dim
            )));
        }
        let batch = shape[0];
        let policy = self.policy(batch, &checkpoint)?;
        let action = policy.compiled.env.action.clone();
        let (discrete, dim) = (action.is_discrete(), action.flat_dim());
        let mut act_f = vec![0.0f32; batch * dim];
        let mut act_i = vec![0i32; batch];
        let guard = IndexGuard::of(&policy.compiled);
        let entry = policy
            .compiled
            .entry("eval")
            .expect("compiled with an eval entry point");
        let eval = EvalPolicy {
            entry: policy.entry,
            signature: &entry.signature,
            guard: guard.as_ref(),
        };
        greedy_actions(
            policy.backend.as_mut(),
            eval,
            &rows,
            &[0, 0],
            0,
            discrete,
            &mut act_f,
            &mut act_i,
        )
        .map_err(run_error)?;
        Ok(if discrete {
            PyArray1::from_iter(py, act_i.iter().map(|&a| i64::from(a))).into_any()
        } else {
            PyArray1::from_vec(py, act_f).reshape([batch, dim])?.into_any()
        })
    }
}

/// Registers a Gymnasium environment object or factory; returns its `gym:@k` id.
#[pyfunction]
fn register_env(env: &Bound<'_, PyAny>) -> PyResult<String> {
    rlc_runtime::envs::gym::register_object(env).map_err(|e| RunError::new_err(e.to_string()))
}

/// The standard library's directory, as the compiler finds it.
#[pyfunction]
fn stdlib_dir() -> Option<PathBuf> {
    find_stdlib()
}

#[pymodule]
fn _rlc(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // Before any user thread can race to it (see `preload`).
    rlc_runtime::envs::gym::preload();
    m.add_class::<Program>()?;
    m.add_function(wrap_pyfunction!(register_env, m)?)?;
    m.add_function(wrap_pyfunction!(stdlib_dir, m)?)?;
    m.add("CompileError", m.py().get_type::<CompileError>())?;
    m.add("RunError", m.py().get_type::<RunError>())?;
    Ok(())
}
