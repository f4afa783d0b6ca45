// `epochs` on replay sampling was ignored
// expect: exit=1 code=E0018
algorithm hostile {
  env: discrete default "CartPole-v1"
  net q(s: obs) = linear(s, env.num_actions)
  replay D capacity 100 of (s: obs, a: act, r: f32)
  policy greedy(s) = argmax(q(s))
  loss l(b ~ D.sample(8)) = mean((pick(q(b.s), b.a) - b.r)^2)
  update q by adam(lr = 1e-3) on l
  schedule { act greedy into D; train 1 every 1 epochs 4 }
}
