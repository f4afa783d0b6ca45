// Normalized Advantage Functions (Gu, Lillicrap, Sutskever & Levine, 2016, "Continuous Deep
// Q-Learning with Model-based Acceleration", arXiv:1603.00748): Q-learning for continuous
// actions with a Q-function whose maximum is known in closed form,
//   Q(s, a) = V(s) + A(s, a),  A(s, a) = -1/2 (a - mu(s))^T P(s) (a - mu(s)),  P = L L^T,
// L lower-triangular with an exponentiated (positive) diagonal, so argmax_a Q = mu(s) and
// max_a Q = V(s). The TD target uses a slowly tracking copy of V; Gaussian exploration noise.
import nets.{mlp}

algorithm naf {
  param gamma = 0.99
  param tau = 0.005
  param batch = 256
  param hidden = [256, 256]
  param lr = 3e-4               // 1e-3 diverged on seed 2 (-1029 at 30k); 3e-4 learns on seeds 1-3
  param noise = 0.1            // exploration noise, as a fraction of the action bound
  param buffer = 1_000_000
  param learning_starts = 1000
  env: continuous default "Pendulum-v1"

  net value(s: obs) = mlp(s, hidden, 1)[..., 0]
  net mu(s: obs) = env.act_high * tanh(mlp(s, hidden, env.act_dim))
  /// The n(n+1)/2 entries of L, row by row.
  net entries(s: obs) = mlp(s, hidden, env.act_dim * (env.act_dim + 1) / 2)
  target value_t = polyak(value, tau)

  replay D capacity buffer of (s: obs, a: act, r: f32, s2: obs, done: f32)

  /// A(s, a) = -1/2 |L^T (a - mu)|^2, which is -1/2 (a - mu)^T L L^T (a - mu).
  fn advantage(s, a) = {
    let eye = one_hot(range(env.act_dim), env.act_dim)
    let raw = lower_triangular(entries(s))
    let l = raw * (1 - eye) + exp(raw) * eye
    let u = a - mu(s)
    let ltu = sum(l * expand(u, -1), -2)       // (L^T u)_j = sum_i L_ij u_i
    -0.5 * sum(ltu^2, -1)
  }
  fn q(s, a) = value(s) + advantage(s, a)

  policy explore(s) = {
    let a = mu(s)
    clip(a + noise * env.act_high * randn_like(a), -env.act_high, env.act_high)
  }
  policy greedy(s) = mu(s)

  /// max_a' Q'(s', a') = V'(s'): the target needs no maximisation.
  loss q_loss(b ~ D.sample(batch)) = {
    let y = stop(b.r + gamma * (1 - b.done) * value_t(b.s2))
    mean((q(b.s, b.a) - y)^2)
  }

  update value, mu, entries by adam(lr = lr) on q_loss

  schedule { envs 1; warmup learning_starts; act explore into D; train 1 every 1 after learning_starts; eval greedy }
}
