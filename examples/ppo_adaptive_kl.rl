// PPO with an adaptive KL penalty, the second objective of Schulman et al. (2017), "Proximal
// Policy Optimization Algorithms", section 4: the surrogate r(θ)·Â minus β·KL[π_old, π_θ],
// where β is not learned but adapted after each policy update — halved when the KL came out
// below d_targ / 1.5, doubled above d_targ · 1.5. β is program state: `state` declares it and
// `set` changes it, so it lives in the checkpoint and the REPL's `:params`. stdlib/ppo.rl with
// the clipped objective replaced.
import nets.{mlp}
import traces.{discounted_returns}

algorithm ppo_adaptive_kl {
  param gamma = 0.98
  param lambda = 0.8
  param kl_target = 0.01       // d_targ
  param vf_coef = 0.5
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

  state beta = 1.0             // the penalty coefficient (the paper's initial value)
  state kl: f32 = 0.0          // KL of the latest minibatch step
  state updated_at: i32 = -1   // environment step of the rollout being trained on

  policy sample(s) = {
    let d = categorical(pi(s))
    let a ~ d
    { action: a, logp: d.log_prob(a), v: value(s) }
  }
  policy greedy(s) = argmax(pi(s))

  derive R(b) = {
    let delta = b.r + gamma * (1 - b.done) * value(b.s2) - b.v
    let adv = discounted_returns(delta, gamma * lambda * (1 - b.end), zeros_like(b.r[0]))
    { adv: adv, ret: adv + b.v }
  }

  loss ppo_kl(b ~ R.minibatch(minibatch)) = {
    let d = categorical(pi(b.s))
    let centred = b.adv - mean(b.adv)
    let adv = centred / (sqrt(mean(centred^2)) + 1e-8)
    let log_ratio = d.log_prob(b.a) - b.logp
    let ratio = exp(log_ratio)
    // KL[π_old, π_θ] from the stored actions: E_old[r - 1 - log r] (non-negative, unbiased).
    let kl_now = mean(ratio - 1 - log_ratio)
    // The first minibatch of a new rollout: the previous update is over, so adapt β to the
    // KL it ended with.
    let new_update = step_count() != updated_at
    let adapted = if kl < kl_target / 1.5 then beta / 2 else if kl > kl_target * 1.5 then beta * 2 else beta
    set beta = if new_update then clip(adapted, 1e-4, 1e4) else beta
    set kl = stop(kl_now)
    set updated_at = step_count()
    -mean(ratio * adv) + beta * kl_now + vf_coef * mean((value(b.s) - b.ret)^2)
  }

  update pi, value by adam(lr = lr, clip_norm = 0.5) on ppo_kl

  schedule { envs n_envs; act sample into R; train epochs epochs; eval greedy }
}
