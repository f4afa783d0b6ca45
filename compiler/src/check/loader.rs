//! Loading `.rl` files and the modules they import.
//!
//! `import nets.{mlp}` looks for `nets.rl` next to the importing file first, then in the
//! standard library directory. Each file is parsed once.

use crate::diag::{Code, Diagnostic, FileId, SourceMap, did_you_mean};
use crate::syntax::{ast, parse_module};
use std::path::{Path, PathBuf};

/// Index of a loaded module.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ModuleId(pub u32);

/// A parsed file and what its imports resolved to.
#[derive(Clone, Debug)]
pub struct LoadedModule {
    /// Module name (file stem).
    pub name: String,
    /// Source file.
    pub file: FileId,
    /// The AST.
    pub ast: ast::Module,
    /// `import` resolutions, parallel to `ast.imports` (None where loading failed).
    pub imports: Vec<Option<ModuleId>>,
    /// The standard library's update rules (`stdlib/optim.rl`), loaded for every module that
    /// defines an algorithm, so `update ... by adam(...)` needs no import.
    pub prelude: Option<ModuleId>,
}

/// The standard-library module whose rules every algorithm can use without an import.
pub const PRELUDE: &str = "optim";

/// All modules of one compilation.
#[derive(Clone, Debug, Default)]
pub struct Modules {
    /// Source text of every file, for diagnostics.
    pub sources: SourceMap,
    modules: Vec<LoadedModule>,
    paths: Vec<Option<PathBuf>>,
    stdlib: Option<PathBuf>,
}

impl Modules {
    /// An empty set that finds library modules in `stdlib`.
    pub fn new(stdlib: Option<PathBuf>) -> Modules {
        Modules {
            stdlib,
            ..Modules::default()
        }
    }

    /// The module with this id.
    pub fn get(&self, id: ModuleId) -> &LoadedModule {
        &self.modules[id.0 as usize]
    }

    /// The module with this id, to change (the REPL's definitions).
    pub(crate) fn get_mut(&mut self, id: ModuleId) -> &mut LoadedModule {
        &mut self.modules[id.0 as usize]
    }

    /// Every loaded module.
    pub fn all(&self) -> impl Iterator<Item = (ModuleId, &LoadedModule)> {
        self.modules
            .iter()
            .enumerate()
            .map(|(i, m)| (ModuleId(i as u32), m))
    }

    /// The standard library directory, if known.
    pub fn stdlib(&self) -> Option<&Path> {
        self.stdlib.as_deref()
    }

    /// Loads a file from disk with everything it imports. Errors are diagnostics.
    pub fn load_file(&mut self, path: &Path) -> Result<ModuleId, Vec<Diagnostic>> {
        let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        if let Some(i) = self
            .paths
            .iter()
            .position(|p| p.as_deref() == Some(canonical.as_path()))
        {
            return Ok(ModuleId(i as u32));
        }
        let text = std::fs::read(path).map_err(|e| {
            vec![Diagnostic::new(
                Code::Io,
                format!("cannot read `{}`: {e}", path.display()),
            )]
        })?;
        let name = display_name(path);
        let text = match String::from_utf8(text) {
            Ok(t) => t,
            Err(e) => {
                // Show the file up to the bad byte and point at it.
                let at = e.utf8_error().valid_up_to();
                let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
                let shown = lossy.char_indices().take_while(|(i, _)| *i < at).count();
                let offset = lossy.char_indices().nth(shown).map_or(lossy.len(), |(i, _)| i);
                let file = self.sources.add(&name, Some(&canonical), lossy);
                let end = self.sources.file(file).text[offset..]
                    .chars()
                    .next()
                    .map_or(offset, |c| offset + c.len_utf8());
                return Err(vec![
                    Diagnostic::new(Code::Io, format!("`{}` is not valid UTF-8 text", path.display()))
                        .at(crate::diag::Span::new(file, offset, end), "invalid byte here"),
                ]);
            }
        };
        self.load_text(&name, Some(&canonical), &text)
    }

