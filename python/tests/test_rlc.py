"""The `rlc` Python package: compile, learn on environment objects and ids, act, save, load,
metrics, and errors as Python exceptions (`pytest python/tests` after `pip install .`)."""

import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import rlc

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "data" / "gym"))
import rlc_test_envs  # noqa: E402  (registers Line-v0 and friends)

TD3 = str(ROOT / "stdlib" / "td3.rl")
PPO = str(ROOT / "stdlib" / "ppo.rl")
SMALL = {"hidden": [32, 32], "learning_starts": 500}


def line(discrete=False):
    """A custom environment object, not registered: wrapped in a time limit by hand."""
    return gym.wrappers.TimeLimit(rlc_test_envs.Line(discrete=discrete), max_episode_steps=20)


def greedy_return(agent, env, episodes=20, seed=0):
    total = 0.0
    for k in range(episodes):
        obs, _ = env.reset(seed=seed + k)
        done = False
        while not done:
            obs, r, term, trunc, _ = env.step(agent.act(obs))
            total += r
            done = term or trunc
    return total / episodes


def test_td3_learns_a_custom_environment_object(tmp_path):
    env = line()
    agent = rlc.compile(TD3, env=env, set=SMALL)
    assert agent.name == "td3"
    assert agent.env_spec["obs_dim"] == 2 and agent.env_spec["action"] == "continuous"
    assert agent.learn(steps=4000, seed=1, out=tmp_path, progress=False) is agent
    assert agent.summary["steps"] == 4000
    # The greedy policy, stepped here in Python: a random policy scores -5.6.
    assert greedy_return(agent, line()) > -1.5
    records = agent.metrics
    assert records[-1]["step"] == 4000 and "loss/critic_loss" in records[-1]
    assert (tmp_path / "checkpoint.safetensors").is_file()
    # The object passed in was copied, never stepped.
    assert env.unwrapped.t == 0


def test_ppo_learns_from_a_factory_and_a_registered_id(tmp_path):
    agent = rlc.compile(PPO, env=lambda: line(discrete=True))
    agent.learn(steps=20000, seed=1, out=tmp_path / "factory", progress=False)
    assert greedy_return(agent, line(discrete=True)) > -1.5
    # In the environment's numbering: Discrete(3, start=-1).
    a = agent.act(np.zeros(2, dtype=np.float32))
    assert isinstance(a, int) and -1 <= a <= 1
    batch = agent.act(np.zeros((5, 2), dtype=np.float32))
    assert batch.shape == (5,) and batch.dtype == np.int64

    by_id = rlc.compile(PPO, env="rlc_test_envs:LineDiscrete-v0")
    by_id.learn(steps=2000, seed=1, out=tmp_path / "id", progress=False)
    assert by_id.env_spec["id"] == "gym:rlc_test_envs:LineDiscrete-v0"


def test_same_seed_same_parameters_and_save_load_round_trip(tmp_path):
    def train(seed, name):
        agent = rlc.compile(TD3, env=line(), set={"hidden": [16], "learning_starts": 200})
        agent.learn(steps=600, seed=seed, out=tmp_path / name, progress=False)
        return agent

    # (The checkpoints' headers name each object's id in its process, so compare policies.)
    a, b, c = train(3, "a"), train(3, "b"), train(4, "c")
    probe = np.random.default_rng(1).uniform(-1, 1, (16, 2)).astype(np.float32)
    np.testing.assert_array_equal(a.act(probe), b.act(probe))
    assert not np.array_equal(a.act(probe), c.act(probe))

    a.save(tmp_path / "td3.safetensors")
    loaded = rlc.load(tmp_path / "td3.safetensors", TD3, env=line(), set={"hidden": [16], "learning_starts": 200})
    obs = np.random.default_rng(0).uniform(-1, 1, (7, 2)).astype(np.float32)
    np.testing.assert_array_equal(loaded.act(obs), a.act(obs))
    action, state = loaded.predict(obs[0])
    assert action.shape == (1,) and state is None
    # Other settings: another program hash (or other shapes), refused.
    with pytest.raises(rlc.RunError, match="different program"):
        rlc.load(tmp_path / "td3.safetensors", TD3, env=line(), set={"hidden": [16], "learning_starts": 300})
    with pytest.raises(rlc.RunError, match="has shape \\[2, 16\\], the program needs \\[2, 32\\]"):
        rlc.load(tmp_path / "td3.safetensors", TD3, env=line(), set={"hidden": [32], "learning_starts": 200})


