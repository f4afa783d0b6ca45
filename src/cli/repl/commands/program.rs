//! Commands that (re)compile the program: loading a file, reloading it, and changing a
//! hyperparameter or the environment.

use super::args::{Failure, Res, checked};
use crate::cli::args::CompileArgs;
use crate::cli::repl::session::{Reply, Session};
use std::fmt::Write;
use std::path::Path;

/// `:load FILE`: loads and compiles a program.
pub(super) fn load(s: &mut Session, rest: &str) -> Res {
    if rest.is_empty() {
        return Err(Failure::Usage);
    }
    let r = s.load(Path::new(rest));
    checked(r)
}

/// `:reload`: re-reads the loaded file, keeping the settings.
pub(super) fn reload(s: &mut Session, _rest: &str) -> Res {
    let Some(file) = s.loaded.as_ref().map(|l| l.file.clone()) else {
        return Err(Reply::err("error: nothing to reload\n  help: `:load FILE` loads a program").into());
    };
    let r = s.load(&file);
    checked(r)
}

/// `:set [NAME=VALUE]`: lists the hyperparameters, or changes one and recompiles.
pub(super) fn set(s: &mut Session, rest: &str) -> Res {
    if rest.is_empty() {
        let p = s.program()?;
        let mut t = String::new();
        for (n, v) in &p.params {
            let _ = writeln!(t, "  {n} = {v}");
        }
        return Ok(Reply::ok(t));
    }
    let Some((name, _)) = rest.split_once('=') else {
        return Err(Reply::err(format!("error: `:set {rest}` is not of the form NAME=VALUE")).into());
    };
    let name = name.trim();
    let mut args: CompileArgs = s.compile.clone();
    args.set
        .retain(|o| o.split_once('=').map(|(n, _)| n.trim()) != Some(name));
    args.set.push(rest.to_string());
    let r = s.recompile_with(args);
    checked(r)
}

/// `:env ID`: recompiles for another environment; alone, shows the current one.
pub(super) fn env(s: &mut Session, rest: &str) -> Res {
    if rest.is_empty() {
        let text = match s.loaded.as_ref().and_then(|l| l.program.as_ref()) {
            Some(p) => format!(
                "{} (observations f32[{}], actions {:?})",
                p.env.id, p.env.obs_dim, p.env.action
            ),
            None => match &s.compile.env {
                Some(e) => format!("{e} (for the next `:load`)"),
                None => "(no program loaded: each program's declared default)".into(),
            },
        };
        return Ok(crate::cli::repl::session::Reply::ok(text));
    }
    if rest.contains(char::is_whitespace) {
        return Err(Failure::Usage);
    }
    let mut args = s.compile.clone();
    args.env = Some(rest.to_string());
    let r = s.recompile_with(args);
    checked(r)
}
