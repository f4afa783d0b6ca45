// Proximal Policy Optimization (Schulman et al., 2017, "Proximal Policy Optimization
// Algorithms"): the clipped surrogate objective, advantages by GAE (Schulman et al., 2016),
// a value loss and an entropy bonus, over several epochs of shuffled minibatches of each
// rollout. Defaults follow rl-baselines3-zoo's CartPole-v1 settings.
import nets.{mlp}
import traces.{discounted_returns}

/// The variance of all elements of `x`.
fn variance(x) = mean((x - mean(x))^2)

algorithm ppo {
  param gamma = 0.98
  param lambda = 0.8
  param clip_range = 0.2
  param vf_coef = 0.5
  param ent_coef = 0.0
  param lr = 1e-3
  param hidden = [64, 64]
  param horizon = 32
  param n_envs = 8
  param minibatch = 64
  param epochs = 20
  env: discrete default "CartPole-v1"

  net pi(s: obs) = mlp(s, hidden, env.num_actions, act = tanh)
  net value(s: obs) = mlp(s, hidden, 1, act = tanh)[..., 0]

  rollout R steps horizon of (s: obs, a: act, r: f32, s2: obs, done: f32, end: f32, logp: f32, v: f32)

  policy sample(s) = {
    let d = categorical(pi(s))
    let a ~ d
    { action: a, logp: d.log_prob(a), v: value(s) }
  }
  policy greedy(s) = argmax(pi(s))

  /// GAE once per rollout: delta = r + gamma (1 - done) V(s2) - V(s), accumulated backwards
  /// with gamma * lambda and cut where an episode ends (time limits bootstrap through V(s2)).
  derive R(b) = {
    let delta = b.r + gamma * (1 - b.done) * value(b.s2) - b.v
    let adv = discounted_returns(delta, gamma * lambda * (1 - b.end), zeros_like(b.r[0]))
    let ret = adv + b.v
    // How much of the returns' variance the value function explains (1: all, <= 0: none),
    // as Stable-Baselines3 logs it; a constant return (variance 0) explains nothing.
    log explained_variance = 1 - variance(adv) / maximum(variance(ret), 1e-8)
    { adv: adv, ret: ret }
  }

  loss ppo_loss(b ~ R.minibatch(minibatch)) = {
    let d = categorical(pi(b.s))
    let centred = b.adv - mean(b.adv)
    let adv = centred / (sqrt(mean(centred^2)) + 1e-8)
    let log_ratio = d.log_prob(b.a) - b.logp
    let ratio = exp(log_ratio)
    // Diagnostics the PPO implementations log (Schulman's approximate KL, k3 estimator).
    log approx_kl = mean(ratio - 1 - log_ratio)
    log clip_fraction = mean(f32(abs(ratio - 1) > clip_range))
    log entropy = mean(d.entropy())
    let surrogate = minimum(ratio * adv, clip(ratio, 1 - clip_range, 1 + clip_range) * adv)
    -mean(surrogate) + vf_coef * mean((value(b.s) - b.ret)^2) - ent_coef * entropy
  }

  update pi, value by adam(lr = lr, clip_norm = 0.5) on ppo_loss

  schedule { envs n_envs; act sample into R; train epochs epochs; eval greedy }
}
