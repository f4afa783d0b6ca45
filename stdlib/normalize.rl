// Running normalisation of observations and rewards, kept in program state (`state`, `set`):
// the mean and variance of everything seen so far, merged batch by batch with the parallel
// update of Chan, Golub and LeVeque (1979, "Updating formulae and a pairwise algorithm for
// computing sample variances") — Stable-Baselines3's `RunningMeanStd`, used by `VecNormalize`.
//
//   state obs_mean: obs = 0.0
//   state obs_var: obs = 1.0
//   state obs_count = 1e-4
//   policy explore(s) = {
//     let m = running_moments(obs_mean, obs_var, obs_count, s)
//     set obs_mean = m.mean
//     set obs_var = m.var
//     set obs_count = m.count
//     ... pi(normalize(s, obs_mean, obs_var)) ...
//   }

/// The moments after merging the batch `x` (items along axis 0) into a running mean `m` and
/// variance `v` of `count` items: `{ mean, var, count }` (population variance, as numpy's `var`).
fn running_moments(m, v, count, x) = {
  let n = f32(len(x))
  let batch_mean = mean(x, axis = 0)
  let batch_var = mean((x - batch_mean)^2, axis = 0)
  let total = count + n
  let delta = batch_mean - m
  let m2 = v * count + batch_var * n + delta^2 * count * n / total
  { mean: m + delta * n / total, var: m2 / total, count: total }
}

/// `x` standardised by running moments `m`, `v` and clipped to ±`limit` (SB3: 10).
fn normalize(x, m, v, limit = 10.0) = clip((x - m) / sqrt(v + 1e-8), -limit, limit)
