// N-step replay's stored windows checked from inside a program: the loss `violations` is 0
// exactly when every sampled window is well formed (mask a prefix of ones, rewards zero past
// it, no termination on Pendulum, s2 an observation). tests/opencl.rs runs it with the
// replay on the device.
import nets.{mlp}
algorithm nstep_check {
  env: continuous default "Pendulum-v1"
  net actor(s: obs) = env.act_high * tanh(mlp(s, [8], env.act_dim))
  learnable c = 0.0
  replay D capacity 1000 nstep 4 of (s: obs, a: act, r: f32[4], done: f32[4], mask: f32[4], s2: obs)
  policy act(s) = actor(s)
  loss violations(b ~ D.sample(64)) = {
    let m = b.mask
    let bad = sum(abs(1 - m[..., 0])) + sum(relu(m[..., 1:] - m[..., :-1])) + sum(abs(m * (1 - m)))
      + sum(abs(b.r * (1 - m))) + sum(relu(b.r)) + sum(abs(b.done))
      + sum(relu(abs(b.s2[..., 0]^2 + b.s2[..., 1]^2 - 1) - 1e-4))
    bad + 0.0 * c
  }
  loss actor_loss(b ~ D.sample(64)) = mean((actor(b.s) - b.a)^2)
  update c by sgd(lr = 0.1) on violations
  update actor by adam(lr = 1e-3) on actor_loss
  schedule { envs 3; warmup 300; act act into D; train 1 every 1 after 60; eval act }
}
