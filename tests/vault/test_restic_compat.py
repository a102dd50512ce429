"""Acceptance: compatibility with the real restic binary, both ways, on a tree of awkward files.

restic 0.14 (the Debian oracle) predates `linktarget_raw`, so it cannot restore a symlink whose
target is not UTF-8; that one entry is compared only when mamori restores it.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from mamori.vault import open_repository
from tests.vault.restic_oracle import PASSWORD, restic, restic_json, tree_state

pytestmark = pytest.mark.restic

BAD_TARGET = b"link-bad-target"


@pytest.fixture(scope="module")
def odd_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.vault.restic_oracle import make_odd_tree

    return make_odd_tree(tmp_path_factory.mktemp("compat") / "src", large=110 * 1024 * 1024, depth=30)


def _compare(src: Path, restored: Path, *, skip_bad_target: bool) -> None:
    want, got = tree_state(src), tree_state(restored)
    if skip_bad_target:
        want.pop(BAD_TARGET)
        got.pop(BAD_TARGET)
    assert sorted(got) == sorted(want)
    for rel, value in want.items():
        assert got[rel] == value, rel


def _inside(target: Path, src: Path) -> Path:
    return target / str(src).lstrip("/")


def test_mamori_backup_passes_restic_check_and_restores_identically(tmp_path: Path, odd_tree: Path) -> None:
    repo = tmp_path / "repo"
    restic(repo, "init")
    with open_repository(str(repo), PASSWORD) as r:
        result = r.backup([odd_tree])
    assert result.errors == []
    check = restic(repo, "check", "--read-data")
    assert b"no errors were found" in check.stdout
    restic(repo, "restore", result.snapshot_id, "--target", str(tmp_path / "out"))
    _compare(odd_tree, _inside(tmp_path / "out", odd_tree), skip_bad_target=True)
    listed = restic(repo, "ls", result.snapshot_id).stdout
    assert os.fsencode(odd_tree / "日本語のファイル名.txt") in listed


def test_restic_backup_restores_identically_with_mamori(tmp_path: Path, odd_tree: Path) -> None:
    repo = tmp_path / "repo"
    restic(repo, "init")
    restic(repo, "backup", str(odd_tree))
    snap_id = restic_json(repo, "snapshots")[0]["id"]
    with open_repository(str(repo), PASSWORD) as r:
        result = r.restore(snap_id, tmp_path / "out", verify=True)
        assert result.failed == [] and result.verified
        assert r.check(read_data=True).ok
    _compare(odd_tree, _inside(tmp_path / "out", odd_tree), skip_bad_target=True)


def test_restic_and_mamori_take_turns_in_one_repository(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "docs").mkdir(parents=True)
    (src / "docs" / "a.txt").write_text("first version\n")
    (src / "blob.bin").write_bytes(os.urandom(2 * 1024 * 1024))
    repo = tmp_path / "repo"
    restic(repo, "init")
    restic(repo, "backup", str(src))
    with open_repository(str(repo), PASSWORD) as r:
        second = r.backup([src])
        # restic's snapshot is the parent and its unchanged files are taken over without reading
        assert second.parent_id is not None and second.files_unmodified == 2
        assert second.files_new == second.files_changed == 0
    (src / "docs" / "b.txt").write_text("added by a later day\n")
    restic(repo, "backup", str(src))
    (src / "docs" / "a.txt").write_text("second version\n")
    with open_repository(str(repo), PASSWORD) as r:
        fourth = r.backup([src])
        assert fourth.files_changed == 1
        assert r.check(read_data=True).ok
        assert len(r.snapshots()) == 4
    assert b"no errors were found" in restic(repo, "check", "--read-data").stdout
    restic(repo, "restore", fourth.snapshot_id, "--target", str(tmp_path / "by-restic"))
    _compare(src, _inside(tmp_path / "by-restic", src), skip_bad_target=False)
    third = restic_json(repo, "snapshots")[2]["id"]
    with open_repository(str(repo), PASSWORD) as r:
        assert r.restore(third, tmp_path / "by-mamori").failed == []
    restored = _inside(tmp_path / "by-mamori", src)
    assert (restored / "docs" / "a.txt").read_text() == "first version\n"
    assert (restored / "docs" / "b.txt").read_text() == "added by a later day\n"
    shutil.rmtree(tmp_path / "by-restic")


def test_the_directories_above_a_backed_up_path_keep_their_special_bits_as_restic_stores_them(
    tmp_path: Path,
) -> None:
    # /tmp-like sticky folders and setgid group folders above the path: restic keeps those bits
    src = tmp_path / "shared" / "group" / "docs"
    src.mkdir(parents=True)
    (src / "memo.txt").write_text("memo")
    os.chmod(tmp_path / "shared", 0o1777)
    os.chmod(tmp_path / "shared" / "group", 0o2775)
    modes = {}
    for tool in ("restic", "mamori"):
        repo = tmp_path / f"repo-{tool}"
        restic(repo, "init")
        if tool == "restic":
            restic(repo, "backup", str(src))
        else:
            with open_repository(str(repo), PASSWORD) as r:
                r.backup([src])
        listed = restic(repo, "ls", "--json", "latest").stdout.decode().splitlines()[1:]
        nodes = [json.loads(line) for line in listed]
        modes[tool] = {n["path"]: n["mode"] for n in nodes if n["type"] == "dir"}
    assert modes["mamori"] == modes["restic"]
    assert modes["mamori"][str(tmp_path / "shared")] & (1 << 20)  # Go's ModeSticky
