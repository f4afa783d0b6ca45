// Trace operators written with `scan`, following rlax's conventions (checked against vectors
// recorded from rlax). Arrays are time-major: axis 0 is time, further axes are batch axes.

/// Discounted returns (rlax.discounted_returns):
/// G[T] = bootstrap; G[t] = r[t] + discount[t] * G[t+1].
fn discounted_returns(r, discount, bootstrap) =
  scan reverse t in len(r) with g = bootstrap { r[t] + discount[t] * g }

/// GAE (Schulman et al., 2016; rlax.truncated_generalized_advantage_estimation), values = V(s_0..s_T):
/// delta[t] = r[t] + discount[t] * values[t+1] - values[t];
/// adv[t] = delta[t] + discount[t] * lambda * adv[t+1], adv[T] = 0.
fn gae(r, discount, values, lambda) =
  scan reverse t in len(r) with adv = 0.0 {
    r[t] + discount[t] * values[t + 1] - values[t] + discount[t] * lambda * adv
  }

/// Lambda-returns (rlax.lambda_returns), v[t] = value of the state after step t:
/// G[T] = v[T-1]; G[t] = r[t] + discount[t] * ((1 - lambda) * v[t] + lambda * G[t+1]).
fn lambda_returns(r, discount, v, lambda = 1.0) =
  scan reverse t in len(r) with g = v[len(v) - 1] {
    r[t] + discount[t] * ((1 - lambda) * v[t] + lambda * g)
  }

/// n-step bootstrapped returns (rlax.n_step_bootstrapped_returns with lambda = 1),
/// v[t] = value of the state after step t; windows running past the end bootstrap from
/// v[T-1]: G[t] = r[t] + discount[t] * (... (r[t+m-1] + discount[t+m-1] * v[t+m-1])),
/// m = min(n, T - t). Like rlax: pad r, discount, v, then fold each window from its far end.
fn n_step_returns(r, discount, v, n) = {
  let (T, pad) = (len(r), n - 1)
  let rp = for i in range(pad) with x = r { concat(x, zeros_like(r[:1]), axis = 0) }
  let dp = for i in range(pad) with x = discount { concat(x, ones_like(discount[:1]), axis = 0) }
  let vp = for i in range(pad) with x = v { concat(x, v[T - 1:], axis = 0) }
  for k in range(n) with g = vp[pad:pad + T] {
    rp[pad - k:pad - k + T] + dp[pad - k:pad - k + T] * g
  }
}

/// Retrace with log importance ratios (Munos et al., 2016; rlax.retrace_continuous); q_t and
/// log_rhos (length T-1) refer to the NEXT state-action: c[t] = lambda * min(1, exp(log_rhos[t]));
/// targets[T-1] = r[T-1] + discount[T-1] * v_t[T-1],
/// targets[t] = r[t] + discount[t] * (v_t[t] - c[t] * q_t[t] + c[t] * targets[t+1]).
/// Returns (targets, errors) with errors = targets - q_tm1.
fn retrace(q_tm1, q_t, v_t, r, discount, log_rhos, lambda) = {
  // A zero trace pads the T-1 arrays, so the last step bootstraps from v_t alone.
  let c = concat(lambda * minimum(1.0, exp(log_rhos)), zeros_like(r[:1]), axis = 0)
  let q = concat(q_t, zeros_like(r[:1]), axis = 0)
  let targets = scan reverse t in len(r) with g = zeros_like(r[0]) {
    r[t] + discount[t] * (v_t[t] - c[t] * q[t] + c[t] * g)
  }
  (targets, targets - q_tm1)
}

/// Retrace for discrete actions (rlax.retrace); returns the errors target - q_tm1[a_tm1]:
/// c[t] = lambda * min(1, pi_t[t][a_t[t]] / (mu_t[t] + eps)), exp_q[t] = sum_a pi_t q_t,
/// target[T-1] = r[T-1] + discount[T-1] * exp_q[T-1],
/// target[t] = r[t] + discount[t] * (exp_q[t] - c[t] * q_t[t][a_t[t]] + c[t] * target[t+1]).
fn retrace_discrete(q_tm1, q_t, a_tm1, a_t, r, discount, pi_t, mu_t, lambda, eps = 1e-8) = {
  let T = len(r)
  let q_a = pick(q_t, a_t)
  let c = lambda * minimum(1.0, pick(pi_t, a_t) / (mu_t + eps))
  let exp_q = sum(pi_t * q_t, axis = -1)
  // No trace at the last step: start the recursion from a carry the last c cancels.
  let keep = concat(ones_like(r[:T - 1]), zeros_like(r[:1]), axis = 0)
  let target = scan reverse t in T with g = zeros_like(r[0]) {
    r[t] + discount[t] * (exp_q[t] - keep[t] * c[t] * q_a[t] + keep[t] * c[t] * g)
  }
  target - pick(q_tm1, a_tm1)
}

/// V-trace (Espeholt et al., 2018; rlax.vtrace_td_error_and_advantage), rho = rho_tm1 ratios:
/// errors[t] = min(clip_rho, rho[t]) * td[t] + discount[t] * lambda * min(1, rho[t]) * errors[t+1];
/// q_estimate[t] = r[t] + discount[t] * (lambda * targets[t+1] + (1 - lambda) * v_tm1[t+1])
/// (v_t[T-1] at the end); returns (errors, min(clip_pg_rho, rho) * (q_estimate - v_tm1), q_estimate).
fn vtrace(v_tm1, v_t, r, discount, rho_tm1, lambda = 1.0,
          clip_rho_threshold = 1.0, clip_pg_rho_threshold = 1.0) = {
  let c = lambda * minimum(1.0, rho_tm1)
  let td = minimum(clip_rho_threshold, rho_tm1) * (r + discount * v_t - v_tm1)
  let errors = scan reverse t in len(r) with acc = zeros_like(r[0]) { td[t] + discount[t] * c[t] * acc }
  let targets = v_tm1 + errors
  let boot = concat(lambda * targets[1:] + (1 - lambda) * v_tm1[1:], v_t[len(v_t) - 1:], axis = 0)
  let q_estimate = r + discount * boot
  (errors, minimum(clip_pg_rho_threshold, rho_tm1) * (q_estimate - v_tm1), q_estimate)
}

/// Importance-corrected TD errors (rlax importance_corrected_td_errors), values = V(s_0..s_T):
/// e[t] = delta[t] + discount[t] * rho_tm1[t+1] * lambda[t] * e[t+1]; errors = rho_tm1 * e.
fn importance_corrected_td_errors(r, discount, rho_tm1, lambda, values) = {
  let delta = r + discount * values[1:] - values[:len(values) - 1]
  let rho_next = concat(rho_tm1[1:], ones_like(rho_tm1[:1]), axis = 0)
  let e = scan reverse t in len(r) with acc = zeros_like(r[0]) {
    delta[t] + discount[t] * rho_next[t] * lambda[t] * acc
  }
  rho_tm1 * e
}
