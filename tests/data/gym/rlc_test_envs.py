"""Custom Gymnasium environments for rlc's bridge tests (`--env gym:rlc_test_envs:Line-v0`).

`Line` has dynamics simple enough to check every number the bridge passes: the state is a
position x, the observation (x, t) with t the step within the episode, an action moves x by
0.1 * a (a clipped to [-1, 1]), the reward is -|x|, and the episode terminates when |x| >= 1
(time limit: 20 steps). Importing the module registers the environments.
"""

import numpy as np
import gymnasium as gym
from gymnasium import spaces


class Line(gym.Env):
    def __init__(self, discrete=False):
        self.observation_space = spaces.Box(-np.inf, np.inf, (2,), np.float64)
        if discrete:
            # start=-1: Gymnasium's actions are -1, 0, 1; rlc's are 0, 1, 2.
            self.action_space = spaces.Discrete(3, start=-1)
        else:
            self.action_space = spaces.Box(-1.0, 1.0, (1,), np.float32)
        self.x = 0.0
        self.t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        # On a grid of 1/1024: exact in float32, so a test can follow the float64 state.
        self.x = float(self.np_random.integers(-512, 513)) / 1024.0
        self.t = 0
        return self._obs(), {}

    def step(self, action):
        a = float(np.clip(np.asarray(action, dtype=np.float64).reshape(-1)[0], -1.0, 1.0))
        self.x += 0.1 * a
        self.t += 1
        return self._obs(), -abs(self.x), abs(self.x) >= 1.0, False, {}

    def _obs(self):
        return np.array([self.x, self.t], dtype=np.float64)


class Shaped(Line):
    """Line with a (1, 2) observation and a (1, 1) action: shapes other than flat vectors."""

    def __init__(self):
        super().__init__()
        self.observation_space = spaces.Box(-np.inf, np.inf, (1, 2), np.float64)
        self.action_space = spaces.Box(-1.0, 1.0, (1, 1), np.float32)

    def _obs(self):
        return super()._obs().reshape(1, 2)


class DictAction(Line):
    def __init__(self):
        super().__init__()
        self.action_space = spaces.Dict({"move": spaces.Box(-1.0, 1.0, (1,))})


class NeedsExtra(Line):
    def __init__(self):
        raise gym.error.DependencyNotInstalled(
            'the rlc_test_extra package is not installed, run `pip install "rlc-test[extra]"`'
        )


class NaNObservation(Line):
    def step(self, action):
        obs, r, term, trunc, info = super().step(action)
        if self.t == 3:
            obs[0] = np.nan
        return obs, r, term, trunc, info


class Crashes(Line):
    def step(self, action):
        if self.t == 2:
            raise RuntimeError("the simulator lost its contact solver")
        return super().step(action)


gym.register("Line-v0", entry_point=Line, max_episode_steps=20)
gym.register("LineDiscrete-v0", entry_point=Line, kwargs={"discrete": True}, max_episode_steps=20)
gym.register("LineNoLimit-v0", entry_point=Line)
gym.register("DictAction-v0", entry_point=DictAction, max_episode_steps=20)
gym.register("NeedsExtra-v0", entry_point=NeedsExtra, max_episode_steps=20)
gym.register("NaNObservation-v0", entry_point=NaNObservation, max_episode_steps=20)
gym.register("Crashes-v0", entry_point=Crashes, max_episode_steps=20)
