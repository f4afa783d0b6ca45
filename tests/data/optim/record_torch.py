"""Record reference optimizer trajectories from PyTorch's torch.optim.

What it records: for each update rule below (written as rlc's language spells
it), two parameters w1 (shape [3]) and w2 (shape [2, 2]) with random initial
values, and K = 25 steps of recorded gradients. At each step the gradient is
assigned to p.grad, optionally clipped with
torch.nn.utils.clip_grad_norm_([w1, w2], max_norm) (when the rule has
clip_norm), then optimizer.step() is called; the parameters after the step are
recorded. Gradient scale varies per step (x 10**U(-3, 2)) and step ZERO_STEP
has all gradients exactly zero (assigned as zero tensors, not None, so the
optimizer state still advances).

Everything is float64, seeded (numpy default_rng(1000 + case index)), and uses
torch's default implementation flags (no foreach/fused passed; on CPU torch
then takes the single-tensor for-loop path).

Pinned: torch==2.15.0 (PyPI wheel, run on CPU), numpy 2.x.

Rerun (from the repo root, in a venv with torch==2.15.0 and numpy):
    python tests/data/optim/record_torch.py > tests/data/optim/torch_trajectories.json

Output JSON:
    {"torch_version", "numpy_version", "k", "zero_step",
     "cases": [{"rule", "w1": [3], "w2": [4 row-major],
                "grads": [[g1 (3), g2 (4 row-major)] x K],
                "params": [[w1 after step (3), w2 after step (4)] x K]}]}
"""

import json
import sys

import numpy as np
import torch

K = 25
ZERO_STEP = 11  # 0-based index of the all-zero-gradient step

torch.set_default_dtype(torch.float64)

# (rule string as rlc writes it, optimizer factory, clip_norm or None)
CASES = [
    ("sgd(lr = 0.1)", lambda ps: torch.optim.SGD(ps, lr=0.1), None),
    ("sgd(lr = 0.05, momentum = 0.9)",
     lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9), None),
    ("sgd(lr = 0.1, clip_norm = 0.5)", lambda ps: torch.optim.SGD(ps, lr=0.1), 0.5),
    ("adam(lr = 0.001)", lambda ps: torch.optim.Adam(ps, lr=0.001), None),
    ("adam(lr = 0.05, b1 = 0.8, b2 = 0.95, eps = 1e-6)",
     lambda ps: torch.optim.Adam(ps, lr=0.05, betas=(0.8, 0.95), eps=1e-6), None),
    ("adam(lr = 0.01, clip_norm = 1.0)", lambda ps: torch.optim.Adam(ps, lr=0.01), 1.0),
    ("rmsprop(lr = 0.01)", lambda ps: torch.optim.RMSprop(ps, lr=0.01), None),
    ("rmsprop(lr = 0.003, alpha = 0.9, eps = 1e-5)",
     lambda ps: torch.optim.RMSprop(ps, lr=0.003, alpha=0.9, eps=1e-5), None),
    ("rmsprop(lr = 0.01, clip_norm = 0.5)",
     lambda ps: torch.optim.RMSprop(ps, lr=0.01), 0.5),
]


def flat(a):
    return [float(x) for x in np.asarray(a, dtype=np.float64).reshape(-1)]


def run_case(index, rule, make_opt, clip_norm):
    rng = np.random.default_rng(1000 + index)
    w1_0 = rng.normal(0.0, 1.0, size=(3,))
    w2_0 = rng.normal(0.0, 1.0, size=(2, 2))
    grads = []
    for t in range(K):
        scale = 10.0 ** rng.uniform(-3.0, 2.0)
        g1 = rng.normal(0.0, 1.0, size=(3,)) * scale
        g2 = rng.normal(0.0, 1.0, size=(2, 2)) * scale
        if t == ZERO_STEP:
            g1 = np.zeros_like(g1)
            g2 = np.zeros_like(g2)
        grads.append((g1, g2))

    w1 = torch.nn.Parameter(torch.tensor(w1_0, dtype=torch.float64))
    w2 = torch.nn.Parameter(torch.tensor(w2_0, dtype=torch.float64))
    opt = make_opt([w1, w2])
    params = []
    for g1, g2 in grads:
        w1.grad = torch.tensor(g1.copy(), dtype=torch.float64)
        w2.grad = torch.tensor(g2.copy(), dtype=torch.float64)
        if clip_norm is not None:
            torch.nn.utils.clip_grad_norm_([w1, w2], max_norm=clip_norm)
        opt.step()
        params.append([flat(w1.detach().numpy()), flat(w2.detach().numpy())])

    return {
        "rule": rule,
        "w1": flat(w1_0),
        "w2": flat(w2_0),
        "grads": [[flat(g1), flat(g2)] for g1, g2 in grads],
        "params": params,
    }


def main():
    out = {
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "k": K,
        "zero_step": ZERO_STEP,
        "cases": [run_case(i, *c) for i, c in enumerate(CASES)],
    }
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
