"""Shared test setup: `require_tool` for external programs, the browser flags and artifacts.

The private MAMORI_HOME of a test run is made by the test settings (`mamori.config.settings.test`).

A missing tool or server is a failure, never a skip: `make test` installs everything the suite needs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

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


# The remote test servers (sshd, SeaweedFS, rclone serve restic): session-scoped, started on first use.
from tests.remote_servers import (  # noqa: E402, F401 - fixtures; after require_tool, which they use
    rest_append_only_server,
    rest_server,
    s3_server,
    sftp_server,
)
