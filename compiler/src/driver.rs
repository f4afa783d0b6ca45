//! The compiler driver: load a file, resolve names, pick the environment, apply `--set`
//! overrides and lower every algorithm. This is what `rlc check`, `rlc graph` and `rlc run`
//! call.

use crate::check::{ModuleId, Modules, resolve_module};
use crate::diag::{Code, Diagnostic, Span, did_you_mean};
use crate::env_spec::EnvSpec;
use crate::lower::{Compiled, LowerOptions, Value, lower_algorithm};
use crate::syntax::ast::{Decl, Expr, ExprKind, UnOp};
use crate::syntax::parse_expr;
use std::path::{Path, PathBuf};

mod define;

/// Looks up an environment id; the error lists the known ids.
pub type EnvResolver<'a> = &'a dyn Fn(&str) -> Result<EnvSpec, EnvLookupError>;

/// Why an environment id was not found.
#[derive(Clone, Debug)]
pub struct EnvLookupError {
    /// The closest known id, if any.
    pub suggestion: Option<String>,
    /// All known ids.
    pub known: Vec<String>,
    /// Why an id that names an environment outside rlc (`gym:...`) cannot be had: Python or a
    /// package missing, an id Gymnasium does not know, a space rlc cannot map.
    pub reason: Option<String>,
}

/// What to compile for.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// Environment id overriding the algorithm's default.
    pub env: Option<String>,
    /// `name=value` overrides.
    pub overrides: Vec<String>,
    /// Batch size of the `eval` entry point.
    pub eval_batch: Option<usize>,
}

/// Holds the loaded modules of one compilation (and their sources, for diagnostics).
pub struct Driver {
    /// Loaded modules.
    pub mods: Modules,
    resolved: usize,
}

impl Driver {
    /// A driver finding the standard library in `stdlib`.
    pub fn new(stdlib: Option<PathBuf>) -> Driver {
        Driver {
            mods: Modules::new(stdlib),
            resolved: 0,
        }
    }

    /// Loads a file and checks names in it and everything it imports.
    pub fn load(&mut self, path: &Path) -> Result<ModuleId, Vec<Diagnostic>> {
        let id = self.mods.load_file(path)?;
        self.resolve_new()?;
        Ok(id)
    }

    /// Loads source text (for tests and the REPL).
    pub fn load_text(
        &mut self,
        name: &str,
        dir: Option<&Path>,
        text: &str,
    ) -> Result<ModuleId, Vec<Diagnostic>> {
        let path = dir.map(|d| d.join(name));
        let id = self.mods.load_text(name, path.as_deref(), text)?;
        self.resolve_new()?;
        Ok(id)
    }

