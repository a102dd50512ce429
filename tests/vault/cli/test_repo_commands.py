"""`mamori vault init|check|cat|list|key|unlock|stats` as a user runs them, with restic as the oracle."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from mamori.vault.backend import FileType, Handle
from mamori.vault.backend.local import LocalBackend
from mamori.vault.cli import main
from mamori.vault.ids import hash_bytes
from mamori.vault.repository import Repository
from tests.vault.repo_helpers import PASSWORD, init_on_disk, new_repository, to_s3legacy, write_snapshot
from tests.vault.restic_oracle import restic, restic_json


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def repo_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "repo"
    monkeypatch.setenv("MAMORI_REPOSITORY", str(path))
    monkeypatch.setenv("MAMORI_PASSWORD", PASSWORD)
    return path


@pytest.mark.restic
def test_init_check_cat_and_key_commands_agree_with_restic(
    repo_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run("init")
    assert code == 0 and "created repository" in out
    assert run("init")[0] == 1
    code, out, _ = run("cat", "config")
    assert json.loads(out) == restic_json(repo_env, "cat", "config")

    monkeypatch.setenv("MAMORI_NEW_PASSWORD", "second password")
    assert run("key", "add")[0] == 0
    code, out, _ = run("--json", "key", "list")
    ours = json.loads(out)
    assert sorted(k["id"] for k in ours) == sorted(k["id"] for k in restic_json(repo_env, "key", "list"))
    restic(repo_env, "check", password="second password")

    other = next(k["id"] for k in ours if not k["current"])
    assert run("key", "remove", other)[0] == 0
    assert restic(repo_env, "check", password="second password", check=False).returncode != 0

    code, out, _ = run("check", "--read-data")
    assert code == 0 and "no errors were found" in out


def test_check_reports_a_damaged_pack_with_files_and_exit_1(repo_env: Path) -> None:
    init_on_disk(repo_env)
    repo = Repository.open(LocalBackend(repo_env), PASSWORD)
    write_snapshot(repo, {"budget.xlsx": os.urandom(5000)})
    pack = next(p for p in (repo_env / "data").rglob("*") if p.is_file() and p.stat().st_size > 5000)
    pack.chmod(0o600)
    data = bytearray(pack.read_bytes())
    data[100] ^= 0xFF
    pack.write_bytes(bytes(data))
    code, _out, err = run("check", "--read-data-subset", "100%")
    assert code == 1
    assert f"pack {pack.name[:8]}" in err and "/data/budget.xlsx" in err
    code, out, _ = run("--json", "check", "--read-data")
    assert code == 1 and json.loads(out)["ok"] is False


def test_list_stats_unlock_and_bad_input(repo_env: Path) -> None:
    init_on_disk(repo_env)
    repo = Repository.open(LocalBackend(repo_env), PASSWORD)
    snap = write_snapshot(repo, {"a": b"a" * 10_000})
    code, out, _ = run("list", "snapshots")
    assert out.split() == [snap]
    code, out, _ = run("--json", "stats")
    stats = json.loads(out)
    assert (
        stats["snapshots"] == 1 and stats["blobs"] == 3 and stats["uncompressed_size"] > stats["total_size"]
    )
    code, out, _ = run("cat", "snapshot", snap[:8])
    assert json.loads(out)["paths"] == ["/data"]

    stale = repo.key.seal(
        b'{"time":"2020-01-01T00:00:00Z","exclusive":true,"hostname":"old","username":"u","pid":1}'
    )
    repo.backend.save(Handle(FileType.LOCK, hash_bytes(stale).hex()), stale)
    code, out, _ = run("unlock")
    assert code == 0 and "removed 1 lock" in out

    code, _out, err = run("cat", "snapshot")
    assert code == 1 and err.count("\n") == 1
    code, _out, err = run("check", "--read-data-subset", "7/3")
    assert code == 1 and "read-data-subset" in err
    code, _out, err = run("-r", str(repo_env.parent / "missing"), "stats")
    assert code == 10


def test_forget_prune_and_copy_commands(
    repo_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    init_on_disk(repo_env)
    repo = Repository.open(LocalBackend(repo_env), PASSWORD)
    snaps = [write_snapshot(repo, {"f": os.urandom(4000)}, time_ns=(i + 1) * 86400 * 10**9) for i in range(4)]
    assert run("forget")[0] == 1, "an empty policy is refused"
    code, out, _ = run("forget", "--keep-last", "2", "--dry-run")
    assert code == 0 and "would remove 2" in out
    code, out, _ = run("--json", "forget", "--keep-last", "2", "--prune")
    groups = json.loads(out.splitlines()[-1])  # restic's shape: a list of groups
    assert code == 0 and sorted(s["id"] for g in groups for s in g["keep"]) == sorted(snaps[2:])
    code, out, _ = run("prune")
    assert code == 0 and "removed 0 packs" in out
    assert run("check", "--read-data")[0] == 0

    dest = tmp_path / "dest"
    monkeypatch.setenv("MAMORI_FROM_PASSWORD", PASSWORD)
    init_on_disk(dest)
    code, out, _ = run("-r", str(dest), "copy", "--from-repo", str(repo_env))
    assert code == 0 and "2 copied" in out
    code, out, _ = run("-r", str(dest), "copy", "--from-repo", str(repo_env))
    assert "0 copied, 2 already present" in out
    assert run("-r", str(dest), "check", "--read-data")[0] == 0


def test_key_passwd_replaces_the_current_key(repo_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    init_on_disk(repo_env)
    monkeypatch.setenv("MAMORI_NEW_PASSWORD", "new secret")
    assert run("key", "passwd")[0] == 0
    assert run("stats")[0] == 12, "the old password no longer opens the repository"
    monkeypatch.setenv("MAMORI_PASSWORD", "new secret")
    code, out, _ = run("--json", "key", "list")
    assert code == 0 and len(json.loads(out)) == 1


def test_rebuild_index_command(repo_env: Path) -> None:
    init_on_disk(repo_env)
    repo = Repository.open(LocalBackend(repo_env), PASSWORD)
    write_snapshot(repo, {"a": b"a" * 5000})
    for name in list(repo.list_files(FileType.INDEX)):
        repo.remove_file(FileType.INDEX, name)
    assert run("check")[0] == 1
    code, out, _ = run("rebuild-index")
    assert code == 0 and "indexed 3 blobs in 2 packs" in out
    assert run("check", "--read-data")[0] == 0


def test_an_s3legacy_repository_is_refused_in_one_line(repo_env: Path) -> None:
    repo = new_repository(LocalBackend(repo_env))
    write_snapshot(repo, {"a": b"a" * 1000})
    to_s3legacy(repo_env)
    code, out, err = run("snapshots")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "s3legacy" in err and "`restic migrate s3_layout`" in err
