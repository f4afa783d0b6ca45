// TD3 (Fujimoto et al., 2018, "Addressing Function Approximation Error in Actor-Critic
// Methods"): DDPG with twin critics and the smaller of their targets, target policy
// smoothing (clipped noise on the target action), and actor and target updates delayed to
// every second critic update.
import nets.{mlp}

algorithm td3 {
  param gamma = 0.99
  param tau = 0.005
  param batch = 256
  param hidden = [256, 256]
  param lr = 1e-3
  param noise = 0.1
  param target_noise = 0.2     // (2) smoothing noise and its clip, as fractions of the bound
  param noise_clip = 0.5
  param learning_starts = 1000
  env: continuous default "Pendulum-v1"

  net actor(s: obs) = env.act_high * tanh(mlp(s, hidden, env.act_dim))
  net q1(s: obs, a: act) = mlp(concat(s, a), hidden, 1)[..., 0]
  net q2(s: obs, a: act) = mlp(concat(s, a), hidden, 1)[..., 0]      // (1)
  target actor_t = polyak(actor, tau)
  target q1_t = polyak(q1, tau)
  target q2_t = polyak(q2, tau)

  replay D capacity 1_000_000 of (s: obs, a: act, r: f32, s2: obs, done: f32)

  policy explore(s) = {
    let a = actor(s)
    clip(a + noise * env.act_high * randn_like(a), -env.act_high, env.act_high)
  }
  policy greedy(s) = actor(s)

  loss critic_loss(b ~ D.sample(batch)) = {
    let a2 = actor_t(b.s2)
    let eps = clip(target_noise * randn_like(a2), -noise_clip, noise_clip) * env.act_high   // (2)
    let a2s = clip(a2 + eps, -env.act_high, env.act_high)
    let y = stop(b.r + gamma * (1 - b.done) * minimum(q1_t(b.s2, a2s), q2_t(b.s2, a2s)))  // (1)
    mean((q1(b.s, b.a) - y)^2) + mean((q2(b.s, b.a) - y)^2)
  }
  loss actor_loss(b ~ D.sample(batch)) = -mean(q1(b.s, actor(b.s)))

  update q1, q2 by adam(lr = lr) on critic_loss
  update actor by adam(lr = lr) on actor_loss every 2                                        // (3)

  schedule { envs 1; warmup learning_starts; act explore into D; train 1 every 1 after learning_starts; eval greedy }
}
