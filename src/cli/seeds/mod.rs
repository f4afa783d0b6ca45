//! `rlc run FILE --seeds 1..8` and sweeps (`--set lr=1e-4,3e-4`): every combination of the
//! swept settings on every seed, each a single-seed run in `OUT/[SETTINGS/]seed-S/` (a child
//! process, identical to `rlc run --seed S`), then per combination `aggregate.json` and
//! `aggregate.svg` across its seeds, and for a sweep a summary table (`sweep.json`).

mod children;
mod spec;

use super::args::CompileArgs;
use super::common::{EXIT_USAGE, compile_file};
use super::run::RunArgs;
use children::{Job, Outcome};
use rlc_runtime::aggregate::{Aggregate, FinalSummary, read_curve};
use serde_json::json;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Whether `args` asks for several runs (`--seeds`, or a `--set` that sweeps).
pub fn is_multi(args: &RunArgs) -> bool {
    args.seeds.is_some()
        || spec::combinations(&args.compile.set).map_or(true, |c| c.len() > 1 || c[0].label.is_some())
}

/// One sweep point: its settings, directory and program identity.
struct Point {
    combo: spec::Combination,
    dir: PathBuf,
}

/// Runs every seed of every combination and aggregates; returns the exit status (0, or the
/// status of the first run that failed).
pub fn run_many(args: &RunArgs) -> u8 {
    let usage = |msg: String| {
        eprintln!("error: {msg}");
        EXIT_USAGE
    };
    if args.metrics.is_some() || args.checkpoint.is_some() {
        return usage(
            "--metrics and --checkpoint name one run's files: with --seeds or a sweep each run writes \
             into its own directory under --out"
                .into(),
        );
    }
    if args.jobs == Some(0) {
        return usage("--jobs must be at least 1".into());
    }
    let seeds = match &args.seeds {
        Some(s) => match spec::parse_seeds(s) {
            Ok(s) => s,
            Err(e) => return usage(e),
        },
        None => vec![args.seed],
    };
    let combos = match spec::combinations(&args.compile.set) {
        Ok(c) => c,
        Err(e) => return usage(e),
    };
    if let Err(e) = rlc_compiler::backend::create(&args.backend) {
        return usage(e.to_string());
    }
    // Compile each combination once here: a program error is reported once, not per seed.
    let mut name = (String::new(), String::new());
    for c in &combos {
        let compile = CompileArgs {
            env: args.compile.env.clone(),
            set: c.sets.clone(),
        };
        match compile_file(&args.file, &compile, Some(args.eval_episodes)) {
            Ok((_, compiled)) => match compiled.first() {
                Some(p) => name = (p.name.clone(), p.env.id.clone()),
                None => return usage(format!("`{}` defines no algorithm to run", args.file.display())),
            },
            Err(code) => return code,
        }
    }
    let seeds_text = args.seeds.clone().unwrap_or_else(|| args.seed.to_string());
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| crate::cli::common::default_run_dir(&name.0, &name.1, &seeds_text));
    if let Err(e) = std::fs::create_dir_all(&out) {
        return usage(format!("cannot write to `{}`: {e}", out.display()));
    }
    let points: Vec<Point> = combos
        .into_iter()
        .map(|combo| Point {
            dir: combo.label.as_ref().map_or(out.clone(), |l| out.join(l)),
            combo,
        })
        .collect();
    let jobs: Vec<Job> = points
        .iter()
        .enumerate()
        .flat_map(|(ci, p)| seeds.iter().map(move |s| (ci, p, *s)))
        .map(|(ci, p, seed)| {
            let dir = p.dir.join(format!("seed-{seed}"));
            Job {
                seed,
                combination: ci,
                args: child_args(args, &p.combo.sets, seed, &dir, &out),
                dir,
            }
        })
        .collect();
    let parallel = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if !args.quiet {
        println!(
            "{} on {}: {} run{} ({} seed{} × {} setting{}), {} at a time, into {}",
            name.0,
            name.1,
            jobs.len(),
            plural(jobs.len()),
            seeds.len(),
            plural(seeds.len()),
            points.len(),
            plural(points.len()),
            parallel.min(jobs.len()),
            out.display()
        );
    }
    let mut finished = 0;
    let outcomes = children::run_all(&jobs, parallel, |job, o| {
        finished += 1;
        let what = match &points[job.combination].combo.label {
            Some(l) => format!("seed {} [{l}]", job.seed),
            None => format!("seed {}", job.seed),
        };
        if o.ok() {
            if !args.quiet {
                let ret = o.final_return().map_or("?".into(), |r| format!("{r:.2}"));
                println!(
                    "[{finished}/{}] {what}: eval_return={ret} ({:.1} s)",
                    jobs.len(),
                    o.wall_s
                );
            }
        } else {
            eprintln!("[{finished}/{}] {what} failed, {}", jobs.len(), o.failure());
            eprint!("{}", indent(&o.stderr));
        }
    });
    let mut summaries = Vec::new();
    for (ci, p) in points.iter().enumerate() {
        let runs: Vec<(&Job, &Outcome)> = jobs
            .iter()
            .zip(&outcomes)
            .filter(|(j, _)| j.combination == ci)
            .collect();
        match aggregate(p, &runs, &name) {
            Ok(agg) => summaries.push((p, agg)),
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_USAGE;
            }
        }
    }
    if let Err(e) = report(
        &out,
        &summaries,
        points.len() > 1 || points[0].combo.label.is_some(),
    ) {
        eprintln!("error: {e}");
        return EXIT_USAGE;
    }
    match outcomes.iter().find(|o| !o.ok()) {
        Some(o) => {
            let failed = outcomes.iter().filter(|o| !o.ok()).count();
            eprintln!(
                "error: {failed} of {} runs failed; the others' results are kept",
                outcomes.len()
            );
            o.exit_status()
        }
        None => 0,
    }
}

