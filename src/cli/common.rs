//! Shared plumbing: compiling a file with the runtime's environment registry and printing
//! diagnostics.

use super::args::CompileArgs;
use rlc_compiler::check::find_stdlib;
use rlc_compiler::diag::{Code, Diagnostic, render_all};
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
    rlc_runtime::envs::resolve(id)
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

/// Loads and compiles a file (`eval_batch`: the `eval` entry point's batch size, when running);
/// diagnostics are printed and turned into an exit code: 2 (usage) when the command line is
/// at fault — an unreadable file, an unknown or unfitting environment, or `--set` overrides
/// without which the program compiles — else 1 (the program has errors).
pub fn compile_file(
    path: &Path,
    args: &CompileArgs,
    eval_batch: Option<usize>,
) -> Result<(Driver, Vec<Compiled>), u8> {
    let mut driver = Driver::new(find_stdlib());
    let module = match driver.load(path) {
        Ok(m) => m,
        Err(d) => {
            report(&driver, &d);
            let unreadable = d.iter().all(|x| x.code == Code::Io);
            return Err(if unreadable { EXIT_USAGE } else { EXIT_DIAGNOSTICS });
        }
    };
    let req = Request {
        env: args.env.clone(),
        overrides: args.set.clone(),
        eval_batch,
    };
    match driver.compile(module, &req, &resolve_env) {
        Ok(c) => Ok((driver, c)),
        Err(d) => {
            report(&driver, &d);
            let usage = d
                .iter()
                .all(|x| matches!(x.code, Code::UnknownEnv | Code::ActionSpaceKind | Code::BadParam));
            // The evaluation batch (`--eval-episodes`) sizes the `eval` entry point too.
            let overrides_at_fault = (!args.set.is_empty() || eval_batch.is_some()) && {
                let plain = Request {
                    overrides: Vec::new(),
                    eval_batch: None,
                    ..req
                };
                driver.compile(module, &plain, &resolve_env).is_ok()
            };
            if overrides_at_fault {
                eprintln!(
                    "note: the program compiles without the `--set` overrides and `--eval-episodes`: \
                     one of them is at fault"
                );
            }
            Err(if usage || overrides_at_fault {
                EXIT_USAGE
            } else {
                EXIT_DIAGNOSTICS
            })
        }
    }
}

/// The default output directory of a run, `runs/NAME-ENV-sSEED`, with the characters of a
/// Gymnasium id that do not belong in a file name (`gym:ALE/Pong-v5`) replaced by `-`.
pub fn default_run_dir(program: &str, env: &str, seeds: &str) -> std::path::PathBuf {
    let env: String = env
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    std::path::PathBuf::from("runs").join(format!("{program}-{env}-s{seeds}"))
}
