// an explicitly clipped t + 1 is proven in bounds: accepted
// expect: exit=0
fn f(x) = scan t in 3 with c = 0.0 { c + x[clip(t + 1, 0, 2)] }

algorithm hostile {
  env: discrete default "CartPole-v1"
  net pi(s: obs) = linear(s, env.num_actions)
  rollout R steps 8 of (s: obs, a: act, r: f32)
  policy sample(s) = categorical(pi(s))
  loss l(b ~ R) = -mean(categorical(pi(b.s)).log_prob(b.a) * b.r) + mean(f([5.0, 6.0, 7.0]))
  update pi by adam(lr = 1e-3) on l
  schedule { act sample into R; train }
}
