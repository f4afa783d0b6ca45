"""rlc's side of the Gymnasium bridge (embedded in the `rlc` binary, run in its interpreter).

rlc steps a Gymnasium vector environment with one call per batch: `Vec.step` takes the batch
of actions and returns flat float32 observations, the true last observations of episodes that
ended (Gymnasium's `final_obs` under the same-step autoreset), float64 rewards and the
terminated / truncated flags, so the Rust side copies five arrays and makes no other call.

Everything that can be checked about the spaces is checked here, before a step is taken, with
an error that names the space: rlc takes flat float observations (any `Box`) and either a
`Discrete` action or a `Box` action with finite bounds.
"""

import numpy as np
import gymnasium as gym
from gymnasium.vector import AutoresetMode


class SpaceError(Exception):
    """An observation or action space rlc cannot map onto its `obs` / `act`."""


def _describe_spaces(env_id, obs_space, act_space, max_steps):
    """The facts rlc's compiler needs, as plain Python values (see `GymSpec` in gym/mod.rs)."""
    if not isinstance(obs_space, gym.spaces.Box):
        raise SpaceError(
            f"`{env_id}` observes {obs_space!r}; rlc takes flat float observations: a `Box` "
            "(wrap it, e.g. with gymnasium.wrappers.FlattenObservation)"
        )
    obs_dim = int(np.prod(obs_space.shape, dtype=np.int64))
    if isinstance(act_space, gym.spaces.Discrete):
        action = ("discrete", int(act_space.n), int(act_space.start))
    elif isinstance(act_space, gym.spaces.Box):
        low = np.asarray(act_space.low, dtype=np.float64).reshape(-1)
        high = np.asarray(act_space.high, dtype=np.float64).reshape(-1)
        if not (np.isfinite(low).all() and np.isfinite(high).all()):
            raise SpaceError(
                f"`{env_id}` acts in {act_space!r}, whose bounds are not all finite; rlc's "
                "policies scale their actions to the box (wrap it, e.g. with "
                "gymnasium.wrappers.RescaleAction or ClipAction)"
            )
        action = ("box", low.tolist(), high.tolist())
    else:
        raise SpaceError(
            f"`{env_id}` acts in {act_space!r}; rlc takes a `Discrete` or a `Box` action space"
        )
    if max_steps is None:
        raise SpaceError(
            f"`{env_id}` has no time limit (its spec's max_episode_steps is None); rlc needs "
            "episodes that end: register it with max_episode_steps (or wrap it in "
            "gymnasium.wrappers.TimeLimit)"
        )
    return obs_dim, action, int(max_steps)


def where(tb):
    """`file:line in function` of the innermost frame of a traceback (the environment's own
    code, when it raised), or ""."""
    import traceback

    frames = traceback.extract_tb(tb)
    if not frames:
        return ""
    f = frames[-1]
    return f"{f.filename}:{f.lineno} in {f.name}"


# Environment objects handed to the Python package (`rlc.compile(..., env=MyEnv())`), by the
# id rlc knows them under (`@0`, `@1`, ...): an instance (copied for every copy rlc makes, so
# the user's object is never stepped) or a function that makes one.
_OBJECTS = {}


def register(env):
    """Registers an environment instance or factory; returns its id (without `gym:`)."""
    key = f"@{len(_OBJECTS)}"
    _OBJECTS[key] = env
    return key


def _object_factories(env_id, n):
    import copy

    obj = _OBJECTS[env_id]
    if isinstance(obj, gym.Env):
        try:
            copies = [copy.deepcopy(obj) for _ in range(n)]
        except Exception as e:  # noqa: BLE001 - any failure means "cannot copy"
            raise SpaceError(
                f"rlc needs {n} copies of the environment object and cannot copy it ({e}); pass "
                "a function that makes one instead, e.g. env=lambda: MyEnv()"
            ) from e
        return [lambda e=e: _limited(e) for e in copies]
    if callable(obj):
        return [lambda: _limited(obj())] * n
    raise SpaceError(f"env={obj!r} is neither a gymnasium.Env nor a function that makes one")


