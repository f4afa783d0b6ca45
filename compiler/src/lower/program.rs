//! A checked algorithm: its declarations by name, environment, hyperparameters and the
//! program-wide state table that every entry point shares.

use super::value::Value;
use crate::check::{ModuleId, Modules};
use crate::diag::{Code, Diagnostic, Span, did_you_mean};
use crate::env_spec::EnvSpec;
use crate::ir::StateTable;
use crate::syntax::ast::{Algorithm, Decl};
use std::collections::HashMap;

/// Options that fix the sizes of a compilation.
#[derive(Clone, Debug)]
pub struct LowerOptions {
    /// Hyperparameter overrides (`--set name=value`), already parsed, with their spans.
    pub overrides: Vec<(String, Value, Span)>,
    /// Batch size of evaluation policies (`eval` entry point).
    pub eval_batch: usize,
    /// Bytes no tensor, parameter or data store may exceed (`super::budget`).
    pub budget: u64,
}

impl Default for LowerOptions {
    fn default() -> LowerOptions {
        LowerOptions {
            overrides: Vec::new(),
            eval_batch: 10,
            // The CLI and the driver refuse an unreadable RLC_MEMORY_BUDGET before lowering,
            // so the fallback only serves library callers that never set it.
            budget: super::budget::memory_budget().unwrap_or(super::budget::DEFAULT_BYTES),
        }
    }
}

/// Program-level state of lowering, shared by the tracers of all entry points.
pub struct Lowerer<'m> {
    /// All loaded modules.
    pub mods: &'m Modules,
    /// The module holding the algorithm.
    pub module: ModuleId,
    /// Index of the algorithm in its module.
    pub alg_index: usize,
    /// The algorithm.
    pub alg: &'m Algorithm,
    /// Declarations by name (index into `alg.decls`).
    pub decls: HashMap<String, usize>,
    /// The environment the shapes come from.
    pub env: EnvSpec,
    /// Parameters, optimiser state, target copies, counters.
    pub states: StateTable,
    /// Evaluated hyperparameters.
    pub params: HashMap<String, Value>,
    /// Hyperparameters being evaluated (to detect cycles).
    pub evaluating: Vec<String>,
    /// True while nets are instantiated: layers may create parameters.
    pub instantiating: bool,
    /// Options.
    pub options: LowerOptions,
    /// The run-time index checks of all entry points so far; check `k` sets the index-fault
    /// state to `k` (1-based).
    pub index_checks: Vec<super::bounds::IndexCheck>,
}

impl<'m> Lowerer<'m> {
    /// Prepares lowering of algorithm `alg_index` of `module` for environment `env`.
    pub fn new(
        mods: &'m Modules,
        module: ModuleId,
        alg_index: usize,
        env: EnvSpec,
        options: LowerOptions,
    ) -> Result<Lowerer<'m>, Vec<Diagnostic>> {
        let alg = &mods.get(module).ast.algorithms[alg_index];
        let mut decls = HashMap::new();
        for (i, d) in alg.decls.iter().enumerate() {
            if let Some(n) = d.name() {
                decls.entry(n.name.clone()).or_insert(i);
            }
        }
        let mut errors = Vec::new();
        let mut params = HashMap::new();
        for (name, value, span) in &options.overrides {
            match decls.get(name).map(|i| &alg.decls[*i]) {
                Some(Decl::Param(p)) => {
                    if let Some(e) = check_override(name, value, &p.value.kind, *span, p.name.span) {
                        errors.push(e);
                    } else {
                        params.insert(name.clone(), value.clone());
                    }
                }
                _ => {
                    let names: Vec<&str> = alg
                        .decls
                        .iter()
                        .filter_map(|d| match d {
                            Decl::Param(p) => Some(p.name.name.as_str()),
                            _ => None,
                        })
                        .collect();
                    errors.push(
                        Diagnostic::new(
                            Code::BadParam,
                            format!("`{name}` is not a hyperparameter of `{}`", alg.name.name),
                        )
                        .at(*span, "no such `param`")
                        .maybe_hint(did_you_mean(name, names.iter().copied()))
                        .note(format!("its params are: {}", names.join(", "))),
                    );
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Lowerer {
            mods,
            module,
            alg_index,
            alg,
            decls,
            env,
            states: StateTable::new(),
            params,
            evaluating: Vec::new(),
            instantiating: false,
            options,
            index_checks: Vec::new(),
        })
    }

    /// A lowerer for expressions outside any algorithm (library functions, the REPL).
    pub fn for_module(mods: &'m Modules, module: ModuleId, env: EnvSpec) -> Lowerer<'m> {
        static EMPTY: std::sync::LazyLock<Algorithm> = std::sync::LazyLock::new(|| Algorithm {
            name: crate::syntax::ast::Ident {
                name: "<expression>".into(),
                span: Span::default(),
            },
            docs: Vec::new(),
            decls: Vec::new(),
            span: Span::default(),
        });
        Lowerer {
            mods,
            module,
            alg_index: usize::MAX,
            alg: &EMPTY,
            decls: HashMap::new(),
            env,
            states: StateTable::new(),
            params: HashMap::new(),
            evaluating: Vec::new(),
            instantiating: false,
            options: LowerOptions::default(),
            index_checks: Vec::new(),
        }
    }

    /// The declaration with this name.
    pub fn decl(&self, name: &str) -> Option<&'m Decl> {
        self.decls.get(name).map(|i| &self.alg.decls[*i])
    }
}

/// An override must have the kind of value the default has (a number for a number, a list
/// for a list).
fn check_override(
    name: &str,
    value: &Value,
    default: &crate::syntax::ast::ExprKind,
    span: Span,
    def_span: Span,
) -> Option<Diagnostic> {
    use crate::syntax::ast::ExprKind as K;
    let ok = match (default, value) {
        (K::Int(_), Value::Int(_)) => true,
        (K::Float(_), Value::Int(_) | Value::Float(_)) => true,
        (K::Bool(_), Value::Bool(_)) => true,
        (K::Str(_), Value::Str(_)) => true,
        (K::List(_), Value::List(_)) => true,
        (K::Int(_) | K::Float(_) | K::Bool(_) | K::Str(_) | K::List(_), _) => false,
        // Defaults computed from other params: accept any constant.
        _ => value.is_constant(),
    };
    if ok {
        return None;
    }
    Some(
        Diagnostic::new(
            Code::BadParam,
            format!("`{name}` cannot be set to {}", value.describe()),
        )
        .at(span, "wrong kind of value")
        .also(def_span, "the default is declared here"),
    )
}
