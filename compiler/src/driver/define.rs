//! Definitions typed at the REPL's prompt (`fn f(x) = ...`), added to a loaded module so later
//! expressions can call them.

use super::Driver;
use crate::check::{ModuleId, resolve_module};
use crate::diag::{Code, Diagnostic, Span};
use crate::syntax::ast::{Decl, FnDecl};
use crate::syntax::parse_module;

impl Driver {
    /// Adds the `fn` definitions in `text` to `module`: inside its first algorithm when it has
    /// one (so their bodies see its nets and hyperparameters, as a `fn` declared there does),
    /// otherwise among its top-level functions. A definition replaces an earlier one of the same
    /// name. Returns the names defined.
    ///
    /// # Errors
    /// Located diagnostics: a syntax error, text other than `fn` definitions, or a name a
    /// body uses that is not in scope; the module is then unchanged.
    pub fn define(&mut self, module: ModuleId, text: &str) -> Result<Vec<String>, Vec<Diagnostic>> {
        let file = self.mods.sources.add("<definition>", None, text.to_string());
        let parsed = parse_module(file, text).map_err(|d| vec![d])?;
        if !parsed.imports.is_empty() || !parsed.algorithms.is_empty() || parsed.fns.is_empty() {
            return Err(vec![
                Diagnostic::new(
                    Code::Syntax,
                    "only `fn NAME(PARAMS) = EXPR` definitions can be added here",
                )
                .at(Span::new(file, 0, text.len()), "not a `fn` definition"),
            ]);
        }
        let before = self.mods.get(module).ast.clone();
        let names: Vec<String> = parsed.fns.iter().map(|f| f.name.name.clone()).collect();
        let ast = &mut self.mods.get_mut(module).ast;
        for f in parsed.fns {
            match ast.algorithms.first_mut() {
                Some(alg) => replace_or_push(&mut alg.decls, f),
                None => {
                    ast.fns.retain(|g| g.name.name != f.name.name);
                    ast.fns.push(f);
                }
            }
        }
        let errors = resolve_module(&self.mods, module);
        if errors.is_empty() {
            Ok(names)
        } else {
            self.mods.get_mut(module).ast = before;
            Err(errors)
        }
    }
}

/// Puts `f` where an algorithm `fn` of the same name is, or at the end.
fn replace_or_push(decls: &mut Vec<Decl>, f: FnDecl) {
    let same = decls
        .iter()
        .position(|d| matches!(d, Decl::Fn(g) if g.name.name == f.name.name));
    match same {
        Some(i) => decls[i] = Decl::Fn(f),
        None => decls.push(Decl::Fn(f)),
    }
}

#[cfg(test)]
mod tests {
    use crate::driver::{Driver, no_env};

    fn value(d: &mut Driver, m: crate::check::ModuleId, expr: &str) -> String {
        let t = d.trace_expr(m, None, no_env(), expr).expect("traces");
        t.constant.expect("a constant")
    }

    #[test]
    fn definitions_are_callable_replace_earlier_ones_and_bad_ones_change_nothing() {
        let mut d = Driver::new(None);
        let m = d.load_text("lib.rl", None, "fn base(x) = x + 1\n").unwrap();
        assert_eq!(d.define(m, "fn twice(x) = 2 * base(x)").unwrap(), vec!["twice"]);
        assert_eq!(value(&mut d, m, "twice(3)"), "8");
        d.define(m, "fn twice(x) = 3 * x").unwrap();
        assert_eq!(value(&mut d, m, "twice(3)"), "9");
        // An unknown name, a syntax error and a non-definition are errors; nothing changes.
        let e = d.define(m, "fn bad(x) = nope(x)").unwrap_err();
        assert!(e[0].message.contains("nope"), "{}", e[0].message);
        assert!(d.define(m, "fn broken(x) = ").is_err());
        assert!(d.define(m, "import nets").is_err());
        assert!(d.trace_expr(m, None, no_env(), "bad(1)").is_err());
        assert_eq!(value(&mut d, m, "twice(3)"), "9");
    }
}
