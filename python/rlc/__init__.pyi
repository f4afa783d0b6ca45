"""Type stubs of the `rlc` package (see rlc/__init__.py for the documentation)."""

import os
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Union

import numpy as np

EnvLike = Union[str, Any, Callable[[], Any]]

class CompileError(Exception):
    """A program that does not compile: the message is rlc's rendered diagnostics."""

class RunError(Exception):
    """A run that failed: a setup error, a broken environment, a NaN, a bad checkpoint."""

class Agent:
    summary: dict[str, float]
    @property
    def name(self) -> str: ...
    @property
    def env_spec(self) -> dict[str, Any]: ...
    @property
    def run_dir(self) -> Optional[Path]: ...
    @property
    def metrics(self) -> list[dict[str, Any]]: ...
    def learn(
        self,
        steps: int,
        seed: int = 0,
        out: Optional[Union[str, os.PathLike[str]]] = None,
        eval_every: Optional[int] = None,
        eval_episodes: int = 10,
        log_every: Optional[int] = None,
        progress: bool = True,
        vectorize: str = "sync",
    ) -> Agent: ...
    def act(self, obs: Any) -> Any: ...
    def predict(
        self, obs: Any, state: Any = None, episode_start: Any = None, deterministic: bool = True
    ) -> tuple[Any, None]: ...
    def save(self, path: Union[str, os.PathLike[str]]) -> None: ...

def compile(
    program: Union[str, os.PathLike[str]],
    env: Optional[EnvLike] = None,
    set: Optional[Mapping[str, Any]] = None,
    backend: str = "jit",
) -> Agent: ...
def load(
    path: Union[str, os.PathLike[str]],
    program: Union[str, os.PathLike[str]],
    env: Optional[EnvLike] = None,
    set: Optional[Mapping[str, Any]] = None,
    backend: str = "jit",
) -> Agent: ...
def stdlib_dir() -> Optional[str]: ...
