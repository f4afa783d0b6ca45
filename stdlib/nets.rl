// Network building blocks. Layers create parameters only inside a `net`; these functions
// are inlined into the net that calls them, so their layers belong to that net.

/// A multi-layer perceptron: `act(linear(x, h))` for each size `h` in `hidden`, then a
/// linear output layer of size `out`. With `out_init > 0` the output layer starts uniform
/// in [-out_init, out_init] (the small final layer of the DDPG paper).
fn mlp(x, hidden, out, act = relu, out_init = 0.0) = {
  let h = trunk(x, hidden, act)
  if out_init > 0 then linear(h, out, init = out_init) else linear(h, out)
}

/// The hidden layers of an MLP without an output layer.
fn trunk(x, hidden, act = relu) = for size in hidden with y = x { act(linear(y, size)) }

/// A dueling head (Wang et al., 2016): Q = V + A - mean(A) over the actions.
fn dueling(h, n_actions) = {
  let v = linear(h, 1)
  let a = linear(h, n_actions)
  v + a - mean(a, axis = -1, keepdims = true)
}
