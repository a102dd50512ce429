"""zstd bombs sealed with the key: index, snapshot and lock files that decode to far more than any
real one. Each is refused as damaged before it is held in memory; the rest of the repository still
lists, restores and checks. The frames are written by hand (RLE blocks), never by a compressor."""

from __future__ import annotations

import io
import struct
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from mamori.vault import compression
from mamori.vault.backend import FileType, Handle
from mamori.vault.backend.local import LocalBackend
from mamori.vault.cli import main
from mamori.vault.errors import InvalidDataError
from mamori.vault.ids import hash_bytes
from mamori.vault.repository import UNPACKED_LIMITS, Repository
from tests.vault.hostile import GOOD, TreeWriter
from tests.vault.repo_helpers import FAST_KDF, PASSWORD

_BLOCK = 128 * 1024  # the largest zstd block; an RLE block of it takes 4 bytes
MiB = 1 << 20
TOO_BIG = "zstd data decodes to more than"


def zstd_bomb(size: int, *, declare: bool) -> bytes:
    """One zstd frame of `size` zero bytes in RLE blocks, its size declared in the header or not."""
    # header descriptor: an 8-byte content size (flag 3) or none; then a window byte (2^17)
    header = bytes([0xC0, 0x38]) + struct.pack("<Q", size) if declare else bytes([0x00, 0x38])
    out = bytearray(struct.pack("<I", 0xFD2FB528) + header)
    blocks = -(-size // _BLOCK)
    for i in range(blocks):
        length = min(_BLOCK, size - i * _BLOCK)
        block = (1 if i == blocks - 1 else 0) | (1 << 1) | (length << 3)  # last?, type RLE, length
        out += block.to_bytes(3, "little") + b"\0"
    return bytes(out)


def plant(repo: Repository, file_type: FileType, size: int, *, declare: bool) -> str:
    """`0x02 || bomb`, encrypted with the key and named by its hash, as a file of the given type."""
    sealed = repo.key.seal(bytes([compression.UNPACKED_ZSTD]) + zstd_bomb(size, declare=declare))
    name = hash_bytes(sealed).hex()
    repo.backend.save(Handle(file_type, name), sealed)
    return name


def peak_bytes_of(call: Callable[..., object], *args: object) -> tuple[BaseException | None, int]:
    """(what `call` raised, the most memory Python held meanwhile)."""
    tracemalloc.start()
    try:
        call(*args)
        raised = None
    except InvalidDataError as exc:
        raised = exc
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return raised, peak


@pytest.mark.parametrize("declare", [False, True], ids=["size-not-declared", "size-declared"])
def test_a_bomb_is_refused_before_more_than_the_limit_is_held(declare: bool) -> None:
    bomb = zstd_bomb(4 << 30, declare=declare)  # 4 GiB of zeros in 128 KiB of frame
    raised, peak = peak_bytes_of(compression.decompress_bounded, bomb, 64 * MiB)
    assert isinstance(raised, InvalidDataError)
    assert str(raised) == "zstd data decodes to more than 67,108,864 bytes, the most this file may hold"
    assert peak < 70 * MiB


@pytest.mark.parametrize("declare", [False, True], ids=["size-not-declared", "size-declared"])
def test_a_frame_of_exactly_the_limit_decodes(declare: bool) -> None:
    assert compression.decompress_bounded(zstd_bomb(3 * MiB, declare=declare), 3 * MiB) == bytes(3 * MiB)
    with pytest.raises(InvalidDataError, match=TOO_BIG):
        compression.decompress_bounded(zstd_bomb(3 * MiB + 1, declare=declare), 3 * MiB)


def test_a_blob_frame_declaring_another_size_than_the_index_is_not_decoded() -> None:
    raised, peak = peak_bytes_of(compression.decompress, zstd_bomb(4 << 30, declare=True), 4096)
    assert str(raised) == f"zstd data declares {4 << 30} bytes, expected 4096"
    assert peak < MiB


@dataclass(frozen=True)
class BombRepo:
    path: Path
    good: str  # the one real snapshot
    bombs: dict[str, str]  # what -> file name


@pytest.fixture(scope="module")
def bomb_repo(tmp_path_factory: pytest.TempPathFactory) -> BombRepo:
    path = tmp_path_factory.mktemp("bombs") / "repo"
    repo = Repository.init(LocalBackend(path), PASSWORD, kdf_params=FAST_KDF)
    good = TreeWriter(repo).snapshot([], 1_760_000_000_000_000_000)
    bombs = {
        "snapshot": plant(repo, FileType.SNAPSHOT, 4 << 30, declare=False),
        "index": plant(repo, FileType.INDEX, 4 << 30, declare=True),
        "lock": plant(repo, FileType.LOCK, UNPACKED_LIMITS[FileType.LOCK] * 64, declare=False),
    }
    repo.close()
    return BombRepo(path, good, bombs)


def cli(repo: Path, *argv: str) -> tuple[int, str, str, int]:
    """(exit code, stdout, stderr, peak Python memory) of one in-process `mamori vault` command."""
    out, err = io.StringIO(), io.StringIO()
    tracemalloc.start()
    try:
        code = main(["-r", str(repo), *argv], stdout=out, stderr=err)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return code, out.getvalue(), err.getvalue(), peak


@pytest.fixture
def password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAMORI_PASSWORD", PASSWORD)


def test_the_bombs_are_named_as_damaged_and_the_rest_lists_restores_and_checks(
    bomb_repo: BombRepo, password: None, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    snap, index = bomb_repo.bombs["snapshot"], bomb_repo.bombs["index"]
    code, out, err, peak = cli(bomb_repo.path, "snapshots")
    assert code == 0 and bomb_repo.good[:8] in out and "1 snapshots" in out
    assert err == (
        f"warning: snapshot {snap[:8]} skipped: snapshots/{snap} cannot be decoded ({TOO_BIG} "
        "67,108,864 bytes, the most this file may hold): run `mamori vault check`\n"
    )
    assert peak < 100 * MiB  # the snapshot file decodes to 4 GiB

    code, out, err, peak = cli(bomb_repo.path, "restore", bomb_repo.good[:8], "--target", str(tmp_path))
    assert code == 0 and (tmp_path / "data" / "good.txt").read_bytes() == GOOD
    assert err == (
        f"warning: index {index[:8]} skipped: index/{index} cannot be decoded ({TOO_BIG} 1,073,741,824 "
        "bytes, the most this file may hold): run `mamori vault rebuild-index`\n"
    )
    assert peak < 100 * MiB  # the index file declares 4 GiB

    code, out, err, peak = cli(bomb_repo.path, "check")
    assert code == 1 and peak < 100 * MiB
    assert err.splitlines()[:2] == [
        f"error: index {index[:8]}: index/{index} cannot be decoded ({TOO_BIG} 1,073,741,824 bytes, "
        "the most this file may hold): run `mamori vault rebuild-index`",
        f"error: snapshot {snap[:8]}: snapshots/{snap} cannot be decoded ({TOO_BIG} 67,108,864 bytes, "
        "the most this file may hold): run `mamori vault check`",
    ]
    # the lock file (64 MiB) is unreadable, so stale: it held neither the restore nor the check up
    assert f"lock {bomb_repo.bombs['lock'][:8]} cannot be read; treating it as stale" in caplog.text
