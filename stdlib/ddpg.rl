// Deep Deterministic Policy Gradient (Lillicrap et al., 2016), with the common modern
// defaults (Fujimoto et al., 2018, "OurDDPG"): 256-256 networks, Adam at 1e-3, batch 256,
// Gaussian exploration noise, soft target updates, uniform random actions at the start.
import nets.{mlp}

algorithm ddpg {
  param gamma = 0.99
  param tau = 0.005
  param batch = 256
  param hidden = [256, 256]
  param lr_actor = 1e-3
  param lr_critic = 1e-3
  param noise = 0.1            // exploration noise, as a fraction of the action bound
  param buffer = 1_000_000
  param learning_starts = 1000
  env: continuous default "Pendulum-v1"

  net actor(s: obs) = env.act_high * tanh(mlp(s, hidden, env.act_dim))
  net critic(s: obs, a: act) = mlp(concat(s, a), hidden, 1)[..., 0]
  target actor_t = polyak(actor, tau)
  target critic_t = polyak(critic, tau)

  replay D capacity buffer of (s: obs, a: act, r: f32, s2: obs, done: f32)

  policy explore(s) = {
    let a = actor(s)
    clip(a + noise * env.act_high * randn_like(a), -env.act_high, env.act_high)
  }
  policy greedy(s) = actor(s)

  /// TD target from the target networks; `done` is termination only (a time limit bootstraps).
  loss critic_loss(b ~ D.sample(batch)) = {
    let y = stop(b.r + gamma * (1 - b.done) * critic_t(b.s2, actor_t(b.s2)))
    let q = critic(b.s, b.a)
    log q_mean = mean(q)   // the critic's value of the replayed actions
    mean((q - y)^2)
  }
  /// Deterministic policy gradient: ascend Q(s, actor(s)); only the actor is updated by it.
  loss actor_loss(b ~ D.sample(batch)) = -mean(critic(b.s, actor(b.s)))

  update critic by adam(lr = lr_critic) on critic_loss
  update actor by adam(lr = lr_actor) on actor_loss

  schedule { envs 1; warmup learning_starts; act explore into D; train 1 every 1 after learning_starts; eval greedy }
}
