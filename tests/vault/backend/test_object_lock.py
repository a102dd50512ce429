"""Immutable repositories on a real S3 server with Object Lock (SeaweedFS): what mamori writes is
locked, raw deletes fail, forget and prune leave locked objects alone and say so, extend-locks
moves every needed object's retention (read back through the S3 API), restic checks it all."""

from __future__ import annotations

import io
import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import botocore.exceptions
import pytest

from mamori.vault.cli import main
from tests.conftest import require_tool
from tests.remote_servers import S3_KEY, S3_LOCKED_BUCKET, S3_SECRET, S3Server

pytestmark = pytest.mark.restic
PASSWORD = "immutable"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def locked_repo(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> str:
    url = s3_server.new_url(locked=True)
    monkeypatch.setenv("MAMORI_REPOSITORY", url)
    monkeypatch.setenv("MAMORI_PASSWORD", PASSWORD)
    for name, value in s3_server.restic_env().items():
        monkeypatch.setenv(name, value)
    return url


def _restic(url: str, tmp: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {
        **os.environ,
        "RESTIC_PASSWORD": PASSWORD,
        "AWS_ACCESS_KEY_ID": S3_KEY,
        "AWS_SECRET_ACCESS_KEY": S3_SECRET,
    }
    proc = subprocess.run(
        [require_tool("restic"), "-r", url, "--no-cache", *args], env=env, capture_output=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return proc


def _objects(s3_server: S3Server, url: str) -> dict[str, datetime | None]:
    """Every current object under the repository's prefix with its retention, read back."""
    client = s3_server.client()
    prefix = url.rsplit("/", 1)[1] + "/"
    found: dict[str, datetime | None] = {}
    for item in client.list_objects_v2(Bucket=S3_LOCKED_BUCKET, Prefix=prefix).get("Contents", []):
        try:
            retention = client.get_object_retention(Bucket=S3_LOCKED_BUCKET, Key=item["Key"])["Retention"]
            found[item["Key"]] = retention["RetainUntilDate"].astimezone(UTC)
        except botocore.exceptions.ClientError:
            found[item["Key"]] = None
    return found


def _backup(tmp: Path, name: str, content: bytes) -> None:
    src = tmp / "src"
    src.mkdir(exist_ok=True)
    (src / name).write_bytes(content)
    code, _out, err = run("backup", str(src), "--host", "city")
    assert code == 0, err


def test_immutable_repository_end_to_end(s3_server: S3Server, locked_repo: str, tmp_path: Path) -> None:
    start = datetime.now(UTC)
    code, out, err = run("init", "--object-lock", "--lock-days", "2", "--lock-mode", "GOVERNANCE")
    assert code == 0, err
    assert "GOVERNANCE Object Lock for 2 days" in out
    _backup(tmp_path, "a.bin", os.urandom(2 << 20))
    _backup(tmp_path, "b.bin", os.urandom(1 << 20))

    objects = _objects(s3_server, locked_repo)
    kinds = {key.split("/")[1] for key in objects}
    assert {"config", "keys", "data", "index", "snapshots", "mamori-object-lock.json"} <= kinds
    assert not any("/locks/" in key for key in objects), "lock files are removed after each command"
    for key, until in objects.items():
        assert until is not None and until >= start + timedelta(days=2) - timedelta(minutes=5), key

    # the raw S3 API cannot delete a locked object version
    client = s3_server.client()
    pack_key = next(k for k in objects if "/data/" in k)
    version = client.head_object(Bucket=S3_LOCKED_BUCKET, Key=pack_key)["VersionId"]
    with pytest.raises(botocore.exceptions.ClientError) as denied:
        client.delete_object(Bucket=S3_LOCKED_BUCKET, Key=pack_key, VersionId=version)
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    original = client.get_object(Bucket=S3_LOCKED_BUCKET, Key=pack_key, VersionId=version)["Body"].read()

    # forget keeps the locked snapshot and says until when; prune carries on
    code, out, err = run("forget", "--keep-last", "1", "--prune")
    assert code == 0, err
    assert "stays until" in out and "(Object Lock)" in out
    code, out, _ = run("--json", "snapshots")
    assert len(json.loads(out)) == 2
    _restic(locked_repo, tmp_path, "check", "--read-data")

    # extend-locks moves every needed object's retention (read back)
    code, out, err = run("extend-locks", "--days", "5")
    assert code == 0, err
    after = _objects(s3_server, locked_repo)
    needed = {
        k: v for k, v in after.items() if "/locks/" not in k and not k.endswith("mamori-object-lock.json")
    }
    for key, until in needed.items():
        assert until is not None and until >= start + timedelta(days=5) - timedelta(minutes=5), key
    code, out, err = run("--json", "lock-status")
    status = json.loads(out)
    assert status["lock"] == {"mode": "GOVERNANCE", "days": 2}
    assert datetime.fromisoformat(status["latest_until"]) >= start + timedelta(days=5) - timedelta(minutes=5)

    # a raw overwrite cannot replace the locked version: it survives, readable and undeletable
    client.put_object(Bucket=S3_LOCKED_BUCKET, Key=pack_key, Body=b"ransomware")
    assert (
        client.get_object(Bucket=S3_LOCKED_BUCKET, Key=pack_key, VersionId=version)["Body"].read() == original
    )
    with pytest.raises(botocore.exceptions.ClientError):
        client.delete_object(Bucket=S3_LOCKED_BUCKET, Key=pack_key, VersionId=version)


def test_extend_locks_on_a_repository_without_lock_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAMORI_REPOSITORY", str(tmp_path / "repo"))
    monkeypatch.setenv("MAMORI_PASSWORD", PASSWORD)
    assert run("init")[0] == 0
    code, _out, err = run("extend-locks")
    assert code == 1 and "has no Object Lock" in err and err.count("\n") == 1


def test_forget_prune_on_plain_s3_leaves_a_clean_restorable_repository(
    s3_server: S3Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = s3_server.new_url()
    monkeypatch.setenv("MAMORI_REPOSITORY", url)
    monkeypatch.setenv("MAMORI_PASSWORD", PASSWORD)
    for name, value in s3_server.restic_env().items():
        monkeypatch.setenv(name, value)
    assert run("init")[0] == 0
    for i in range(3):
        _backup(tmp_path, f"f{i}.bin", os.urandom(1 << 20))
    code, out, err = run("forget", "--keep-last", "1", "--prune")
    assert code == 0, err
    assert "removed 2" in out
    _restic(url, tmp_path, "check", "--read-data")
    _restic(url, tmp_path, "restore", "latest", "--target", str(tmp_path / "out"))
    restored = tmp_path / "out" / str(tmp_path / "src").lstrip("/")
    assert {p.name: p.read_bytes() for p in restored.iterdir()} == {
        p.name: p.read_bytes() for p in (tmp_path / "src").iterdir()
    }