    /// Loads source text (with an optional path for resolving sibling imports).
    pub fn load_text(
        &mut self,
        name: &str,
        path: Option<&Path>,
        text: &str,
    ) -> Result<ModuleId, Vec<Diagnostic>> {
        let file = self.sources.add(name, path, text);
        let ast = parse_module(file, text).map_err(|d| vec![d])?;
        let stem = path
            .and_then(|p| p.file_stem())
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| name.trim_end_matches(".rl").to_string());
        let id = ModuleId(self.modules.len() as u32);
        self.modules.push(LoadedModule {
            name: stem,
            file,
            ast,
            imports: Vec::new(),
            prelude: None,
        });
        self.paths.push(path.map(Path::to_path_buf));
        let mut errors = Vec::new();
        let imports = self.modules[id.0 as usize].ast.imports.clone();
        let dir = path.and_then(|p| p.parent()).map(Path::to_path_buf);
        let mut resolved = Vec::new();
        for imp in &imports {
            match self.resolve_import(dir.as_deref(), imp) {
                Ok(m) => {
                    if let Some(names) = &imp.names {
                        for n in names {
                            if !self.get(m).defines(&n.name) {
                                let defined: Vec<&str> = self.get(m).fn_names().collect();
                                errors.push(
                                    Diagnostic::new(
                                        Code::ImportNotFound,
                                        format!("module `{}` has no function `{}`", self.get(m).name, n.name),
                                    )
                                    .at(n.span, "not defined there")
                                    .maybe_hint(did_you_mean(&n.name, defined.iter().copied())),
                                );
                            }
                        }
                    }
                    resolved.push(Some(m));
                }
                Err(mut e) => {
                    errors.append(&mut e);
                    resolved.push(None);
                }
            }
        }
        self.modules[id.0 as usize].imports = resolved;
        if !self.modules[id.0 as usize].ast.algorithms.is_empty() {
            match self.load_prelude() {
                Ok(p) => self.modules[id.0 as usize].prelude = p,
                Err(mut e) => errors.append(&mut e),
            }
        }
        if errors.is_empty() { Ok(id) } else { Err(errors) }
    }

    /// Loads `stdlib/optim.rl` (once); `None` when no standard library is known (the update
    /// then reports its rule as unknown, with a note).
    fn load_prelude(&mut self) -> Result<Option<ModuleId>, Vec<Diagnostic>> {
        let Some(dir) = self.stdlib.clone() else {
            return Ok(None);
        };
        let path = dir.join(PRELUDE).with_extension("rl");
        if !path.is_file() {
            return Ok(None);
        }
        self.load_file(&path).map(Some)
    }

    fn resolve_import(&mut self, dir: Option<&Path>, imp: &ast::Import) -> Result<ModuleId, Vec<Diagnostic>> {
        let rel: PathBuf = imp
            .path
            .iter()
            .map(|s| s.name.as_str())
            .collect::<PathBuf>()
            .with_extension("rl");
        let mut tried = Vec::new();
        for base in [dir.map(Path::to_path_buf), self.stdlib.clone()]
            .into_iter()
            .flatten()
        {
            let cand = base.join(&rel);
            if cand.is_file() {
                return self.load_file(&cand).map_err(|mut errs| {
                    // Point errors without a location at the import that caused the load.
                    for e in &mut errs {
                        if e.primary.is_none() {
                            e.primary = Some(crate::diag::Label {
                                span: imp.span,
                                message: "imported here".into(),
                            });
                        }
                    }
                    errs
                });
            }
            let shown = display_name(&cand);
            if !tried.contains(&shown) {
                tried.push(shown);
            }
        }
        let name: Vec<&str> = imp.path.iter().map(|s| s.name.as_str()).collect();
        let span = imp
            .path
            .first()
            .map(|f| f.span.to(imp.path.last().expect("nonempty").span))
            .unwrap_or(imp.span);
        let mut d = Diagnostic::new(
            Code::ModuleNotFound,
            format!("cannot find module `{}`", name.join(".")),
        )
        .at(span, "no such module");
        let available = self.available_modules(dir);
        d = d.maybe_hint(did_you_mean(
            &name.join("/"),
            available.iter().map(String::as_str),
        ));
        if tried.is_empty() {
            d = d.note("no standard library directory is known: set RLC_STDLIB");
        } else {
            d = d.note(format!("looked in: {}", tried.join(", ")));
        }
        Err(vec![d])
    }

    fn available_modules(&self, dir: Option<&Path>) -> Vec<String> {
        let mut out = Vec::new();
        for base in [dir.map(Path::to_path_buf), self.stdlib.clone()]
            .into_iter()
            .flatten()
        {
            if let Ok(rd) = std::fs::read_dir(base) {
                for e in rd.flatten() {
                    let p = e.path();
                    if p.extension().is_some_and(|x| x == "rl")
                        && let Some(s) = p.file_stem()
                    {
                        out.push(s.to_string_lossy().into_owned());
                    }
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

impl LoadedModule {
    /// True if the module defines a top-level function or update rule with this name.
    pub fn defines(&self, name: &str) -> bool {
        self.ast.fns.iter().any(|f| f.name.name == name) || self.find_rule(name).is_some()
    }

    /// The update rule with this name.
    pub fn find_rule(&self, name: &str) -> Option<&ast::RuleDecl> {
        self.ast.rules.iter().find(|r| r.name.name == name)
    }

    /// Names of the module's top-level functions.
    pub fn fn_names(&self) -> impl Iterator<Item = &str> {
        self.ast.fns.iter().map(|f| f.name.name.as_str())
    }

    /// The top-level function with this name.
    pub fn find_fn(&self, name: &str) -> Option<&ast::FnDecl> {
        self.ast.fns.iter().find(|f| f.name.name == name)
    }
}

/// The name a file is shown under in diagnostics: relative to the working directory if possible.
fn display_name(path: &Path) -> String {
    if let Ok(cwd) = std::env::current_dir()
        && let Ok(rel) = path.strip_prefix(&cwd)
    {
        return rel.display().to_string();
    }
    path.display().to_string()
}

/// Where the standard library is: `RLC_STDLIB`, else `stdlib/` next to (or above) the
/// executable, else the source tree this binary was built from.
pub fn find_stdlib() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("RLC_STDLIB")
        && !p.is_empty()
    {
        return Some(PathBuf::from(p));
    }
    if let Ok(exe) = std::env::current_exe() {
        let mut dir = exe.parent().map(Path::to_path_buf);
        // target/debug/rlc -> ../../stdlib; an install prefix/bin/rlc -> ../share/rlc/stdlib
        for _ in 0..4 {
            let Some(d) = dir else { break };
            for cand in [d.join("stdlib"), d.join("share/rlc/stdlib")] {
                if cand.join("nets.rl").is_file() {
                    return Some(cand);
                }
            }
            dir = d.parent().map(Path::to_path_buf);
        }
    }
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("../stdlib");
    built
        .join("nets.rl")
        .is_file()
        .then(|| built.canonicalize().unwrap_or(built))
}