def _wrapper_limit(env):
    """The limit of a TimeLimit wrapper in the chain, or None."""
    while isinstance(env, gym.Wrapper):
        if isinstance(env, gym.wrappers.TimeLimit):
            return env._max_episode_steps
        env = env.env
    return None


def _limited(env):
    """An environment object that truncates: as it is when a TimeLimit wrapper is in its
    chain; wrapped in one when only its spec names a limit (`gym.make(...).unwrapped` keeps
    the spec but would never truncate); as it is otherwise (then refused: no time limit)."""
    if _wrapper_limit(env) is None and env.spec is not None and env.spec.max_episode_steps:
        return gym.wrappers.TimeLimit(env, env.spec.max_episode_steps)
    return env


def _time_limit(env):
    """The episode limit an environment object enforces (see `_limited`)."""
    return _wrapper_limit(_limited(env))


def _make_one(env_id):
    if env_id in _OBJECTS:
        return _object_factories(env_id, 1)[0]()
    return gym.make(env_id)


def describe(env_id):
    """(obs_dim, action, max_episode_steps) of an id, from one throwaway instance."""
    env = _make_one(env_id)
    try:
        return _describe_spaces(env_id, env.observation_space, env.action_space, _time_limit(env))
    finally:
        env.close()


class Vec:
    """n copies of one environment in a Gymnasium vector env, autoreset in the same step."""

    def __init__(self, env_id, n, mode, seeds):
        # Gymnasium 1.x resets an ended copy on the *next* step by default; rlc's batches
        # (like Stable-Baselines3's) hold the next episode's first observation at once and
        # the ended one's last observation beside it.
        autoreset = {"autoreset_mode": AutoresetMode.SAME_STEP}
        self.env = None
        try:
            self._make(env_id, n, mode, seeds, autoreset)
        except BaseException:
            # Async workers would otherwise wait for the garbage collector.
            if self.env is not None:
                self.env.close()
            raise

    def _make(self, env_id, n, mode, seeds, autoreset):
        if env_id in _OBJECTS:
            fns = _object_factories(env_id, n)
            cls = gym.vector.AsyncVectorEnv if mode == "async" else gym.vector.SyncVectorEnv
            self.env = cls(fns, **autoreset)
            limit = _time_limit(self.env.envs[0]) if mode != "async" else describe(env_id)[2]
        else:
            self.env = gym.make_vec(
                env_id, num_envs=n, vectorization_mode=mode, vector_kwargs=autoreset
            )
            limit = self.env.spec.max_episode_steps if self.env.spec is not None else None
        self.spec = _describe_spaces(
            env_id, self.env.single_observation_space, self.env.single_action_space, limit
        )
        self.n = n
        kind = self.spec[1]
        self.discrete_start = kind[2] if kind[0] == "discrete" else 0
        self.act_shape = (n,) + tuple(self.env.single_action_space.shape)
        obs, _ = self.env.reset(seed=[int(s) for s in seeds])
        self.obs = self._flat(obs)

    def _flat(self, obs):
        # No copy when the environment already gives contiguous float32 rows.
        return np.ascontiguousarray(np.asarray(obs).reshape(self.n, -1), dtype=np.float32)

    def reset(self):
        """Starts new episodes in every copy, continuing each copy's generator."""
        obs, _ = self.env.reset()
        self.obs = self._flat(obs)
        return self.obs

    def step(self, actions):
        """One step of every copy: (obs, final_obs, reward, terminated, truncated)."""
        if self.discrete_start != 0:
            actions = actions + self.discrete_start
        obs, reward, terminated, truncated, info = self.env.step(actions.reshape(self.act_shape))
        obs = self._flat(obs)
        final = obs
        mask = info.get("_final_obs")
        if mask is not None and np.any(mask):
            final = obs.copy()
            for i in np.flatnonzero(mask):
                final[i] = np.asarray(info["final_obs"][i], dtype=np.float32).reshape(-1)
        terminated = np.ascontiguousarray(terminated, dtype=np.bool_)
        # rlc's `truncated` means "cut without terminating" (a time limit bootstraps).
        truncated = np.ascontiguousarray(truncated, dtype=np.bool_) & ~terminated
        self.obs = obs
        return obs, final, np.ascontiguousarray(reward, dtype=np.float64), terminated, truncated

    def close(self):
        self.env.close()
