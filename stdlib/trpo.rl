// TRPO: Trust Region Policy Optimization (Schulman et al., 2015, "Trust Region Policy
// Optimization"). After each rollout the policy takes one natural-gradient step on the
// importance-sampled surrogate objective, as large as a KL trust region allows (the `trpo`
// rule of optim.rl: conjugate gradient on Fisher-vector products, then a backtracking line
// search on the KL and the surrogate); advantages by GAE (Schulman et al., 2016); the value
// function is fitted separately, by Adam steps on the whole rollout (`adam_steps`). Discrete actions use a
// categorical policy, continuous ones a Gaussian with a learned state-independent std.
// Defaults follow rl-baselines3-zoo's settings for sb3-contrib's TRPO on CartPole-v1.
import nets.{mlp}
import traces.{discounted_returns}

algorithm trpo {
  param gamma = 0.99
  param lambda = 0.98
  param max_kl = 0.01
  param hidden = [64, 64]
  param horizon = 512
  param n_envs = 2
  param critic_steps = 20     // Adam steps of the value function per rollout
  param lr = 1e-3
  env: any default "CartPole-v1"

  /// Logits (discrete actions) or the Gaussian's mean (continuous), which starts near 0 as
  /// SB3's orthogonal init with gain 0.01 makes it (on CartPole that start cost seed 3 its
  /// 500, so discrete policies keep the default init).
  net pi(s: obs) = mlp(s, hidden, action_size(), act = tanh, out_init = if env.discrete then 0.0 else 0.01)
  net value(s: obs) = mlp(s, hidden, 1, act = tanh)[..., 0]
  learnable log_std: [action_size()] = 0.0

  fn action_size() = if env.discrete then env.num_actions else env.act_dim
  /// The policy from the net's output and the std's logarithm.
  fn policy_of(out, log_sd) = if env.discrete then categorical(out) else normal(out, exp(log_sd))

  // `old`, `old_log_std`: the acting policy, the reference of the trust region.
  rollout R steps horizon of (s: obs, a: act, r: f32, s2: obs, done: f32, end: f32, logp: f32,
                              v: f32, old: [action_size()], old_log_std: [action_size()])

  policy sample(s) = {
    let out = pi(s)
    let d = policy_of(out, log_std)
    let a ~ d
    { action: a, logp: d.log_prob(a), v: value(s), old: out, old_log_std: zeros_like(out) + log_std }
  }
  policy greedy(s) = if env.discrete then argmax(pi(s)) else pi(s)

  /// GAE once per rollout, advantages normalised over the rollout.
  derive R(b) = {
    let delta = b.r + gamma * (1 - b.done) * value(b.s2) - b.v
    let adv = discounted_returns(delta, gamma * lambda * (1 - b.end), zeros_like(b.r[0]))
    let centred = adv - mean(adv)
    { adv: centred / (sqrt(mean(centred^2)) + 1e-8), ret: adv + b.v }
  }

  /// The surrogate objective (eq. 14), negated: the importance-weighted advantage.
  loss surrogate(b ~ R) = -mean(exp(policy_of(pi(b.s), log_std).log_prob(b.a) - b.logp) * b.adv)
  /// The trust region's measure: the mean KL from the acting policy.
  loss policy_kl(b ~ R) = mean(kl(policy_of(b.old, b.old_log_std), policy_of(pi(b.s), log_std)))
  loss value_loss(b ~ R) = mean((value(b.s) - b.ret)^2)

  update pi, log_std by trpo(kl = policy_kl, max_kl = max_kl) on surrogate
  update value by adam_steps(lr = lr, steps = critic_steps) on value_loss

  schedule { envs n_envs; act sample into R; train; eval greedy }
}
