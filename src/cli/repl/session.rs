//! The REPL's state: the loaded program, the settings it was compiled with, and the scope
//! expressions are evaluated in.

use crate::cli::args::CompileArgs;
use crate::cli::common::resolve_env;
use rlc_compiler::check::{ModuleId, find_stdlib};
use rlc_compiler::diag::{Diagnostic, render_all};
use rlc_compiler::driver::{Driver, Request};
use rlc_compiler::lower::Compiled;
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// What the loop does after a command.
pub enum Flow {
    /// Read the next line.
    Continue,
    /// Leave the REPL.
    Quit,
}

/// What one command produced.
pub struct Reply {
    /// Text to print (ends with a newline when not empty).
    pub text: String,
    /// Whether the command failed (a diagnostic, a bad argument).
    pub failed: bool,
    /// Whether to go on.
    pub flow: Flow,
}

impl Reply {
    /// A successful reply.
    pub fn ok(text: impl Into<String>) -> Reply {
        let mut text = text.into();
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        Reply {
            text,
            failed: false,
            flow: Flow::Continue,
        }
    }

    /// A failed reply.
    pub fn err(text: impl Into<String>) -> Reply {
        Reply {
            failed: true,
            ..Reply::ok(text)
        }
    }
}

/// A compiled program with the driver that holds its sources.
pub struct Loaded {
    /// The file.
    pub file: PathBuf,
    /// Driver (sources for diagnostics, modules for `:eval`).
    pub driver: Driver,
    /// The file's module.
    pub module: ModuleId,
    /// The first algorithm of the file, compiled (`None` for a library file).
    pub program: Option<Compiled>,
}

/// The REPL session.
pub struct Session {
    /// Environment and `--set` overrides every compilation uses.
    pub compile: CompileArgs,
    /// Backend for `:time` and `:code`.
    pub backend: String,
    /// The loaded program.
    pub loaded: Option<Loaded>,
    /// Colour diagnostics (only on a terminal).
    pub color: bool,
    /// Counts `:eval`s, so each draws fresh random numbers (reproducibly).
    pub evals: u64,
    /// The `let` statements typed so far, in order: every expression is evaluated after them.
    pub lets: Vec<String>,
    /// The `fn` definitions typed so far, in order: added again to every program (re)loaded.
    pub fns: Vec<String>,
    /// Words for tab completion besides command names (entries, nets, states, losses,
    /// passes, backends).
    words: Rc<RefCell<Vec<String>>>,
}

impl Session {
    /// A session with nothing loaded.
    pub fn new(compile: CompileArgs, backend: String, color: bool) -> Session {
        let s = Session {
            compile,
            backend,
            loaded: None,
            color: color && std::env::var_os("NO_COLOR").is_none(),
            evals: 0,
            lets: Vec::new(),
            fns: Vec::new(),
            words: Rc::new(RefCell::new(Vec::new())),
        };
        s.refresh_words();
        s
    }

    /// `expr` inside a block after the session's `let` bindings (itself when there are none).
    pub fn scoped(&self, expr: &str) -> String {
        if self.lets.is_empty() {
            return expr.to_string();
        }
        let mut block = String::from("{\n");
        for l in &self.lets {
            block.push_str(l);
            block.push_str(";\n");
        }
        block.push_str(expr);
        block.push_str("\n}");
        block
    }

    /// The completion words, shared with the line editor.
    pub fn words(&self) -> Rc<RefCell<Vec<String>>> {
        self.words.clone()
    }

    /// The compiled program, or a reply saying there is none.
    pub fn program(&self) -> Result<&Compiled, Reply> {
        match &self.loaded {
            Some(Loaded { program: Some(p), .. }) => Ok(p),
            Some(l) => Err(Reply::err(format!(
                "error: `{}` defines no algorithm, so it has no entry points",
                l.file.display()
            ))),
            None => Err(Reply::err(
                "error: no program loaded\n  help: `:load FILE` loads one",
            )),
        }
    }

    /// Renders diagnostics with the sources of `driver`.
    pub fn render(&self, driver: &Driver, diags: &[Diagnostic]) -> String {
        let mut s = render_all(diags, &driver.mods.sources, self.color);
        let n = diags.len();
        s.push_str(&format!(
            "error: {n} problem{} found\n",
            if n == 1 { "" } else { "s" }
        ));
        s
    }

