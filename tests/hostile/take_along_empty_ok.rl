// take_along over tensors with no elements (x of [0, 5]) was an internal error (found by the
// program fuzzer): the result is simply empty; so is a gather along an empty axis by empty
// positions (x of [3, 0])
// expect: exit=0
import nets.{mlp}

algorithm hostile {
  env: discrete default "CartPole-v1"
  net q(s: obs) = mlp(s, [4], env.num_actions)
  replay D capacity 64 of (s: obs, a: act, r: f32, s2: obs, done: f32)
  policy greedy(s) = argmax(q(s))
  loss l(b ~ D.sample(4)) = {
    let x = ones([0, 5]) * b.r[0]
    let y = ones([3, 0]) * b.r[0]
    mean(pick(q(b.s), b.a)) + sum(take_along(x, argsort(x, axis = -1), axis = -1))
      + sum(take_along(y, argsort(y)))
  }
  update q by sgd(lr = 0.01) on l
  schedule { warmup 8; act greedy into D; train 1; eval greedy }
}
