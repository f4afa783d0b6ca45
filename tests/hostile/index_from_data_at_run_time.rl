// an index computed from data leaves its axis while training: exit 3, located at the index
// expect: exit=3 code=E0017
// subcommand: run
// args: --steps 300 --eval-episodes 1 --quiet --out /tmp/rlc-hostile-index-run
import nets.{mlp}

algorithm hostile {
  env: discrete default "CartPole-v1"
  net q(s: obs) = mlp(s, [8], env.num_actions)
  replay D capacity 1000 of (s: obs, a: act, r: f32, s2: obs, done: f32)
  policy greedy(s) = argmax(q(s))
  // CartPole's reward is 1, so the index is 5: outside the 2 actions.
  loss l(b ~ D.sample(16)) = mean(pick(q(b.s), i32(b.r * 5.0))^2)
  update q by adam(lr = 1e-3) on l
  schedule { envs 1; warmup 100; act greedy into D; train 1 every 1 after 100; eval greedy }
}
