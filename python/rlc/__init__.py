"""rlc from Python: compile a `.rl` program, train it on a Gymnasium environment, act with it.

    import gymnasium as gym, rlc
    agent = rlc.compile("stdlib/sac.rl", env=gym.make("Pendulum-v1"), set={"batch": 256})
    agent.learn(steps=20_000, seed=1)        # progress lines, metrics, curve and checkpoint
    action = agent.act(obs)                  # greedy
    agent.save("sac.safetensors")
    agent = rlc.load("sac.safetensors", "stdlib/sac.rl", env=gym.make("Pendulum-v1"))

`env` is a Gymnasium id (`"HalfCheetah-v5"`, stepped through Gymnasium; `"rlc:CartPole-v1"`
for rlc's own port), a `gymnasium.Env` instance (copied for every copy rlc steps: the object
you pass is never stepped), or a function that makes one. The names follow
Stable-Baselines3 where they mean the same: `learn`, `predict`, `save`, `load`.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence, Union

import numpy as np

from . import _rlc
from ._rlc import CompileError, RunError

__all__ = ["Agent", "CompileError", "RunError", "compile", "load"]

EnvLike = Union[str, Any, Callable[[], Any]]


def _env_id(env: EnvLike, probe: Optional[dict]) -> tuple[str, str]:
    """rlc's id for `env` and the name the program hash records for it."""
    if isinstance(env, str):
        if env.startswith("rlc:"):
            return env[len("rlc:"):], env[len("rlc:"):]
        gym_id = env if env.startswith("gym:") else "gym:" + env
        return gym_id, gym_id
    # An object's id (`gym:@k`) differs between processes: hash what it is instead (its spec
    # id or class, and its spaces), so a checkpoint saved here loads in another process with
    # the same kind of environment, and not with another kind.
    return _rlc.register_env(env), probe["stable"]


def _probe(env: EnvLike) -> Optional[dict]:
    """What `act` needs to answer in the environment's terms, from the object (or one
    throwaway instance): the first action of a `Discrete(n, start)` space (rlc numbers
    actions from 0), the observation and action shapes, and a stable name for the hash."""
    import gymnasium as gym

    if env is None or (isinstance(env, str) and env.startswith("rlc:")):
        return None
    if isinstance(env, gym.Env):
        inst, made = env, False
    elif isinstance(env, str):
        try:
            inst, made = gym.make(env[len("gym:"):] if env.startswith("gym:") else env), True
        except Exception:  # noqa: BLE001 - the compile reports it, as a located diagnostic
            return None
    else:
        inst, made = env(), True
    try:
        obs, act = inst.observation_space, inst.action_space
        name = inst.spec.id if inst.spec is not None else type(inst.unwrapped).__qualname__
        return {
            "start": int(act.start) if isinstance(act, gym.spaces.Discrete) else 0,
            "obs_shape": tuple(obs.shape or ()),
            "act_shape": tuple(act.shape or ()),
            "stable": f"gym:object:{name}:{obs}:{act}",
        }
    finally:
        if made:
            inst.close()


def _setting(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_setting(v) for v in value) + "]"
    return str(value)


