//! Tab completion: command names (from the command table) after `:`, file paths after
//! commands whose table row asks for them (`:load`, `:dot`), and otherwise the loaded
//! program's entry points, nets, states, losses, passes and backends.

use super::commands::{COMMANDS, Complete, find};
use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Helper};
use std::cell::RefCell;
use std::rc::Rc;

/// The line editor's helper.
pub struct ReplHelper {
    words: Rc<RefCell<Vec<String>>>,
    files: FilenameCompleter,
}

impl ReplHelper {
    /// A helper completing from `words` (kept current by the session).
    pub fn new(words: Rc<RefCell<Vec<String>>>) -> ReplHelper {
        ReplHelper {
            words,
            files: FilenameCompleter::new(),
        }
    }
}

/// Start of the word ending at `pos`.
fn word_start(line: &str, pos: usize) -> usize {
    line[..pos]
        .rfind(|c: char| c.is_whitespace() || "(),[]=".contains(c))
        .map_or(0, |i| i + 1)
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, ctx: &Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        let start = word_start(line, pos);
        let first = line.split_whitespace().next().unwrap_or("");
        let files = first
            .strip_prefix(':')
            .and_then(find)
            .is_some_and(|c| c.complete == Complete::Files);
        if start > 0 && files {
            return self.files.complete(line, pos, ctx);
        }
        let prefix = &line[start..pos];
        let pair = |w: &str| Pair {
            display: w.to_string(),
            replacement: w.to_string(),
        };
        if start == 0 && prefix.starts_with(':') {
            let mut names: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
            names.sort_unstable();
            let out = names
                .into_iter()
                .filter(|w| w.starts_with(prefix))
                .map(pair)
                .collect();
            return Ok((start, out));
        }
        let out = self
            .words
            .borrow()
            .iter()
            .filter(|w| w.starts_with(prefix))
            .map(|w| pair(w))
            .collect();
        Ok((start, out))
    }
}

impl Hinter for ReplHelper {
    type Hint = String;
}
impl Highlighter for ReplHelper {}
impl Validator for ReplHelper {}
impl Helper for ReplHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_start_after_separators() {
        assert_eq!(word_start(":show tr", 8), 6);
        assert_eq!(word_start("critic(act", 10), 7);
        assert_eq!(word_start(":set gam", 8), 5);
        assert_eq!(word_start(":sh", 3), 0);
    }
}
