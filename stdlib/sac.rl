// Soft Actor-Critic (Haarnoja et al., 2018, "Soft Actor-Critic Algorithms and
// Applications"): a tanh-squashed Gaussian policy, twin Q networks with soft target
// updates, and automatic tuning of the temperature alpha towards a target entropy.
import nets.{mlp}
import dists.{squashed_head}

algorithm sac {
  param gamma = 0.99
  param tau = 0.005
  param batch = 256
  param hidden = [256, 256]
  param lr = 3e-4
  param buffer = 1_000_000
  param learning_starts = 1000
  param target_entropy = -env.act_dim
  env: continuous default "Pendulum-v1"

  // The policy acts in [-1, 1]^n; actions are scaled to the box outside it.
  net pi(s: obs) = squashed_head(mlp(s, hidden, 2 * env.act_dim), env.act_dim)
  net q1(s: obs, a: act) = mlp(concat(s, a), hidden, 1)[..., 0]
  net q2(s: obs, a: act) = mlp(concat(s, a), hidden, 1)[..., 0]
  target q1_t = polyak(q1, tau)
  target q2_t = polyak(q2, tau)
  learnable log_alpha = 0.0

  replay D capacity buffer of (s: obs, a: act, r: f32, s2: obs, done: f32)

  policy explore(s) = env.act_high * sample(pi(s))
  policy greedy(s) = env.act_high * pi(s).mean

  /// Soft Bellman target with the smaller of the two target critics.
  loss critic_loss(b ~ D.sample(batch)) = {
    let d2 = pi(b.s2)
    let a2 ~ d2
    let alpha = exp(log_alpha)
    let a2s = env.act_high * a2
    let soft_q = minimum(q1_t(b.s2, a2s), q2_t(b.s2, a2s)) - alpha * d2.log_prob(a2)
    let y = stop(b.r + gamma * (1 - b.done) * soft_q)
    mean((q1(b.s, b.a) - y)^2) + mean((q2(b.s, b.a) - y)^2)
  }
  /// Reparameterised policy loss: alpha * log pi(a|s) - min Q(s, a), a ~ pi(s).
  loss actor_loss(b ~ D.sample(batch)) = {
    let d = pi(b.s)
    let a ~ d
    let q = minimum(q1(b.s, env.act_high * a), q2(b.s, env.act_high * a))
    mean(stop(exp(log_alpha)) * d.log_prob(a) - q)
  }
  /// Temperature loss: -alpha * (log pi(a|s) + target_entropy).
  loss alpha_loss(b ~ D.sample(batch)) = {
    let d = pi(b.s)
    let a ~ d
    -mean(exp(log_alpha) * stop(d.log_prob(a) + target_entropy))
  }

  update q1, q2 by adam(lr = lr) on critic_loss
  update pi by adam(lr = lr) on actor_loss
  update log_alpha by adam(lr = lr) on alpha_loss

  schedule { envs 1; warmup learning_starts; act explore into D; train 1 every 1 after learning_starts; eval greedy }
}
