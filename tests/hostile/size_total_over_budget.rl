// two replays each under a 1 MiB budget, together over it
// expect: exit=1 code=E0028
// env: RLC_MEMORY_BUDGET=1M
import nets.{mlp}

algorithm hostile {
  param n_envs = 2
  param k = 1
  env: discrete default "CartPole-v1"
  net pi(s: obs) = mlp(s, [8], env.num_actions)
  replay D capacity 25000 of (s: obs, a: act, r: f32)
  replay E capacity 25000 of (s: obs, a: act, r: f32)
  rollout R steps 8 of (s: obs, a: act, r: f32)
  policy sample(s) = categorical(pi(s))
  loss l(b ~ R) = -mean(categorical(pi(b.s)).log_prob(b.a) * b.r) + mean(b.r)
  update pi by adam(lr = 1e-3) on l
  schedule { envs n_envs; act sample into R, D, E; train 1; eval sample }
}
