"""A minimal jitted JAX TD3 (Fujimoto et al., 2018), timed like `rlc run stdlib/td3.rl`: the
same settings as rlc's TD3 (2x256 ReLU nets, Adam 1e-3, batch 256, 1,000 uniform warm-up
steps, one update per environment step, actor and targets every second update, Gaussian
exploration noise 0.1, target smoothing 0.2 clipped at 0.5, tau 0.005), reporting environment
steps per second from the end of the warm-up to the end. The environment is Gymnasium's
(stepped in Python, as rlc's `gym:` bridge steps it); acting and the update are each one
jitted call.

    python benches/peers/jax_td3.py HalfCheetah-v5 6000
"""

import sys
import time
from functools import partial

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np


def init_mlp(key, sizes):
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        key, k = jax.random.split(key)
        bound = 1.0 / np.sqrt(n_in)  # torch.nn.Linear's default
        w = jax.random.uniform(k, (n_in, n_out), minval=-bound, maxval=bound)
        key, k = jax.random.split(key)
        b = jax.random.uniform(k, (n_out,), minval=-bound, maxval=bound)
        params.append((w, b))
    return params


def mlp(params, x):
    for w, b in params[:-1]:
        x = jax.nn.relu(x @ w + b)
    w, b = params[-1]
    return x @ w + b


def actor(params, s, high):
    return high * jnp.tanh(mlp(params, s))


def critic(params, s, a):
    return mlp(params, jnp.concatenate([s, a], axis=-1))[..., 0]


def adam_init(params):
    zeros = jax.tree.map(jnp.zeros_like, params)
    return {"m": zeros, "v": zeros, "t": jnp.zeros(())}


def adam_step(params, grads, state, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    t = state["t"] + 1
    m = jax.tree.map(lambda m, g: b1 * m + (1 - b1) * g, state["m"], grads)
    v = jax.tree.map(lambda v, g: b2 * v + (1 - b2) * g * g, state["v"], grads)
    step = lr * jnp.sqrt(1 - b2**t) / (1 - b1**t)
    params = jax.tree.map(lambda p, m, v: p - step * m / (jnp.sqrt(v) + eps), params, m, v)
    return params, {"m": m, "v": v, "t": t}


@partial(jax.jit, static_argnames=("update_actor",))
def update(state, batch, key, high, update_actor):
    s, a, r, s2, done = batch
    a2 = actor(state["actor_t"], s2, high)
    eps = jnp.clip(0.2 * jax.random.normal(key, a2.shape), -0.5, 0.5) * high
    a2 = jnp.clip(a2 + eps, -high, high)
    q_next = jnp.minimum(critic(state["q1_t"], s2, a2), critic(state["q2_t"], s2, a2))
    y = jax.lax.stop_gradient(r + 0.99 * (1 - done) * q_next)

    def critic_loss(qs):
        q1, q2 = qs
        return jnp.mean((critic(q1, s, a) - y) ** 2) + jnp.mean((critic(q2, s, a) - y) ** 2)

    grads = jax.grad(critic_loss)((state["q1"], state["q2"]))
    (q1, q2), opt_q = adam_step((state["q1"], state["q2"]), grads, state["opt_q"])
    state = {**state, "q1": q1, "q2": q2, "opt_q": opt_q}
    if update_actor:
        g = jax.grad(lambda p: -jnp.mean(critic(state["q1"], s, actor(p, s, high))))(state["actor"])
        pi, opt_pi = adam_step(state["actor"], g, state["opt_pi"])
        polyak = lambda t, p: jax.tree.map(lambda t, p: 0.995 * t + 0.005 * p, t, p)  # noqa: E731
        state = {
            **state,
            "actor": pi,
            "opt_pi": opt_pi,
            "actor_t": polyak(state["actor_t"], pi),
            "q1_t": polyak(state["q1_t"], state["q1"]),
            "q2_t": polyak(state["q2_t"], state["q2"]),
        }
    return state


@jax.jit
def explore(params, s, key, high):
    a = actor(params, s, high)
    return jnp.clip(a + 0.1 * high * jax.random.normal(key, a.shape), -high, high)


def main():
    env_id = sys.argv[1] if len(sys.argv) > 1 else "HalfCheetah-v5"
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 6000
    warmup, batch_size = 1000, 256
    env = gym.make(env_id)
    od, ad = env.observation_space.shape[0], env.action_space.shape[0]
    high = jnp.asarray(env.action_space.high)
    key = jax.random.PRNGKey(1)
    keys = jax.random.split(key, 4)
    pi = init_mlp(keys[0], [od, 256, 256, ad])
    q1 = init_mlp(keys[1], [od + ad, 256, 256, 1])
    q2 = init_mlp(keys[2], [od + ad, 256, 256, 1])
    state = {
        "actor": pi, "q1": q1, "q2": q2, "actor_t": pi, "q1_t": q1, "q2_t": q2,
        "opt_pi": adam_init(pi), "opt_q": adam_init((q1, q2)),
    }
    cap = steps
    buf = {
        "s": np.zeros((cap, od), np.float32), "a": np.zeros((cap, ad), np.float32),
        "r": np.zeros(cap, np.float32), "s2": np.zeros((cap, od), np.float32),
        "d": np.zeros(cap, np.float32),
    }
    rng = np.random.default_rng(1)
    obs, _ = env.reset(seed=1)
    key = keys[3]
    start = None
    for t in range(steps):
        if t == warmup:
            start = time.perf_counter()
        if t < warmup:
            a = env.action_space.sample()
        else:
            key, k = jax.random.split(key)
            a = np.asarray(explore(state["actor"], jnp.asarray(obs, jnp.float32), k, high))
        obs2, r, term, trunc, _ = env.step(a)
        buf["s"][t], buf["a"][t], buf["r"][t], buf["s2"][t], buf["d"][t] = obs, a, r, obs2, float(term)
        obs = obs2 if not (term or trunc) else env.reset()[0]
        if t >= warmup:
            idx = rng.integers(0, t + 1, batch_size)
            b = tuple(jnp.asarray(buf[k][idx]) for k in ("s", "a", "r", "s2", "d"))
            key, k = jax.random.split(key)
            state = update(state, b, k, high, update_actor=(t % 2 == 0))
    jax.block_until_ready(state)
    elapsed = time.perf_counter() - start
    print(f"jax td3 on {env_id}: {steps - warmup} steps after the warm-up in {elapsed:.1f} s: "
          f"{(steps - warmup) / elapsed:.1f} steps/s (jax {jax.__version__}, {jax.devices()[0].platform})")


if __name__ == "__main__":
    main()
