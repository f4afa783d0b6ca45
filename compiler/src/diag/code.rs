//! Error codes. Each kind of error has a stable code that tests and documentation refer to.
//!
//! Numbers are written next to each code in [`Code::number`], not derived from an order, so
//! a new code never renumbers the existing ones: add it with the next free number.

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
    /// A bug in the compiler: it built something inconsistent. No program should cause it.
    Internal,
    /// A value that is NaN or infinite: a constant expression at compile time, or a value
    /// while a program runs (`rlc run` exits 3, located by `--debug-nans`).
    NonFinite,
    /// A tensor, buffer or data store larger than the memory budget (or than any machine
    /// holds).
    TooLarge,
    /// A scan stepping along the shuffled samples of a replay batch or rollout minibatch
    /// as if they were ordered in time.
    TimeAxis,
    /// `set` on something that is not program state, or where state cannot change (the
    /// evaluation policy, a loop body, outside training).
    StateWrite,
    /// A `log` statement outside the body of a loss, policy or derive, or logging a value
    /// that is not a scalar.
    Metric,
}

impl Code {
    /// Every code a program can cause, in numbering order (each has a snapshot test).
    /// [`Code::Internal`] is not one of them: it reports a compiler bug.
    pub const ALL: [Code; 30] = [
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
        Code::NonFinite,
        Code::TooLarge,
        Code::TimeAxis,
        Code::StateWrite,
        Code::Metric,
    ];

    /// The stable number of the code (`E0005` is 5). Never reuse or change a number.
    pub fn number(self) -> u16 {
        match self {
            Code::Syntax => 1,
            Code::UnknownName => 2,
            Code::UnknownField => 3,
            Code::Arity => 4,
            Code::ShapeMismatch => 5,
            Code::TypeMismatch => 6,
            Code::Duplicate => 7,
            Code::ModuleNotFound => 8,
            Code::ImportNotFound => 9,
            Code::NoGradient => 10,
            Code::DoubleAssign => 11,
            Code::PolicyOutput => 12,
            Code::ActionSpaceKind => 13,
            Code::LayerOutsideNet => 14,
            Code::BadParam => 15,
            Code::Recursion => 16,
            Code::IndexOutOfBounds => 17,
            Code::Schedule => 18,
            Code::NotConstant => 19,
            Code::UnknownEnv => 20,
            Code::DataField => 21,
            Code::BadGrad => 22,
            Code::Missing => 23,
            Code::BadArgument => 24,
            Code::Io => 25,
            Code::Internal => 26,
            Code::NonFinite => 27,
            Code::TooLarge => 28,
            Code::TimeAxis => 29,
            Code::StateWrite => 30,
            Code::Metric => 31,
        }
    }

    /// The printed code, e.g. `E0005`.
    pub fn as_str(self) -> String {
        format!("E{:04}", self.number())
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
            Code::Internal => "internal compiler error",
            Code::NonFinite => "non-finite value",
            Code::TooLarge => "too large",
            Code::TimeAxis => "no time axis",
            Code::StateWrite => "cannot set state here",
            Code::Metric => "logged metric",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_stable() {
        let mut seen = std::collections::HashSet::new();
        for c in Code::ALL.into_iter().chain([Code::Internal]) {
            assert!(seen.insert(c.as_str()));
        }
        // The published numbers: changing one breaks every document that cites it.
        let expected = [
            (Code::Syntax, "E0001"),
            (Code::UnknownName, "E0002"),
            (Code::UnknownField, "E0003"),
            (Code::Arity, "E0004"),
            (Code::ShapeMismatch, "E0005"),
            (Code::TypeMismatch, "E0006"),
            (Code::Duplicate, "E0007"),
            (Code::ModuleNotFound, "E0008"),
            (Code::ImportNotFound, "E0009"),
            (Code::NoGradient, "E0010"),
            (Code::DoubleAssign, "E0011"),
            (Code::PolicyOutput, "E0012"),
            (Code::ActionSpaceKind, "E0013"),
            (Code::LayerOutsideNet, "E0014"),
            (Code::BadParam, "E0015"),
            (Code::Recursion, "E0016"),
            (Code::IndexOutOfBounds, "E0017"),
            (Code::Schedule, "E0018"),
            (Code::NotConstant, "E0019"),
            (Code::UnknownEnv, "E0020"),
            (Code::DataField, "E0021"),
            (Code::BadGrad, "E0022"),
            (Code::Missing, "E0023"),
            (Code::BadArgument, "E0024"),
            (Code::Io, "E0025"),
            (Code::Internal, "E0026"),
            (Code::NonFinite, "E0027"),
            (Code::TooLarge, "E0028"),
            (Code::TimeAxis, "E0029"),
            (Code::StateWrite, "E0030"),
            (Code::Metric, "E0031"),
        ];
        for (c, s) in expected {
            assert_eq!(c.as_str(), s, "{c:?}");
        }
        // ALL lists the program-facing codes in numbering order, skipping only Internal (26).
        assert_eq!(Code::ALL.len(), 30);
        let numbers = (1..=31).filter(|n| *n != Code::Internal.number());
        for (c, n) in Code::ALL.iter().zip(numbers) {
            assert_eq!(c.number(), n, "{c:?}");
        }
    }
}
