//! `rlc bench FILE`: compile time, µs per call of every entry point, GFLOP/s of `train`
//! against the GEMM kernel at the same shapes, and env steps/s of a short training run.

use super::args::CompileArgs;
use super::common::{EXIT_USAGE, compile_file};
use rlc_runtime::bench::{BackendReport, MatmulReport, bench_backend, bench_matmuls};
use serde_json::json;
use std::path::Path;

/// Options of `rlc bench`.
#[derive(clap::Args, Debug, Clone)]
pub struct BenchArgs {
    /// The program.
    pub file: std::path::PathBuf,
    #[command(flatten)]
    pub compile: CompileArgs,
    /// Backends to measure (repeatable).
    #[arg(long = "backend", default_values_t = vec!["jit".to_string()])]
    pub backends: Vec<String>,
    /// Environment steps of the end-to-end training run (after warm-up).
    #[arg(long, default_value_t = 3000)]
    pub run_steps: u64,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &BenchArgs) -> u8 {
    let (_, compiled) = match compile_file(&args.file, &args.compile, None) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let Some(program) = compiled.first() else {
        eprintln!(
            "error: `{}` defines no algorithm",
            Path::new(&args.file).display()
        );
        return EXIT_USAGE;
    };
    // Unknown backends and missing devices are usage errors (exit 2), found before any work.
    for b in &args.backends {
        if let Err(e) = rlc_compiler::backend::create(b) {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    }
    let mm = bench_matmuls(program);
    let mut reports = Vec::new();
    for b in &args.backends {
        match bench_backend(program, b, args.run_steps) {
            Ok(r) => reports.push(r),
            Err(e) => {
                eprintln!("error: {e}");
                return if e.to_string().contains("unknown backend") {
                    EXIT_USAGE
                } else {
                    3
                };
            }
        }
    }
    if args.json {
        println!("{}", to_json(program, &mm, &reports));
    } else {
        print_table(program, &mm, &reports);
    }
    0
}

fn to_json(
    p: &rlc_compiler::lower::Compiled,
    mm: &MatmulReport,
    reports: &[BackendReport],
) -> serde_json::Value {
    json!({
        "algorithm": p.name,
        "env": p.env.id,
        "parameters": p.parameter_count(),
        "matmul": {
            "gflops": mm.gflops,
            "flops_per_train_step": mm.flops,
            "shapes": mm.shapes.iter().map(|(m, k, n, c, us, g)| json!({"m": m, "k": k, "n": n, "count": c, "us": us, "gflops": g})).collect::<Vec<_>>(),
        },
        "backends": reports.iter().map(|r| json!({
            "backend": r.backend,
            "train_gflops": r.train_gflops,
            "train_fraction_of_kernel": if mm.gflops > 0.0 { r.train_gflops / mm.gflops } else { 0.0 },
            "env_steps_per_s": r.env_steps_per_s,
            "run_steps": r.run_steps,
            "entries": r.entries.iter().map(|e| json!({"name": e.name, "compile_ms": e.compile_ms, "median_us": e.median_us, "flops": e.flops, "kernels": e.stats.as_ref().map(|s| s.kernels), "launches_per_call": e.stats.as_ref().map(|s| s.launches_per_call), "bytes_in": e.stats.as_ref().map(|s| s.bytes_in), "bytes_out": e.stats.as_ref().map(|s| s.bytes_out)})).collect::<Vec<_>>(),
            "bytes_per_env_step": r.bytes_per_env_step,
        })).collect::<Vec<_>>(),
    })
}

fn print_table(p: &rlc_compiler::lower::Compiled, mm: &MatmulReport, reports: &[BackendReport]) {
    println!("{} on {} ({} parameters)", p.name, p.env.id, p.parameter_count());
    println!(
        "matmul kernel at the train step's shapes: {:.1} GFLOP/s ({:.3} GFLOP of products per step)",
        mm.gflops,
        mm.flops as f64 / 1e9
    );
    for (m, k, n, c, us, g) in &mm.shapes {
        println!("  {m:>5} x {k:>5} x {n:>5}  x{c:<3} {us:>9.2} us  {g:>7.1} GFLOP/s");
    }
    for r in reports {
        println!("backend {}:", r.backend);
        println!(
            "  {:<16} {:>11} {:>12} {:>12}",
            "entry", "compile ms", "us/call", "MFLOP/call"
        );
        for e in &r.entries {
            let launches = e.stats.as_ref().map_or_else(String::new, |s| {
                format!(
                    "  {} kernels, {} launches/call, {} B in, {} B out",
                    s.kernels, s.launches_per_call, s.bytes_in, s.bytes_out
                )
            });
            println!(
                "  {:<16} {:>11.1} {:>12.2} {:>12.3}{launches}",
                e.name,
                e.compile_ms,
                e.median_us,
                e.flops as f64 / 1e6
            );
        }
        if let Some(b) = r.bytes_per_env_step {
            println!(
                "  host<->device: {b:.0} bytes per env step, measured over the training run (act and train inputs and outputs, replay pushes)"
            );
        }
        let frac = if mm.gflops > 0.0 {
            100.0 * r.train_gflops / mm.gflops
        } else {
            0.0
        };
        println!(
            "  train: {:.1} GFLOP/s ({frac:.0}% of the kernel's own rate)",
            r.train_gflops
        );
        println!(
            "  end to end: {:.0} env steps/s (training run of {} steps after warm-up)",
            r.env_steps_per_s, r.run_steps
        );
    }
}