/// The single-seed command line of one run: every option of `args` that shapes a run,
/// forwarded (the destructuring makes a new option of `rlc run` a compile error here until
/// it is forwarded or refused).
fn child_args(args: &RunArgs, sets: &[String], seed: u64, dir: &Path, out: &Path) -> Vec<OsString> {
    let RunArgs {
        file,
        compile: CompileArgs { env, set: _ },
        steps,
        seed: _,
        seeds: _,
        jobs: _,
        backend,
        metrics: _,
        eval_every,
        eval_episodes,
        log_every,
        checkpoint: _,
        out: _,
        vectorize,
        quiet: _,
        debug_nans,
        tensorboard,
        supervised: _,
    } = args;
    let mut a: Vec<OsString> = vec!["run".into(), file.into()];
    let mut opt = |k: &str, v: String| a.extend([OsString::from(k), OsString::from(v)]);
    if let Some(e) = env {
        opt("--env", e.clone());
    }
    for s in sets {
        opt("--set", s.clone());
    }
    opt("--steps", steps.to_string());
    opt("--seed", seed.to_string());
    opt("--backend", backend.clone());
    if let Some(k) = eval_every {
        opt("--eval-every", k.to_string());
    }
    opt("--eval-episodes", eval_episodes.to_string());
    if let Some(k) = log_every {
        opt("--log-every", k.to_string());
    }
    opt("--vectorize", vectorize.to_string());
    a.extend([OsString::from("--out"), dir.as_os_str().to_owned()]);
    if *debug_nans {
        a.push("--debug-nans".into());
    }
    // Each run's event files in its own subdirectory, laid out like the run directories
    // (`TB/seed-1`, `TB/lr=1e-4/seed-1`), so TensorBoard shows every run as its own curve.
    if let Some(tb) = tensorboard {
        let rel = dir.strip_prefix(out).unwrap_or(dir);
        a.extend([OsString::from("--tensorboard"), tb.join(rel).into_os_string()]);
    }
    a.extend(["--quiet".into(), "--supervised".into()]);
    a
}

/// Reads the finished seeds' metrics of one combination, writes its aggregate.
fn aggregate(p: &Point, runs: &[(&Job, &Outcome)], name: &(String, String)) -> Result<Aggregate, String> {
    let mut curves = Vec::new();
    let mut failed = Vec::new();
    for (job, o) in runs {
        if o.ok() {
            curves.push(read_curve(&job.dir.join("metrics.jsonl"), job.seed).map_err(|e| e.to_string())?);
        } else {
            failed.push((job.seed, o.failure()));
        }
    }
    let agg = Aggregate::new(curves, failed);
    let json = agg.to_json(&name.0, &name.1, &p.combo.sets);
    let path = p.dir.join("aggregate.json");
    std::fs::write(&path, format!("{json:#}\n"))
        .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
    if !agg.seeds.is_empty() {
        let title = match &p.combo.label {
            Some(l) => format!("{} on {} [{l}]", name.0, name.1),
            None => format!("{} on {}", name.0, name.1),
        };
        rlc_runtime::aggregate_curve::write_svg(&p.dir.join("aggregate.svg"), &title, &agg)
            .map_err(|e| e.to_string())?;
    }
    Ok(agg)
}

/// Prints the final return of each combination (a table for a sweep, written to `sweep.json`).
fn report(out: &Path, summaries: &[(&Point, Aggregate)], sweep: bool) -> Result<(), String> {
    let line = |f: &Option<FinalSummary>, n_failed: usize| match f {
        Some(f) => format!(
            "final eval_return over {} seed{}: mean {:.2} [{:.2}, {:.2}]  median {:.2}  IQM {:.2} [{:.2}, {:.2}]{}",
            f.n,
            plural(f.n),
            f.mean.value,
            f.mean.lo,
            f.mean.hi,
            f.median.value,
            f.iqm.value,
            f.iqm.lo,
            f.iqm.hi,
            if n_failed > 0 {
                format!("  ({n_failed} failed)")
            } else {
                String::new()
            }
        ),
        None => "no seed finished".into(),
    };
    let width = summaries
        .iter()
        .map(|(p, _)| p.combo.label.as_deref().unwrap_or("").len())
        .max()
        .unwrap_or(0);
    for (p, a) in summaries {
        let label = p.combo.label.as_deref().unwrap_or("");
        let prefix = if sweep {
            format!("{label:width$}  ")
        } else {
            String::new()
        };
        println!("{prefix}{}", line(&a.final_return, a.failed.len()));
    }
    if sweep {
        let rows: Vec<_> = summaries
            .iter()
            .map(|(p, a)| {
                json!({
                    "settings": p.combo.label,
                    "dir": p.dir.display().to_string(),
                    "seeds": a.seeds.len(),
                    "failed": a.failed.len(),
                    "final_return": a.final_return.map(|f| json!({
                        "mean": f.mean.value, "mean_ci95": [f.mean.lo, f.mean.hi],
                        "median": f.median.value,
                        "iqm": f.iqm.value, "iqm_ci95": [f.iqm.lo, f.iqm.hi],
                    })),
                })
            })
            .collect();
        let path = out.join("sweep.json");
        std::fs::write(&path, format!("{:#}\n", json!(rows)))
            .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
    }
    Ok(())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}
