"""ONE conformance suite every backend must pass (restic internal/backend/test/tests.go)."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from mamori.vault.backend import Backend, FileType, Handle
from mamori.vault.backend.local import LocalBackend
from mamori.vault.backend.mem import MemoryBackend
from mamori.vault.backend.wrappers import LoggingBackend, RetryBackend
from mamori.vault.errors import BackendNotFoundError, ObjectExistsError


@pytest.fixture(params=["mem", "local", "wrapped-local"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "mem":
        be: Backend = MemoryBackend()
    elif request.param == "local":
        be = LocalBackend(tmp_path / "repo")
    else:
        be = RetryBackend(LoggingBackend(LocalBackend(tmp_path / "repo")))
    be.create()
    yield be
    be.close()


def _name(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_save_then_load_returns_the_same_bytes(backend: Backend) -> None:
    data = os.urandom(10_000)
    h = Handle(FileType.PACK, _name(data))
    backend.save(h, data)
    assert backend.load(h) == data
    backend.sync()
    backend.sync()
    assert backend.load(h) == data
    assert backend.stat(h) == len(data)
    assert backend.exists(h)


def test_save_of_parts_stores_them_concatenated(backend: Backend) -> None:
    parts = [os.urandom(1000), b"", os.urandom(3)]
    h = Handle(FileType.PACK, _name(b"".join(parts)))
    backend.save(h, parts)
    assert backend.load(h) == b"".join(parts)
    assert backend.stat(h) == 1003


def test_load_with_offset_and_length(backend: Backend) -> None:
    data = bytes(range(256)) * 4
    h = Handle(FileType.INDEX, _name(data))
    backend.save(h, data)
    assert backend.load(h, 10, 20) == data[10:30]
    assert backend.load(h, 1000) == data[1000:]
    assert backend.load(h, 1000, 100) == data[1000:], "reads past the end are short, not errors"


def test_save_refuses_to_overwrite_and_keeps_the_original(backend: Backend) -> None:
    h = Handle(FileType.SNAPSHOT, "ab" * 32)
    backend.save(h, b"first")
    with pytest.raises(ObjectExistsError):
        backend.save(h, b"second")
    assert backend.load(h) == b"first"


def test_missing_files_raise_not_found(backend: Backend) -> None:
    h = Handle(FileType.KEY, "cd" * 32)
    with pytest.raises(BackendNotFoundError):
        backend.load(h)
    with pytest.raises(BackendNotFoundError):
        backend.stat(h)
    with pytest.raises(BackendNotFoundError):
        backend.remove(h)
    assert not backend.exists(h)


def test_list_is_per_type_with_sizes(backend: Backend) -> None:
    packs = {_name(bytes([i]) * 3): bytes([i]) * (i + 1) for i in range(20)}
    for name, data in packs.items():
        backend.save(Handle(FileType.PACK, name), data)
    backend.save(Handle(FileType.LOCK, "ee" * 32), b"lock")
    listed = {info.name: info.size for info in backend.list(FileType.PACK)}
    assert listed == {name: len(data) for name, data in packs.items()}
    assert [info.name for info in backend.list(FileType.LOCK)] == ["ee" * 32]
    assert list(backend.list(FileType.SNAPSHOT)) == []


def test_remove_deletes_one_file(backend: Backend) -> None:
    a, b = Handle(FileType.LOCK, "01" * 32), Handle(FileType.LOCK, "02" * 32)
    backend.save(a, b"a")
    backend.save(b, b"b")
    backend.remove(a)
    assert [i.name for i in backend.list(FileType.LOCK)] == ["02" * 32]


def test_config_is_a_single_named_file(backend: Backend) -> None:
    h = Handle(FileType.CONFIG)
    assert not backend.exists(h)
    backend.save(h, b"config bytes")
    assert backend.load(h) == b"config bytes"
    assert [i.size for i in backend.list(FileType.CONFIG)] == [12]


def test_concurrent_saves_of_one_name_store_exactly_one(backend: Backend) -> None:
    h = Handle(FileType.PACK, "77" * 32)
    outcomes: list[str] = []

    def save(i: int) -> None:
        try:
            backend.save(h, b"same content")
            outcomes.append("saved")
        except ObjectExistsError:
            outcomes.append("exists")

    threads = [threading.Thread(target=save, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("saved") == 1
    assert backend.load(h) == b"same content"


def test_delete_removes_everything_and_is_idempotent(backend: Backend) -> None:
    backend.save(Handle(FileType.PACK, "12" * 32), b"x")
    backend.delete()
    backend.delete()
    assert list(backend.list(FileType.PACK)) == []


def test_local_layout_matches_restic(tmp_path: Path) -> None:
    be = LocalBackend(tmp_path / "repo")
    be.create()
    name = "3f" + "0" * 62
    be.save(Handle(FileType.PACK, name), b"pack")
    path = tmp_path / "repo" / "data" / "3f" / name
    assert path.read_bytes() == b"pack"
    assert path.stat().st_mode & 0o777 == 0o400, "repository files are read-only like restic's"
    assert sorted(p.name for p in (tmp_path / "repo").iterdir()) == [
        "data",
        "index",
        "keys",
        "locks",
        "snapshots",
    ]
    assert len(list((tmp_path / "repo" / "data").iterdir())) == 256
    (path.parent / f"{name}-tmp-123").write_bytes(b"partial")
    assert [i.name for i in be.list(FileType.PACK)] == [name], "temporary files are never listed"
