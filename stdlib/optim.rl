// Update rules: what `update NETS by RULE(...) on LOSS` does with the loss's gradients, and how
// `target t = RULE(net, ...)` follows its net (rules declared `for target`, whose `each (t, p)`
// sees the target's tensor and the net's parameter after the step's updates). Every algorithm
// can use these without an import; a program can define its own `rule` the same way.
//
// A rule's outer part runs once per `update` (its `state` is shared by all the parameters the
// update changes; `params` and `grads` are the lists of them); `each (p, g)` runs once per
// parameter tensor and gives its new value. `set` changes state when the training step ends,
// so reads always see the value from before it. `require` checks settings at compile time. Settings may be numbers or scalar tensors (a
// learning-rate schedule: `adam(lr = 1e-3 * (1 - f32(step_count()) / 1e6))`).
//
// Each rule matches its torch.optim namesake on recorded trajectories (tests/optim_torch.rs).

/// The factor that scales the gradients so their global norm is at most `max_norm`, as
/// torch.nn.utils.clip_grad_norm_: min(1, max_norm / (norm + 1e-6)); 1 when `max_norm` is 0.
fn clip_scale(grads, max_norm) =
  if max_norm > 0 then {
    let norm = sqrt(for g in grads with s = 0.0 { s + sum(g^2) })
    minimum(max_norm / (norm + 1e-6), 1.0)
  } else 1.0

/// Stochastic gradient descent with optional momentum, as torch.optim.SGD (Polyak, 1964,
/// "Some methods of speeding up the convergence of iteration methods"):
/// v <- momentum*v + g, p <- p - lr*v; `clip_norm` > 0 clips the global gradient norm first.
rule sgd(lr, momentum = 0.0, clip_norm = 0.0) {
  require lr >= 0, "the learning rate `lr` must be non-negative"
  require momentum >= 0 && momentum < 1, "`momentum` must be in [0, 1)"
  require clip_norm >= 0, "`clip_norm` must be non-negative (0 turns clipping off)"
  let scale = clip_scale(grads, clip_norm)
  each (p, g) {
    state v = zeros_like(p)
    let v_new = momentum * v + g * scale
    // Without momentum the buffer is never written (it stays zero in checkpoints).
    set v = if momentum > 0 then v_new else v
    p - lr * (if momentum > 0 then v_new else g * scale)
  }
}

/// Adam (Kingma & Ba, 2015, "Adam: A Method for Stochastic Optimization"), bias-corrected
/// as torch.optim.Adam: m <- b1*m + (1-b1)*g, v <- b2*v + (1-b2)*g^2,
/// p <- p - lr*(m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps);
/// `clip_norm` > 0 clips the global gradient norm first.
rule adam(lr, b1 = 0.9, b2 = 0.999, eps = 1e-8, clip_norm = 0.0) {
  state t = 0.0
  require lr >= 0, "the learning rate `lr` must be non-negative"
  require b1 >= 0 && b1 < 1 && b2 >= 0 && b2 < 1, "the decays `b1` and `b2` must be in [0, 1)"
  require eps >= 0, "`eps` must be non-negative"
  require clip_norm >= 0, "`clip_norm` must be non-negative (0 turns clipping off)"
  let t_new = t + 1
  set t = t_new
  let scale = clip_scale(grads, clip_norm)
  // The paper's efficient form (section 2): one step size and one epsilon for all parameters.
  // b^t is computed as exp(t ln b), as the compiler's own Adam did before rules were written
  // in the language, so runs are bit-for-bit what they were.
  let c2 = sqrt(1 - exp(t_new * log(b2)))
  let step = lr * c2 / (1 - exp(t_new * log(b1)))
  each (p, g) {
    state m = zeros_like(p)
    state v = zeros_like(p)
    let gs = g * scale
    let m_new = b1 * m + (1 - b1) * gs
    let v_new = b2 * v + (1 - b2) * gs^2
    set m = m_new
    set v = v_new
    p - step * (m_new / (sqrt(v_new) + eps * c2))
  }
}

/// RMSProp (Tieleman & Hinton, 2012, "Lecture 6.5 - RMSProp", COURSERA: Neural Networks for
/// Machine Learning), as torch.optim.RMSprop: s <- alpha*s + (1-alpha)*g^2,
/// p <- p - lr*g / (sqrt(s) + eps); `clip_norm` > 0 clips the global gradient norm first.
rule rmsprop(lr, alpha = 0.99, eps = 1e-8, clip_norm = 0.0) {
  require lr >= 0, "the learning rate `lr` must be non-negative"
  require alpha >= 0 && alpha < 1, "the decay `alpha` must be in [0, 1)"
  require eps >= 0, "`eps` must be non-negative"
  require clip_norm >= 0, "`clip_norm` must be non-negative (0 turns clipping off)"
  let scale = clip_scale(grads, clip_norm)
  each (p, g) {
    state s = zeros_like(p)
    let gs = g * scale
    let s_new = alpha * s + (1 - alpha) * gs^2
    set s = s_new
    p - lr * (gs / (sqrt(s_new) + eps))
  }
}

