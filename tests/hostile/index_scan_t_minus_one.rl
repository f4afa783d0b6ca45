// [5, 6, 7][t - 1] reads index -1 at t = 0 (it clamped to element 0)
// expect: exit=1 code=E0017
fn f(x) = scan t in 3 with c = 0.0 { c + x[t - 1] }

algorithm hostile {
  env: discrete default "CartPole-v1"
  net pi(s: obs) = linear(s, env.num_actions)
  rollout R steps 8 of (s: obs, a: act, r: f32)
  policy sample(s) = categorical(pi(s))
  loss l(b ~ R) = -mean(categorical(pi(b.s)).log_prob(b.a) * b.r) + mean(f([5.0, 6.0, 7.0]))
  update pi by adam(lr = 1e-3) on l
  schedule { act sample into R; train }
}
