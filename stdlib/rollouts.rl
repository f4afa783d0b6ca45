// Helpers for rlc's rollout layout (T steps x N envs, episodes cut anywhere); not rlax
// operators, so they live apart from traces.rl.

/// Returns of a rollout cutting episodes anywhere (rlc's layout, not rlax): G[t] = r[t] +
/// gamma * (1 - done[t]) * (v2[t] if end[t] else G[t+1]); done = terminated, end = done or
/// truncated, v2 = V(next observation); the last step bootstraps from v2[T-1].
fn bootstrapped_returns(r, done, end, v2, gamma) = {
  let T = len(r)
  let cut = concat(end[:T - 1], ones_like(end[:1]), axis = 0)
  scan reverse t in T with g = zeros_like(r[0]) {
    r[t] + gamma * (1 - done[t]) * (cut[t] * v2[t] + (1 - cut[t]) * g)
  }
}
