//! The builtin functions: one table of their names, parameters and forms.
//!
//! Name resolution ([`crate::check`]) uses it to know which names exist and to suggest
//! them; lowering ([`crate::lower`]) dispatches on [`Builtin`] with a closed `match`, so a
//! builtin added here cannot be forgotten there. It sits below both so that the checker does
//! not depend on lowering.

use crate::diag::{Code, Diagnostic, Span};

/// A builtin function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Builtin {
    /// `exp(x)`.
    Exp,
    /// `log(x)`.
    Log,
    /// `tanh(x)`.
    Tanh,
    /// `sqrt(x)`.
    Sqrt,
    /// `abs(x)`.
    Abs,
    /// `sin(x)`.
    Sin,
    /// `cos(x)`.
    Cos,
    /// `floor(x)`.
    Floor,
    /// `relu(x)`.
    Relu,
    /// `sigmoid(x)`.
    Sigmoid,
    /// `softplus(x)`.
    Softplus,
    /// `elu(x)`.
    Elu,
    /// `square(x)`.
    Square,
    /// `sign(x)`.
    Sign,
    /// `maximum(a, b)`.
    Maximum,
    /// `minimum(a, b)`.
    Minimum,
    /// `clip(x, lo, hi)`.
    Clip,
    /// `where(cond, a, b)`.
    Where,
    /// `sum(x, axis, keepdims)`.
    Sum,
    /// `mean(x, axis, keepdims)`.
    Mean,
    /// `max(x, axis, keepdims)`.
    Max,
    /// `min(x, axis, keepdims)`.
    Min,
    /// `logsumexp(x, axis)`.
    Logsumexp,
    /// `softmax(x, axis)`.
    Softmax,
    /// `log_softmax(x, axis)`.
    LogSoftmax,
    /// `argmax(x, axis)`.
    Argmax,
    /// `argmin(x, axis)`.
    Argmin,
    /// `argsort(x, axis, descending)`.
    Argsort,
    /// `top_k(x, k, axis)`.
    TopK,
    /// `take_along(x, idx, axis)`.
    TakeAlong,
    /// `solve(a, b)`.
    Solve,
    /// `cholesky(a)`.
    Cholesky,
    /// `transpose(x)`.
    Transpose,
    /// `matmul(a, b)`.
    Matmul,
    /// `lower_triangular(v)`.
    LowerTriangular,
    /// `one_hot(a, n)`.
    OneHot,
    /// `pick(x, a)`.
    Pick,
    /// `concat(axis)`.
    Concat,
    /// `reshape(x, shape)`.
    Reshape,
    /// `flatten(xs)`.
    Flatten,
    /// `unflatten(x, like)`.
    Unflatten,
    /// `expand(x, axis)`.
    Expand,
    /// `squeeze(x, axis)`.
    Squeeze,
    /// `len(x)`.
    Len,
    /// `zeros(shape, dtype)`.
    Zeros,
    /// `ones(shape, dtype)`.
    Ones,
    /// `full(shape, value)`.
    Full,
    /// `zeros_like(x)`.
    ZerosLike,
    /// `ones_like(x)`.
    OnesLike,
    /// `f32(x)`.
    F32,
    /// `i32(x)`.
    I32,
    /// `bool(x)`.
    Bool,
    /// `randn(shape)`.
    Randn,
    /// `rand(shape)`.
    Rand,
    /// `randn_like(shape)`.
    RandnLike,
    /// `rand_like(shape)`.
    RandLike,
    /// `normal(mean, std)`.
    Normal,
    /// `tanh_normal(mean, std)`.
    TanhNormal,
    /// `categorical(logits)`.
    Categorical,
    /// `kl(p, q)`.
    Kl,
    /// `sample(d)`.
    Sample,
    /// `stop(x)`.
    Stop,
    /// `grad(loss, x)`.
    Grad,
    /// `linear(x, out, init)`.
    Linear,
    /// `mse(a, b)`.
    Mse,
    /// `huber(x, delta)`.
    Huber,
    /// `range(n)`.
    Range,
    /// `outer(a, b)`.
    Outer,
    /// `priority(data, p)`.
    Priority,
    /// `step_count()`.
    StepCount,
    /// `ou(theta, sigma)`: Ornstein-Uhlenbeck exploration noise.
    Ou,
}

/// How a builtin is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// An ordinary call; arguments bind to the parameters positionally or by name.
    Call,
    /// Any number of positional tensors; the parameters can only be given by name.
    Variadic,
    /// Only written in a declaration; calling it as an expression is an error.
    Declaration(Declaration),
}

/// The declaration a declaration-only builtin belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Declaration {
    /// Exploration noise: `act policy into D noise ou(theta = ..., sigma = ...)`.
    Noise,
}

impl Declaration {
    /// The error for calling `name`, which belongs in this declaration, as an expression.
    pub fn misuse(self, name: &str, span: Span) -> Diagnostic {
        match self {
            Declaration::Noise => Diagnostic::new(
                Code::TypeMismatch,
                format!("`{name}` is exploration noise and can only follow `noise` in the schedule's `act`"),
            )
            .at(span, "not in the schedule")
            .hint(format!(
                "write `act policy into D noise {name}(...)` in the schedule"
            )),
        }
    }
}

