// the same index, clamped explicitly, is proven in range and runs
// expect: exit=0
// subcommand: run
// args: --steps 300 --eval-episodes 1 --quiet --out /tmp/rlc-hostile-index-run-ok
import nets.{mlp}

algorithm hostile {
  env: discrete default "CartPole-v1"
  net q(s: obs) = mlp(s, [8], env.num_actions)
  replay D capacity 1000 of (s: obs, a: act, r: f32, s2: obs, done: f32)
  policy greedy(s) = argmax(q(s))
  loss l(b ~ D.sample(16)) = mean(pick(q(b.s), clip(i32(b.r * 5.0), 0, 1))^2)
  update q by adam(lr = 1e-3) on l
  schedule { envs 1; warmup 100; act greedy into D; train 1 every 1 after 100; eval greedy }
}
