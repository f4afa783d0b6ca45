//! `rlc run FILE`: train an algorithm end to end.

use super::args::CompileArgs;
use super::common::{EXIT_USAGE, color, compile_file, default_run_dir};
use super::run_record::{RunRecord, absolute};
use rlc_compiler::backend::Backend;
use rlc_compiler::diag::{Code, Diagnostic, render_all};
use rlc_compiler::driver::{Driver, program_hash};
use rlc_compiler::lower::Compiled;
use rlc_runtime::progress::Progress;
use rlc_runtime::trainer::{FaultSource, RunConfig, RunError, Trainer};
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

/// Exit status when training fails at run time.
const EXIT_RUNTIME: u8 = 3;

/// Options of `rlc run`.
#[derive(clap::Args, Debug, Clone)]
pub struct RunArgs {
    /// The program.
    pub file: PathBuf,
    #[command(flatten)]
    pub compile: CompileArgs,
    /// Environment transitions to train for.
    #[arg(long, default_value_t = 100_000)]
    pub steps: u64,
    /// Seed of every random number of the run.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Train on several seeds in parallel, one directory each (`OUT/seed-S`), with an
    /// aggregate across them: `1..8` (1 to 8), `1,2,5`, or both (`1..4,9`).
    #[arg(long, value_name = "LIST", conflicts_with = "seed")]
    pub seeds: Option<String>,
    /// Runs at once with `--seeds` or a sweep [default: the available cores].
    #[arg(long, value_name = "J")]
    pub jobs: Option<usize>,
    /// Backend that runs the compiled graphs: `jit`, `interp`, or `opencl` (in builds with
    /// `--features opencl`).
    #[arg(long, default_value = "jit")]
    pub backend: String,
    /// Metrics file (JSON lines) [default: OUT/metrics.jsonl].
    #[arg(long, value_name = "PATH")]
    pub metrics: Option<PathBuf>,
    /// Transitions between greedy evaluations [default: steps/10].
    #[arg(long, value_name = "K")]
    pub eval_every: Option<u64>,
    /// Greedy episodes per evaluation.
    #[arg(long, value_name = "E", default_value_t = 10)]
    pub eval_episodes: usize,
    /// Transitions between metrics lines [default: steps/100, at least 1000].
    #[arg(long, value_name = "K")]
    pub log_every: Option<u64>,
    /// Checkpoint directory [default: OUT].
    #[arg(long, value_name = "DIR")]
    pub checkpoint: Option<PathBuf>,
    /// Output directory for metrics, learning curve and checkpoint [default: runs/ALG-ENV-sSEED].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Also write TensorBoard event files (returns, steps/s, losses, metrics at every log
    /// interval) to this directory.
    #[arg(long, value_name = "DIR")]
    pub tensorboard: Option<PathBuf>,
    /// How Gymnasium runs the copies of a `gym:` environment: `sync` (in rlc's process) or
    /// `async` (a worker process per copy, for slow environments).
    #[arg(long, value_name = "MODE", default_value = "sync")]
    pub vectorize: rlc_runtime::envs::Vectorization,
    /// Only print the final line.
    #[arg(long)]
    pub quiet: bool,
    /// When a loss or a parameter becomes NaN or infinite, find the operation and the source
    /// expression that produced it (copies the state before every training call: slow).
    #[arg(long)]
    pub debug_nans: bool,
    /// Exit when standard input closes: the runs of `--seeds` and sweeps are started so, so
    /// that none outlives its parent.
    #[arg(long, hide = true)]
    pub supervised: bool,
}

pub fn run(args: &RunArgs) -> u8 {
    if args.steps == 0 {
        eprintln!("error: --steps must be at least 1");
        return EXIT_USAGE;
    }
    if args.eval_episodes == 0 {
        eprintln!("error: --eval-episodes must be at least 1");
        return EXIT_USAGE;
    }
    if args.eval_every == Some(0) || args.log_every == Some(0) {
        eprintln!("error: --eval-every and --log-every must be at least 1");
        return EXIT_USAGE;
    }
    if super::seeds::is_multi(args) {
        return super::seeds::run_many(args);
    }
    if args.jobs.is_some() {
        eprintln!("error: --jobs applies to --seeds and sweeps (`--set NAME=A,B`)");
        return EXIT_USAGE;
    }
    if args.supervised {
        exit_when_stdin_closes();
    }
    let backend = match rlc_compiler::backend::create(&args.backend) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let (driver, compiled) = match compile_file(&args.file, &args.compile, Some(args.eval_episodes)) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let Some(program) = compiled.first() else {
        eprintln!("error: `{}` defines no algorithm to run", args.file.display());
        return EXIT_USAGE;
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_run_dir(&program.name, &program.env.id, &args.seed.to_string()));
    let metrics = args.metrics.clone().unwrap_or_else(|| out.join("metrics.jsonl"));
    let checkpoint = args.checkpoint.clone().unwrap_or_else(|| out.clone());
    let curve = out.join("curve.svg");
    for dir in [
        Some(out.as_path()),
        metrics.parent(),
        Some(checkpoint.as_path()),
        args.tensorboard.as_deref(),
    ]
    .into_iter()
    .flatten()
    {
        if let Err(e) = writable(dir) {
            eprintln!("error: cannot write to `{}`: {e}", dir.display());
            return EXIT_USAGE;
        }
    }
    let cfg = RunConfig {
        steps: args.steps,
        seed: args.seed,
        eval_every: args.eval_every.unwrap_or((args.steps / 10).max(1)),
        eval_episodes: args.eval_episodes,
        log_every: args.log_every.unwrap_or((args.steps / 100).max(1000)),
        metrics: Some(metrics.clone()),
        checkpoint: Some(checkpoint.clone()),
        curve: Some(curve.clone()),
        tensorboard: args.tensorboard.clone(),
        program_hash: program_hash(&driver.mods, &program.env.id, &args.compile.set),
        debug_nans: args.debug_nans,
        vectorize: args.vectorize,
    };
    // What `rlc eval` needs to rebuild the program, and `rlc resume` the run.
    let record = RunRecord {
        program: absolute(&args.file),
        env: program.env.id.clone(),
        set: args.compile.set.clone(),
        seed: args.seed,
        steps: Some(cfg.steps),
        eval_every: Some(cfg.eval_every),
        eval_episodes: Some(cfg.eval_episodes),
        log_every: Some(cfg.log_every),
        backend: Some(args.backend.clone()),
        metrics: Some(absolute(&metrics)),
        curve: Some(absolute(&curve)),
        tensorboard: args.tensorboard.as_deref().map(absolute),
    };
    if let Err(e) = record.write(&checkpoint) {
        eprintln!("error: cannot write to `{}`: {e}", checkpoint.display());
        return EXIT_USAGE;
    }
    train(&driver, program, backend, cfg, &args.backend, args.quiet, false)
}

