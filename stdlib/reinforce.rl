// REINFORCE with a learned baseline (Williams, 1992; Sutton & Barto, 2018, section 13.4).
// Monte-Carlo returns inside each episode; where a rollout cuts an episode (or the time
// limit truncates it) the return is bootstrapped from the learned value, so long episodes
// need not be collected whole.
import nets.{mlp}
import rollouts.{bootstrapped_returns}

algorithm reinforce {
  param gamma = 0.99
  param hidden = [64, 64]
  param lr = 1e-3
  param lr_value = 3e-3
  param horizon = 128          // rollout length per environment
  param n_envs = 8
  param entropy_coef = 0.01
  env: discrete default "CartPole-v1"

  net pi(s: obs) = mlp(s, hidden, env.num_actions)
  net value(s: obs) = mlp(s, hidden, 1)[..., 0]

  rollout R steps horizon of (s: obs, a: act, r: f32, s2: obs, done: f32, end: f32)

  policy sample(s) = categorical(pi(s))
  policy greedy(s) = argmax(pi(s))

  fn returns(b) = bootstrapped_returns(b.r, b.done, b.end, stop(value(b.s2)), gamma)

  loss policy_loss(b ~ R) = {
    let d = categorical(pi(b.s))
    let adv = stop(returns(b) - value(b.s))
    -mean(d.log_prob(b.a) * adv + entropy_coef * d.entropy())
  }
  loss value_loss(b ~ R) = mean((value(b.s) - stop(returns(b)))^2)

  update pi by adam(lr = lr) on policy_loss
  update value by adam(lr = lr_value) on value_loss

  schedule { envs n_envs; act sample into R; train 1; eval greedy }
}
