// `train 1 epochs 4 minibatches 4` with a loss on the whole rollout silently ignored
// minibatches
// expect: exit=1 code=E0018
algorithm hostile {
  env: discrete default "CartPole-v1"
  net pi(s: obs) = linear(s, env.num_actions)
  rollout R steps 8 of (s: obs, a: act, r: f32)
  policy sample(s) = categorical(pi(s))
  loss l(b ~ R) = -mean(categorical(pi(b.s)).log_prob(b.a) * b.r)
  update pi by adam(lr = 1e-3) on l
  schedule { act sample into R; train 1 epochs 4 minibatches 4 }
}
