"""Shared test setup: `require_tool` for external programs, the browser flags and artifacts.

The private MAMORI_HOME of a test run is made by the test settings (`mamori.config.settings.test`).

A missing tool or server is a failure, never a skip: `make test` installs everything the suite needs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.remote_servers import (  # noqa: F401 - session fixtures: sshd, SeaweedFS, rclone serve restic
    rest_append_only_server,
    rest_server,
    s3_server,
    sftp_server,
)
from tests.tools import require_tool  # noqa: F401 - imported from here by many tests

# Timings belong in `make bench`: hypothesis's per-example deadline (200 ms) fails tests on a busy
# 2-core machine while proving nothing about correctness.
settings.register_profile("mamori", deadline=None)
settings.load_profile("mamori")

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


@pytest.fixture(autouse=True)
def _umask_of_the_test_process() -> Iterator[None]:
    """Each test ends with the umask it began with: `mamori.cli.main()` sets umask 077 for its whole
    process, by design, and a test that calls it in-process must not hand that to the next test of
    the same xdist worker (a `mkdir(mode=0o755)` there would make a folder nobody else can enter)."""
    umask = os.umask(0o077)
    os.umask(umask)
    yield
    os.umask(umask)


@pytest.fixture
def artifacts_dir() -> Path:
    """Where tests keep screenshots, PDFs and PNGs for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
