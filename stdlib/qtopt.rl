// QT-Opt (Kalashnikov et al., 2018, "QT-Opt: Scalable Deep Reinforcement Learning for
// Vision-Based Robotic Manipulation", arXiv:1806.10293): Q-learning for continuous actions
// with no actor -- the max over actions is found by the cross-entropy method (CEM): sample
// actions from a Gaussian, score them with Q, refit the Gaussian to the best few, repeat.
// The TD target runs CEM on lagged target networks and takes the smaller of two of them
// (clipped double Q-learning). Pendulum's rewards are not in [0, 1], so the loss is the squared
// TD error rather than the paper's cross-entropy.
import nets.{mlp}

algorithm qtopt {
  param gamma = 0.99
  param tau = 0.005
  param batch = 128
  param hidden = [128, 128]
  param lr = 1e-3
  param samples = 32           // CEM: actions sampled per state and iteration
  param elites = 4             // CEM: the best kept to refit the Gaussian
  param iterations = 2         // CEM: refits
  param noise = 0.1            // exploration noise, as a fraction of the action bound
  param ou_theta = 0.15        // temporally correlated exploration noise (Ornstein-Uhlenbeck),
  param ou_sigma = 0.0         //   off by default; MountainCar needs it (sigma = 0.5)
  param buffer = 1_000_000
  param learning_starts = 1000
  env: continuous default "Pendulum-v1"

  net q1(s: obs, a: act) = mlp(concat(s, a), hidden, 1)[..., 0]
  net q2(s: obs, a: act) = mlp(concat(s, a), hidden, 1)[..., 0]
  target q1_t = polyak(q1, tau)
  target q2_t = polyak(q2, tau)

  replay D capacity buffer of (s: obs, a: act, r: f32, s2: obs, done: f32)

  /// argmax_a q(s, a) by CEM, for a batch of states [B, obs]: the mean of the last elites.
  fn cem(s, q) = {
    let n = len(s)
    let hi = env.act_high
    let s_rep = expand(s, 1) + zeros([n, samples, env.obs_dim])        // [B, N, obs]
    let (m, sd) = for i in range(iterations) with m = zeros([n, env.act_dim]), sd = hi * ones([n, env.act_dim]) {
      let a = clip(expand(m, 1) + expand(sd, 1) * randn([n, samples, env.act_dim]), -hi, hi)
      let best = take_along(a, expand(top_k(q(s_rep, a), elites), -1), 1)    // [B, k, act]
      let mb = mean(best, 1)
      (mb, sqrt(mean((best - expand(mb, 1))^2, 1)) + 1e-3)
    }
    m
  }

  policy explore(s) = {
    let a = cem(s, q1)
    clip(a + noise * env.act_high * randn_like(a), -env.act_high, env.act_high)
  }
  policy greedy(s) = cem(s, q1)

  /// Clipped double Q: CEM on the first lagged network, the smaller of both lagged values.
  loss q_loss(b ~ D.sample(batch)) = {
    let a2 = cem(b.s2, q1_t)
    let y = stop(b.r + gamma * (1 - b.done) * minimum(q1_t(b.s2, a2), q2_t(b.s2, a2)))
    mean((q1(b.s, b.a) - y)^2) + mean((q2(b.s, b.a) - y)^2)
  }

  update q1, q2 by adam(lr = lr) on q_loss

  schedule { envs 1; warmup learning_starts; act explore into D noise ou(theta = ou_theta, sigma = ou_sigma); train 1 every 1 after learning_starts; eval greedy }
}
