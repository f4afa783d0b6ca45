//! `rlc graph FILE [ENTRY]`: the compiled IR as text or DOT.

use super::args::CompileArgs;
use super::common::{EXIT_USAGE, compile_file};
use rlc_compiler::diag::did_you_mean;
use rlc_compiler::ir::{print_graph_with_states, to_dot};
use std::path::Path;

/// Output format of `rlc graph`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One node per line.
    Text,
    /// Graphviz DOT.
    Dot,
}

pub fn run(file: &Path, entry: Option<&str>, format: Format, after: Option<&str>, args: &CompileArgs) -> u8 {
    let passes = rlc_compiler::passes::pipeline();
    let upto = match after {
        None => 0,
        Some("all") => passes.len(),
        Some(p) => match passes.iter().position(|x| x.name == p) {
            Some(i) => i + 1,
            None => {
                let names: Vec<&str> = passes.iter().map(|x| x.name).collect();
                eprintln!("error: unknown pass `{p}`");
                if let Some(h) = did_you_mean(p, names.iter().copied()) {
                    eprintln!("  help: {h}");
                }
                eprintln!("  note: passes: {}, all", names.join(", "));
                return EXIT_USAGE;
            }
        },
    };
    let (_, compiled) = match compile_file(file, args, None) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let Some(c) = compiled.first() else {
        eprintln!(
            "error: `{}` defines no algorithm, so it has no entry points",
            file.display()
        );
        return EXIT_USAGE;
    };
    let selected: Vec<_> = match entry {
        Some(name) => match c.entry(name) {
            Some(e) => vec![e],
            None => {
                let names: Vec<&str> = c.entries.iter().map(|e| e.name.as_str()).collect();
                eprintln!("error: `{}` has no entry point `{name}`", c.name);
                if let Some(h) = did_you_mean(name, names.iter().copied()) {
                    eprintln!("  help: {h}");
                }
                eprintln!("  note: entry points: {}", names.join(", "));
                return EXIT_USAGE;
            }
        },
        None => c.entries.iter().collect(),
    };
    for e in selected {
        let graph = match rlc_compiler::passes::run_pipeline(&e.graph, &passes[..upto]) {
            Ok(mut v) => v.pop().map_or_else(|| e.graph.clone(), |(_, g)| g),
            Err(err) => {
                eprintln!("error: {err}");
                return 1;
            }
        };
        match format {
            Format::Text => print!("{}", print_graph_with_states(&graph, &e.name, &c.states)),
            Format::Dot => print!("{}", to_dot(&graph, &e.name, Some(&c.states))),
        }
    }
    0
}
