// SAC with a fixed temperature: stdlib/sac.rl without the learnable `log_alpha` and its
// loss; `alpha` becomes a hyperparameter (`rlc run ... --set alpha=0.1`).
import nets.{mlp}
import dists.{squashed_head}

algorithm sac_fixed_alpha {
  param gamma = 0.99
  param tau = 0.005
  param batch = 256
  param hidden = [256, 256]
  param lr = 3e-4
  param alpha = 0.2
  param learning_starts = 1000
  env: continuous default "Pendulum-v1"

  net pi(s: obs) = squashed_head(mlp(s, hidden, 2 * env.act_dim), env.act_dim)
  net q1(s: obs, a: act) = mlp(concat(s, a), hidden, 1)[..., 0]
  net q2(s: obs, a: act) = mlp(concat(s, a), hidden, 1)[..., 0]
  target q1_t = polyak(q1, tau)
  target q2_t = polyak(q2, tau)

  replay D capacity 1_000_000 of (s: obs, a: act, r: f32, s2: obs, done: f32)

  policy explore(s) = env.act_high * sample(pi(s))
  policy greedy(s) = env.act_high * pi(s).mean

  loss critic_loss(b ~ D.sample(batch)) = {
    let d2 = pi(b.s2)
    let a2 ~ d2
    let a2s = env.act_high * a2
    let y = stop(b.r + gamma * (1 - b.done) * (minimum(q1_t(b.s2, a2s), q2_t(b.s2, a2s)) - alpha * d2.log_prob(a2)))
    mean((q1(b.s, b.a) - y)^2) + mean((q2(b.s, b.a) - y)^2)
  }
  loss actor_loss(b ~ D.sample(batch)) = {
    let d = pi(b.s)
    let a ~ d
    mean(alpha * d.log_prob(a) - minimum(q1(b.s, env.act_high * a), q2(b.s, env.act_high * a)))
  }

  update q1, q2 by adam(lr = lr) on critic_loss
  update pi by adam(lr = lr) on actor_loss

  schedule { envs 1; warmup learning_starts; act explore into D; train 1 every 1 after learning_starts; eval greedy }
}
