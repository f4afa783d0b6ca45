// A test fixture, not an algorithm: a DQN whose loss and policy use every builtin built on a
// routine or a gather (argsort, top_k, take_along, solve, matmul, lower_triangular), so these
// paths -- values and gradients -- are run end to end by every backend.
import nets.{mlp}

algorithm routines {
  param gamma = 0.99
  param batch = 8
  param hidden = [16]
  param k = 2
  env: discrete default "CartPole-v1"

  net q(s: obs) = mlp(s, hidden, env.num_actions)
  replay D capacity 1000 of (s: obs, a: act, r: f32, s2: obs, done: f32)

  // Greedy through the sorting path: the first of the top-1 actions.
  policy greedy(s) = top_k(q(s), 1)[..., 0]
  policy lowest(s) = argsort(q(s))[..., 0]

  loss td(b ~ D.sample(batch)) = {
    let qs = q(b.s)
    // The mean of the k best next-state values, gathered by their positions.
    let q2 = stop(q(b.s2))
    let best = take_along(q2, top_k(q2, k))
    let y = stop(b.r + gamma * (1 - b.done) * mean(best, -1))
    // Rank the batch's TD errors and weight the larger half more (a differentiable gather).
    let err = pick(qs, b.a) - y
    let order = argsort(err, 0, descending = true)
    let sorted = take_along(err, order)
    // A small linear solve, differentiated in both operands.
    let v = mean(qs, 0)
    let m = outer(v, v) + 2.0 * one_hot(range(env.num_actions), env.num_actions)
    // NAF-style: lower-triangular factors from a vector per sample, and batched products.
    let lt = lower_triangular(concat(qs, qs[..., 0:1], axis = -1))
    let lp = matmul(lt, lt)
    let tri = mean(lp) + mean(matmul(lt, expand(qs, -1)))
    mean(sorted^2) + 0.1 * mean(take_along(qs, top_k(qs, k, -1), -1)) + 0.01 * sum(solve(m, v)) + 0.01 * tri
  }

  update q by adam(lr = 1e-3) on td
  schedule { warmup 16; act greedy into D; train 1; eval greedy }
}
