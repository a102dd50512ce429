"""The real restic reads what mamori writes over SFTP, S3 and REST, and mamori reads what restic writes."""

from __future__ import annotations

import itertools
import os
import subprocess
from pathlib import Path

import pytest

from mamori.vault.api import init_repository, open_repository
from mamori.vault.backend.location import BackendOptions
from tests.conftest import require_tool
from tests.remote_servers import RestServer, S3Server, SSHServer

pytestmark = pytest.mark.restic

PASSWORD = "remote test password"


class Remote:
    """One server kind: a fresh mamori URL, its options, and restic's way to the same repository."""

    def __init__(self, kind: str, request: pytest.FixtureRequest) -> None:
        self.kind = kind
        self.server: SSHServer | S3Server | RestServer = request.getfixturevalue(
            {"sftp": "sftp_server", "s3": "s3_server", "rest": "rest_server"}[kind]
        )
        self.url = self.server.new_url()

    @property
    def options(self) -> BackendOptions:
        return self.server.options()

    def restic(self, tmp: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
        env = {**os.environ, "RESTIC_PASSWORD": PASSWORD, "RESTIC_CACHE_DIR": str(tmp / "restic-cache")}
        env.pop("RESTIC_REPOSITORY", None)
        extra: list[str] = []
        repo = self.url
        if isinstance(self.server, SSHServer):
            extra, repo = self.server.restic_args(), self.server.restic_url(self.url)
        elif isinstance(self.server, S3Server):
            env.update(self.server.restic_env())
        proc = subprocess.run(
            [require_tool("restic"), "-r", repo, "--no-cache", *extra, *args],
            env=env,
            capture_output=True,
            timeout=300,
        )
        assert proc.returncode == 0, f"restic {args[0]} failed: {proc.stderr.decode(errors='replace')}"
        return proc


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _make_source(root: Path) -> Path:
    (root / "sub").mkdir(parents=True)
    (root / "住民.csv").write_text("氏名,住所\n" * 100, encoding="utf-8")
    (root / "sub" / "big.bin").write_bytes(os.urandom(3 * 1024 * 1024 + 5))
    (root / "sub" / "empty").write_bytes(b"")
    return root


@pytest.mark.parametrize("kind", ["sftp", "s3", "rest"])
def test_restic_checks_and_restores_what_mamori_wrote(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    remote = Remote(kind, request)
    source = _make_source(tmp_path / "src")
    with init_repository(remote.url, PASSWORD, options=remote.options) as repo:
        result = repo.backup([source], host="mamori-host")
    remote.restic(tmp_path, "check", "--read-data")
    remote.restic(tmp_path, "restore", result.snapshot_id, "--target", str(tmp_path / "out"))
    assert _tree(tmp_path / "out" / str(source).lstrip("/")) == _tree(source)


@pytest.mark.parametrize("kind", ["sftp", "s3", "rest"])
def test_mamori_restores_what_restic_wrote(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    remote = Remote(kind, request)
    source = _make_source(tmp_path / "src")
    remote.restic(tmp_path, "init")
    remote.restic(tmp_path, "backup", str(source))
    with open_repository(remote.url, PASSWORD, options=remote.options) as repo:
        restored = repo.restore("latest", tmp_path / "out", verify=True)
        assert restored.failed == []
        assert repo.check(read_data=True).ok
    assert _tree(tmp_path / "out" / str(source).lstrip("/")) == _tree(source)


def test_copy_from_and_to_every_backend(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """local → sftp → s3 → rest → local: each copy re-encrypts for the next repository's keys."""
    source = _make_source(tmp_path / "src")
    remotes = [Remote(kind, request) for kind in ("sftp", "s3", "rest")]
    chain: list[tuple[str, BackendOptions | None]] = [(str(tmp_path / "first"), None)]
    chain += [(r.url, r.options) for r in remotes] + [(str(tmp_path / "last"), None)]
    with init_repository(chain[0][0], PASSWORD) as first:
        snapshot = first.backup([source]).snapshot_id
    for (src_url, src_options), (dst_url, dst_options) in itertools.pairwise(chain):
        with (
            open_repository(src_url, PASSWORD, options=src_options) as src,
            init_repository(dst_url, PASSWORD, options=dst_options) as dst,
        ):
            result = src.copy_to(dst)
            assert len(result.copied) == 1 and result.bytes_copied > 0
            again = src.copy_to(dst)
            assert again.copied == [] and len(again.skipped) == 1, "a second copy finds it there"
    for remote in remotes:
        remote.restic(tmp_path, "check", "--read-data")
    with open_repository(chain[-1][0], PASSWORD) as last:
        copied = last.snapshots()
        assert [s.original for s in copied] == [snapshot]
        last.restore("latest", tmp_path / "out", verify=True)
    assert _tree(tmp_path / "out" / str(source).lstrip("/")) == _tree(source)
