// ACKTR: actor-critic using Kronecker-factored trust region (Wu et al., 2017, "Scalable
// trust-region method for deep reinforcement learning using Kronecker-factored
// approximation"). A2C's synchronous n-step actor-critic loss, with the policy and the value
// function both updated by K-FAC's natural gradient (the `kfac` rule of optim.rl), scaled so
// the step's KL stays within `kl_clip`. The Fisher matrix is the curvature of the model's
// log-likelihood of its own samples: actions drawn from the policy, and for the critic, a
// unit-variance Gaussian around its output (as OpenAI Baselines' ACKTR). Baselines' settings
// (20 steps, lr 0.25 falling linearly to 0, momentum 0.9) with 32 environments, kl_clip 0.002
// and no entropy bonus, which CartPole-v1 needed (README).
import nets.{mlp}
import rollouts.{bootstrapped_returns}

algorithm acktr {
  param gamma = 0.99
  param n_steps = 20
  param n_envs = 32
  param hidden = [64, 64]
  param lr = 0.25
  param kl_clip = 0.002
  param vf_coef = 0.5
  param ent_coef = 0.0
  param vf_fisher_coef = 1.0
  param anneal = 200_000      // environment steps over which the learning rate falls to 0
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

  /// The sampled Fisher's log-likelihood: of actions the policy draws, and of a target drawn
  /// around the value (only its curvature matters).
  loss fisher(b ~ R) = {
    let d = categorical(pi(b.s))
    let a ~ d
    let v = value(b.s)
    mean(d.log_prob(a)) - vf_fisher_coef * mean((v - stop(v + randn_like(v)))^2)
  }

  // Baselines' linear learning-rate schedule.
  update pi, value by kfac(fisher = fisher, kl_clip = kl_clip,
                           lr = lr * maximum(1 - f32(step_count()) / anneal, 0.0)) on a2c_loss

  schedule { envs n_envs; act sample into R; train; eval greedy }
}
