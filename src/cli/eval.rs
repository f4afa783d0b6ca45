//! `rlc eval CHECKPOINT`: greedy episodes of a trained program, reported as mean ± std, and
//! optionally drawn as a GIF (`--video`, in `video.rs`).
//!
//! The program is rebuilt from the run's record beside the checkpoint (`run.json`: the file,
//! environment, overrides) unless `--program`, `--env` or `--set` say otherwise (`--set`
//! flags replace the recorded overrides as a whole); the
//! checkpoint's program hash must match, so parameters are never loaded into a different net.

use super::args::CompileArgs;
use super::common::{EXIT_USAGE, compile_file};
use super::run::{RUN_RECORD, report_run_error};
use super::video::{VideoArgs, no_scene};
use rlc_compiler::driver::program_hash;
use rlc_runtime::checkpoint;
use rlc_runtime::trainer::{EvalPolicy, IndexGuard, Watcher, watched_episode_returns};
use std::path::{Path, PathBuf};

/// Options of `rlc eval`.
#[derive(clap::Args, Debug, Clone)]
pub struct EvalArgs {
    /// A checkpoint written by `rlc run`, or the run's output directory.
    pub checkpoint: PathBuf,
    /// The program [default: the one recorded beside the checkpoint].
    #[arg(long, value_name = "FILE")]
    pub program: Option<PathBuf>,
    #[command(flatten)]
    pub compile: CompileArgs,
    /// Greedy episodes (one environment copy each).
    #[arg(long, default_value_t = 10)]
    pub episodes: usize,
    /// Seed of the environments' initial states.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Backend that runs the policy: `jit`, `interp`, or `opencl`.
    #[arg(long, default_value = "jit")]
    pub backend: String,
    #[command(flatten)]
    pub video: VideoArgs,
}

/// What `rlc run` recorded about a run.
struct Record {
    program: PathBuf,
    env: Option<String>,
    set: Vec<String>,
}

fn read_record(dir: &Path) -> Result<Record, String> {
    let path = dir.join(RUN_RECORD);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "cannot read `{}` ({e}); name the program with --program FILE",
            path.display()
        )
    })?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("`{}` is not a run record: {e}", path.display()))?;
    let program = v["program"]
        .as_str()
        .ok_or_else(|| format!("`{}` names no program", path.display()))?;
    let set = v["set"]
        .as_array()
        .map(|a| a.iter().filter_map(|s| s.as_str().map(String::from)).collect())
        .unwrap_or_default();
    Ok(Record {
        program: PathBuf::from(program),
        env: v["env"].as_str().map(String::from),
        set,
    })
}

pub fn run(args: &EvalArgs) -> u8 {
    if args.episodes == 0 {
        eprintln!("error: --episodes must be at least 1");
        return EXIT_USAGE;
    }
    let mut video = match args.video.check(args.episodes) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let path = if args.checkpoint.is_dir() {
        args.checkpoint.join("checkpoint.safetensors")
    } else {
        args.checkpoint.clone()
    };
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    // The program and its settings: flags first, then the run's record.
    let record = match (&args.program, read_record(&dir)) {
        (Some(_), r) => r.ok(),
        (None, Ok(r)) => Some(r),
        (None, Err(e)) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let file = match (&args.program, &record) {
        (Some(p), _) => p.clone(),
        (None, Some(r)) => r.program.clone(),
        (None, None) => unreachable!("handled above"),
    };
    let compile = CompileArgs {
        env: args
            .compile
            .env
            .clone()
            .or_else(|| record.as_ref().and_then(|r| r.env.clone())),
        set: if args.compile.set.is_empty() {
            record.map(|r| r.set).unwrap_or_default()
        } else {
            args.compile.set.clone()
        },
    };
    let mut backend = match rlc_compiler::backend::create(&args.backend) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let (driver, compiled) = match compile_file(&file, &compile, Some(args.episodes)) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let Some(program) = compiled.first() else {
        eprintln!("error: `{}` defines no algorithm", file.display());
        return EXIT_USAGE;
    };
    if video.is_some() && rlc_runtime::render::scene(&program.env.id).is_none() {
        eprintln!("error: {}", no_scene(&program.env.id));
        return EXIT_USAGE;
    }
    let result = (|| {
        backend.init_state(&program.states, args.seed)?;
        let meta = checkpoint::load(&path, &program.states, backend.as_mut())?;
        let hash = format!(
            "{:016x}",
            program_hash(&driver.mods, &program.env.id, &compile.set)
        );
        if meta.program_hash != hash {
            return Err(rlc_runtime::trainer::RunError::Setup(format!(
                "`{}` was written by a different program than `{}` with these settings \
                 (program hash {} vs {hash}): pass the file, --env and --set the run used",
                path.display(),
                file.display(),
                meta.program_hash
            )));
        }
        let entry = program
            .entry("eval")
            .ok_or_else(|| rlc_runtime::trainer::RunError::Setup("no eval entry point".into()))?;
        let id = backend.compile("eval", &entry.graph)?;
        let guard = IndexGuard::of(program);
        let policy = EvalPolicy {
            entry: id,
            signature: &entry.signature,
            guard: guard.as_ref(),
        };
        // The video's frames are the observations of the episodes whose returns are printed.
        let mut keep = video
            .as_mut()
            .map(|v| move |copy: usize, obs: &[f32]| v.watch(copy, obs));
        let r = watched_episode_returns(
            backend.as_mut(),
            policy,
            &program.env,
            args.episodes,
            args.seed,
            0,
            keep.as_mut().map(|k| k as Watcher<'_>),
        )?;
        Ok((meta, r))
    })();
    match result {
        Ok((meta, r)) => {
            let n = r.len() as f64;
            let mean = r.iter().sum::<f64>() / n;
            let std = (r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
            let (lo, hi) = r.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
                (a.min(*x), b.max(*x))
            });
            println!(
                "{} on {} (checkpoint at step {}): {} greedy episodes, return {mean:.2} ± {std:.2} (min {lo:.2}, max {hi:.2})",
                program.name,
                program.env.id,
                meta.step,
                r.len()
            );
            match video.map(|v| v.write(&program.env.id, program.env.obs_dim)) {
                Some(Err(e)) => {
                    eprintln!("error: {e}");
                    EXIT_USAGE
                }
                Some(Ok(line)) => {
                    println!("{line}");
                    0
                }
                None => 0,
            }
        }
        Err(e) => report_run_error(&driver, e),
    }
}
