// escapes inside a string literal that the message quotes
// expect: exit=1 code=E0006
import nets.{mlp}

algorithm hostile {
  param n_envs = 2
  param k = 1
  env: discrete default "CartPole-v1"
  net pi(s: obs) = mlp(s, [8], env.num_actions)
  rollout R steps 8 of (s: obs, a: act, r: f32)
  policy sample(s) = categorical(pi(s))
  loss l(b ~ R) = -mean(categorical(pi(b.s)).log_prob(b.a) * b.r) + mean(b.r * "[31mzz")
  update pi by adam(lr = 1e-3) on l
  schedule { envs n_envs; act sample into R; train 1; eval sample }
}
