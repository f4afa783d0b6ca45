//! Shared plumbing: compiling a file with the runtime's environment registry and printing
//! diagnostics.

use super::args::CompileArgs;
use rlc_compiler::check::find_stdlib;
use rlc_compiler::diag::{Diagnostic, render_all};
use rlc_compiler::driver::{Driver, EnvLookupError, Request};
use rlc_compiler::env_spec::EnvSpec;
use rlc_compiler::lower::Compiled;
use std::io::IsTerminal;
use std::path::Path;

/// Exit status for programs with errors.
pub const EXIT_DIAGNOSTICS: u8 = 1;
/// Exit status for bad usage (flags, unknown entries, unwritable paths).
pub const EXIT_USAGE: u8 = 2;

/// The runtime's registry as the compiler's environment resolver.
pub fn resolve_env(id: &str) -> Result<EnvSpec, EnvLookupError> {
    rlc_runtime::envs::spec(id).map_err(|e| {
        let suggestion = match e {
            rlc_runtime::envs::EnvError::UnknownEnv { suggestion, .. } => suggestion.map(String::from),
            _ => None,
        };
        EnvLookupError {
            suggestion,
            known: rlc_runtime::envs::known_ids()
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    })
}

/// Whether diagnostics on stderr should be coloured.
pub fn color() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

/// Prints diagnostics to stderr with their sources.
pub fn report(driver: &Driver, diags: &[Diagnostic]) {
    eprint!("{}", render_all(diags, &driver.mods.sources, color()));
    let n = diags.len();
    eprintln!("error: {n} problem{} found", if n == 1 { "" } else { "s" });
}

/// Loads and compiles a file; diagnostics are printed and turned into an exit code.
pub fn compile_file(path: &Path, args: &CompileArgs) -> Result<(Driver, Vec<Compiled>), u8> {
    let mut driver = Driver::new(find_stdlib());
    let module = match driver.load(path) {
        Ok(m) => m,
        Err(d) => {
            report(&driver, &d);
            return Err(EXIT_DIAGNOSTICS);
        }
    };
    let req = Request {
        env: args.env.clone(),
        overrides: args.set.clone(),
        eval_batch: None,
    };
    match driver.compile(module, &req, &resolve_env) {
        Ok(c) => Ok((driver, c)),
        Err(d) => {
            report(&driver, &d);
            Err(EXIT_DIAGNOSTICS)
        }
    }
}
