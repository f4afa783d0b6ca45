//! Multi-line input: an expression or `let` line that leaves a bracket open continues on the
//! next line, at the prompt and on stdin alike. Command lines (`:...`) are always one line.

/// Lines joined until their brackets close.
#[derive(Default)]
pub struct Joiner {
    text: String,
}

impl Joiner {
    /// Adds a line; returns the whole input once every bracket it opened is closed.
    pub fn push(&mut self, line: &str) -> Option<String> {
        if self.text.is_empty() && line.trim_start().starts_with(':') {
            return Some(line.to_string());
        }
        if !self.text.is_empty() {
            self.text.push('\n');
        }
        self.text.push_str(line);
        (depth(&self.text) <= 0).then(|| std::mem::take(&mut self.text))
    }

    /// Whether an input is waiting for its closing bracket.
    pub fn pending(&self) -> bool {
        !self.text.is_empty()
    }

    /// The unfinished input (at the end of input, so the parser says what is missing).
    pub fn take(&mut self) -> String {
        std::mem::take(&mut self.text)
    }
}

/// Brackets opened and not closed in `text`, outside strings and `//` comments (negative when
/// more close than open: the parser reports that).
fn depth(text: &str) -> i64 {
    let mut depth = 0;
    for line in text.lines() {
        let mut in_string = false;
        let mut prev = ' ';
        for c in line.chars() {
            match c {
                '"' => in_string = !in_string,
                '/' if !in_string && prev == '/' => break,
                '(' | '[' | '{' if !in_string => depth += 1,
                ')' | ']' | '}' if !in_string => depth -= 1,
                _ => {}
            }
            prev = c;
        }
    }
    depth
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_open_bracket_continues_the_line() {
        let mut j = Joiner::default();
        assert_eq!(j.push("1 + 2"), Some("1 + 2".into()));
        assert_eq!(j.push("{"), None);
        assert!(j.pending());
        assert_eq!(j.push("  let a = f(1,"), None);
        assert_eq!(j.push("2)  // a ( in a comment"), None);
        assert_eq!(
            j.push("a }"),
            Some("{\n  let a = f(1,\n2)  // a ( in a comment\na }".into())
        );
        assert!(!j.pending());
        // Brackets in strings do not count; commands are one line; too many closers end it.
        assert_eq!(j.push("\"(\""), Some("\"(\"".into()));
        assert_eq!(j.push(":eval f("), Some(":eval f(".into()));
        assert_eq!(j.push("1)"), Some("1)".into()));
        assert_eq!(j.push("[1,"), None);
        assert_eq!(j.take(), "[1,");
        assert!(!j.pending());
    }
}
