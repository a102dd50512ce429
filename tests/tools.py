"""`require_tool`: external programs a test needs (a missing one fails the test, never skips it)."""

from __future__ import annotations

import shutil

import pytest


def require_tool(name: str) -> str:
    """Absolute path of an external program the test needs; fail with the install hint if absent."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"{name} is not installed: run `make test` (it installs the system packages) or apt-get install it"
        )
    return path
