"""Shared test setup: a private MAMORI_HOME per run, and `require_tool` for external programs.

A missing tool or server is a failure, never a skip: `make test` installs everything the suite needs.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

# Before Django settings load: each test run gets its own data directory.
os.environ.setdefault("MAMORI_HOME", tempfile.mkdtemp(prefix="mamori-test-home-"))

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


# Headless Chromium on this machine's closed network: no background connections, no QUIC.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def require_tool(name: str) -> str:
    """Absolute path of an external program the test needs; fail with the install hint if absent."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"{name} is not installed: run `make test` (it installs the system packages) or apt-get install it"
        )
    return path


@pytest.fixture
def artifacts_dir() -> Path:
    """Where tests keep screenshots, PDFs and PNGs for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
