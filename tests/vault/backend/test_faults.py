"""Faults between mamori and each real server: a connection reset mid-upload, HTTP 503, a stalled
server, a server killed and restarted. Each is retried and the backup completes; a fault that
outlasts the retry bound ends in one line. Either way `restic check --read-data` stays clean, and an
interrupted copy resumes."""

from __future__ import annotations

import dataclasses
import os
import threading
from pathlib import Path

import pytest

from mamori.vault.api import Repository, init_repository, open_repository
from mamori.vault.backend import Backend, Data, FileType, Handle
from mamori.vault.backend.location import BackendOptions, open_backend
from mamori.vault.backend.wrappers import RetryBackend, WrappingBackend
from mamori.vault.errors import TransientBackendError
from mamori.vault.repository import Repository as LowRepository
from tests.remote_servers import RestServer, S3Server, SSHServer
from tests.vault.backend.fault_proxy import FaultProxy
from tests.vault.backend.test_remote_restic import PASSWORD, Remote, _make_source, _tree

pytestmark = pytest.mark.restic
FAST = {"timeout": 2.0, "retry_first_delay": 0.2, "retry_max_elapsed": 30.0}


def _via_proxy(remote: Remote, tmp_path: Path) -> tuple[FaultProxy, str, BackendOptions]:
    """The remote's URL and options, routed through a fault proxy."""
    server = remote.server
    proxy = FaultProxy(server.port)
    url = remote.url.replace(f":{server.port}/", f":{proxy.port}/")
    options = dataclasses.replace(remote.options, **FAST)
    if isinstance(server, SSHServer):  # the host key, known under the proxy's port
        known = tmp_path / "known_hosts"
        line = server.known_hosts.read_text().split(" ", 1)[1]
        known.write_text(f"[127.0.0.1]:{proxy.port} {line}")
        options = dataclasses.replace(options, sftp_known_hosts=str(known))
    return proxy, url, options


def _verify(remote: Remote, tmp_path: Path, source: Path) -> None:
    """restic checks every byte; the latest snapshot restores identical (both directly, no proxy)."""
    remote.restic(tmp_path, "check", "--read-data")
    out = tmp_path / "verify"
    remote.restic(tmp_path, "restore", "latest", "--target", str(out))
    assert _tree(out / str(source).lstrip("/")) == _tree(source)


