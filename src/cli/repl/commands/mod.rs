//! The REPL's commands: one table whose rows hold each command's name, aliases, usage, help,
//! argument completion and handler. Dispatch, `:help`, usage errors and tab completion all
//! read it; the handlers live in one file per group of commands.

mod args;
mod backend;
mod define;
mod eval;
mod grad;
mod inspect;
mod program;
mod rules;

use super::session::{Flow, Reply, Session};
use args::{Failure, Res};
use rlc_compiler::diag::did_you_mean;
use std::fmt::Write;

/// What tab completion offers for a command's arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Complete {
    /// Words of the session: entry points, nets, states, losses, passes, backends.
    Words,
    /// File paths.
    Files,
}

/// A command's handler: the session and the text after the command's name.
type Handler = fn(&mut Session, &str) -> Res;

/// One command.
pub struct Command {
    /// Name with the colon.
    pub name: &'static str,
    /// Other names dispatch accepts (without the colon).
    pub aliases: &'static [&'static str],
    /// Arguments.
    pub usage: &'static str,
    /// What it does.
    pub help: &'static str,
    /// What tab completion offers for its arguments.
    pub complete: Complete,
    /// Runs it.
    run: Handler,
}

/// Every command, in `:help` order.
pub const COMMANDS: &[Command] = &[
    Command {
        name: ":load",
        aliases: &["l"],
        usage: "FILE",
        help: "load and compile a program (the session's --env and :set apply)",
        complete: Complete::Files,
        run: program::load,
    },
    Command {
        name: ":reload",
        aliases: &["r"],
        usage: "",
        help: "re-read the loaded file after editing it, keeping the settings",
        complete: Complete::Words,
        run: program::reload,
    },
    Command {
        name: ":entries",
        aliases: &[],
        usage: "",
        help: "every entry point with its inputs, outputs and state, shapes included",
        complete: Complete::Words,
        run: inspect::entries,
    },
    Command {
        name: ":show",
        aliases: &[],
        usage: "ENTRY [--after PASS]",
        help: "the IR of an entry point, optionally after a pass (fold, cse, dce, all)",
        complete: Complete::Words,
        run: inspect::show,
    },
    Command {
        name: ":passes",
        aliases: &[],
        usage: "ENTRY",
        help: "the pass pipeline with node counts before and after each pass",
        complete: Complete::Words,
        run: inspect::passes,
    },
    Command {
        name: ":dot",
        aliases: &[],
        usage: "ENTRY PATH",
        help: "write the graph of an entry point as Graphviz DOT",
        complete: Complete::Files,
        run: inspect::dot,
    },
    Command {
        name: ":rule",
        aliases: &[],
        usage: "NAME",
        help: "an update or target rule: where it is written, its state, the nodes of `train` it computes",
        complete: Complete::Words,
        run: rules::rule,
    },
    Command {
        name: ":params",
        aliases: &[],
        usage: "",
        help: "parameters, update-rule state (by rule), target copies and learnables, by net",
        complete: Complete::Words,
        run: inspect::params,
    },
    Command {
        name: ":grad",
        aliases: &[],
        usage: "LOSS",
        help: "which parameters a loss reaches, and its gradient graph",
        complete: Complete::Words,
        run: grad::grad,
    },
    Command {
        name: ":doc",
        aliases: &[],
        usage: "NAME",
        help: "what a builtin or standard-library function does",
        complete: Complete::Words,
        run: |_, rest| {
            if rest.is_empty() {
                return Err(args::Failure::Usage);
            }
            crate::cli::doc::describe(rest)
                .map(crate::cli::repl::session::Reply::ok)
                .map_err(|e| crate::cli::repl::session::Reply::err(format!("error: {e}\n")).into())
        },
    },
    Command {
        name: ":eval",
        aliases: &["e"],
        usage: "EXPR",
        help: "evaluate an expression (a line without a colon does the same)",
        complete: Complete::Words,
        run: eval::eval,
    },
    Command {
        name: ":lets",
        aliases: &[],
        usage: "[clear]",
        help: "the `let` bindings later expressions see; `clear` forgets them",
        complete: Complete::Words,
        run: define::lets,
    },
    Command {
        name: ":time",
        aliases: &[],
        usage: "ENTRY [--backend NAME]",
        help: "median µs per call and GFLOP/s of an entry point",
        complete: Complete::Words,
        run: backend::time,
    },
    Command {
        name: ":code",
        aliases: &[],
        usage: "ENTRY [--backend NAME]",
        help: "the code a backend generated for an entry point",
        complete: Complete::Words,
        run: backend::code,
    },
    Command {
        name: ":set",
        aliases: &[],
        usage: "[NAME=VALUE]",
        help: "change a hyperparameter and recompile; alone, list them",
        complete: Complete::Words,
        run: program::set,
    },
    Command {
        name: ":env",
        aliases: &[],
        usage: "[ID]",
        help: "compile for another environment; alone, show the current one",
        complete: Complete::Words,
        run: program::env,
    },
    Command {
        name: ":backend",
        aliases: &[],
        usage: "[NAME]",
        help: "the backend :time and :code use (jit, interp)",
        complete: Complete::Words,
        run: backend::set_backend,
    },
    Command {
        name: ":help",
        aliases: &["h", "?"],
        usage: "[COMMAND]",
        help: "this list, or one command's help",
        complete: Complete::Words,
        run: help_command,
    },
    Command {
        name: ":quit",
        aliases: &["q", "exit"],
        usage: "",
        help: "leave (also :q or end of input)",
        complete: Complete::Words,
        run: quit,
    },
];