    /// Loads and compiles `file` with the session's settings. On failure the previous
    /// program stays loaded.
    pub fn load(&mut self, file: &Path) -> Reply {
        match self.compile_file(file, &self.compile.clone()) {
            Ok(mut l) => {
                let text = summary(&l) + &self.redefine(&mut l);
                self.loaded = Some(l);
                self.refresh_words();
                Reply::ok(text)
            }
            Err(text) => Reply::err(text),
        }
    }

    /// Compiles `file` with `args` without changing the session.
    pub fn compile_file(&self, file: &Path, args: &CompileArgs) -> Result<Loaded, String> {
        let mut driver = Driver::new(find_stdlib());
        let module = match driver.load(file) {
            Ok(m) => m,
            Err(d) => return Err(self.render(&driver, &d)),
        };
        let has_alg = !driver.mods.get(module).ast.algorithms.is_empty();
        let program = if has_alg {
            let req = Request {
                env: args.env.clone(),
                overrides: args.set.clone(),
                eval_batch: None,
            };
            match driver.compile(module, &req, &resolve_env) {
                Ok(mut c) => Some(c.remove(0)),
                Err(d) => return Err(self.render(&driver, &d)),
            }
        } else {
            None
        };
        Ok(Loaded {
            file: file.to_path_buf(),
            driver,
            module,
            program,
        })
    }

    /// Recompiles the loaded file with new settings; keeps them only if it compiles.
    pub fn recompile_with(&mut self, args: CompileArgs) -> Reply {
        let Some(file) = self.loaded.as_ref().map(|l| l.file.clone()) else {
            self.compile = args;
            return Reply::ok("(no program loaded; the setting applies to the next `:load`)");
        };
        match self.compile_file(&file, &args) {
            Ok(mut l) => {
                let text = summary(&l) + &self.redefine(&mut l);
                self.compile = args;
                self.loaded = Some(l);
                self.refresh_words();
                Reply::ok(text)
            }
            Err(text) => Reply::err(format!("{text}(the previous settings stay in effect)\n")),
        }
    }

    /// Adds the session's `fn` definitions to a freshly compiled program; one that no longer
    /// compiles there (it calls a net the new program lacks) is dropped, and the note says so.
    fn redefine(&mut self, l: &mut Loaded) -> String {
        let mut notes = String::new();
        self.fns.retain(|f| match l.driver.define(l.module, f) {
            Ok(_) => true,
            Err(d) => {
                let first = d.first().map_or(String::new(), |d| d.message.clone());
                let head = f.lines().next().unwrap_or_default();
                notes.push_str(&format!("note: `{head}` is dropped: {first}\n"));
                false
            }
        });
        notes
    }

    fn refresh_words(&self) {
        // Command names complete from the command table itself (see `complete`).
        let mut w: Vec<String> = rlc_compiler::passes::pipeline()
            .iter()
            .map(|p| p.name.to_string())
            .collect();
        w.extend(rlc_compiler::backend::BACKENDS.iter().map(|b| b.to_string()));
        if let Some(Loaded { program: Some(p), .. }) = &self.loaded {
            w.extend(p.entries.iter().map(|e| e.name.clone()));
            w.extend(p.losses.iter().cloned());
            w.extend(p.params.iter().map(|(n, _)| format!("{n}=")));
            for (_, v) in p.states.iter() {
                w.push(v.name.clone());
                if let Some(net) = v.name.split('/').next() {
                    w.push(net.to_string());
                }
            }
        }
        w.sort();
        w.dedup();
        *self.words.borrow_mut() = w;
    }
}

/// One line about a loaded program.
pub fn summary(l: &Loaded) -> String {
    match &l.program {
        Some(p) => {
            let nodes: usize = p.entries.iter().map(|e| e.graph.len()).sum();
            format!(
                "loaded {}: {} on {}, {} entry points, {} nodes, {} parameters\n",
                l.file.display(),
                p.name,
                p.env.id,
                p.entries.len(),
                nodes,
                p.parameter_count()
            )
        }
        None => format!("loaded {} (a library: no algorithm)\n", l.file.display()),
    }
}
