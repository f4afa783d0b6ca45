// a scan over time applied to a rollout's shuffled minibatch (returns across unrelated steps)
// expect: exit=1 code=E0029
import nets.{mlp}
import traces.{discounted_returns}

algorithm hostile {
  env: discrete default "CartPole-v1"
  net pi(s: obs) = mlp(s, [8], env.num_actions)
  rollout R steps 16 of (s: obs, a: act, r: f32, done: f32)
  policy sample(s) = categorical(pi(s))
  loss l(b ~ R.minibatch(8)) = {
    let g = discounted_returns(b.r, 0.99 * (1 - b.done), 0.0)
    -mean(categorical(pi(b.s)).log_prob(b.a) * g)
  }
  update pi by adam(lr = 1e-3) on l
  schedule { envs 2; act sample into R; train 1 epochs 2; eval sample }
}