/// Polyak averaging of a target network (Polyak & Juditsky, 1992, "Acceleration of Stochastic
/// Approximation by Averaging"; as DDPG's soft target updates, Lillicrap et al., 2016):
/// `target t = polyak(net, tau)`, t <- tau*p + (1 - tau)*t after every training step.
rule polyak(tau) for target {
  require tau > 0 && tau <= 1, "`tau` must be in (0, 1]"
  each (t, p) { (1 - tau) * t + tau * p }
}

/// The periodic hard copy of DQN's target network (Mnih et al., 2015, "Human-level control
/// through deep reinforcement learning"): `target t = copy(net, period)`, t <- p after every
/// `period`-th training step.
rule copy(period) for target {
  state n = 0
  require period >= 1, "`period` must be at least 1"
  let n_new = n + 1
  set n = n_new
  each (t, p) { if n_new % period == 0 then p else t }
}

/// Trust Region Policy Optimization's step (Schulman et al., 2015, "Trust Region Policy
/// Optimization", section 6 and appendix C), as sb3-contrib's TRPO: the natural-gradient
/// direction x = F^-1 g by `cg_iters` steps of conjugate gradient on Fisher-vector products
/// (F v: the Hessian of the mean KL `kl` at the current parameters, applied to v, plus
/// `damping` v), scaled so the quadratic model of the KL, x'Fx/2, equals `max_kl`; then a
/// line search over the fractions 1, shrink, shrink^2, ... of that step, taking the first
/// whose KL is within `max_kl` and whose loss is lower; no step if none is.
/// `kl` is a loss of the parameters: the mean KL from the policy that acted to the policy at
/// the given parameters. The parameters are treated as one vector (`flatten`).
rule trpo(kl, max_kl = 0.01, cg_iters = 15, damping = 0.1, backtracks = 10, shrink = 0.8) {
  require max_kl > 0, "the trust region `max_kl` must be positive"
  require cg_iters >= 1 && backtracks >= 1, "`cg_iters` and `backtracks` must be at least 1"
  require damping >= 0, "`damping` must be non-negative"
  require shrink > 0 && shrink < 1, "the line search's `shrink` must be in (0, 1)"
  let theta = flatten(params)
  let g = flatten(grads)
  // The gradient of the KL as a function of theta: its gradient along a fixed v is F v.
  let kl_grad = grad(kl(unflatten(theta, params)), theta)
  let (x, r, d, rr) = for i in range(cg_iters) with x = zeros_like(g), r = g, d = g, rr = sum(g^2) {
    let fd = grad(sum(kl_grad * stop(d)), theta) + damping * d
    // Once the residual vanishes, CG has converged: the step stays where it is.
    let live = rr > 1e-10
    let alpha = if live then rr / sum(d * fd) else 0.0
    let r_new = r - alpha * fd
    let rr_new = sum(r_new^2)
    let beta = if live then rr_new / rr else 0.0
    (x + alpha * d, r_new, r_new + beta * d, rr_new)
  }
  let x_fx = sum(x * (grad(sum(kl_grad * stop(x)), theta) + damping * x))
  let full = x * sqrt(2 * max_kl / maximum(x_fx, 1e-20))
  let loss_before = loss(params)
  // Smallest fraction first, so the largest one accepted is the one kept.
  let frac = for i in range(backtracks) with f = 0.0 {
    let s = shrink ^ (backtracks - 1 - i)
    let candidate = unflatten(theta - s * full, params)
    if kl(candidate) <= max_kl && loss(candidate) < loss_before then s else f
  }
  unflatten(theta - frac * full, params)
}

