// Metrics in every place a program may log them, with values a test can predict.
import nets.{mlp}
import traces.{discounted_returns}

algorithm probe {
  env: discrete default "CartPole-v1"
  net pi(s: obs) = mlp(s, [8], env.num_actions)
  rollout R steps 8 of (s: obs, a: act, r: f32, logp: f32)

  policy sample(s) = {
    let d = categorical(pi(s))
    let a ~ d
    log acting_envs = sum(ones_like(s[..., 0]))
    { action: a, logp: d.log_prob(a) }
  }
  policy greedy(s) = argmax(pi(s))

  derive R(b) = {
    log rollout_reward = sum(b.r)
    { ret: discounted_returns(b.r, 0.9 * ones_like(b.r), zeros_like(b.r[0])) }
  }

  loss l(b ~ R.minibatch(16)) = {
    let logp = categorical(pi(b.s)).log_prob(b.a)
    log batch_size = sum(ones_like(b.r))
    log kl = mean(b.logp - logp)
    -mean(logp * b.ret)
  }
  update pi by adam(lr = 1e-3) on l

  schedule { envs 4; act sample into R; train epochs 2; eval greedy }
}