/// Trains `program` (or, with `resume`, continues the run whose state is in the checkpoint
/// directory), printing progress and the outcome; returns the exit status.
pub(super) fn train(
    driver: &Driver,
    program: &Compiled,
    backend: Box<dyn Backend>,
    cfg: RunConfig,
    backend_name: &str,
    quiet: bool,
    resume: bool,
) -> u8 {
    let mut progress = if quiet {
        Progress::Quiet
    } else if std::io::stdout().is_terminal() {
        Progress::bar(cfg.steps)
    } else {
        Progress::Lines
    };
    let _ = color();
    let (metrics, curve, checkpoint) = (cfg.metrics.clone(), cfg.curve.clone(), cfg.checkpoint.clone());
    let result = Trainer::new(program, backend, cfg).and_then(|mut t| {
        if resume {
            t.resume(&mut progress)
        } else {
            t.run(&mut progress)
        }
    });
    match result {
        Ok(s) => {
            if !quiet {
                let shown = |p: Option<PathBuf>| p.map_or("-".into(), |p| p.display().to_string());
                println!(
                    "{} on {} ({backend_name} backend): {} episodes, {} updates; metrics {}, curve {}, checkpoint {}",
                    program.name,
                    program.env.id,
                    s.episodes,
                    s.updates,
                    shown(metrics),
                    shown(curve),
                    shown(checkpoint.map(|c| c.join("checkpoint.safetensors")))
                );
            }
            println!(
                "final: eval_return={:.2} steps={} wall_s={:.2} steps_per_s={:.1}",
                s.eval_return, s.steps, s.wall_s, s.steps_per_s
            );
            0
        }
        Err(e) => report_run_error(driver, e),
    }
}

/// Prints a failed run's error (a located diagnostic for NaNs found by `--debug-nans` and for
/// run-time index faults) and returns the exit status: 2 for setup and file errors, 3 for
/// run-time faults.
pub fn report_run_error(driver: &Driver, e: RunError) -> u8 {
    match e {
        RunError::NonFinite {
            message,
            source: Some(source),
        } => {
            eprintln!("error: {message}");
            report_fault(driver, &source);
            EXIT_RUNTIME
        }
        RunError::IndexOutOfRange { message, check } => {
            let d = Diagnostic::new(Code::IndexOutOfBounds, message)
                .at(check.span, "this index was out of range")
                .hint(format!(
                    "check the data it is computed from, or clamp it explicitly with `clip(i, 0, {})`",
                    check.size.saturating_sub(1)
                ));
            eprint!("{}", render_all(&[d], &driver.mods.sources, color()));
            EXIT_RUNTIME
        }
        e => {
            eprintln!("error: {e}");
            match e {
                RunError::Io(_) | RunError::Setup(_) => EXIT_USAGE,
                _ => EXIT_RUNTIME,
            }
        }
    }
}

pub use super::run_record::RUN_RECORD;

/// Ends the process when standard input reaches its end or fails: a run started by
/// `--seeds` reads its parent's pipe, which closes when the parent exits, however it exits.
fn exit_when_stdin_closes() {
    std::thread::spawn(|| {
        let mut buf = [0u8; 256];
        loop {
            match std::io::stdin().read(&mut buf) {
                Ok(0) | Err(_) => std::process::exit(i32::from(EXIT_RUNTIME)),
                Ok(_) => {}
            }
        }
    });
}

/// Shows where a NaN came from: the operation, and the source expression as a diagnostic.
fn report_fault(driver: &Driver, source: &FaultSource) {
    let what = format!("first non-finite value: `{}` in `{}`", source.node, source.entry);
    match source.origin {
        Some(o) => {
            let label = if o.gradient {
                "the gradient of this expression produced it"
            } else {
                "this expression produced it"
            };
            let d = Diagnostic::new(Code::NonFinite, what).at(o.span, label);
            eprint!("{}", render_all(&[d], &driver.mods.sources, color()));
        }
        None => eprintln!("  {what} (no source expression: built by the compiler)"),
    }
}

/// Creates `dir` if needed and checks that a file can be written in it.
fn writable(dir: &Path) -> std::io::Result<()> {
    if dir.as_os_str().is_empty() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    let probe = dir.join(format!(".rlc-write-test-{}", std::process::id()));
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(&probe)
}
