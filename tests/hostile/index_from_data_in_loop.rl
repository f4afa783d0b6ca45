// an index computed from data inside a scan cannot be checked there: a located compile error
// expect: exit=1 code=E0017
import nets.{mlp}

algorithm hostile {
  param n_envs = 2
  env: discrete default "CartPole-v1"
  net pi(s: obs) = mlp(s, [8], env.num_actions)
  rollout R steps 8 of (s: obs, a: act, r: f32)
  policy sample(s) = categorical(pi(s))
  fn odd(r) = scan t in len(r) with acc = 0.0 { acc + r[i32(r[t] * 3.0)] }
  loss l(b ~ R) = -mean(categorical(pi(b.s)).log_prob(b.a) * b.r) + odd(b.r[:, 0])
  update pi by adam(lr = 1e-3) on l
  schedule { envs n_envs; act sample into R; train 1; eval sample }
}
