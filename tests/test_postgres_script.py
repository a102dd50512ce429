"""scripts/postgres.sh: the throwaway cluster of a test run stops when the process that started it dies,
so a killed pytest (or test.sh) leaves no PostgreSQL server behind."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

from tests.tools import require_tool

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "postgres.sh"


def _accepts(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_the_cluster_stops_when_its_owner_is_killed():
    require_tool("pg_dump")  # the server binaries come with the same package (postgresql)
    folder = Path(tempfile.mkdtemp(prefix="mamori-pg-owner-"))
    folder.chmod(0o755)  # the cluster runs as the postgres user when we are root
    owner = subprocess.Popen(["sleep", "600"])
    try:
        out = subprocess.run([str(SCRIPT), "start", str(folder), str(owner.pid)], capture_output=True,
                             text=True, check=True, timeout=60)  # fmt: skip
        port = urlparse(out.stdout.strip()).port
        assert port and _accepts(port)
        time.sleep(1.5)  # the watcher has looked at least once: it must not stop a live owner's cluster
        assert _accepts(port) and (folder / "data" / "postmaster.pid").exists()
        owner.kill()
        owner.wait()
        deadline = time.monotonic() + 20
        while (folder / "data" / "postmaster.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not (folder / "data" / "postmaster.pid").exists() and not _accepts(port)
    finally:
        owner.kill()
        subprocess.run([str(SCRIPT), "stop", str(folder)], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)
