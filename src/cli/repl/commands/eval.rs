//! `:eval EXPR` (and lines without a colon): trace an expression in the loaded program's
//! scope, or the standard library's, and print its values from the interpreter.

use super::args::{Failure, Res};
use crate::cli::repl::format::tensor;
use crate::cli::repl::session::{Loaded, Reply, Session};
use rlc_compiler::check::ModuleId;
use rlc_compiler::diag::Code;
use rlc_compiler::driver::Driver;
use rlc_compiler::interp::{Tensor, eval as interp_eval, initial_state};
use rlc_compiler::lower::Traced;
use rlc_compiler::signature::InputRole;
use std::fmt::Write;

/// Evaluates an expression in the loaded program's scope (nets at their initial
/// parameters), falling back to the standard library's scope for names the program does
/// not import.
pub(super) fn eval(s: &mut Session, text: &str) -> Res {
    if text.trim().is_empty() {
        return Err(Failure::Usage);
    }
    let scoped = s.scoped(text);
    let text = scoped.as_str();
    s.evals += 1;
    let seed = s.evals;
    let color = s.color;
    // Expressions see the hyperparameters the program was compiled with (`:set`, `--set`).
    let set = s.compile.set.clone();
    let fns = s.fns.clone();
    let traced = match &mut s.loaded {
        Some(Loaded {
            driver,
            module,
            program,
            ..
        }) => {
            let env = program
                .as_ref()
                .map_or_else(rlc_compiler::driver::no_env, |p| p.env.clone());
            let alg = program.as_ref().map(|p| (0, p.states.clone()));
            match driver.trace_expr_with(*module, alg, env, &set, text) {
                Ok(t) => return shown(show_values(&t, seed), driver, color),
                Err(d) => {
                    let rendered = render(driver, &d, color);
                    // A name the program does not import may be a standard-library function.
                    if !d.iter().all(|x| matches!(x.code, Code::UnknownName)) {
                        return Err(Reply::err(rendered).into());
                    }
                    let (t, d) = stdlib_scope(text, &fns, color).map_err(|_| Reply::err(rendered))?;
                    return shown(show_values(&t, seed), &d, color);
                }
            }
        }
        None => stdlib_scope(text, &fns, color).map_err(Reply::err)?,
    };
    shown(show_values(&traced.0, seed), &traced.1, color)
}

/// The reply for shown values, rendering an index fault against `driver`'s sources.
fn shown(r: Result<String, Shown>, driver: &Driver, color: bool) -> Res {
    match r {
        Ok(text) => Ok(Reply::ok(text)),
        Err(Shown::Message(m)) => Err(Reply::err(m).into()),
        Err(Shown::Fault(d)) => Err(Reply::err(render(driver, &[*d], color)).into()),
    }
}

/// Why values could not be shown.
enum Shown {
    /// A message to print as it is.
    Message(String),
    /// A run-time index check failed: a diagnostic at the index.
    Fault(Box<rlc_compiler::diag::Diagnostic>),
}

pub(super) fn render(driver: &Driver, d: &[rlc_compiler::diag::Diagnostic], color: bool) -> String {
    let mut t = rlc_compiler::diag::render_all(d, &driver.mods.sources, color);
    let n = d.len();
    let _ = writeln!(t, "error: {n} problem{} found", if n == 1 { "" } else { "s" });
    t
}

/// Traces `text` in a scope importing every function of the standard library's libraries
/// and holding the session's `fn` definitions (with the driver holding its sources, for
/// diagnostics).
fn stdlib_scope(text: &str, fns: &[String], color: bool) -> Result<(Traced, Driver), String> {
    let (mut driver, m) = stdlib_module(fns, color)?;
    let t = driver
        .trace_expr(m, None, rlc_compiler::driver::no_env(), text)
        .map_err(|d| render(&driver, &d, color))?;
    Ok((t, driver))
}

/// A module importing every function of the standard library's libraries, with `fns` defined
/// in it.
pub(super) fn stdlib_module(fns: &[String], color: bool) -> Result<(Driver, ModuleId), String> {
    let Some(dir) = rlc_compiler::check::find_stdlib() else {
        return Err("error: the standard library was not found (set RLC_STDLIB)\n".into());
    };
    let mut driver = Driver::new(Some(dir.clone()));
    let mut imports = String::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map_err(|e| format!("error: cannot read {}: {e}\n", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "rl"))
        .collect();
    files.sort();
    for f in files {
        let Ok(m) = driver.load(&f) else { continue };
        let ast = &driver.mods.get(m).ast;
        if !ast.algorithms.is_empty() || ast.fns.is_empty() {
            continue;
        }
        let stem = f.file_stem().and_then(|x| x.to_str()).unwrap_or_default();
        let names: Vec<String> = ast.fns.iter().map(|f| f.name.name.clone()).collect();
        let _ = writeln!(imports, "import {stem}.{{{}}}", names.join(", "));
    }
    let m = driver
        .load_text("<repl>", Some(&dir), &imports)
        .map_err(|d| render(&driver, &d, color))?;
    for f in fns {
        driver.define(m, f).map_err(|d| render(&driver, &d, color))?;
    }
    Ok((driver, m))
}

/// Runs a traced expression on the interpreter (f64) and prints its values; an index
/// computed from random numbers that leaves its axis is an error at the index.
fn show_values(t: &Traced, seed: u64) -> Result<String, Shown> {
    if let Some(c) = &t.constant {
        return Ok(format!("{c}\n"));
    }
    let g = &t.graph;
    let mut inputs = Vec::new();
    for role in &t.signature.inputs {
        match role {
            InputRole::Key => inputs.push(Tensor::<f64>::i(
                vec![2],
                rlc_compiler::random::key_from_seed(seed).to_vec(),
            )),
            InputRole::Step => inputs.push(Tensor::<f64>::i(Vec::<usize>::new(), vec![0])),
            other => {
                return Err(Shown::Message(format!(
                    "error: the expression reads the input `{other}`, which :eval cannot supply\n"
                )));
            }
        }
    }
    let state = initial_state::<f64>(&t.states, 0);
    let r = interp_eval::<f64>(g, &inputs, &state).map_err(|e| Shown::Message(format!("error: {e}\n")))?;
    let fault = t.states.find(rlc_compiler::lower::INDEX_FAULT_STATE);
    for (id, v) in &r.assigns {
        let k = v.to_f64().first().copied().unwrap_or(0.0);
        if Some(*id) == fault
            && k != 0.0
            && let Some(check) = t.index_checks.get(k as usize - 1)
        {
            return Err(Shown::Fault(Box::new(
                rlc_compiler::diag::Diagnostic::new(Code::IndexOutOfBounds, check.message())
                    .at(check.span, "this index was out of range"),
            )));
        }
    }
    let mut out = String::new();
    let single = g.outputs.len() == 1 && g.outputs[0].0 == "value";
    for ((name, id), v) in g.outputs.iter().zip(&r.outputs) {
        let ty = g.ty(*id);
        let body = tensor(ty, &v.to_f64());
        if single {
            let _ = writeln!(out, "{ty} {body}");
        } else {
            let _ = writeln!(out, "{name}: {ty} {body}");
        }
    }
    Ok(out)
}