/// `steps` steps of Adam on the same batch in one training call, as torch.optim.Adam called
/// `steps` times on a fixed batch: the first from `grads`, each later one from the gradient
/// of the loss evaluated again at the parameters the previous step left. The moments and the
/// step count carry over from call to call. For fitting a value function to a rollout once
/// per rollout (TRPO's critic), in the same call as the policy's step.
rule adam_steps(lr, steps, b1 = 0.9, b2 = 0.999, eps = 1e-8) {
  state t = 0.0
  state m = zeros_like(flatten(params))
  state v = zeros_like(flatten(params))
  require lr >= 0, "the learning rate `lr` must be non-negative"
  require steps >= 1, "`steps` must be at least 1"
  require b1 >= 0 && b1 < 1 && b2 >= 0 && b2 < 1, "the decays `b1` and `b2` must be in [0, 1)"
  require eps >= 0, "`eps` must be non-negative"
  let theta0 = flatten(params)
  let (theta, m_end, v_end, t_end) = for i in range(steps) with theta = theta0, mi = m, vi = v, ti = t {
    let g = if i == 0 then flatten(grads) else grad(loss(unflatten(theta, params)), theta)
    let t_new = ti + 1
    let m_new = b1 * mi + (1 - b1) * g
    let v_new = b2 * vi + (1 - b2) * g^2
    let c2 = sqrt(1 - exp(t_new * log(b2)))
    let step = lr * c2 / (1 - exp(t_new * log(b1)))
    (theta - step * (m_new / (sqrt(v_new) + eps * c2)), m_new, v_new, t_new)
  }
  set t = t_end
  set m = m_end
  set v = v_end
  unflatten(theta, params)
}

/// The n x n identity matrix.
fn eye(n) = one_hot(range(n), n)

/// K-FAC's preconditioned gradient of one parameter: (a + damping I)^-1 grad (g + damping I)^-1
/// with `grad` viewed as [rows of a, rows of g] (a bias's gradient is one row); the result is
/// flat.
fn kfac_precondition(a, g, grad, damping) = {
  let m = reshape(grad, [len(a), len(g)])
  let left = solve(a + damping * eye(len(a)), m)
  reshape(transpose(solve(g + damping * eye(len(g)), transpose(left))), [len(a) * len(g)])
}

/// ACKTR's K-FAC step (Wu et al., 2017, "Scalable trust-region method for deep reinforcement
/// learning using Kronecker-factored approximation"; Martens & Grosse, 2015, "Optimizing
/// Neural Networks with Kronecker-factored Approximate Curvature"), as OpenAI Baselines'
/// KfacOptimizer: for each layer, running averages (bias-corrected) of A = E[x x'] over its
/// inputs and G = E[d d'] over the gradients of `fisher` at its pre-activations, `fisher`
/// being the log-likelihood of outputs sampled from the model itself; the gradient
/// preconditioned as (A + sqrt(damping) I)^-1 grad (G + sqrt(damping) I)^-1 (a bias as a
/// layer whose input is the constant 1); the step scaled by min(1, sqrt(kl_clip / (lr^2 g'F^-1 g)))
/// so the KL it implies stays small; then momentum SGD at lr (1 - momentum).
rule kfac(fisher, lr = 0.25, momentum = 0.9, kl_clip = 0.001, damping = 0.01, decay = 0.99) {
  state t = 0.0
  state a = for l in fisher.layers() { zeros_like(matmul(transpose(l.x), l.x)) }
  state s = for l in fisher.layers() { zeros_like(matmul(transpose(l.d), l.d)) }
  state velocity = for p in params { zeros_like(p) }
  require lr > 0 && kl_clip > 0, "`lr` and `kl_clip` must be positive"
  require momentum >= 0 && momentum < 1, "`momentum` must be in [0, 1)"
  require damping > 0, "`damping` must be positive"
  require decay >= 0 && decay < 1, "`decay` must be in [0, 1)"
  let layers = fisher.layers()
  let n = len(params)
  let t_new = t + 1
  set t = t_new
  // `fisher` is a mean over the rows, so each row's own gradient is `rows` times its `d`.
  // Rows are counted per layer: a layer applied to several batches has more of them.
  let a_new = for i in range(n) {
    decay * a[i] + (1 - decay) * matmul(transpose(layers[i].x), layers[i].x) / f32(len(layers[i].x))
  }
  let s_new = for i in range(n) {
    decay * s[i] + (1 - decay) * matmul(transpose(layers[i].d), layers[i].d) * f32(len(layers[i].d))
  }
  set a = a_new
  set s = s_new
  let unbias = 1 - exp(t_new * log(decay))
  let nat = unflatten(flatten(for i in range(n) {
    kfac_precondition(a_new[i] / unbias, s_new[i] / unbias, grads[i], sqrt(damping))
  }), params)
  let g_nat_g = sum(flatten(nat) * flatten(grads))
  let scale = minimum(1.0, sqrt(kl_clip / maximum(lr^2 * g_nat_g, 1e-20)))
  let v_new = for i in range(n) { momentum * velocity[i] + scale * nat[i] }
  set velocity = v_new
  for i in range(n) { params[i] - lr * (1 - momentum) * v_new[i] }
}