    fn resolve_new(&mut self) -> Result<(), Vec<Diagnostic>> {
        let ids: Vec<ModuleId> = self.mods.all().map(|(id, _)| id).skip(self.resolved).collect();
        self.resolved += ids.len();
        let mut errors = Vec::new();
        for id in ids {
            errors.extend(resolve_module(&self.mods, id));
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }

    /// Lowers every algorithm of a module.
    pub fn compile(
        &mut self,
        module: ModuleId,
        req: &Request,
        envs: EnvResolver<'_>,
    ) -> Result<Vec<Compiled>, Vec<Diagnostic>> {
        let n_algs = self.mods.get(module).ast.algorithms.len();
        let overrides = self.parse_overrides(&req.overrides)?;
        let mut out = Vec::new();
        let mut errors = Vec::new();
        for a in 0..n_algs {
            let env = match self.pick_env(module, a, req.env.as_deref(), envs) {
                Ok(e) => e,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            let budget = match crate::lower::budget::memory_budget() {
                Ok(b) => b,
                Err(msg) => return Err(vec![Diagnostic::new(Code::BadArgument, msg)]),
            };
            let mut options = LowerOptions {
                overrides: overrides.clone(),
                budget,
                ..LowerOptions::default()
            };
            if let Some(b) = req.eval_batch {
                options.eval_batch = b;
            }
            match lower_algorithm(&self.mods, module, a, env, options) {
                Ok(c) => out.push(c),
                Err(mut e) => errors.append(&mut e),
            }
        }
        if errors.is_empty() { Ok(out) } else { Err(errors) }
    }

    fn pick_env(
        &mut self,
        module: ModuleId,
        alg: usize,
        requested: Option<&str>,
        envs: EnvResolver<'_>,
    ) -> Result<EnvSpec, Diagnostic> {
        let a = &self.mods.get(module).ast.algorithms[alg];
        let default = a.decls.iter().find_map(|d| match d {
            Decl::Env(e) => e.default.clone(),
            _ => None,
        });
        let (id, span) = match (requested, default) {
            (Some(r), _) => {
                let f = self.mods.sources.add("--env", None, r.to_string());
                (r.to_string(), Span::new(f, 0, r.len()))
            }
            (None, Some((d, s))) => (d, s),
            (None, None) => {
                return Err(
                    Diagnostic::new(Code::Missing, format!("no environment for `{}`", a.name.name))
                        .at(a.name.span, "no default environment")
                        .hint("pass --env ID, or declare e.g. `env: continuous default \"Pendulum-v1\"`"),
                );
            }
        };
        envs(&id).map_err(|e| {
            if let Some(reason) = e.reason {
                return Diagnostic::new(Code::UnknownEnv, format!("environment `{id}` is not available"))
                    .at(span, "cannot be made")
                    .note(reason);
            }
            Diagnostic::new(Code::UnknownEnv, format!("unknown environment `{id}`"))
                .at(span, "not a registered environment")
                .maybe_hint(e.suggestion.map(|s| format!("did you mean `{s}`?")))
                .note(format!("known environments: {}", e.known.join(", ")))
        })
    }

    /// Traces an expression written in the scope of `module` (and of algorithm `alg` of it,
    /// with its lowered state, when given).
    pub fn trace_expr(
        &mut self,
        module: ModuleId,
        alg: Option<(usize, crate::ir::StateTable)>,
        env: EnvSpec,
        text: &str,
    ) -> Result<crate::lower::Traced, Vec<Diagnostic>> {
        self.trace_expr_with(module, alg, env, &[], text)
    }

    /// [`Driver::trace_expr`] with `name=value` hyperparameter overrides (the REPL's `:set`),
    /// so nets are built with the sizes the loaded program was compiled with.
    pub fn trace_expr_with(
        &mut self,
        module: ModuleId,
        alg: Option<(usize, crate::ir::StateTable)>,
        env: EnvSpec,
        overrides: &[String],
        text: &str,
    ) -> Result<crate::lower::Traced, Vec<Diagnostic>> {
        let overrides = self.parse_overrides(overrides)?;
        let file = self.mods.sources.add("<expression>", None, text.to_string());
        let expr = parse_expr(file, text).map_err(|d| vec![d])?;
        crate::lower::trace_expression(&self.mods, module, alg, env, overrides, &expr)
    }

    /// Parses `name=value` overrides; values are constant expressions.
    fn parse_overrides(&mut self, raw: &[String]) -> Result<Vec<(String, Value, Span)>, Vec<Diagnostic>> {
        let mut out = Vec::new();
        let mut errors = Vec::new();
        for r in raw {
            let file = self.mods.sources.add("--set", None, r.clone());
            let Some((name, value)) = r.split_once('=') else {
                errors.push(
                    Diagnostic::new(
                        Code::BadParam,
                        format!("`--set {r}` is not of the form name=value"),
                    )
                    .at(Span::new(file, 0, r.len()), "expected name=value"),
                );
                continue;
            };
            let name = name.trim();
            let off = r.len() - value.len();
            let vspan = Span::new(file, off, r.len());
            // Parse just the value part, keeping spans relative to the whole argument.
            let parsed = parse_expr(file, value).map(|mut e| {
                shift(&mut e, off as u32);
                e
            });
            match parsed.and_then(|e| const_value(&e)) {
                Ok(v) => out.push((name.to_string(), v, vspan)),
                Err(mut d) => {
                    if let Some(p) = &mut d.primary
                        && p.span.file == file
                        && p.span.end as usize <= value.len()
                    {
                        p.span.start += off as u32;
                        p.span.end += off as u32;
                    }
                    errors.push(d);
                }
            }
        }
        if errors.is_empty() { Ok(out) } else { Err(errors) }
    }
}

/// Placeholder environment for expressions that do not depend on one.
pub fn no_env() -> EnvSpec {
    EnvSpec {
        id: "<none>".into(),
        obs_dim: 1,
        action: crate::env_spec::ActionSpace::Discrete { n: 1 },
        max_episode_steps: 1,
    }
}

fn shift(e: &mut Expr, off: u32) {
    e.span.start += off;
    e.span.end += off;
    match &mut e.kind {
        ExprKind::List(items) | ExprKind::Tuple(items) => items.iter_mut().for_each(|x| shift(x, off)),
        ExprKind::Unary(_, x) => shift(x, off),
        ExprKind::Binary(_, a, b) => {
            shift(a, off);
            shift(b, off);
        }
        _ => {}
    }
}

/// Evaluates a constant override value: numbers, booleans, strings, lists, negation.
fn const_value(e: &Expr) -> Result<Value, Diagnostic> {
    Ok(match &e.kind {
        ExprKind::Int(i) => Value::Int(*i),
        ExprKind::Float(f) => Value::Float(*f),
        ExprKind::Bool(b) => Value::Bool(*b),
        ExprKind::Str(s) => Value::Str(s.clone()),
        ExprKind::Name(n) => Value::Str(n.clone()),
        ExprKind::List(items) => Value::List(items.iter().map(const_value).collect::<Result<_, _>>()?),
        ExprKind::Unary(UnOp::Neg, x) => match const_value(x)? {
            Value::Int(i) => Value::Int(-i),
            Value::Float(f) => Value::Float(-f),
            _ => return Err(Diagnostic::new(Code::BadParam, "cannot negate this").at(e.span, "here")),
        },
        _ => {
            return Err(Diagnostic::new(
                Code::BadParam,
                "a --set value must be a constant (number, boolean, string or list)",
            )
            .at(e.span, "not a constant"));
        }
    })
}

/// A stable 64-bit FNV-1a hash of the program's sources, environment and overrides.
pub fn program_hash(mods: &Modules, env: &str, overrides: &[String]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    };
    for (_, f) in mods.sources.files() {
        if f.name != "--env" && f.name != "--set" {
            feed(f.text.as_bytes());
        }
    }
    feed(env.as_bytes());
    for o in overrides {
        feed(o.as_bytes());
    }
    h
}

/// Suggests the closest of `known` ids.
pub fn suggest_env(id: &str, known: &[&str]) -> Option<String> {
    did_you_mean(id, known.iter().copied()).map(|_| {
        crate::diag::closest(id, known.iter().copied())
            .unwrap_or("")
            .to_string()
    })
}
