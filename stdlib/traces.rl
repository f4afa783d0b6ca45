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

/// General off-policy returns from Q and V (rlax.general_off_policy_returns_from_q_and_v);
/// q_t and c_t (length T-1) refer to the NEXT state-action, v_t and r, discount to all T steps:
/// G[T-1] = r[T-1] + discount[T-1] * v_t[T-1],
/// G[t] = r[t] + discount[t] * (v_t[t] - c_t[t] * q_t[t] + c_t[t] * G[t+1]).
fn general_off_policy_returns_from_q_and_v(q_t, v_t, r, discount, c_t) = {
  // A zero trace pads the T-1 arrays, so the last step bootstraps from v_t alone.
  let c = concat(c_t, zeros_like(r[:1]), axis = 0)
  let q = concat(q_t, zeros_like(r[:1]), axis = 0)
  scan reverse t in len(r) with g = zeros_like(r[0]) {
    r[t] + discount[t] * (v_t[t] - c[t] * q[t] + c[t] * g)
  }
}

/// General off-policy returns from action values
/// (rlax.general_off_policy_returns_from_action_values), all arrays indexed by the step t
/// leading to s_{t+1}: q_t, pi_t = Q and pi at s_{t+1}, a_t = the behaviour action there,
/// c_t = its trace coefficient; the expected value sum_a pi_t q_t is the bootstrap, and
/// a_t[T-1], c_t[T-1] are not used. The choice of c_t gives the algorithm: pi/mu importance
/// sampling, lambda Harutyunyan's Q(lambda), pi(a_t) Precup's Tree-Backup,
/// lambda * min(1, pi/mu) Retrace.
fn general_off_policy_returns_from_action_values(q_t, a_t, r, discount, c_t, pi_t) = {
  let T = len(r)
  let exp_q = sum(pi_t * q_t, axis = -1)
  general_off_policy_returns_from_q_and_v(pick(q_t, a_t)[:T - 1], exp_q, r, discount, c_t[:T - 1])
}

/// Tree-Backup returns (Precup et al., 2000): general off-policy returns with the trace
/// c_t = pi_t(a_t), which needs no behaviour probabilities.
fn tree_backup_returns(q_t, a_t, r, discount, pi_t) =
  general_off_policy_returns_from_action_values(q_t, a_t, r, discount, pick(pi_t, a_t), pi_t)

/// Retrace with log importance ratios (Munos et al., 2016; rlax.retrace_continuous); q_t and
/// log_rhos (length T-1) refer to the NEXT state-action: c[t] = lambda * min(1, exp(log_rhos[t]));
/// targets = general off-policy returns from (q_t, v_t). Returns (targets, targets - q_tm1).
fn retrace(q_tm1, q_t, v_t, r, discount, log_rhos, lambda) = {
  let targets = general_off_policy_returns_from_q_and_v(q_t, v_t, r, discount,
                                                        lambda * minimum(1.0, exp(log_rhos)))
  (targets, targets - q_tm1)
}

/// Retrace for discrete actions (rlax.retrace); returns the errors target - q_tm1[a_tm1],
/// target = general off-policy returns from action values with
/// c[t] = lambda * min(1, pi_t[t][a_t[t]] / (mu_t[t] + eps)).
fn retrace_discrete(q_tm1, q_t, a_tm1, a_t, r, discount, pi_t, mu_t, lambda, eps = 1e-8) = {
  let c = lambda * minimum(1.0, pick(pi_t, a_t) / (mu_t + eps))
  general_off_policy_returns_from_action_values(q_t, a_t, r, discount, c, pi_t) - pick(q_tm1, a_tm1)
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

/// TD(lambda) errors (Sutton, 1988; rlax.td_lambda), v_tm1 = V(s_t), v_t = V(s_{t+1}):
/// lambda-returns of (r, discount, v_t) minus v_tm1; no gradient flows into the returns.
fn td_lambda(v_tm1, r, discount, v_t, lambda) =
  stop(lambda_returns(r, discount, v_t, lambda)) - v_tm1

/// SARSA(lambda) errors (rlax.sarsa_lambda): lambda-returns bootstrapping from
/// q_t[t][a_t[t]], the value of the next action taken, minus q_tm1[t][a_tm1[t]].
fn sarsa_lambda(q_tm1, a_tm1, r, discount, q_t, a_t, lambda) =
  stop(lambda_returns(r, discount, pick(q_t, a_t), lambda)) - pick(q_tm1, a_tm1)

/// Peng's Q(lambda) errors (Peng and Williams, 1996; rlax.q_lambda with a scalar lambda):
/// lambda-returns bootstrapping from max_a q_t[t][a] minus q_tm1[t][a_tm1[t]]; traces are
/// not cut after non-greedy actions.
fn q_lambda(q_tm1, a_tm1, r, discount, q_t, lambda) =
  stop(lambda_returns(r, discount, max(q_t, axis = -1), lambda)) - pick(q_tm1, a_tm1)

/// The value rescaling h of R2D2 (Kapturowski et al., 2019; rlax.signed_hyperbolic):
/// h(x) = sign(x) * (sqrt(|x| + 1) - 1) + eps * x.
fn signed_hyperbolic(x, eps = 1e-3) = sign(x) * (sqrt(abs(x) + 1.0) - 1.0) + eps * x

/// The inverse of `signed_hyperbolic` (rlax.signed_parabolic): sign(x) * (z^2 - 1) with
/// z = sqrt(1 + 4 eps (eps + 1 + |x|)) / (2 eps) - 1 / (2 eps). z is computed as
/// 2 (eps + 1 + |x|) / (sqrt(...) + 1), the same number without subtracting 1 / (2 eps) = 500,
/// which would cost three digits (too many in f32).
fn signed_parabolic(x, eps = 1e-3) = {
  let a = eps + 1.0 + abs(x)
  let z = 2.0 * a / (sqrt(1.0 + 4.0 * eps * a) + 1.0)
  sign(x) * (square(z) - 1.0)
}

/// Transformed n-step Q-learning errors (R2D2, Kapturowski et al., 2019;
/// rlax.transformed_n_step_q_learning with the signed hyperbolic pair): Q-values live in the
/// rescaled space, so the bootstrap target_q_t[t][a_t[t]] is mapped back with h^-1, the
/// n-step returns are taken in the original space and rescaled with h; a_t is the bootstrap
/// action (greedy on the target net, or on the online net for double Q-learning).
fn transformed_n_step_q_learning(q_tm1, a_tm1, target_q_t, a_t, r, discount, n, eps = 1e-3) = {
  let v_t = signed_parabolic(pick(target_q_t, a_t), eps)
  stop(signed_hyperbolic(n_step_returns(r, discount, v_t, n), eps)) - pick(q_tm1, a_tm1)
}
