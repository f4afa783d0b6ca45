//! `rlc check FILE...`: diagnostics, or a one-line summary per file.

use super::args::CompileArgs;
use super::common::compile_file;
use std::path::PathBuf;

pub fn run(files: &[PathBuf], args: &CompileArgs) -> u8 {
    let mut status = 0;
    for f in files {
        match compile_file(f, args, None) {
            Ok((_, compiled)) => {
                if compiled.is_empty() {
                    println!("{}: ok (library)", f.display());
                }
                for c in compiled {
                    let nodes: usize = c.entries.iter().map(|e| e.graph.len()).sum();
                    println!(
                        "{}: ok ({} on {}: {} entry points, {} nodes, {} parameters)",
                        f.display(),
                        c.name,
                        c.env.id,
                        c.entries.len(),
                        nodes,
                        c.parameter_count()
                    );
                }
            }
            // The worst status wins: a usage error (2) over program errors (1).
            Err(code) => status = status.max(code),
        }
    }
    status
}
