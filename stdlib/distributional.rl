// Distributional value-learning operators, following rlax (checked against vectors recorded
// from rlax): the categorical projection and TD loss of C51 (Bellemare, Dabney and Munos,
// 2017, "A Distributional Perspective on Reinforcement Learning") and the quantile regression
// loss of QR-DQN (Dabney, Rowland, Bellemare and Munos, 2018, "Distributional Reinforcement
// Learning with Quantile Regression"). Atoms, probabilities and quantiles are the last axis;
// `categorical_l2_project` also takes leading batch axes (the same on all its arguments).

/// Projects the categorical distribution with atoms `z_p` and masses `probs` onto the support
/// `z_q` (sorted ascending) under the Cramér (L2 over CDFs) distance
/// (rlax.categorical_l2_project). Atoms outside [z_q[0], z_q[K-1]] are clipped to the ends;
/// each atom then splits its mass linearly between the two support atoms that bracket it:
/// probs_q[i] = sum_j clip(1 - h[i][j], 0, 1) * probs[j], with d[i][j] = zc[j] - z_q[i] and
/// h[i][j] = d[i][j] / (z_q[i+1] - z_q[i]) if d[i][j] >= 0 else -d[i][j] / (z_q[i] - z_q[i-1]).
/// No renormalisation, so sum(probs_q) = sum(probs). Batched: `z_p`, `probs` [.., Kp] and
/// `z_q` [.., K] with the same leading axes give [.., K], one projection per row.
fn categorical_l2_project(z_p, probs, z_q) = {
  let zc = clip(z_p, z_q[..., :1], z_q[..., -1:])
  // Reciprocal gaps to the next and the previous atom, 0 past either end and for repeated
  // atoms (rlax uses jnp.roll and zeroes the non-positive wrap-around gaps the same way).
  let gap = z_q[..., 1:] - z_q[..., :-1]
  let inv = where(gap > 0.0, 1.0 / gap, 0.0)
  let inv_pos = concat(inv, zeros_like(z_q[..., :1]), axis = -1)
  let inv_neg = concat(zeros_like(z_q[..., :1]), inv, axis = -1)
  // delta[.., i, j] = zc[.., j] - z_q[.., i]: rows are target atoms, columns source atoms.
  let delta = outer(ones_like(z_q), zc) - outer(z_q, ones_like(zc))
  let h = where(delta >= 0.0, delta * expand(inv_pos, -1), -delta * expand(inv_neg, -1))
  sum(clip(1.0 - h, 0.0, 1.0) * outer(ones_like(z_q), probs), axis = -1)
}

/// Categorical TD learning (rlax.categorical_td_learning): the cross-entropy between the
/// Bellman target r_t + discount_t * v_atoms_t, weighted by softmax(v_logits_t) and projected
/// onto v_atoms_tm1, and the predicted softmax(v_logits_tm1). No gradient flows into the
/// target. r_t and discount_t are scalars.
fn categorical_td_learning(v_atoms_tm1, v_logits_tm1, r_t, discount_t, v_atoms_t, v_logits_t) = {
  let target_z = r_t + discount_t * v_atoms_t
  let target = stop(categorical_l2_project(target_z, softmax(v_logits_t), v_atoms_tm1))
  -sum(target * log_softmax(v_logits_tm1))
}

/// The (Huber) quantile regression loss of QR-DQN (rlax.quantile_regression_loss) between
/// source quantiles `dist_src` at levels `tau_src` and target samples `dist_target`:
/// delta[i][j] = dist_target[j] - dist_src[i], weight = |tau_src[i] - 1{delta[i][j] < 0}|,
/// loss = sum_i mean_j weight * L(delta), L = |.| when huber_param = 0, else the Huber loss
/// with threshold huber_param (not divided by it, as in rlax; the same for huber_param = 1).
/// huber_param is a constant: it picks the loss when the graph is built.
fn quantile_regression_loss(dist_src, tau_src, dist_target, huber_param = 0.0) = {
  let delta = outer(ones_like(dist_src), dist_target) - outer(dist_src, ones_like(dist_target))
  let weight = abs(expand(tau_src, 1) - stop(where(delta < 0.0, 1.0, 0.0)))
  let l = if huber_param > 0.0 then huber(delta, huber_param) else abs(delta)
  sum(mean(weight * l, axis = -1))
}