def test_errors_are_python_exceptions_with_diagnostics(tmp_path):
    bad = tmp_path / "bad.rl"
    bad.write_text("algorithm x {\n  param gamma = 0.99\n  net q(s: obs) = linaer(s, 2)\n}\n")
    with pytest.raises(rlc.CompileError) as e:
        rlc.compile(str(bad), env="CartPole-v1")
    assert "linaer" in str(e.value) and "bad.rl:3" in str(e.value)

    with pytest.raises(rlc.CompileError, match="VersionNotFound"):
        rlc.compile(TD3, env="HalfCheetah-v9")
    with pytest.raises(rlc.CompileError, match="no time limit"):
        rlc.compile(TD3, env=rlc_test_envs.Line())
    with pytest.raises(rlc.RunError, match="no parameters yet"):
        rlc.compile(TD3, env=line()).act(np.zeros(2))
    agent = rlc.compile(TD3, env="rlc_test_envs:Crashes-v0", set=SMALL)
    with pytest.raises(rlc.RunError, match="lost its contact solver"):
        agent.learn(steps=1000, seed=1, out=tmp_path / "crash", progress=False)
    with pytest.raises(ValueError, match="observations of shape \\(3, 5\\)"):
        a = rlc.compile(TD3, env=line(), set={"hidden": [16], "learning_starts": 200})
        a.learn(steps=400, seed=1, out=tmp_path / "shape", progress=False)
        a.act(np.zeros((3, 5)))


def test_rlc_own_port_by_prefix(tmp_path):
    agent = rlc.compile(PPO, env="rlc:CartPole-v1")
    assert agent.env_spec["id"] == "CartPole-v1"


def test_a_spec_limit_without_its_wrapper_still_truncates(tmp_path):
    # Gymnasium 1.4's `.unwrapped` drops the limit from its spec: refused.
    with pytest.raises(rlc.CompileError, match="no time limit"):
        rlc.compile(TD3, env=gym.make("rlc_test_envs:Line-v0").unwrapped)
    # A spec that names a limit, without the TimeLimit wrapper that would enforce it: rlc
    # wraps each copy, so episodes end at step 20 rather than never.
    env = rlc_test_envs.Line()
    env.spec = gym.spec("Line-v0")
    assert env.spec.max_episode_steps == 20
    agent = rlc.compile(TD3, env=env, set={"hidden": [16], "learning_starts": 200})
    agent.learn(steps=600, seed=1, out=tmp_path, progress=False)
    assert agent.metrics[-1]["episodes"] >= 30  # every episode ends by step 20


def test_shaped_spaces_keep_their_shapes(tmp_path):
    agent = rlc.compile(TD3, env=lambda: gym.wrappers.TimeLimit(rlc_test_envs.Shaped(), 20),
                        set={"hidden": [16], "learning_starts": 200})
    agent.learn(steps=400, seed=1, out=tmp_path, progress=False)
    assert agent.act(np.zeros((1, 2))).shape == (1, 1)
    assert agent.act(np.zeros((4, 1, 2))).shape == (4, 1, 1)


def test_act_follows_a_rewritten_checkpoint(tmp_path):
    agent = rlc.compile(TD3, env=line(), set={"hidden": [16], "learning_starts": 200})
    probe = np.random.default_rng(2).uniform(-1, 1, (8, 2)).astype(np.float32)
    agent.learn(steps=400, seed=1, out=tmp_path, progress=False)
    first = agent.act(probe)
    agent.learn(steps=400, seed=2, out=tmp_path, progress=False)
    assert not np.array_equal(agent.act(probe), first)
