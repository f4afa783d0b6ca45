"""Records numpy/LAPACK references for rlc's small linear algebra (tests/linalg_numpy.rs).

Symmetric positive-definite matrices Q diag(d) Q' of several sizes, with eigenvalues spread
over 1..10 (well conditioned) or 1e-5..1 (condition number 1e5), rounded to float32 (what
rlc's f32 tensors hold); their Cholesky factors (numpy.linalg.cholesky, LAPACK potrf) and the
solutions of a x = b (numpy.linalg.solve, LAPACK gesv), computed in float64 from the rounded
values. Matrices are written with 9 significant digits (which name each f32 exactly; the
test reads them back as f32), results with 15. Run with numpy installed (2.4.6 made the file):  python tests/data/linalg/record_numpy.py
"""
import json
import pathlib

import numpy as np

rng = np.random.default_rng(20261207)
cases = []
for n in (3, 16, 64, 128):
    for name, lo, hi in (("well", 1.0, 10.0), ("ill", 1e-5, 1.0)):
        q, _ = np.linalg.qr(rng.standard_normal((n, n)))
        d = np.geomspace(lo, hi, n)
        a = (q * d) @ q.T
        a = ((a + a.T) / 2).astype(np.float32).astype(np.float64)
        b = rng.standard_normal(n).astype(np.float32).astype(np.float64)
        cases.append({
            "name": f"{name} {n}x{n}",
            "n": n,
            "cond": float(np.linalg.cond(a)),
            "a": [float(f"{v:.9g}") for v in a.ravel()],
            "b": [float(f"{v:.9g}") for v in b],
            "cholesky": [float(f"{v:.15g}") for v in np.linalg.cholesky(a).ravel()],
            "solve": [float(f"{v:.15g}") for v in np.linalg.solve(a, b)],
        })
out = pathlib.Path(__file__).with_name("numpy_references.json")
out.write_text(json.dumps({"numpy": np.__version__, "cases": cases}))
print(f"wrote {out} ({len(cases)} cases, numpy {np.__version__})")
