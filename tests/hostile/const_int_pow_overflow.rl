// 2 ^ 5000 overflows i64 and was left to run in f32, where it is infinite
// expect: exit=1 code=E0027
import nets.{mlp}

algorithm hostile {
  param n_envs = 2
  param k = 1
  env: discrete default "CartPole-v1"
  net pi(s: obs) = mlp(s, [8], env.num_actions)
  rollout R steps 8 of (s: obs, a: act, r: f32)
  policy sample(s) = categorical(pi(s))
  loss l(b ~ R) = -mean(categorical(pi(b.s)).log_prob(b.a) * b.r) + mean(b.r * 2 ^ 5000)
  update pi by adam(lr = 1e-3) on l
  schedule { envs n_envs; act sample into R; train 1; eval sample }
}
