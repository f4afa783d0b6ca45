// a metric logged inside a scan body (computed once per step, not once per call)
// expect: exit=1 code=E0031
import nets.{mlp}

algorithm hostile {
  env: discrete default "CartPole-v1"
  net pi(s: obs) = mlp(s, [8], env.num_actions)
  rollout R steps 16 of (s: obs, a: act, r: f32, done: f32)
  policy sample(s) = categorical(pi(s))
  loss l(b ~ R) = {
    let g = scan reverse t in 16 with acc = zeros_like(b.r[0]) {
      log step_reward = mean(b.r[t])
      b.r[t] + 0.99 * acc
    }
    -mean(categorical(pi(b.s[0])).log_prob(b.a[0]) * g)
  }
  update pi by adam(lr = 1e-3) on l
  schedule { envs 2; act sample into R; train 1; eval sample }
}
