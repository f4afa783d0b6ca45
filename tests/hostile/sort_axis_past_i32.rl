// argsort along an axis of 2^32 + 1 elements was an internal error (its positions are i32;
// found by the program fuzzer)
// expect: exit=1 code=E0005
// env: RLC_MEMORY_BUDGET=1T
import nets.{mlp}

algorithm hostile {
  env: discrete default "CartPole-v1"
  net q(s: obs) = mlp(s, [4], env.num_actions)
  replay D capacity 64 of (s: obs, a: act, r: f32, s2: obs, done: f32)
  policy greedy(s) = argmax(q(s))
  loss l(b ~ D.sample(4)) = mean(pick(q(b.s), b.a)) + sum(f32(argsort(rand([4294967297]))))
  update q by sgd(lr = 0.01) on l
  schedule { warmup 8; act greedy into D; train 1; eval greedy }
}