/// The command called `name` (without the colon), by its name or an alias.
pub fn find(name: &str) -> Option<&'static Command> {
    COMMANDS
        .iter()
        .find(|c| &c.name[1..] == name || c.aliases.contains(&name))
}

/// Runs one line: a `:command`, or an expression to evaluate.
pub fn exec(s: &mut Session, line: &str) -> Reply {
    let line = line.trim();
    if line.is_empty() || line.starts_with("//") {
        return Reply::ok("");
    }
    dispatch(s, line)
}

/// Runs one non-empty line.
fn dispatch(s: &mut Session, line: &str) -> Reply {
    if define::is_let(line) {
        return reply(define::bind(s, line), ":eval");
    }
    if define::is_fn(line) {
        return reply(define::define_fn(s, line), ":eval");
    }
    let Some(cmd_line) = line.strip_prefix(':') else {
        return reply(eval::eval(s, line), ":eval");
    };
    let (name, rest) = match cmd_line.split_once(char::is_whitespace) {
        Some((n, r)) => (n, r.trim()),
        None => (cmd_line, ""),
    };
    match find(name) {
        Some(c) => reply((c.run)(s, rest), c.name),
        None => {
            let mut t = format!("error: unknown command `:{name}`\n");
            let names = COMMANDS.iter().map(|c| &c.name[1..]);
            if let Some(h) = did_you_mean(name, names) {
                let _ = writeln!(t, "  help: {}", h.replacen('`', "`:", 1));
            }
            t.push_str("  note: `:help` lists the commands\n");
            Reply::err(t)
        }
    }
}

/// The reply to print for the result of command `name`.
fn reply(r: Res, name: &str) -> Reply {
    match r {
        Ok(r) | Err(Failure::Reply(r)) => r,
        Err(Failure::Usage) => usage(name),
    }
}

fn quit(_: &mut Session, _: &str) -> Res {
    Ok(Reply {
        flow: Flow::Quit,
        ..Reply::ok("")
    })
}

fn help_command(_: &mut Session, rest: &str) -> Res {
    Ok(help(rest))
}

fn usage(name: &str) -> Reply {
    let c = COMMANDS.iter().find(|c| c.name == name).expect("known command");
    Reply::err(format!("error: usage: {} {}", c.name, c.usage))
}

fn help(rest: &str) -> Reply {
    let want = rest.trim_start_matches(':');
    if !want.is_empty() {
        return match COMMANDS.iter().find(|c| &c.name[1..] == want) {
            Some(c) => Reply::ok(format!("{} {}\n  {}", c.name, c.usage, c.help)),
            None => Reply::err(format!("error: no command `:{want}`")),
        };
    }
    let mut t = String::from("commands:\n");
    for c in COMMANDS {
        let _ = writeln!(t, "  {:<32} {}", format!("{} {}", c.name, c.usage), c.help);
    }
    t.push_str("a line without a leading colon is evaluated as an expression, e.g.\n");
    t.push_str("  gae([1, 1, 1], [0.9, 0.9, 0.9], [0, 0, 0, 0], 0.95)\n");
    t.push_str("`let x = EXPR` and `fn f(x) = EXPR` define names for later lines; an unclosed bracket\n  continues the line\n");
    Reply::ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases_are_unique() {
        let mut all: Vec<&str> = Vec::new();
        for c in COMMANDS {
            assert!(c.name.starts_with(':'), "{}", c.name);
            all.push(&c.name[1..]);
            all.extend(c.aliases);
        }
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n, "a name or alias names two commands");
    }

    #[test]
    fn aliases_find_their_command() {
        assert_eq!(find("l").map(|c| c.name), Some(":load"));
        assert_eq!(find("?").map(|c| c.name), Some(":help"));
        assert_eq!(find("dot").map(|c| c.complete), Some(Complete::Files));
        assert!(find("nope").is_none());
    }
}
