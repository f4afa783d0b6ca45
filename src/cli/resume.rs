//! `rlc resume DIR`: continues an interrupted `rlc run` from the state it last wrote in its
//! checkpoint directory. Everything comes from the run's record (`run.json`): the program,
//! environment, overrides, seed, step counts and backend; the program is recompiled and must
//! hash as it did, so a changed program is refused rather than resumed into.

use super::common::{EXIT_USAGE, compile_file};
use super::run::train;
use super::run_record::RunRecord;
use rlc_compiler::driver::program_hash;
use rlc_runtime::trainer::{RESUME_FILE, RunConfig};
use std::path::PathBuf;

/// Options of `rlc resume`.
#[derive(clap::Args, Debug, Clone)]
pub struct ResumeArgs {
    /// The interrupted run's checkpoint directory (its `--out`, unless `--checkpoint` moved it).
    pub dir: PathBuf,
    /// Only print the final line.
    #[arg(long)]
    pub quiet: bool,
}

pub fn run(args: &ResumeArgs) -> u8 {
    let usage = |msg: String| {
        eprintln!("error: {msg}");
        EXIT_USAGE
    };
    if !args.dir.join(RESUME_FILE).is_file() {
        return usage(format!(
            "`{}` holds no `{RESUME_FILE}`: it is not the checkpoint directory of a run that reached its first checkpoint",
            args.dir.display()
        ));
    }
    let record = match RunRecord::read(&args.dir) {
        Ok(r) => r,
        Err(e) => return usage(e),
    };
    let missing = || {
        format!(
            "`{}` was written by an older rlc and does not record the run's options: it cannot be resumed",
            args.dir.join(super::run_record::RUN_RECORD).display()
        )
    };
    let (
        Some(steps),
        Some(eval_every),
        Some(eval_episodes),
        Some(log_every),
        Some(backend_name),
        Some(metrics),
        Some(curve),
    ) = (
        record.steps,
        record.eval_every,
        record.eval_episodes,
        record.log_every,
        record.backend.clone(),
        record.metrics.clone(),
        record.curve.clone(),
    )
    else {
        return usage(missing());
    };
    if rlc_runtime::envs::is_gym(&record.env) {
        return usage(format!(
            "this run steps `{}` through Python, whose environment state rlc cannot save, so it \
             cannot be resumed exactly; start a new run (the checkpoint in {} holds the parameters)",
            record.env,
            args.dir.display()
        ));
    }
    let backend = match rlc_compiler::backend::create(&backend_name) {
        Ok(b) => b,
        Err(e) => return usage(e.to_string()),
    };
    let compile = super::CompileArgs {
        env: Some(record.env.clone()),
        set: record.set.clone(),
    };
    let (driver, compiled) = match compile_file(&record.program, &compile, Some(eval_episodes)) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let Some(program) = compiled.first() else {
        return usage(format!(
            "`{}` defines no algorithm to run",
            record.program.display()
        ));
    };
    let cfg = RunConfig {
        steps,
        seed: record.seed,
        eval_every,
        eval_episodes,
        log_every,
        metrics: Some(metrics),
        checkpoint: Some(args.dir.clone()),
        curve: Some(curve),
        // A new event file beside the first run's: TensorBoard reads both, and the steps
        // after the resume point appear twice (as the metrics lines are written again).
        tensorboard: record.tensorboard.clone(),
        program_hash: program_hash(&driver.mods, &program.env.id, &record.set),
        debug_nans: false,
        vectorize: Default::default(),
    };
    train(&driver, program, backend, cfg, &backend_name, args.quiet, true)
}
