"""Points rlc's embedded interpreter at the active virtual environment (run once, first).

An embedded CPython starts with the system's prefix, not the virtual environment the user
activated, so its packages would be invisible: put `$VIRTUAL_ENV`'s site-packages first on
`sys.path` (with its .pth files), make child processes (Gymnasium's async mode) start the
venv's python, and put the working directory on the path, as `python -c` does, so that
`gym:my_module:MyEnv-v0` imports the user's own module.
"""

import os
import site
import sys


def activate():
    venv = os.environ.get("VIRTUAL_ENV")
    if venv:
        version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
        packages = os.path.join(venv, "lib", version, "site-packages")
        if not os.path.isdir(packages):
            raise RuntimeError(
                f"the virtual environment {venv} (VIRTUAL_ENV) has no lib/{version}/site-packages: "
                f"it was made with another Python than the {version} rlc was built against; "
                f"make it with {version} -m venv"
            )
        before = list(sys.path)
        site.addsitedir(packages)
        sys.path[:] = [p for p in sys.path if p not in before] + before
        python = os.path.join(venv, "bin", "python")
        sys.executable = python
        import multiprocessing

        multiprocessing.set_executable(python)
    sys.path.insert(0, os.getcwd())
    return venv or ""


where = activate()
