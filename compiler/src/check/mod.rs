//! Checking before lowering: loading modules with their imports, and resolving names.

mod loader;
mod logs;
mod resolve;

pub use loader::{LoadedModule, ModuleId, Modules, PRELUDE, find_stdlib};
pub use resolve::resolve_module;
