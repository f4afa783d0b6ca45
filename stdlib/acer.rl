// ACER for discrete actions (Wang et al., 2017, "Sample Efficient Actor-Critic with
// Experience Replay"): Retrace targets Q^ret over sequences from replay, truncated
// importance sampling with bias correction, an average policy network, and the
// trust-region projection of the policy gradient onto the policy's logits.
import nets.{mlp}

algorithm acer {
  param gamma = 0.99
  param lambda = 1.0            // Retrace's c_t = lambda * min(1, rho_t)
  param clip_rho = 10.0         // truncation c of the importance weights
  param delta = 1.0             // trust-region radius
  param avg_rate = 0.01         // the average policy moves this far towards pi per step
  param entropy_coef = 0.01
  param hidden = [64, 64]
  param lr = 7e-4
  param seq_len = 20
  param batch = 16
  param n_envs = 4
  param buffer = 5000           // sequences
  param replay_ratio = 4
  env: discrete default "CartPole-v1"

  net pi(s: obs) = mlp(s, hidden, env.num_actions)
  net q(s: obs) = mlp(s, hidden, env.num_actions)
  target pi_avg = polyak(pi, avg_rate)

  sequence replay D capacity buffer length seq_len of
    (s: obs, a: act, r: f32, s2: obs, done: f32, end: f32, mu: [env.num_actions])

  policy behave(s) = {
    let d = categorical(pi(s))
    { action: sample(d), mu: d.probs }
  }
  policy greedy(s) = argmax(pi(s))

  /// Q^ret (the paper's Algorithm 2): Q^ret[t] = r[t] + gamma (1 - done[t]) *
  /// (V(s2[t]) at a cut, else c[t+1] (Q^ret[t+1] - Q[t+1]) + V[t+1]), c = lambda min(1, rho).
  fn q_retrace(b, qs, probs) = {
    let q_a = pick(qs, b.a)
    let v = sum(probs * qs, axis = -1)
    let v2 = stop(sum(softmax(pi(b.s2)) * q(b.s2), axis = -1))
    let c = lambda * minimum(1.0, pick(probs, b.a) / pick(b.mu, b.a))
    let cut = concat(b.end[:seq_len - 1], ones_like(b.end[:1]), axis = 0)
    scan reverse t in seq_len with g = zeros_like(b.r[0]) {
      // The last step is always a cut, so its t + 1 terms are multiplied by 0: clip them.
      let u = clip(t + 1, 0, seq_len - 1)
      let next = cut[t] * v2[t] + (1 - cut[t]) * (c[u] * (g - q_a[u]) + v[u])
      b.r[t] + gamma * (1 - b.done[t]) * next
    }
  }

  loss q_loss(b ~ D.sample(batch)) = {
    let qs = q(b.s)
    let target = q_retrace(b, stop(qs), stop(softmax(pi(b.s))))
    0.5 * mean((pick(qs, b.a) - target)^2)
  }

  loss policy_loss(b ~ D.sample(batch)) = {
    let f = pi(b.s)                                   // the statistics the trust region acts on
    let logp = log_softmax(f)
    let p = stop(exp(logp))
    let qs = stop(q(b.s))
    let v = sum(p * qs, axis = -1)
    let adv = stop(q_retrace(b, qs, p) - v)
    let rho = p / (b.mu + 1e-8)
    // Truncated importance sampling plus the bias correction over all actions.
    let taken = minimum(clip_rho, pick(rho, b.a)) * pick(logp, b.a) * adv
    let correction = stop(maximum(0.0, 1 - clip_rho / (rho + 1e-8)) * p * (qs - expand(v, -1)))
    let objective = sum(taken + sum(correction * logp, axis = -1) - entropy_coef * sum(exp(logp) * logp, axis = -1))
    // Trust region: project the gradient so the step stays close to the average policy.
    let g = grad(objective, f)
    let k = grad(sum(kl(categorical(pi_avg(b.s)), categorical(f))), f)
    let shrink = maximum(0.0, (sum(k * g, axis = -1) - delta) / (sum(k * k, axis = -1) + 1e-8))
    let z = g - expand(shrink, -1) * k
    -sum(stop(z) * f) / (seq_len * batch)
  }

  update q by adam(lr = lr, clip_norm = 40.0) on q_loss
  update pi by adam(lr = lr, clip_norm = 40.0) on policy_loss

  schedule { envs n_envs; act behave into D; train replay_ratio every seq_len; eval greedy }
}
