// A2C: synchronous advantage actor-critic (Mnih et al., 2016, "Asynchronous Methods for Deep
// Reinforcement Learning", in the synchronous form of OpenAI Baselines): N environments step
// together, each rollout of n steps gives bootstrapped n-step returns, and one update follows
// the policy gradient with a learned baseline, a value loss and an entropy bonus.
import nets.{mlp}
import rollouts.{bootstrapped_returns}

algorithm a2c {
  param gamma = 0.99
  param n_steps = 8
  param n_envs = 8
  param hidden = [64, 64]
  param lr = 7e-4
  param vf_coef = 0.5
  param ent_coef = 0.0
  env: discrete default "CartPole-v1"

  net pi(s: obs) = mlp(s, hidden, env.num_actions, act = tanh)
  net value(s: obs) = mlp(s, hidden, 1, act = tanh)[..., 0]

  rollout R steps n_steps of (s: obs, a: act, r: f32, s2: obs, done: f32, end: f32)

  policy sample(s) = categorical(pi(s))
  policy greedy(s) = argmax(pi(s))

  loss a2c_loss(b ~ R) = {
    let d = categorical(pi(b.s))
    let v = value(b.s)
    let ret = stop(bootstrapped_returns(b.r, b.done, b.end, value(b.s2), gamma))
    let adv = stop(ret - v)
    -mean(d.log_prob(b.a) * adv) + vf_coef * mean((v - ret)^2) - ent_coef * mean(d.entropy())
  }

  update pi, value by rmsprop(lr = lr, alpha = 0.99, eps = 1e-5, clip_norm = 0.5) on a2c_loss

  schedule { envs n_envs; act sample into R; train 1; eval greedy }
}
