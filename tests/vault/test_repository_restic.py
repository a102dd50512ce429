"""Both ways with the real restic 0.14 binary: repositories it writes open here, ours pass its check."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mamori.vault.backend import FileType
from mamori.vault.backend.local import LocalBackend
from mamori.vault.errors import RepositoryNotFoundError, WrongPasswordError
from mamori.vault.keys import add_key, list_keys
from mamori.vault.model import Snapshot, parse_tree
from mamori.vault.pack import BlobType
from mamori.vault.repository import Repository
from tests.vault.repo_helpers import FAST_KDF, PASSWORD, assert_check_clean, write_snapshot
from tests.vault.restic_oracle import restic, restic_json

pytestmark = pytest.mark.restic


@pytest.mark.parametrize("version", [1, 2])
def test_restic_accepts_a_repository_written_here(tmp_path: Path, version: int) -> None:
    path = tmp_path / "repo"
    repo = Repository.init(
        LocalBackend(path), PASSWORD, version=version, kdf_params=FAST_KDF, pack_size=1 << 20
    )
    files = {"a.txt": b"hello restic\n" * 1000, "random.bin": os.urandom(2_500_000), "empty": b""}
    snap_id = write_snapshot(repo, files)

    config = restic_json(path, "cat", "config")
    assert config == {
        "version": version,
        "id": repo.id,
        "chunker_polynomial": f"{repo.config.chunker_polynomial:x}",
    }
    assert [k["id"] for k in restic_json(path, "key", "list")] == [repo.key_id[:8]]
    restic(path, "check", "--read-data")
    assert restic(path, "dump", snap_id, "/data/a.txt").stdout == files["a.txt"]
    assert restic(path, "dump", snap_id, "/data/random.bin").stdout == files["random.bin"]
    assert_check_clean(repo.backend)


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_repository_restic_wrote_opens_and_reads_here(tmp_path: Path, version: str) -> None:
    path = tmp_path / "repo"
    restic(path, "init", "--repository-version", version)
    source = tmp_path / "src"
    source.mkdir()
    (source / "f.txt").write_bytes(b"written by restic\n" * 500)
    restic(path, "backup", str(source))

    repo = Repository.open(LocalBackend(path), PASSWORD)
    config = restic_json(path, "cat", "config")
    assert repo.config.version == config["version"] == int(version)
    assert f"{repo.config.chunker_polynomial:x}" == config["chunker_polynomial"]
    assert [k.id[:8] for k in list_keys(repo.backend)[0]] == [
        k["id"] for k in restic_json(path, "key", "list")
    ]
    repo.load_index()
    (snap_id,) = repo.list_files(FileType.SNAPSHOT)
    snapshot = Snapshot.from_json(repo.load_unpacked(FileType.SNAPSHOT, snap_id))
    node = parse_tree(repo.load_blob(BlobType.TREE, snapshot.tree))[0]
    while node.type == "dir":
        assert node.subtree is not None
        node = parse_tree(repo.load_blob(BlobType.TREE, node.subtree))[0]
    assert node.content is not None
    assert b"".join(repo.load_blob(BlobType.DATA, b) for b in node.content) == b"written by restic\n" * 500

    # We write into restic's repository; restic still finds it clean.
    write_snapshot(repo, {"ours.txt": b"added by mamori\n"})
    restic(path, "check", "--read-data")
    assert_check_clean(repo.backend)


def test_keys_added_here_open_in_restic_and_the_other_way(tmp_path: Path) -> None:
    path = tmp_path / "repo"
    repo = Repository.init(LocalBackend(path), PASSWORD, kdf_params=FAST_KDF)
    add_key(repo.backend, repo.key, "second password", FAST_KDF)
    restic(path, "cat", "config", password="second password")
    new_pw = tmp_path / "pw"
    new_pw.write_text("third password\n")
    restic(path, "key", "add", "--new-password-file", str(new_pw))
    assert Repository.open(LocalBackend(path), "third password").id == repo.id
    assert len(restic_json(path, "key", "list")) == 3
    assert_check_clean(repo.backend)


def test_wrong_password_and_missing_repository(tmp_path: Path) -> None:
    path = tmp_path / "repo"
    restic(path, "init")
    with pytest.raises(WrongPasswordError):
        Repository.open(LocalBackend(path), "wrong")
    with pytest.raises(RepositoryNotFoundError) as err:
        Repository.open(LocalBackend(tmp_path / "nothing-here"), PASSWORD)
    assert err.value.exit_code == 10
    assert json.loads(json.dumps(restic_json(path, "cat", "config")))["version"] == 2
