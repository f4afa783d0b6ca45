//! `let PATTERN = EXPR` and `fn NAME(PARAMS) = EXPR` at the prompt, which later lines see, and
//! `:lets`, which lists or forgets the bindings. A `fn` is added to the loaded program (inside
//! its algorithm, so its body sees the nets and hyperparameters; see `Driver::define`), or to
//! the standard library's scope when no program is loaded, and again after every reload. Bindings are kept as text; every later expression is evaluated inside
//! a block that starts with all of them (`{ let x = 3; let y = x + 1; EXPR }`), so a binding
//! shadows an earlier one of the same name as in any block, and sees the loaded program's nets
//! and settings as they are when it is used. Its random draws are drawn again each time.

use super::args::{Failure, Res};
use super::eval;
use crate::cli::repl::session::{Reply, Session};

/// Whether `line` is a `fn` definition.
pub(super) fn is_fn(line: &str) -> bool {
    line.strip_prefix("fn")
        .is_some_and(|r| r.starts_with(char::is_whitespace))
}

/// `fn NAME(PARAMS) = EXPR`: defines a function later lines can call.
pub(super) fn define_fn(s: &mut Session, line: &str) -> Res {
    let color = s.color;
    let defined = match &mut s.loaded {
        Some(l) => l
            .driver
            .define(l.module, line)
            .map_err(|d| eval::render(&l.driver, &d, color)),
        None => eval::stdlib_module(&s.fns, color)
            .and_then(|(mut d, m)| d.define(m, line).map_err(|e| eval::render(&d, &e, color))),
    };
    match defined {
        Ok(names) => {
            s.fns.retain(|f| !names.iter().any(|n| defines(f, n)));
            s.fns.push(line.to_string());
            Ok(Reply::ok(format!("defined {}", names.join(", "))))
        }
        Err(text) => Err(Reply::err(text).into()),
    }
}

/// Whether definition text `f` defines `name` (so a new definition replaces it).
fn defines(f: &str, name: &str) -> bool {
    f.strip_prefix("fn")
        .map(str::trim_start)
        .and_then(|r| r.strip_prefix(name))
        .is_some_and(|r| r.trim_start().starts_with('('))
}

/// Whether `line` is a `let` statement.
pub(super) fn is_let(line: &str) -> bool {
    line.strip_prefix("let")
        .is_some_and(|r| r.starts_with(|c: char| c.is_whitespace() || c == '('))
}

/// `let PATTERN = EXPR` (or `~ DIST`): evaluates it after the earlier bindings and, if that
/// succeeds, keeps it and prints its value.
pub(super) fn bind(s: &mut Session, line: &str) -> Res {
    let stmt = line.trim().trim_end_matches(';').trim_end();
    let Some(pattern) = stmt[3..]
        .split(['=', '~'])
        .next()
        .filter(|_| stmt[3..].contains(['=', '~']))
    else {
        return Err(Reply::err("error: usage: let NAME = EXPR").into());
    };
    let pattern = pattern.trim().to_string();
    s.lets.push(stmt.to_string());
    match eval::eval(s, &pattern) {
        Ok(r) => {
            // A name's value: `x = 3`; a tuple's parts are printed as `:eval` prints them.
            let name = pattern.chars().all(|c| c.is_alphanumeric() || c == '_');
            let text = if name {
                format!("{pattern} = {}", r.text)
            } else {
                r.text
            };
            Ok(Reply::ok(text))
        }
        Err(e) => {
            s.lets.pop();
            Err(e)
        }
    }
}

/// `:lets [clear]`: the bindings later expressions see, or forgets them.
pub(super) fn lets(s: &mut Session, rest: &str) -> Res {
    match rest {
        "" if s.lets.is_empty() => Ok(Reply::ok("(no bindings: `let x = EXPR` makes one)")),
        "" => Ok(Reply::ok(s.lets.join("\n"))),
        "clear" => {
            let n = s.lets.len();
            s.lets.clear();
            Ok(Reply::ok(format!(
                "forgot {n} binding{}",
                if n == 1 { "" } else { "s" }
            )))
        }
        _ => Err(Failure::Usage),
    }
}
