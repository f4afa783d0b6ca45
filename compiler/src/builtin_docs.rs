//! What each builtin does, in one or two sentences: the source of `rlc doc`, the REPL's
//! `:doc` and `docs/reference.md` (a test keeps the file equal to [`reference`]). The match
//! is exhaustive, so a builtin added to [`Builtin`] without documentation does not compile.

use crate::builtins::{Builtin, Declaration, Form};

impl Builtin {
    /// What the builtin computes (Markdown).
    pub fn doc(self) -> &'static str {
        use Builtin::*;
        match self {
            Exp => "Elementwise e^x.",
            Log => "Elementwise natural logarithm (NaN below 0, -inf at 0: a run stops on either).",
            Tanh => "Elementwise hyperbolic tangent.",
            Sqrt => "Elementwise square root.",
            Abs => "Elementwise absolute value.",
            Sin => "Elementwise sine.",
            Cos => "Elementwise cosine.",
            Floor => "Elementwise largest integer not above x (as f32).",
            Relu => "Elementwise max(x, 0).",
            Sigmoid => "Elementwise 1 / (1 + e^-x).",
            Softplus => "Elementwise log(1 + e^x), computed without overflow.",
            Elu => "Elementwise x for x > 0, e^x - 1 otherwise.",
            Square => "Elementwise x².",
            Sign => "Elementwise -1, 0 or 1 (0 for NaN).",
            Maximum => "Elementwise larger of `a` and `b` (broadcast; NaN propagates).",
            Minimum => "Elementwise smaller of `a` and `b` (broadcast; NaN propagates).",
            Clip => {
                "`x` limited to `[lo, hi]` (constant bounds the wrong way round are an error); \
                 `clip(i, 0, n - 1)` is how an index asks to be clamped."
            }
            Where => "`a` where `cond` is true, else `b` (broadcast).",
            Sum => "Sum over `axis` (all axes if omitted); `keepdims = true` keeps it as size 1.",
            Mean => "Mean over `axis` (all axes if omitted); `keepdims` as for `sum`.",
            Max => "Largest value over `axis` (all axes if omitted); `keepdims` as for `sum`.",
            Min => "Smallest value over `axis` (all axes if omitted); `keepdims` as for `sum`.",
            Logsumexp => "log Σ e^x over `axis` (default -1), stable for large x.",
            Softmax => "e^x / Σ e^x over `axis` (default -1).",
            LogSoftmax => "x - logsumexp(x) over `axis` (default -1).",
            Argmax => "i32 position of the largest value along `axis` (default -1; first on ties).",
            Argmin => "i32 position of the smallest value along `axis` (default -1; first on ties).",
            Argsort => {
                "i32 positions that sort `x` along `axis` (default -1), stable, NaNs last; \
                 `descending = true` for largest first."
            }
            TopK => "i32 positions of the `k` largest values along `axis` (default -1), largest first.",
            TakeAlong => {
                "numpy's `take_along_axis`: `out[.., j, ..] = x[.., idx[.., j, ..], ..]` along `axis` \
                 (default -1); size-1 index axes broadcast; differentiable in `x`; indices are \
                 proven or checked in range."
            }
            Solve => {
                "`x` with `a x = b` for small square `a` `[.., n, n]`; differentiable in both; NaN if singular."
            }
            Cholesky => {
                "The lower-triangular `l` with `l lᵀ = a` for a small symmetric positive-definite `a` `[n, n]` (reads the lower triangle; NaN if not positive definite); differentiable."
            }
            Transpose => "The last two axes of `x` swapped (`[.., m, n]` to `[.., n, m]`).",
            Matmul => "`a @ b` over the last two axes (`[.., m, k] @ [.., k, n]`), leading axes broadcast.",
            LowerTriangular => {
                "The `[.., n, n]` lower-triangular matrices filled row by row from `v` of \
                 `[.., n(n+1)/2]` (NAF's L)."
            }
            OneHot => {
                "f32 `[.., n]` with a 1 at each i32 index of `a` (indices proven or checked in `0..n`)."
            }
            Pick => {
                "`x[..., a]` per row: the entry of each row of `x` `[.., n]` chosen by i32 `a` `[..]` (e.g. Q(s, a))."
            }
            Concat => "Tensors joined along `axis` (by name; default -1): `concat(a, b, axis = 0)`.",
            Reshape => "The same elements in a new `shape` (same element count).",
            Flatten => {
                "One f32 vector of all the elements of a list of f32 tensors, in order (a net's parameters as TRPO's flat vector: `flatten(params)`)."
            }
            Unflatten => {
                "The vector `x` cut back into a list of tensors shaped like the list `like` (the inverse of `flatten`; sizes must add up)."
            }
            Expand => "A size-1 axis inserted at `axis` (default -1).",
            Squeeze => "The size-1 axis `axis` (default -1) removed.",
            Len => "The size of axis 0 of a tensor, or the length of a list (a compile-time number).",
            Zeros => "A tensor of zeros of `shape` (`dtype` f32 by default, or i32 / bool).",
            Ones => "A tensor of ones of `shape` (`dtype` as for `zeros`).",
            Full => "A tensor of `shape` filled with the constant `value`.",
            ZerosLike => "Zeros with the type of `x`.",
            OnesLike => "Ones with the type of `x`.",
            F32 => "Conversion to f32.",
            I32 => "Conversion to i32: truncates toward zero, saturates at the i32 range, NaN gives 0.",
            Bool => "Conversion to bool (nonzero is true).",
            Randn => "Standard normal draws of `shape` from the call's random key (not inside `scan`).",
            Rand => "Uniform draws on [0, 1) of `shape` from the call's random key.",
            RandnLike => "Standard normal draws shaped like its argument.",
            RandLike => "Uniform [0, 1) draws shaped like its argument.",
            Normal => {
                "A diagonal Gaussian distribution (`sample`, `~`, `log_prob`, `entropy`, `mean`, \
                 `kl`); the last axis is the event."
            }
            TanhNormal => {
                "A Gaussian squashed by tanh (SAC's policy): `log_prob` includes the \
                 tanh correction, computed from the pre-tanh sample when there is one."
            }
            Categorical => {
                "A categorical distribution over the last axis of `logits` (`probs`, `log_probs`, `sample`, `log_prob`, `entropy`)."
            }
            Kl => "KL(p ‖ q) of two distributions of the same kind.",
            Sample => "A sample of distribution `d` (the same as `let a ~ d`).",
            Stop => "`x` with no gradient (also for tuples, records and distributions' parameters).",
            Grad => {
                "The gradient of scalar `loss` with respect to tensor `x` (a graph, differentiable again)."
            }
            Linear => {
                "A dense layer `x W + b` with `out` outputs, creating its parameters in the \
                 enclosing net (`init`: bound of the uniform initialisation; default 1/sqrt(fan-in))."
            }
            Mse => "Mean of (a - b)².",
            Huber => {
                "Elementwise Huber loss of `x` with threshold `delta` (default 1): quadratic inside, linear outside."
            }
            Range => {
                "The compile-time list 0, 1, .., n - 1 (at most 2^20 numbers; `scan` loops over many steps)."
            }
            Outer => "`[.., m]` and `[.., n]` to their outer product `[.., m, n]` (batch axes equal).",
            Priority => "In a loss: new priorities `p` (one per sampled item) for prioritized replay `data`.",
            StepCount => {
                "The number of environment steps taken so far (i32), for schedules of ε, β, learning rates."
            }
            Ou => {
                "Exploration noise on `act`: `act P into D noise ou(theta, sigma)`, an \
                 Ornstein-Uhlenbeck process per environment copy in units of the action bound."
            }
        }
    }

    /// How it is written: `clip(x, lo, hi)`, `concat(..., axis)`, `ou(theta, sigma)` (in `act`).
    pub fn signature(self) -> String {
        let params = self.params().join(", ");
        match self.form() {
            Form::Call => format!("{}({params})", self.name()),
            Form::Variadic => format!("{}(x, ..., {params} = ..)", self.name()),
            Form::Declaration(d) => {
                let place = match d {
                    Declaration::Noise => "in `act`",
                };
                format!("{}({params}) ({place})", self.name())
            }
        }
    }
}

/// The builtins part of the language reference (Markdown): every builtin's signature and
/// what it does, in the table's order.
pub fn reference() -> String {
    let mut s = String::from("| builtin | what it does |\n|---|---|\n");
    for b in Builtin::ALL {
        s.push_str(&format!("| `{}` | {} |\n", b.signature(), b.doc()));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_is_documented_in_the_reference() {
        let r = reference();
        for b in Builtin::ALL {
            assert!(!b.doc().trim().is_empty(), "{}", b.name());
            assert!(r.contains(&format!("`{}(", b.name())), "{}", b.name());
        }
    }
}
