// DQN (Mnih et al., 2015, "Human-level control through deep reinforcement learning") with
// double Q-learning targets (van Hasselt et al., 2016) and a dueling head (Wang et al., 2016):
// the online net chooses the next action, the periodically copied target net values it;
// epsilon-greedy exploration and the learning rate decay linearly.
import nets.{trunk, dueling}

algorithm dqn {
  param gamma = 0.99
  param lr = 5e-4
  param anneal_steps = 100_000   // the learning rate decays linearly to 5% over these steps
  param batch = 128
  param hidden = [256, 256]
  param buffer = 100_000
  param learning_starts = 1000
  param target_every = 500       // training steps between hard target copies
  param train_every = 1          // environment steps between training rounds
  param gradient_steps = 1       // training steps per round
  param explore_steps = 10_000   // epsilon decays from 1 to final_eps over these steps
  param final_eps = 0.04
  env: discrete default "CartPole-v1"

  net q(s: obs) = dueling(trunk(s, hidden), env.num_actions)
  target q_t = copy(q, target_every)

  replay D capacity buffer of (s: obs, a: act, r: f32, s2: obs, done: f32)

  policy explore(s) = {
    let best = argmax(q(s))
    let eps = maximum(final_eps, 1 - (1 - final_eps) * f32(step_count()) / explore_steps)
    let other = i32(floor(rand(best.shape) * env.num_actions))
    where(rand(best.shape) < eps, other, best)
  }
  policy greedy(s) = argmax(q(s))

  /// Double-DQN target with the Huber loss.
  loss td(b ~ D.sample(batch)) = {
    let next = argmax(q(b.s2))
    let y = stop(b.r + gamma * (1 - b.done) * pick(q_t(b.s2), next))
    let q_sa = pick(q(b.s), b.a)
    log q_mean = mean(q_sa)   // the online net's value of the replayed actions
    mean(huber(q_sa - y))
  }

  update q by adam(lr = lr * maximum(0.05, 1 - f32(step_count()) / anneal_steps), clip_norm = 10.0) on td

  schedule { warmup learning_starts; act explore into D; train gradient_steps every train_every after learning_starts; eval greedy }
}
