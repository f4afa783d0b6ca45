// a metric that is a whole batch, not a scalar
// expect: exit=1 code=E0031
import nets.{mlp}

algorithm hostile {
  env: discrete default "CartPole-v1"
  net q(s: obs) = mlp(s, [8], env.num_actions)
  replay D capacity 64 of (s: obs, a: act, r: f32, s2: obs, done: f32)
  policy greedy(s) = argmax(q(s))
  loss l(b ~ D.sample(4)) = {
    log q_values = q(b.s)
    mean((pick(q(b.s), b.a) - b.r)^2)
  }
  update q by sgd(lr = 0.01) on l
  schedule { warmup 8; act greedy into D; train 1; eval greedy }
}
