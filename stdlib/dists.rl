// Policy heads built from the distribution primitives (`normal`, `tanh_normal`,
// `categorical`). Events are the last axis; `log_prob` and `entropy` sum over it.

/// A diagonal Gaussian with the log standard deviation clamped to [lo, hi].
fn gaussian(mean, log_std, lo = -20.0, hi = 2.0) = normal(mean, exp(clip(log_std, lo, hi)))

/// The squashed Gaussian of SAC (Haarnoja et al., 2018): tanh of a Gaussian sample, with the
/// log standard deviation clamped to [lo, hi].
fn squashed_gaussian(mean, log_std, lo = -20.0, hi = 2.0) = tanh_normal(mean, exp(clip(log_std, lo, hi)))

/// Splits the last axis of `h` into a mean and a log standard deviation and builds a
/// squashed Gaussian over `n` action dimensions.
fn squashed_head(h, n) = squashed_gaussian(h[..., :n], h[..., n:])

/// A categorical policy over the last axis of `logits`.
fn softmax_policy(logits) = categorical(logits)