@pytest.mark.parametrize(
    ("kind", "fault"),
    [
        ("sftp", "reset"),
        ("s3", "reset"),
        ("rest", "reset"),
        ("s3", "http503"),
        ("rest", "http503"),
        ("s3", "http500"),
        ("sftp", "stall"),
        ("s3", "stall"),
        ("rest", "stall"),
    ],
)
def test_a_fault_mid_backup_is_retried_and_the_backup_completes(
    kind: str, fault: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    remote = Remote(kind, request)
    proxy, url, options = _via_proxy(remote, tmp_path)
    source = _make_source(tmp_path / "src")
    try:
        init_repository(url, PASSWORD, options=options).close()
        with open_repository(url, PASSWORD, options=options) as repo:
            if fault == "reset":
                proxy.reset_after(1_500_000)  # inside the first pack's upload
            elif fault.startswith("http"):
                proxy.http_errors(3, int(fault[4:]))
            else:
                proxy.stall()
                threading.Timer(4.0, proxy.resume).start()
            result = repo.backup([source])
        assert result.errors == []
    finally:
        proxy.resume()
        proxy.close()
    if fault == "reset":
        assert proxy.resets == 1
    elif fault.startswith("http"):
        assert proxy.errors_sent >= 1
    _verify(remote, tmp_path, source)


@pytest.mark.parametrize("kind", ["sftp", "s3", "rest"])
def test_a_fault_that_outlasts_the_retries_ends_in_one_line_and_leaves_a_clean_repository(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    remote = Remote(kind, request)
    proxy, url, options = _via_proxy(remote, tmp_path)
    options = dataclasses.replace(options, retry_max_elapsed=3.0)
    source = _make_source(tmp_path / "src")
    try:
        with init_repository(url, PASSWORD, options=options) as repo:
            repo.backup([source])  # a first snapshot that must survive
        (source / "more.bin").write_bytes(os.urandom(2 << 20))
        with (
            pytest.raises(TransientBackendError) as failed,
            open_repository(url, PASSWORD, options=options) as repo,
        ):
            proxy.stall()
            repo.backup([source])
        assert "\n" not in str(failed.value)
    finally:
        proxy.resume()
        proxy.close()
    remote.restic(tmp_path, "check", "--read-data")


class RestartServerOnNthSave(WrappingBackend):
    """Kills the real server before the n-th save and starts it again a second later."""

    def __init__(self, inner: Backend, server: SSHServer | S3Server | RestServer, n: int) -> None:
        super().__init__(inner)
        self.server = server
        self.n = n
        self.saves = 0
        self.restarted = threading.Event()
        self._lock = threading.Lock()

    def save(self, handle: Handle, data: Data) -> None:
        with self._lock:
            self.saves += 1
            restart = self.saves == self.n
        if restart:
            self.server.stop()

            def start_again() -> None:
                self.server.start()
                self.restarted.set()

            threading.Timer(1.0, start_again).start()
        super().save(handle, data)


@pytest.mark.parametrize("kind", ["sftp", "s3", "rest"])
def test_a_server_killed_and_restarted_mid_backup(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    remote = Remote(kind, request)
    options = dataclasses.replace(remote.options, **{**FAST, "retry_max_elapsed": 60.0})
    init_repository(remote.url, PASSWORD, options=options).close()
    raw = open_backend(remote.url, options)
    assert isinstance(raw, RetryBackend)
    hook = RestartServerOnNthSave(raw.inner, remote.server, n=2)
    backend = RetryBackend(hook, first_delay=0.2, max_elapsed=60.0)
    source = _make_source(tmp_path / "src")
    with Repository(LowRepository.open(backend, PASSWORD), remote.url) as repo:
        result = repo.backup([source])
    assert hook.restarted.wait(60)
    assert result.errors == [] and hook.saves >= 2
    _verify(remote, tmp_path, source)


class FailAfterNPacks(WrappingBackend):
    """Pack uploads fail permanently after the first `n` (a copy interrupted for good)."""

    def __init__(self, inner: Backend, n: int) -> None:
        super().__init__(inner)
        self.left = n

    def save(self, handle: Handle, data: Data) -> None:
        if handle.type is FileType.PACK:
            if self.left <= 0:
                raise TransientBackendError("injected: the link to the offsite server is down")
            self.left -= 1
        super().save(handle, data)


@pytest.mark.parametrize("kind", ["sftp", "s3", "rest"])
def test_an_interrupted_copy_resumes(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    remote = Remote(kind, request)
    source = tmp_path / "src"
    source.mkdir()
    for i in range(4):
        (source / f"f{i}.bin").write_bytes(os.urandom(3 << 20))
    with init_repository(str(tmp_path / "primary"), PASSWORD) as primary:
        primary.backup([source])
        primary.low.pack_size = 1 << 20
        init_repository(remote.url, PASSWORD, options=remote.options).close()
        target_backend = open_backend(remote.url, remote.options)
        assert isinstance(target_backend, RetryBackend)
        flaky = RetryBackend(FailAfterNPacks(target_backend.inner, 2), attempts=1)
        with Repository(LowRepository.open(flaky, PASSWORD), remote.url) as target:
            target.low.pack_size = 1 << 20
            with pytest.raises(TransientBackendError):
                primary.copy_to(target)
        with open_repository(remote.url, PASSWORD, options=remote.options) as target:
            assert target.snapshots() == []
            result = primary.copy_to(target)
            assert len(result.copied) == 1
    _verify(remote, tmp_path, source)
