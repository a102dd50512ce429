"""`mamori worker` runs until SIGTERM and then exits cleanly; `mamori status` prints one line per system."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


@pytest.mark.own_database
def test_worker_stops_cleanly_on_sigterm(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}  # its own SQLite in its own home
    env.update(MAMORI_HOME=str(tmp_path), DJANGO_SETTINGS_MODULE="mamori.config.settings.local")
    mamori = [sys.executable, "-m", "mamori.cli.main"]
    subprocess.run([*mamori, "manage", "migrate", "-v0"], env=env, check=True, timeout=120)
    proc = subprocess.Popen(
        [*mamori, "worker", "--interval", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert "mamori worker" in first
        time.sleep(1.5)  # let it tick at least once
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
