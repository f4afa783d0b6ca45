// D4PG (Barth-Maron et al., 2018, "Distributed Distributional Deterministic Policy
// Gradients", ICLR): DDPG with a distributional critic -- a categorical distribution over a
// fixed support of `atoms` returns in [v_min, v_max] -- trained on N-step transitions drawn
// from prioritized replay. The target distribution, the N-step return plus the target
// critic's atoms discounted by gamma^N, is projected back onto the support (the L2 projection
// of C51); the actor ascends the critic's mean. The paper's K parallel actors are the
// schedule's `envs` environment copies stepped together (one by default).
import nets.{mlp}
import distributional.{categorical_l2_project}

algorithm d4pg {
  param gamma = 0.99
  param nstep = 5              // N: rewards summed before bootstrapping
  param atoms = 51
  param v_min = -1000.0        // the support; lower targets (Pendulum's reach -1630) clip to it
  param v_max = 0.0
  param tau = 0.005
  param batch = 256
  param hidden = [256, 256]
  param lr_actor = 1e-3
  param lr_critic = 1e-3
  param noise = 0.1            // exploration noise, as a fraction of the action bound
  param buffer = 1_000_000
  param learning_starts = 1000
  param envs = 1               // K actors
  env: continuous default "Pendulum-v1"

  net actor(s: obs) = env.act_high * tanh(mlp(s, hidden, env.act_dim))
  /// Logits of Z(s, a) over the support.
  net critic(s: obs, a: act) = mlp(concat(s, a), hidden, atoms)
  target actor_t = polyak(actor, tau)
  target critic_t = polyak(critic, tau)

  // Each item: s_t, a_t, the next N rewards and termination flags (0 past the episode's
  // end; mask 1 for the steps inside it) and the state after the window's last step.
  prioritized replay D capacity buffer nstep nstep of (s: obs, a: act, r: f32[nstep], done: f32[nstep], mask: f32[nstep], s2: obs)

  /// The atoms z_i, evenly spaced over [v_min, v_max].
  fn support() = v_min + (v_max - v_min) * f32(range(atoms)) / (atoms - 1)
  /// Q(s, a) = E[Z(s, a)].
  fn q(s, a) = sum(softmax(critic(s, a)) * support(), axis = -1)

  policy explore(s) = {
    let a = actor(s)
    clip(a + noise * env.act_high * randn_like(a), -env.act_high, env.act_high)
  }
  policy greedy(s) = actor(s)

  /// Cross-entropy to the projected target sum_n gamma^n r_{t+n} + gamma^N Z'(s_{t+N},
  /// actor'(s_{t+N})), N the steps the window holds (fewer at an episode's end; no bootstrap
  /// after a termination, bootstrapped after a time limit); importance weighted, and the
  /// per-item loss is the new priority.
  loss critic_loss(b ~ D.sample(batch)) = {
    let z = support()
    let ret = sum(gamma ^ f32(range(nstep)) * b.r, axis = -1)
    let disc = gamma ^ sum(b.mask, axis = -1) * (1 - sum(b.done, axis = -1))
    let target_z = expand(ret, -1) + outer(disc, z)
    let p2 = softmax(critic_t(b.s2, actor_t(b.s2)))
    let target = stop(categorical_l2_project(target_z, p2, outer(ones_like(ret), z)))
    let ce = -sum(target * log_softmax(critic(b.s, b.a)), axis = -1)
    let p = priority(D, ce)
    mean(b.weight * ce)
  }
  /// Deterministic policy gradient through the critic's mean.
  loss actor_loss(b ~ D.sample(batch)) = -mean(q(b.s, actor(b.s)))

  update critic by adam(lr = lr_critic) on critic_loss
  update actor by adam(lr = lr_actor) on actor_loss

  schedule { envs envs; warmup learning_starts; act explore into D; train envs every 1 after learning_starts; eval greedy }
}
