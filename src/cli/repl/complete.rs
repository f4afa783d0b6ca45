//! Tab completion: command names after `:`, file paths after `:load` and `:dot`, and
//! otherwise the loaded program's entry points, nets, states, losses, passes and backends.

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
        if start > 0 && matches!(first, ":load" | ":l" | ":dot") {
            return self.files.complete(line, pos, ctx);
        }
        let prefix = &line[start..pos];
        let want_command = start == 0 && prefix.starts_with(':');
        let out = self
            .words
            .borrow()
            .iter()
            .filter(|w| w.starts_with(prefix) && w.starts_with(':') == want_command)
            .map(|w| Pair {
                display: w.clone(),
                replacement: w.clone(),
            })
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