impl Builtin {
    /// Every builtin, in the order they are documented.
    pub const ALL: [Builtin; 71] = [
        Builtin::Exp,
        Builtin::Log,
        Builtin::Tanh,
        Builtin::Sqrt,
        Builtin::Abs,
        Builtin::Sin,
        Builtin::Cos,
        Builtin::Floor,
        Builtin::Relu,
        Builtin::Sigmoid,
        Builtin::Softplus,
        Builtin::Elu,
        Builtin::Square,
        Builtin::Sign,
        Builtin::Maximum,
        Builtin::Minimum,
        Builtin::Clip,
        Builtin::Where,
        Builtin::Sum,
        Builtin::Mean,
        Builtin::Max,
        Builtin::Min,
        Builtin::Logsumexp,
        Builtin::Softmax,
        Builtin::LogSoftmax,
        Builtin::Argmax,
        Builtin::Argmin,
        Builtin::Argsort,
        Builtin::TopK,
        Builtin::TakeAlong,
        Builtin::Solve,
        Builtin::Cholesky,
        Builtin::Transpose,
        Builtin::Matmul,
        Builtin::LowerTriangular,
        Builtin::OneHot,
        Builtin::Pick,
        Builtin::Concat,
        Builtin::Reshape,
        Builtin::Flatten,
        Builtin::Unflatten,
        Builtin::Expand,
        Builtin::Squeeze,
        Builtin::Len,
        Builtin::Zeros,
        Builtin::Ones,
        Builtin::Full,
        Builtin::ZerosLike,
        Builtin::OnesLike,
        Builtin::F32,
        Builtin::I32,
        Builtin::Bool,
        Builtin::Randn,
        Builtin::Rand,
        Builtin::RandnLike,
        Builtin::RandLike,
        Builtin::Normal,
        Builtin::TanhNormal,
        Builtin::Categorical,
        Builtin::Kl,
        Builtin::Sample,
        Builtin::Stop,
        Builtin::Grad,
        Builtin::Linear,
        Builtin::Mse,
        Builtin::Huber,
        Builtin::Range,
        Builtin::Outer,
        Builtin::Priority,
        Builtin::StepCount,
        Builtin::Ou,
    ];

