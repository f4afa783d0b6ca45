//! Commands about backends: timing an entry point, showing the code a backend generated,
//! and choosing the session's backend.

use super::args::{Failure, Res, find_entry, split_flags};
use crate::cli::repl::format::{count, num};
use crate::cli::repl::session::{Reply, Session};
use rlc_compiler::backend::{self, BACKENDS, cost};
use rlc_compiler::diag::did_you_mean;
use rlc_compiler::lower::{Compiled, Entry};
use std::collections::BTreeMap;
use std::fmt::Write;

fn backend_flag(s: &Session, flags: &BTreeMap<String, &str>) -> Result<String, Reply> {
    let b = flags.get("backend").map_or(s.backend.clone(), |b| b.to_string());
    if BACKENDS.contains(&b.as_str()) {
        Ok(b)
    } else {
        Err(unknown_backend(&b))
    }
}

fn unknown_backend(b: &str) -> Reply {
    let mut t = format!("error: unknown backend `{b}`\n");
    if let Some(h) = did_you_mean(b, BACKENDS.iter().copied()) {
        let _ = writeln!(t, "  help: {h}");
    }
    let _ = writeln!(t, "  note: backends: {}", BACKENDS.join(", "));
    Reply::err(t)
}

fn compile_on(
    p: &Compiled,
    e: &Entry,
    backend_name: &str,
) -> Result<(Box<dyn backend::Backend>, backend::EntryId, f64), Reply> {
    let mut b = backend::create(backend_name).map_err(|e| Reply::err(format!("error: {e}")))?;
    b.init_state(&p.states, 0)
        .map_err(|e| Reply::err(format!("error: {e}")))?;
    let t0 = std::time::Instant::now();
    let id = b
        .compile(&e.name, &e.graph)
        .map_err(|e| Reply::err(format!("error: {e}")))?;
    Ok((b, id, t0.elapsed().as_secs_f64() * 1e3))
}

/// `:time ENTRY [--backend NAME]`: median call time and GFLOP/s.
pub(super) fn time(s: &mut Session, rest: &str) -> Res {
    let (pos, flags) = split_flags(rest, &["backend"])?;
    let [name] = pos[..] else {
        return Err(Failure::Usage);
    };
    let bname = backend_flag(s, &flags)?;
    let p = s.program()?;
    let e = find_entry(p, name)?;
    let (mut b, id, compile_ms) = compile_on(p, e, &bname)?;
    let n_actions = match &p.env.action {
        rlc_compiler::env_spec::ActionSpace::Discrete { n } => *n,
        _ => 1,
    };
    let inputs = rlc_runtime::bench::sample_inputs(&e.graph, &e.signature, n_actions);
    let us = rlc_runtime::bench::median_call_us(b.as_mut(), id, &e.graph, &inputs)
        .map_err(|err| Reply::err(format!("error: {err}")))?;
    let opt = rlc_compiler::passes::optimize(&e.graph).unwrap_or_else(|_| e.graph.clone());
    let f = cost::flops(&opt);
    let gflops = f.total as f64 / (us * 1e-6) / 1e9;
    Ok(Reply::ok(format!(
        "{name} on {bname}: {} µs per call (median), {} FLOPs per call, {} GFLOP/s, compiled in {} ms",
        num(sig3(us)),
        count(f.total as usize),
        num(sig3(gflops)),
        num(compile_ms.round())
    )))
}

/// `v` rounded to 3 significant digits.
fn sig3(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return v;
    }
    let scale = 10f64.powi(2 - v.log10().floor() as i32);
    (v * scale).round() / scale
}

/// `:code ENTRY [--backend NAME]`: the code a backend generated.
pub(super) fn code(s: &mut Session, rest: &str) -> Res {
    let (pos, flags) = split_flags(rest, &["backend"])?;
    let [name] = pos[..] else {
        return Err(Failure::Usage);
    };
    let bname = backend_flag(s, &flags)?;
    let p = s.program()?;
    let e = find_entry(p, name)?;
    let (b, id, _) = compile_on(p, e, &bname)?;
    match b.code(id) {
        Some(c) => Ok(Reply::ok(c)),
        None => Err(Reply::err(format!(
            "error: the `{bname}` backend generates no code (it runs the graph directly)\n  help: `:code {name} --backend jit`"
        )).into()),
    }
}

/// `:backend [NAME]`: shows or sets the backend `:time` and `:code` use.
pub(super) fn set_backend(s: &mut Session, rest: &str) -> Res {
    if rest.is_empty() {
        return Ok(Reply::ok(format!(
            "backend: {} (known: {})",
            s.backend,
            BACKENDS.join(", ")
        )));
    }
    if !BACKENDS.contains(&rest) {
        return Err(unknown_backend(rest).into());
    }
    s.backend = rest.to_string();
    Ok(Reply::ok(format!("backend: {rest}")))
}
