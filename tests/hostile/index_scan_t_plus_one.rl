// values[t + 1] with T values in a scan over T steps was clamped silently (GAE bootstrapped
// from the wrong value)
// expect: exit=1 code=E0017
import traces.{gae}

algorithm hostile {
  param n_envs = 2
  env: discrete default "CartPole-v1"
  net pi(s: obs) = linear(s, env.num_actions)
  rollout R steps 8 of (s: obs, a: act, r: f32, done: f32)
  policy sample(s) = categorical(pi(s))
  loss l(b ~ R) = -mean(categorical(pi(b.s)).log_prob(b.a) * gae(b.r, 0.99 * (1 - b.done), b.r, 0.95))
  update pi by adam(lr = 1e-3) on l
  schedule { envs n_envs; act sample into R; train }
}