    /// Name, parameter names and form: the table itself.
    fn row(self) -> (&'static str, &'static [&'static str], Form) {
        match self {
            Builtin::Exp => ("exp", &["x"], Form::Call),
            Builtin::Log => ("log", &["x"], Form::Call),
            Builtin::Tanh => ("tanh", &["x"], Form::Call),
            Builtin::Sqrt => ("sqrt", &["x"], Form::Call),
            Builtin::Abs => ("abs", &["x"], Form::Call),
            Builtin::Sin => ("sin", &["x"], Form::Call),
            Builtin::Cos => ("cos", &["x"], Form::Call),
            Builtin::Floor => ("floor", &["x"], Form::Call),
            Builtin::Relu => ("relu", &["x"], Form::Call),
            Builtin::Sigmoid => ("sigmoid", &["x"], Form::Call),
            Builtin::Softplus => ("softplus", &["x"], Form::Call),
            Builtin::Elu => ("elu", &["x"], Form::Call),
            Builtin::Square => ("square", &["x"], Form::Call),
            Builtin::Sign => ("sign", &["x"], Form::Call),
            Builtin::Maximum => ("maximum", &["a", "b"], Form::Call),
            Builtin::Minimum => ("minimum", &["a", "b"], Form::Call),
            Builtin::Clip => ("clip", &["x", "lo", "hi"], Form::Call),
            Builtin::Where => ("where", &["cond", "a", "b"], Form::Call),
            Builtin::Sum => ("sum", &["x", "axis", "keepdims"], Form::Call),
            Builtin::Mean => ("mean", &["x", "axis", "keepdims"], Form::Call),
            Builtin::Max => ("max", &["x", "axis", "keepdims"], Form::Call),
            Builtin::Min => ("min", &["x", "axis", "keepdims"], Form::Call),
            Builtin::Logsumexp => ("logsumexp", &["x", "axis"], Form::Call),
            Builtin::Softmax => ("softmax", &["x", "axis"], Form::Call),
            Builtin::LogSoftmax => ("log_softmax", &["x", "axis"], Form::Call),
            Builtin::Argmax => ("argmax", &["x", "axis"], Form::Call),
            Builtin::Argmin => ("argmin", &["x", "axis"], Form::Call),
            Builtin::Argsort => ("argsort", &["x", "axis", "descending"], Form::Call),
            Builtin::TopK => ("top_k", &["x", "k", "axis"], Form::Call),
            Builtin::TakeAlong => ("take_along", &["x", "idx", "axis"], Form::Call),
            Builtin::Solve => ("solve", &["a", "b"], Form::Call),
            Builtin::Cholesky => ("cholesky", &["a"], Form::Call),
            Builtin::Transpose => ("transpose", &["x"], Form::Call),
            Builtin::Matmul => ("matmul", &["a", "b"], Form::Call),
            Builtin::LowerTriangular => ("lower_triangular", &["v"], Form::Call),
            Builtin::OneHot => ("one_hot", &["a", "n"], Form::Call),
            Builtin::Pick => ("pick", &["x", "a"], Form::Call),
            Builtin::Concat => ("concat", &["axis"], Form::Variadic),
            Builtin::Reshape => ("reshape", &["x", "shape"], Form::Call),
            Builtin::Flatten => ("flatten", &["xs"], Form::Call),
            Builtin::Unflatten => ("unflatten", &["x", "like"], Form::Call),
            Builtin::Expand => ("expand", &["x", "axis"], Form::Call),
            Builtin::Squeeze => ("squeeze", &["x", "axis"], Form::Call),
            Builtin::Len => ("len", &["x"], Form::Call),
            Builtin::Zeros => ("zeros", &["shape", "dtype"], Form::Call),
            Builtin::Ones => ("ones", &["shape", "dtype"], Form::Call),
            Builtin::Full => ("full", &["shape", "value"], Form::Call),
            Builtin::ZerosLike => ("zeros_like", &["x"], Form::Call),
            Builtin::OnesLike => ("ones_like", &["x"], Form::Call),
            Builtin::F32 => ("f32", &["x"], Form::Call),
            Builtin::I32 => ("i32", &["x"], Form::Call),
            Builtin::Bool => ("bool", &["x"], Form::Call),
            Builtin::Randn => ("randn", &["shape"], Form::Call),
            Builtin::Rand => ("rand", &["shape"], Form::Call),
            Builtin::RandnLike => ("randn_like", &["shape"], Form::Call),
            Builtin::RandLike => ("rand_like", &["shape"], Form::Call),
            Builtin::Normal => ("normal", &["mean", "std"], Form::Call),
            Builtin::TanhNormal => ("tanh_normal", &["mean", "std"], Form::Call),
            Builtin::Categorical => ("categorical", &["logits"], Form::Call),
            Builtin::Kl => ("kl", &["p", "q"], Form::Call),
            Builtin::Sample => ("sample", &["d"], Form::Call),
            Builtin::Stop => ("stop", &["x"], Form::Call),
            Builtin::Grad => ("grad", &["loss", "x"], Form::Call),
            Builtin::Linear => ("linear", &["x", "out", "init"], Form::Call),
            Builtin::Mse => ("mse", &["a", "b"], Form::Call),
            Builtin::Huber => ("huber", &["x", "delta"], Form::Call),
            Builtin::Range => ("range", &["n"], Form::Call),
            Builtin::Outer => ("outer", &["a", "b"], Form::Call),
            Builtin::Priority => ("priority", &["data", "p"], Form::Call),
            Builtin::StepCount => ("step_count", &[], Form::Call),
            Builtin::Ou => ("ou", &["theta", "sigma"], Form::Declaration(Declaration::Noise)),
        }
    }

    /// The name it is called by.
    pub fn name(self) -> &'static str {
        self.row().0
    }

    /// Its parameter names, in positional order.
    pub fn params(self) -> &'static [&'static str] {
        self.row().1
    }

    /// How it is used.
    pub fn form(self) -> Form {
        self.row().2
    }

    /// The builtin called `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Builtin> {
        Builtin::ALL.into_iter().find(|b| b.name() == name)
    }

    /// Every builtin name (for name resolution and suggestions).
    pub fn names() -> impl Iterator<Item = &'static str> {
        Builtin::ALL.into_iter().map(Builtin::name)
    }

    /// The error for calling this builtin as an expression when it is declaration-only.
    /// Lowering only asks for it about declaration-only builtins; for any other it is a
    /// compiler bug, reported as such.
    pub fn misuse(self, span: Span) -> Diagnostic {
        match self.form() {
            Form::Declaration(d) => d.misuse(self.name(), span),
            Form::Call | Form::Variadic => Diagnostic::internal(format!(
                "`{}` was reported as declaration-only but can be called",
                self.name()
            ))
            .at(span, "here"),
        }
    }

    /// The names of the builtins of one form (e.g. every optimiser, for suggestions).
    pub fn names_of(form: Form) -> impl Iterator<Item = &'static str> {
        Builtin::ALL
            .into_iter()
            .filter(move |b| b.form() == form)
            .map(Builtin::name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for b in Builtin::ALL {
            assert!(seen.insert(b.name()), "{b:?}");
            assert_eq!(Builtin::from_name(b.name()), Some(b));
        }
        assert_eq!(Builtin::from_name("softmax"), Some(Builtin::Softmax));
        assert_eq!(Builtin::from_name("nope"), None);
    }

    #[test]
    fn declaration_only_builtins_say_where_they_belong() {
        let span = Span::default();
        assert_eq!(Builtin::Exp.misuse(span).code, Code::Internal);
        let d = Builtin::Ou.misuse(span);
        assert!(d.message.contains("`noise`"));
    }
}
