//! `rlc repl [FILE]`: inspect, evaluate and time compiled graphs interactively.
//!
//! On a terminal the REPL reads lines with rustyline (history kept between sessions, line
//! editing, tab completion); otherwise it reads commands line by line without prompts, so
//! sessions can be scripted (`rlc repl ddpg.rl < session.txt`). Everything a command prints,
//! diagnostics included, goes to stdout in order, so a scripted session reads as a transcript.

mod commands;
mod complete;
mod format;
mod lines;
mod session;

use super::args::CompileArgs;
use complete::ReplHelper;
use lines::Joiner;
use rlc_compiler::backend::BACKENDS;
use session::{Flow, Session};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

/// Options of `rlc repl`.
#[derive(clap::Args, Debug, Clone)]
pub struct ReplArgs {
    /// A program to load at the start.
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub compile: CompileArgs,
    /// Backend used by `:time` and `:code` unless a command names another.
    #[arg(long, default_value = "jit")]
    pub backend: String,
}

/// Runs the REPL; the exit status is 0, or 1 when a scripted session had a failing command.
pub fn run(args: &ReplArgs) -> u8 {
    if !BACKENDS.contains(&args.backend.as_str()) {
        eprintln!(
            "error: unknown backend `{}` (known: {})",
            args.backend,
            BACKENDS.join(", ")
        );
        return super::common::EXIT_USAGE;
    }
    let interactive = std::io::stdin().is_terminal();
    let mut s = Session::new(args.compile.clone(), args.backend.clone(), interactive);
    if let Some(f) = &args.file {
        let reply = s.load(f);
        print!("{}", reply.text);
    }
    if interactive {
        interactive_loop(&mut s);
        0
    } else {
        scripted_loop(&mut s)
    }
}

fn scripted_loop(s: &mut Session) -> u8 {
    let mut failed = false;
    let stdin = std::io::stdin();
    let mut joiner = Joiner::default();
    let mut lines = stdin.lock().lines();
    loop {
        // At the end of input an unfinished expression still runs, so the parser says what
        // is missing.
        let input = match lines.next() {
            Some(Ok(line)) => match joiner.push(&line) {
                Some(input) => input,
                None => continue,
            },
            _ if joiner.pending() => joiner.take(),
            _ => break,
        };
        let reply = commands::exec(s, &input);
        failed |= reply.failed;
        print!("{}", reply.text);
        let _ = std::io::stdout().flush();
        if matches!(reply.flow, Flow::Quit) {
            break;
        }
    }
    u8::from(failed)
}

/// History file: `$RLC_HISTORY`, else `~/.rlc_history`.
fn history_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("RLC_HISTORY") {
        return Some(PathBuf::from(p));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".rlc_history"))
}

fn interactive_loop(s: &mut Session) {
    use rustyline::error::ReadlineError;
    let mut rl = match rustyline::Editor::<ReplHelper, rustyline::history::DefaultHistory>::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start line editing ({e}); reading plain lines");
            scripted_loop(s);
            return;
        }
    };
    rl.set_helper(Some(ReplHelper::new(s.words())));
    let history = history_path();
    if let Some(h) = &history {
        let _ = rl.load_history(h);
    }
    println!("rlc repl — :help lists the commands, :quit leaves");
    let mut joiner = Joiner::default();
    loop {
        let prompt = if joiner.pending() { "...> " } else { "rlc> " };
        match rl.readline(prompt) {
            Ok(line) => {
                let Some(input) = joiner.push(&line) else {
                    continue;
                };
                if !input.trim().is_empty() {
                    let _ = rl.add_history_entry(input.as_str());
                }
                let reply = commands::exec(s, &input);
                print!("{}", reply.text);
                if matches!(reply.flow, Flow::Quit) {
                    break;
                }
            }
            // Ctrl-C drops an unfinished input.
            Err(ReadlineError::Interrupted) => {
                joiner.take();
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("error: {e}");
                break;
            }
        }
    }
    if let Some(h) = &history
        && let Err(e) = rl.save_history(h)
    {
        eprintln!("warning: history not saved to {}: {e}", h.display());
    }
}
