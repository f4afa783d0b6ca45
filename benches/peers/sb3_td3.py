"""Stable-Baselines3's TD3 on a Gymnasium environment, timed like `rlc run stdlib/td3.rl`:
the same settings as rlc's TD3 (2x256 ReLU nets, Adam 1e-3, batch 256, 1,000 uniform warm-up
steps, one update per step, actor and targets every second update, Gaussian exploration
noise 0.1), reporting environment steps per second from the end of the warm-up to the end.

    python benches/peers/sb3_td3.py HalfCheetah-v5 6000

Pinned versions: benches/peers/requirements.txt. Compare with
    rlc run stdlib/td3.rl --env gym:HalfCheetah-v5 --steps 6000 --log-every 1000
(`steps_per_s` of its metrics lines after step 1000), side by side on the same machine.
"""

import sys
import time

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import TD3
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.noise import NormalActionNoise


class Clock(BaseCallback):
    """Remembers the wall time at the end of the warm-up and at the end."""

    def __init__(self, warmup):
        super().__init__()
        self.warmup = warmup
        self.start = None

    def _on_step(self):
        if self.num_timesteps == self.warmup:
            self.start = time.perf_counter()
        return True


def main():
    env_id = sys.argv[1] if len(sys.argv) > 1 else "HalfCheetah-v5"
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 6000
    warmup = 1000
    env = gym.make(env_id)
    dim = env.action_space.shape[0]
    model = TD3(
        "MlpPolicy",
        env,
        learning_rate=1e-3,
        buffer_size=1_000_000,
        learning_starts=warmup,
        batch_size=256,
        tau=0.005,
        gamma=0.99,
        train_freq=1,
        gradient_steps=1,
        policy_delay=2,
        action_noise=NormalActionNoise(np.zeros(dim), 0.1 * np.ones(dim)),
        policy_kwargs={"net_arch": [256, 256]},
        seed=1,
        device="cpu",
    )
    clock = Clock(warmup)
    model.learn(total_timesteps=steps, callback=clock)
    elapsed = time.perf_counter() - clock.start
    rate = (steps - warmup) / elapsed
    print(f"sb3 td3 on {env_id}: {steps - warmup} steps after the warm-up in {elapsed:.1f} s: "
          f"{rate:.1f} steps/s (torch {torch.__version__}, {torch.get_num_threads()} threads)")


if __name__ == "__main__":
    main()
