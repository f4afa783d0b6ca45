//! A diagnostic: an error with a code, a message, labelled spans and hints.

use super::code::Code;
use super::source_map::Span;

/// A span with a message.
#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What to say there.
    pub message: String,
}

/// One error report.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    /// Its kind.
    pub code: Code,
    /// The headline.
    pub message: String,
    /// The main location, if the error has one.
    pub primary: Option<Label>,
    /// Further locations that explain it (the other side of a mismatch, a definition).
    pub secondary: Vec<Label>,
    /// A suggestion ("did you mean ...").
    pub hint: Option<String>,
    /// Extra explanation lines.
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// A diagnostic with a code and headline and no location yet.
    pub fn new(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            message: message.into(),
            primary: None,
            secondary: Vec::new(),
            hint: None,
            notes: Vec::new(),
        }
    }

    /// A compiler bug ([`Code::Internal`]): the compiler built something inconsistent.
    /// `what` says what failed; the message asks the user to report it.
    pub fn internal(what: impl std::fmt::Display) -> Diagnostic {
        Diagnostic::new(
            Code::Internal,
            format!("internal compiler error: {what}; please report it with the program"),
        )
    }

    /// Sets the primary location.
    pub fn at(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.primary = Some(Label {
            span,
            message: label.into(),
        });
        self
    }

    /// Sets the primary location unless one is already set.
    pub fn or_at(self, span: Span, label: impl Into<String>) -> Diagnostic {
        if self.primary.is_some() {
            self
        } else {
            self.at(span, label)
        }
    }

    /// Adds a secondary location.
    pub fn also(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.secondary.push(Label {
            span,
            message: label.into(),
        });
        self
    }

    /// Sets the hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }

    /// Sets the hint if there is one.
    pub fn maybe_hint(mut self, hint: Option<String>) -> Diagnostic {
        if hint.is_some() {
            self.hint = hint;
        }
        self
    }

    /// Adds a note.
    pub fn note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "error[{}]: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for Diagnostic {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_have_their_own_code_and_ask_for_a_report() {
        let d = Diagnostic::internal("while building the graph: operand shapes differ");
        assert_eq!(d.code, Code::Internal);
        assert_eq!(
            d.to_string(),
            "error[E0026]: internal compiler error: while building the graph: operand shapes differ; \
             please report it with the program"
        );
    }
}
