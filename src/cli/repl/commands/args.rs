//! What the command handlers share (and nothing else, so they import no part of the
//! table): their result type and argument parsing.

use crate::cli::repl::session::Reply;
use rlc_compiler::diag::did_you_mean;
use rlc_compiler::lower::{Compiled, Entry};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Why a command failed.
pub(super) enum Failure {
    /// With this reply.
    Reply(Reply),
    /// Its arguments do not fit its usage (dispatch prints the usage from the table).
    Usage,
}

impl From<Reply> for Failure {
    fn from(r: Reply) -> Failure {
        Failure::Reply(r)
    }
}

/// What a command returns.
pub(super) type Res = Result<Reply, Failure>;

/// A reply that failed when `r.failed`, as a command result.
pub(super) fn checked(r: Reply) -> Res {
    if r.failed { Err(r.into()) } else { Ok(r) }
}

/// Splits `ARGS --flag VALUE` into positional words and flag values.
pub(super) fn split_flags<'a>(
    rest: &'a str,
    flags: &[&str],
) -> Result<(Vec<&'a str>, BTreeMap<String, &'a str>), Reply> {
    let mut pos = Vec::new();
    let mut vals = BTreeMap::new();
    let mut words = rest.split_whitespace();
    while let Some(w) = words.next() {
        if let Some(f) = w.strip_prefix("--") {
            if !flags.contains(&f) {
                return Err(Reply::err(format!(
                    "error: unknown option `--{f}`{}",
                    if flags.is_empty() {
                        String::new()
                    } else {
                        format!(" (options: --{})", flags.join(", --"))
                    }
                )));
            }
            let Some(v) = words.next() else {
                return Err(Reply::err(format!("error: `--{f}` needs a value")));
            };
            vals.insert(f.to_string(), v);
        } else {
            pos.push(w);
        }
    }
    Ok((pos, vals))
}

pub(super) fn find_entry<'a>(p: &'a Compiled, name: &str) -> Result<&'a Entry, Reply> {
    p.entry(name).ok_or_else(|| {
        let names: Vec<&str> = p.entries.iter().map(|e| e.name.as_str()).collect();
        let mut t = format!("error: `{}` has no entry point `{name}`\n", p.name);
        if let Some(h) = did_you_mean(name, names.iter().copied()) {
            let _ = writeln!(t, "  help: {h}");
        }
        let _ = writeln!(t, "  note: entry points: {}", names.join(", "));
        Reply::err(t)
    })
}
