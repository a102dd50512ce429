"""A restore stops before its target's file system runs out, whatever a snapshot expands to
(`tests/vault/expanding.py`). The limits are set just under what the file system has free now, so
the tests stop after a few thousand inodes or a few dozen MiB whatever the disk's size."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mamori.vault.api import open_repository
from mamori.vault.errors import RestoreStoppedError
from mamori.vault.freespace import KeepFree
from tests.vault.expanding import Expanding, build_expanding_repository
from tests.vault.hostile import GOOD, files_outside
from tests.vault.repo_helpers import PASSWORD

MiB = 1 << 20


@pytest.fixture(scope="module")
def expanding(tmp_path_factory: pytest.TempPathFactory) -> Expanding:
    return build_expanding_repository(tmp_path_factory.mktemp("expanding") / "repo")


def free_now(path: Path) -> tuple[int, int]:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize, st.f_favail


def count_below(path: Path) -> int:
    return sum(len(dirs) + len(files) for _d, dirs, files in os.walk(path))


def test_an_ordinary_restore_with_room_to_spare_is_not_stopped(expanding: Expanding, tmp_path: Path) -> None:
    space, inodes = free_now(tmp_path)
    with open_repository(str(expanding.path), PASSWORD) as repo:
        result = repo.restore(
            expanding.folders,
            tmp_path / "t",
            paths=["/data/good.txt"],
            keep_free=KeepFree(space // 2, inodes // 2),  # others on this machine write meanwhile
        )
    assert result.failed == [] and (tmp_path / "t" / "data" / "good.txt").read_bytes() == GOOD


def stopped(expanding: Expanding, snapshot: str, target: Path, keep_free: KeepFree) -> str:
    """The one-line reason of a restore that must stop."""
    with (
        open_repository(str(expanding.path), PASSWORD) as repo,
        pytest.raises(RestoreStoppedError) as caught,
    ):
        repo.restore(snapshot, target, keep_free=keep_free)
    message = str(caught.value)
    assert message.startswith(f"restore into {target} stopped after ") and "\n" not in message
    assert message.endswith(": free space there or restore elsewhere")
    return message


def test_a_snapshot_of_two_to_the_thirty_folders_stops_at_the_inodes_to_keep(
    expanding: Expanding, tmp_path: Path
) -> None:
    target = tmp_path / "t"
    _space, inodes = free_now(tmp_path)
    assert "inodes free, less than the" in stopped(
        expanding, expanding.folders, target, KeepFree(0, inodes - 3000)
    )
    # far fewer than 2^31 (other processes on this machine free inodes meanwhile: a wide margin)
    assert count_below(target) < 50_000
    assert files_outside(tmp_path, target) == []


def test_a_file_of_one_blob_a_hundred_thousand_times_stops_at_the_bytes_to_keep(
    expanding: Expanding, tmp_path: Path
) -> None:
    target = tmp_path / "t"
    space, _inodes = free_now(tmp_path)
    message = stopped(expanding, expanding.bytes, target, KeepFree(space - 128 * MiB, 0))
    assert "MiB free, less than the" in message or "GiB free, less than the" in message
    # the job's files were removed again (no folder at all: others wrote 128 MiB before it began)
    assert not (target / "data").exists() or os.listdir(target / "data") == []


def test_a_target_already_below_the_reserve_gets_nothing(expanding: Expanding, tmp_path: Path) -> None:
    space, _inodes = free_now(tmp_path)
    target = tmp_path / "t"
    assert "stopped after 0 files" in stopped(
        expanding, expanding.folders, target, KeepFree(space + (1 << 30), 0)
    )
    assert os.listdir(target) == []
