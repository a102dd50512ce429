"""`require_tool`: external programs a test needs (a missing one fails the test, never skips it);
`run_with_own_mounts`: a shell script that mounts small disks of its own."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest


def require_tool(name: str) -> str:
    """Absolute path of an external program the test needs; fail with the install hint if absent."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"{name} is not installed: run `make test` (it installs the system packages) or apt-get install it"
        )
    return path


def run_with_own_mounts(script: str, **variables: str) -> None:
    """Run `script` (sh) in a private user and mount namespace (`unshare`), where it mounts tmpfs
    disks of its own: the kernel itself answers statvfs and ENOSPC, and no root rights are needed.
    `variables` join the environment, with PY this interpreter; a non-zero exit fails the test."""
    unshare = require_tool("unshare")
    proc = subprocess.run(
        [unshare, "--user", "--map-root-user", "--mount", "sh", "-c", script],
        env=dict(os.environ, PY=sys.executable, **variables),
        capture_output=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
