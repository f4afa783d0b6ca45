//! Diagnostics: source locations, error codes, messages and their rendering with ariadne.

mod code;
mod diagnostic;
mod render;
mod source_map;
mod suggest;

pub use code::Code;
pub use diagnostic::{Diagnostic, Label};
pub use render::{render, render_all};
pub use source_map::{FileId, SourceFile, SourceMap, Span};
pub use suggest::{closest, did_you_mean};
