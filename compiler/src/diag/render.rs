//! Printing diagnostics with ariadne, with byte-offset spans.
//!
//! Source text and messages come from files and command lines, so before ariadne sees them
//! they are made safe to print: control characters (terminal escapes included), Unicode line
//! and paragraph separators (which ariadne's line splitting does not agree on, and panicked
//! on) and bidirectional overrides become `?`/`\u{FFFD}` in sources (of the same byte length,
//! so spans stay exact) and `\u{..}` escapes in messages.

use super::diagnostic::Diagnostic;
use super::source_map::SourceMap;
use ariadne::{Config, IndexType, Label, Report, ReportKind};

/// Renders one diagnostic as text (with ANSI colour when `color` is set).
pub fn render(diag: &Diagnostic, sources: &SourceMap, color: bool) -> String {
    let Some(primary) = &diag.primary else {
        // No location: a plain headline plus hint and notes.
        let mut out = format!("error[{}]: {}\n", diag.code.as_str(), clean(&diag.message));
        if let Some(h) = &diag.hint {
            out.push_str(&format!("  help: {}\n", clean(h)));
        }
        for n in &diag.notes {
            out.push_str(&format!("  note: {}\n", clean(n)));
        }
        return out;
    };
    let name = |id| clean(&sources.file(id).name);
    // Spans are byte ranges; one that cuts a character (a one-byte span at a multi-byte
    // character, as a syntax error can give) is widened to whole characters, which ariadne
    // needs.
    let span_of = |s: super::source_map::Span| {
        let text = &sources.file(s.file).text;
        let mut start = (s.start as usize).min(text.len());
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = (s.end as usize).clamp(start, text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        (name(s.file), start..end)
    };
    let config = Config::default()
        .with_color(color)
        .with_index_type(IndexType::Byte);
    let mut report = Report::build(ReportKind::Error, span_of(primary.span))
        .with_config(config)
        .with_code(diag.code.as_str())
        .with_message(clean(&diag.message))
        .with_label(
            Label::new(span_of(primary.span))
                .with_message(clean(&primary.message))
                .with_order(0),
        );
    for (i, l) in diag.secondary.iter().enumerate() {
        report = report.with_label(
            Label::new(span_of(l.span))
                .with_message(clean(&l.message))
                .with_order(i as i32 + 1),
        );
    }
    if let Some(h) = &diag.hint {
        report = report.with_help(clean(h));
    }
    for n in &diag.notes {
        report = report.with_note(clean(n));
    }
    let cache = ariadne::sources(
        sources
            .files()
            .map(|(_, f)| (clean(&f.name), clean_source(&f.text))),
    );
    let mut buf = Vec::new();
    if report.finish().write(cache, &mut buf).is_err() {
        return format!("error[{}]: {}\n", diag.code.as_str(), clean(&diag.message));
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// Renders several diagnostics, one after the other.
pub fn render_all(diags: &[Diagnostic], sources: &SourceMap, color: bool) -> String {
    diags.iter().map(|d| render(d, sources, color)).collect()
}

/// Characters that must not reach a terminal or ariadne's line splitting: controls (C0, DEL,
/// C1 such as U+0085) other than tab and newline, line/paragraph separators and bidi
/// overrides or isolates (which reorder what the reader sees).
fn unsafe_char(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Source text with every unsafe character replaced by text of the same UTF-8 length
/// (`?`, `??` or U+FFFD), so byte spans still point at the same places. A `\r` before `\n`
/// is kept: it is part of a Windows line end.
pub(crate) fn clean_source(text: &str) -> String {
    if !text.chars().any(unsafe_char) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut it = text.chars().peekable();
    while let Some(c) = it.next() {
        if c == '\r' && it.peek() == Some(&'\n') {
            out.push(c);
        } else if unsafe_char(c) {
            match c.len_utf8() {
                3 => out.push('\u{fffd}'),
                n => out.extend(std::iter::repeat_n('?', n)),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A message with every unsafe character written as a `\u{..}` escape.
fn clean(msg: &str) -> String {
    msg.chars()
        .map(|c| {
            if unsafe_char(c) {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{Code, Diagnostic, Span};

    #[test]
    fn separators_and_escapes_are_replaced_keeping_byte_offsets() {
        let src = "a\u{85}b\u{2028}c\u{2029}d\x1b[31me\r\nf\rg\u{202e}h";
        let out = clean_source(src);
        assert_eq!(out.len(), src.len());
        // Every character of the source starts at the same byte in the cleaned text.
        for (i, _) in src.char_indices() {
            assert!(out.is_char_boundary(i), "offset {i} moved");
        }
        assert!(!out.replace("\r\n", "\n").chars().any(unsafe_char), "{out:?}");
        assert!(out.contains("\r\n"), "Windows line ends are kept");
        assert_eq!(clean("x\x1b[2Jy"), "x\\u{1b}[2Jy");
    }

    #[test]
    fn a_line_with_separators_renders_with_the_right_span() {
        let mut sources = SourceMap::default();
        let text = "let a = 1\u{2028}\u{85}\u{2029} + \x1b[31mzz\n";
        let id = sources.add("t.rl", None, text);
        let at = text.find("zz").unwrap();
        let d = Diagnostic::new(Code::UnknownName, "cannot find `zz\x07`")
            .at(Span::new(id, at, at + 2), "not defined");
        let out = render(&d, &sources, false);
        assert!(!out.contains('\x1b') && !out.contains('\x07'), "{out}");
        assert!(out.contains("[31mzz"), "the span still covers `zz`:\n{out}");
        assert!(out.contains("\\u{7}"), "{out}");
    }

    #[test]
    fn a_span_cutting_a_character_is_widened() {
        let mut sources = SourceMap::default();
        let text = "1 +\u{2028} nope";
        let id = sources.add("t.rl", None, text);
        // One byte into the three-byte separator, as a syntax error at it gives.
        let d = Diagnostic::new(Code::Syntax, "unexpected").at(Span::new(id, 3, 4), "here");
        let out = render(&d, &sources, false);
        assert!(out.contains("here"), "{out}");
    }
}
