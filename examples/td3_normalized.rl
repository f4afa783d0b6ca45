// TD3 with observation normalisation, as Stable-Baselines3's `VecNormalize(norm_obs=True)`
// does for locomotion: running moments of every observation acted on (stdlib/normalize.rl),
// program state kept in checkpoints, so evaluation and `rlc eval` use the trained moments.
// The replay holds raw observations, normalised when a batch is used (SB3 stores the
// originals too), so a batch always sees the current moments. Otherwise stdlib/td3.rl.
import nets.{mlp}
import normalize.{running_moments, normalize}

algorithm td3_normalized {
  param gamma = 0.99
  param tau = 0.005
  param batch = 256
  param hidden = [256, 256]
  param lr = 1e-3
  param noise = 0.1
  param target_noise = 0.2
  param noise_clip = 0.5
  param learning_starts = 1000
  env: continuous default "Pendulum-v1"

  state obs_mean: obs = 0.0
  state obs_var: obs = 1.0
  state obs_count = 1e-4
  fn n(s) = normalize(s, obs_mean, obs_var)     // nets see normalised observations

  net actor(s: obs) = env.act_high * tanh(mlp(s, hidden, env.act_dim))
  net q1(s: obs, a: act) = mlp(concat(s, a), hidden, 1)[..., 0]
  net q2(s: obs, a: act) = mlp(concat(s, a), hidden, 1)[..., 0]
  target actor_t = polyak(actor, tau)
  target q1_t = polyak(q1, tau)
  target q2_t = polyak(q2, tau)

  replay D capacity 1_000_000 of (s: obs, a: act, r: f32, s2: obs, done: f32)

  policy explore(s) = {
    let m = running_moments(obs_mean, obs_var, obs_count, s)
    set obs_mean = m.mean
    set obs_var = m.var
    set obs_count = m.count
    let a = actor(normalize(s, m.mean, m.var))
    clip(a + noise * env.act_high * randn_like(a), -env.act_high, env.act_high)
  }
  policy greedy(s) = actor(n(s))

  loss critic_loss(b ~ D.sample(batch)) = {
    let (s, s2) = (n(b.s), n(b.s2))
    let a2 = actor_t(s2)
    let eps = clip(target_noise * randn_like(a2), -noise_clip, noise_clip) * env.act_high
    let a2s = clip(a2 + eps, -env.act_high, env.act_high)
    let y = stop(b.r + gamma * (1 - b.done) * minimum(q1_t(s2, a2s), q2_t(s2, a2s)))
    mean((q1(s, b.a) - y)^2) + mean((q2(s, b.a) - y)^2)
  }
  loss actor_loss(b ~ D.sample(batch)) = {
    let s = n(b.s)
    -mean(q1(s, actor(s)))
  }

  update q1, q2 by adam(lr = lr) on critic_loss
  update actor by adam(lr = lr) on actor_loss every 2

  schedule { envs 1; warmup learning_starts; act explore into D; train 1 every 1 after learning_starts; eval greedy }
}