class Agent:
    """A compiled program for one environment and one set of settings (see `rlc.compile`)."""

    def __init__(self, program: _rlc.Program, file: str, probe: Optional[dict] = None):
        self._program = program
        spec = program.env_spec
        probe = probe or {}
        self._action_start = probe.get("start", 0)
        self._obs_shape = probe.get("obs_shape", (spec["obs_dim"],))
        self._act_shape = probe.get("act_shape", (spec["dim"],) if spec["action"] == "continuous" else ())
        self._file = file
        self._checkpoint: Optional[Path] = None
        self._run_dir: Optional[Path] = None

    @property
    def name(self) -> str:
        """The algorithm's name (`td3`, `ppo`, ...)."""
        return self._program.name

    @property
    def env_spec(self) -> dict:
        """What rlc knows of the environment: id, obs_dim, action kind and size, time limit."""
        return dict(self._program.env_spec)

    @property
    def run_dir(self) -> Optional[Path]:
        """The directory of the last `learn` (metrics.jsonl, curve.svg, checkpoint)."""
        return self._run_dir

    def learn(
        self,
        steps: int,
        seed: int = 0,
        out: Optional[Union[str, os.PathLike]] = None,
        eval_every: Optional[int] = None,
        eval_episodes: int = 10,
        log_every: Optional[int] = None,
        progress: bool = True,
        vectorize: str = "sync",
    ) -> "Agent":
        """Trains for `steps` environment steps; every random number derives from `seed`.

        Writes metrics.jsonl, curve.svg and checkpoint.safetensors into `out` (default: a new
        temporary directory, see `run_dir`), as `rlc run` does; `progress` prints its lines.
        Returns the agent, like Stable-Baselines3's `learn`. Raises `RunError` when the run
        fails (a broken environment, a NaN, an unwritable directory).
        """
        out_dir = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix=f"rlc-{self.name}-"))
        self.summary = dict(
            self._program.learn(
                int(steps),
                int(seed),
                str(out_dir),
                int(eval_every if eval_every is not None else max(steps // 10, 1)),
                int(eval_episodes),
                int(log_every if log_every is not None else max(steps // 100, 1000)),
                not progress,
                vectorize,
            )
        )
        self._run_dir = out_dir
        self._checkpoint = out_dir / "checkpoint.safetensors"
        return self

    def _need_checkpoint(self) -> Path:
        if self._checkpoint is None:
            raise RunError("the agent has no parameters yet: call learn() or rlc.load() first")
        return self._checkpoint

    def act(self, obs: Any) -> np.ndarray:
        """The greedy action for one observation (`[obs_dim]`) or a batch (`[n, obs_dim]`):
        an int (discrete) or a float32 array (continuous) for one; an array for a batch."""
        x = np.asarray(obs, dtype=np.float32)
        shape = self._obs_shape
        single = x.shape == shape
        if not single and x.shape[1:] != shape:
            raise ValueError(f"observations of shape {x.shape}: pass {shape} or (n, *{shape})")
        n = 1 if single else x.shape[0]
        rows = np.ascontiguousarray(x.reshape(n, -1))
        a = self._program.act(rows, str(self._need_checkpoint()))
        if a.ndim == 1:
            a = a + self._action_start  # Discrete(n, start): the environment's numbering
            return a[0].item() if single else a
        a = a.reshape((n,) + self._act_shape)
        return a[0] if single else a

    def predict(self, obs: Any, state: Any = None, episode_start: Any = None, deterministic: bool = True):
        """Stable-Baselines3's signature: `(action, None)`. Only greedy actions are offered."""
        if not deterministic:
            raise ValueError("rlc.Agent.predict acts greedily only: pass deterministic=True")
        return self.act(obs), None

    def save(self, path: Union[str, os.PathLike]) -> None:
        """Writes the parameters (a safetensors checkpoint, as `rlc run` writes)."""
        shutil.copyfile(self._need_checkpoint(), path)

    @property
    def metrics(self) -> list[dict]:
        """The records of the last `learn`'s metrics.jsonl (step, returns, losses, metrics)."""
        if self._run_dir is None:
            return []
        with open(self._run_dir / "metrics.jsonl") as f:
            return [json.loads(line) for line in f if line.strip()]


def compile(
    program: Union[str, os.PathLike],
    env: Optional[EnvLike] = None,
    set: Optional[Mapping[str, Any]] = None,
    backend: str = "jit",
) -> Agent:
    """Compiles the first algorithm of `program` for `env` with settings `set`
    (`{"batch": 256, "hidden": [64, 64]}`). Raises `CompileError` with rlc's diagnostics."""
    probe = _probe(env)
    env_id, stable = _env_id(env, probe) if env is not None else (None, None)
    sets = [f"{k}={_setting(v)}" for k, v in (set or {}).items()]
    p = _rlc.Program(str(program), env_id, sets, backend, stable)
    return Agent(p, str(program), probe)


def load(
    path: Union[str, os.PathLike],
    program: Union[str, os.PathLike],
    env: Optional[EnvLike] = None,
    set: Optional[Mapping[str, Any]] = None,
    backend: str = "jit",
) -> Agent:
    """An agent acting with the parameters saved at `path` by `Agent.save` (or `rlc run`);
    `program`, `env` and `set` must be those it was trained with (checked: program hash)."""
    agent = compile(program, env, set, backend)
    agent._checkpoint = Path(path)
    agent.act(np.zeros(agent._obs_shape, dtype=np.float32))  # checks the hash now
    return agent


def stdlib_dir() -> Optional[str]:
    """Where the standard library (`stdlib/*.rl`) is found."""
    d = _rlc.stdlib_dir()
    return None if d is None else str(d)
