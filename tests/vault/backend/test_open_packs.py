"""`OpenPacks`: a backup's workers read the parent's trees from the pack files they keep open."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mamori.vault.backend import FileType, Handle
from mamori.vault.backend.local import LocalBackend, OpenPacks
from mamori.vault.errors import BackendNotFoundError


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_ranges_read_as_the_backend_reads_them_with_a_few_files_kept_open(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path / "repo")
    backend.create()
    packs = {f"{i:02x}" + "ab" * 31: os.urandom(5000 + i) for i in range(6)}
    for pack_id, data in packs.items():
        backend.save(Handle(FileType.PACK, pack_id), data)
    before = _open_fds()
    reader = OpenPacks(backend, keep=3)
    for _ in range(2):
        for pack_id, data in packs.items():
            for offset, length in ((0, 10), (4990, 10), (123, 4000)):
                got = reader.load(pack_id, offset, length)
                assert got == data[offset : offset + length]
                assert got == backend.load(Handle(FileType.PACK, pack_id), offset, length)
            assert _open_fds() <= before + 3
    last = next(reversed(packs))
    assert reader.load(last, 5000, 100) == packs[last][5000:]  # past the end: what is there
    reader.close()
    assert _open_fds() == before


def test_a_missing_pack_is_not_found_and_nothing_stays_open(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path / "repo")
    backend.create()
    before = _open_fds()
    reader = OpenPacks(backend)
    with pytest.raises(BackendNotFoundError):
        reader.load("cd" * 32, 0, 10)
    assert _open_fds() == before
    reader.close()
