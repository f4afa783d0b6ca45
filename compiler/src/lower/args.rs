//! Arguments of builtins and declaration forms (`adam(...)`, `polyak(...)`): the one binder
//! matching arguments to parameter names, for evaluated arguments and for unevaluated ones.

use super::builder::{R, err};
use super::value::Value;
use crate::diag::{Code, Diagnostic, Span, did_you_mean};
use crate::syntax::ast::{Arg, Ident};

/// An evaluated call argument.
#[derive(Clone, Debug)]
pub struct ArgVal {
    /// `name =` if given.
    pub name: Option<Ident>,
    /// The value.
    pub value: Value,
    /// Where the argument is written.
    pub span: Span,
}

/// "s" unless there is exactly one.
pub(crate) fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// An argument as written: its `name =` part, if any, and where it is.
pub(crate) trait Argument {
    /// The `name =` part.
    fn name(&self) -> Option<&Ident>;
    /// Where the argument's value is written.
    fn span(&self) -> Span;
}

impl Argument for ArgVal {
    fn name(&self) -> Option<&Ident> {
        self.name.as_ref()
    }
    fn span(&self) -> Span {
        self.span
    }
}

/// Unevaluated arguments of declaration forms, which evaluate each one by its own rules.
impl Argument for &Arg {
    fn name(&self) -> Option<&Ident> {
        self.name.as_ref()
    }
    fn span(&self) -> Span {
        self.value.span
    }
}

/// Positional and named arguments, checked against parameter names: slot `i` holds the
/// argument of parameter `names[i]`.
pub(crate) struct Args<A = ArgVal> {
    pub fn_name: &'static str,
    pub vals: Vec<Option<A>>,
    pub names: &'static [&'static str],
    pub whole: Span,
}

impl<A: Argument> Args<A> {
    /// Matches `args` to `names` (positional first, then by name).
    pub(crate) fn bind(
        fn_name: &'static str,
        names: &'static [&'static str],
        args: Vec<A>,
        whole: Span,
    ) -> R<Args<A>> {
        let mut vals: Vec<Option<A>> = names.iter().map(|_| None).collect();
        let mut pos = 0;
        for a in args {
            let i = match a.name() {
                None => {
                    if pos >= names.len() {
                        return Err(err(
                            Code::Arity,
                            format!(
                                "`{fn_name}` takes at most {} argument{}",
                                names.len(),
                                plural(names.len())
                            ),
                            a.span(),
                            "unexpected argument",
                        )
                        .note(format!("{fn_name}({})", names.join(", "))));
                    }
                    pos += 1;
                    pos - 1
                }
                Some(n) => match names.iter().position(|x| *x == n.name) {
                    Some(i) => i,
                    None => {
                        return Err(err(
                            Code::Arity,
                            format!("`{fn_name}` has no parameter `{}`", n.name),
                            n.span,
                            "unknown parameter",
                        )
                        .maybe_hint(did_you_mean(&n.name, names.iter().copied()))
                        .note(format!("{fn_name}({})", names.join(", "))));
                    }
                },
            };
            if vals[i].is_some() {
                return Err(err(
                    Code::Arity,
                    format!("`{}` is given twice", names[i]),
                    a.span(),
                    "again",
                ));
            }
            vals[i] = Some(a);
        }
        Ok(Args {
            fn_name,
            vals,
            names,
            whole,
        })
    }

    /// A required argument.
    pub(crate) fn req(&self, i: usize) -> R<&A> {
        self.vals[i].as_ref().ok_or_else(|| {
            Diagnostic::new(
                Code::Arity,
                format!("`{}` is missing argument `{}`", self.fn_name, self.names[i]),
            )
            .at(self.whole, format!("{}({})", self.fn_name, self.names.join(", ")))
        })
    }

    /// An optional argument.
    pub(crate) fn opt(&self, i: usize) -> Option<&A> {
        self.vals[i].as_ref()
    }
}
