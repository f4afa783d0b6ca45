//! Command-line interface: argument parsing and one module per subcommand.

mod args;
mod bench;
mod check;
mod common;
pub(crate) mod doc;
mod eval;
mod graph;
mod repl;
mod resume;
mod run;
mod run_record;
mod seeds;
mod video;

pub use args::CompileArgs;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// rlc — a compiler and runtime for reinforcement learning.
#[derive(Parser, Debug)]
#[command(name = "rlc", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Benchmark a program: compile time, µs per call, GFLOP/s, env steps/s.
    Bench(bench::BenchArgs),
    /// Inspect, evaluate and time compiled graphs interactively (scriptable from stdin).
    Repl(repl::ReplArgs),
    /// Train an algorithm: progress, periodic evaluation, metrics, learning curve, checkpoint.
    Run(run::RunArgs),
    /// Continue an interrupted run from its last checkpoint, exactly as if it had not stopped.
    Resume(resume::ResumeArgs),
    /// Evaluate a trained checkpoint: greedy episodes, return as mean ± std.
    Eval(eval::EvalArgs),
    /// The language reference: every builtin and standard-library function, or one of them.
    Doc(doc::DocArgs),
    /// Check programs: parse, resolve names, and lower every entry point with real shapes.
    Check {
        /// Files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        compile: CompileArgs,
    },
    /// Print the compiled graph of an entry point (or of all of them).
    Graph {
        /// The program.
        file: PathBuf,
        /// Entry point (`train`, `act_<policy>`, `eval`, `net_<name>`); all if omitted.
        entry: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = graph::Format::Text)]
        format: graph::Format,
        /// Show the graph after this optimisation pass (`fold`, `cse`, `dce`, or `all`).
        #[arg(long, value_name = "PASS")]
        after: Option<String>,
        #[command(flatten)]
        compile: CompileArgs,
    },
}

/// Runs a parsed command and returns the process exit code.
pub fn run(cli: Cli) -> u8 {
    // An unreadable memory budget is an environment error (exit 2), found before any work.
    if let Err(msg) = rlc_compiler::lower::budget::memory_budget() {
        eprintln!("error: {msg}");
        return 2;
    }
    match cli.command {
        Command::Run(args) => run::run(&args),
        Command::Resume(args) => resume::run(&args),
        Command::Eval(args) => eval::run(&args),
        Command::Doc(args) => doc::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Repl(args) => repl::run(&args),
        Command::Check { files, compile } => check::run(&files, &compile),
        Command::Graph {
            file,
            entry,
            format,
            after,
            compile,
        } => graph::run(&file, entry.as_deref(), format, after.as_deref(), &compile),
    }
}
