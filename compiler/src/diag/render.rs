//! Printing diagnostics with ariadne, with byte-offset spans.

use super::diagnostic::Diagnostic;
use super::source_map::SourceMap;
use ariadne::{Config, IndexType, Label, Report, ReportKind};

/// Renders one diagnostic as text (with ANSI colour when `color` is set).
pub fn render(diag: &Diagnostic, sources: &SourceMap, color: bool) -> String {
    let Some(primary) = &diag.primary else {
        // No location: a plain headline plus hint and notes.
        let mut out = format!("error[{}]: {}\n", diag.code.as_str(), diag.message);
        if let Some(h) = &diag.hint {
            out.push_str(&format!("  help: {h}\n"));
        }
        for n in &diag.notes {
            out.push_str(&format!("  note: {n}\n"));
        }
        return out;
    };
    let name = |id| sources.file(id).name.clone();
    let span_of = |s: super::source_map::Span| {
        let len = sources.file(s.file).text.len();
        let start = (s.start as usize).min(len);
        let end = (s.end as usize).clamp(start, len);
        (name(s.file), start..end)
    };
    let config = Config::default()
        .with_color(color)
        .with_index_type(IndexType::Byte);
    let mut report = Report::build(ReportKind::Error, span_of(primary.span))
        .with_config(config)
        .with_code(diag.code.as_str())
        .with_message(&diag.message)
        .with_label(
            Label::new(span_of(primary.span))
                .with_message(&primary.message)
                .with_order(0),
        );
    for (i, l) in diag.secondary.iter().enumerate() {
        report = report.with_label(
            Label::new(span_of(l.span))
                .with_message(&l.message)
                .with_order(i as i32 + 1),
        );
    }
    if let Some(h) = &diag.hint {
        report = report.with_help(h);
    }
    for n in &diag.notes {
        report = report.with_note(n);
    }
    let cache = ariadne::sources(sources.files().map(|(_, f)| (f.name.clone(), f.text.clone())));
    let mut buf = Vec::new();
    if report.finish().write(cache, &mut buf).is_err() {
        return format!("error[{}]: {}\n", diag.code.as_str(), diag.message);
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// Renders several diagnostics, one after the other.
pub fn render_all(diags: &[Diagnostic], sources: &SourceMap, color: bool) -> String {
    diags.iter().map(|d| render(d, sources, color)).collect()
}
