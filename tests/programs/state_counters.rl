// Program state semantics (tests/program_state.rs): counters set by the acting policy, a
// derive and a loss, and a value read before the call that sets it.
import nets.{mlp}

algorithm counters {
  param n_envs = 2
  env: discrete default "CartPole-v1"

  net pi(s: obs) = mlp(s, [8], env.num_actions)
  rollout R steps 4 of (s: obs, a: act, r: f32)

  state acted: i32 = 0         // acting calls (one per vectorised step)
  state derived: i32 = 0       // derive calls (one per full rollout)
  state trained: i32 = 0       // training calls (one per minibatch)
  state previous: i32 = -1     // `trained` as the latest training call read it
  state last_r = 0.0           // mean reward of the latest minibatch

  policy sample(s) = {
    let d = categorical(pi(s))
    let a ~ d
    set acted = acted + 1
    { action: a }
  }
  policy greedy(s) = argmax(pi(s))

  derive R(b) = {
    set derived = derived + 1
    { ret: b.r }
  }

  loss reinforce(b ~ R.minibatch(4)) = {
    set trained = trained + 1
    set previous = trained
    set last_r = mean(b.ret)
    -mean(categorical(pi(b.s)).log_prob(b.a) * b.ret)
  }
  update pi by adam(lr = 1e-3) on reinforce

  schedule { envs n_envs; act sample into R; train epochs 2; eval greedy }
}
