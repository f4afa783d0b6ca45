//! Error codes. Each kind of error has a stable code that tests and documentation refer to.

/// The kind of a diagnostic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Code {
    /// The text does not follow the grammar.
    Syntax,
    /// A name that is not defined.
    UnknownName,
    /// A field, method or attribute that does not exist.
    UnknownField,
    /// A call with the wrong number or names of arguments.
    Arity,
    /// Tensor shapes that do not fit together.
    ShapeMismatch,
    /// A value of the wrong type (element type or kind of value).
    TypeMismatch,
    /// A name defined twice.
    Duplicate,
    /// An imported module that cannot be found.
    ModuleNotFound,
    /// An imported name that the module does not define.
    ImportNotFound,
    /// A loss whose gradient reaches no parameter of what it updates.
    NoGradient,
    /// A state (parameter, target, moment) assigned twice in one entry point.
    DoubleAssign,
    /// A policy whose output does not fit the action space.
    PolicyOutput,
    /// Something that needs a discrete action space used with a continuous one, or the reverse.
    ActionSpaceKind,
    /// A layer (`linear`, `mlp`) used outside a `net`.
    LayerOutsideNet,
    /// A bad hyperparameter value or `--set` override.
    BadParam,
    /// A function that calls itself.
    Recursion,
    /// A constant index outside the tensor.
    IndexOutOfBounds,
    /// A schedule that cannot run (never trains, unknown policy, ...).
    Schedule,
    /// A value that must be known at compile time but is not.
    NotConstant,
    /// An environment id the registry does not know.
    UnknownEnv,
    /// A data field that nothing provides.
    DataField,
    /// `grad(loss, x)` where `x` is not part of the loss or not a tensor.
    BadGrad,
    /// A required declaration is missing.
    Missing,
    /// An argument with an invalid value.
    BadArgument,
    /// A file that cannot be read.
    Io,
}

impl Code {
    /// Every code, in numbering order.
    pub const ALL: [Code; 25] = [
        Code::Syntax,
        Code::UnknownName,
        Code::UnknownField,
        Code::Arity,
        Code::ShapeMismatch,
        Code::TypeMismatch,
        Code::Duplicate,
        Code::ModuleNotFound,
        Code::ImportNotFound,
        Code::NoGradient,
        Code::DoubleAssign,
        Code::PolicyOutput,
        Code::ActionSpaceKind,
        Code::LayerOutsideNet,
        Code::BadParam,
        Code::Recursion,
        Code::IndexOutOfBounds,
        Code::Schedule,
        Code::NotConstant,
        Code::UnknownEnv,
        Code::DataField,
        Code::BadGrad,
        Code::Missing,
        Code::BadArgument,
        Code::Io,
    ];

    /// The printed code, e.g. `E0005`.
    pub fn as_str(self) -> String {
        let n = Code::ALL.iter().position(|c| *c == self).unwrap_or(0) + 1;
        format!("E{n:04}")
    }

    /// A short name for the kind of error.
    pub fn title(self) -> &'static str {
        match self {
            Code::Syntax => "syntax error",
            Code::UnknownName => "unknown name",
            Code::UnknownField => "unknown field",
            Code::Arity => "wrong arguments",
            Code::ShapeMismatch => "shape mismatch",
            Code::TypeMismatch => "type mismatch",
            Code::Duplicate => "duplicate definition",
            Code::ModuleNotFound => "module not found",
            Code::ImportNotFound => "import not found",
            Code::NoGradient => "no gradient",
            Code::DoubleAssign => "state assigned twice",
            Code::PolicyOutput => "policy output",
            Code::ActionSpaceKind => "action space",
            Code::LayerOutsideNet => "layer outside net",
            Code::BadParam => "bad parameter",
            Code::Recursion => "recursion",
            Code::IndexOutOfBounds => "index out of bounds",
            Code::Schedule => "schedule",
            Code::NotConstant => "not a constant",
            Code::UnknownEnv => "unknown environment",
            Code::DataField => "data field",
            Code::BadGrad => "bad grad",
            Code::Missing => "missing declaration",
            Code::BadArgument => "bad argument",
            Code::Io => "cannot read file",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_stable() {
        let mut seen = std::collections::HashSet::new();
        for c in Code::ALL {
            assert!(seen.insert(c.as_str()));
        }
        assert_eq!(Code::Syntax.as_str(), "E0001");
        assert_eq!(Code::ShapeMismatch.as_str(), "E0005");
    }
}
