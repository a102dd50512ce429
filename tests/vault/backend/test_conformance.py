"""ONE conformance suite every backend must pass (restic internal/backend/test/tests.go).

Five backends: mem, local, and the remote ones against real servers on 127.0.0.1 (sshd, SeaweedFS,
rclone serve restic), plus the wrapped local backend. Each test gets a fresh, empty repository.
"""

from __future__ import annotations

import hashlib
import os
import random
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from mamori.vault.backend import Backend, FileType, Handle
from mamori.vault.backend.local import LocalBackend
from mamori.vault.backend.location import parse
from mamori.vault.backend.mem import MemoryBackend
from mamori.vault.backend.rest import RestBackend
from mamori.vault.backend.s3 import S3Backend
from mamori.vault.backend.sftp import SFTPBackend
from mamori.vault.backend.wrappers import LoggingBackend, RetryBackend
from mamori.vault.errors import BackendNotFoundError, ObjectExistsError
from tests.remote_servers import RestServer, S3Server, SSHServer

KINDS = ["mem", "local", "wrapped-local", "sftp", "s3", "rest"]


def make_backend(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """A fresh, created, empty backend of the kind (servers start once per session)."""
    if kind == "mem":
        be: Backend = MemoryBackend()
    elif kind == "local":
        be = LocalBackend(tmp_path / "repo")
    elif kind == "wrapped-local":
        be = RetryBackend(LoggingBackend(LocalBackend(tmp_path / "repo")))
    elif kind == "sftp":
        ssh: SSHServer = request.getfixturevalue("sftp_server")
        be = SFTPBackend(parse(ssh.new_url()), ssh.options())
    elif kind == "s3":
        s3: S3Server = request.getfixturevalue("s3_server")
        # a small threshold so the multipart path runs on ordinary test sizes
        be = S3Backend(parse(s3.new_url()), s3.options(), multipart_threshold=6 << 20, part_size=5 << 20)
    else:
        rest: RestServer = request.getfixturevalue("rest_server")
        be = RestBackend(parse(rest.new_url()), rest.options())
    be.create()
    return be


@pytest.fixture(params=KINDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    be = make_backend(request.param, request, tmp_path)
    yield be
    be.close()


def _name(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_new_backend_is_empty_and_create_is_idempotent(backend: Backend) -> None:
    backend.create()
    for file_type in FileType:
        assert list(backend.list(file_type)) == []
    assert backend.location


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


def test_empty_and_large_files_round_trip(backend: Backend) -> None:
    large = os.urandom((7 << 20) + 12_345)  # above the S3 multipart threshold used here
    for data in (b"", large):
        h = Handle(FileType.PACK, _name(data))
        backend.save(h, [data[: 1 << 20], data[1 << 20 :]])
        assert backend.stat(h) == len(data)
        assert backend.load(h) == data


def test_save_of_parts_stores_them_concatenated(backend: Backend) -> None:
    parts = [os.urandom(1000), b"", os.urandom(3)]
    h = Handle(FileType.PACK, _name(b"".join(parts)))
    backend.save(h, parts)
    assert backend.load(h) == b"".join(parts)
    assert backend.stat(h) == 1003


def test_a_spooled_pack_is_stored_as_it_was_written(backend: Backend) -> None:
    # a pack is written to the backend's spool blob by blob, then saved (the local backend links it)
    pieces = [os.urandom(n) for n in (1, 3 << 20, 0, (4 << 20) + 7)]  # 7 MiB: S3's multipart path
    data = b"".join(pieces)
    spool = backend.spool()
    for piece in pieces:
        spool.write(piece)
    assert spool.digest() == hashlib.sha256(data).digest()
    h = Handle(FileType.PACK, _name(data))
    backend.save(h, spool)
    with pytest.raises(ObjectExistsError):
        backend.save(h, spool)
    spool.close()
    assert backend.load(h) == data
    assert backend.stat(h) == len(data)
    assert [i.name for i in backend.list(FileType.PACK)] == [h.name]


def test_load_with_offset_and_length(backend: Backend) -> None:
    data = bytes(range(256)) * 4
    h = Handle(FileType.INDEX, _name(data))
    backend.save(h, data)
    assert backend.load(h, 10, 20) == data[10:30]
    assert backend.load(h, 1000) == data[1000:]
    assert backend.load(h, 1000, 100) == data[1000:], "reads past the end are short, not errors"
    assert backend.load(h, len(data) + 5, 10) == b"", "a range after the end reads as empty"


def test_random_ranges_read_exactly_those_bytes(backend: Backend) -> None:
    rnd = random.Random(23)
    data = rnd.randbytes(200_000)
    h = Handle(FileType.PACK, _name(data))
    backend.save(h, data)
    for _ in range(25):
        offset = rnd.randrange(len(data))
        length = rnd.choice([0, 1, rnd.randrange(1, len(data) + 2000)])
        want = data[offset : offset + length] if length else data[offset:]
        assert backend.load(h, offset, length) == want, (offset, length)


def test_save_refuses_to_overwrite_and_keeps_the_original(backend: Backend) -> None:
    for h in (Handle(FileType.SNAPSHOT, "ab" * 32), Handle(FileType.CONFIG)):
        backend.save(h, b"first")
        with pytest.raises(ObjectExistsError):
            backend.save(h, b"second")
        assert backend.load(h) == b"first"


def test_missing_files_raise_not_found(backend: Backend) -> None:
    h = Handle(FileType.KEY, "cd" * 32)
    with pytest.raises(BackendNotFoundError):
        backend.load(h)
    with pytest.raises(BackendNotFoundError):
        backend.load(h, 5, 10)
    with pytest.raises(BackendNotFoundError):
        backend.stat(h)
    with pytest.raises(BackendNotFoundError):
        backend.remove(h)
    assert not backend.exists(h)


def test_list_is_per_type_with_sizes(backend: Backend) -> None:
    packs = {_name(bytes([i]) * 3): bytes([i]) * (i + 1) for i in range(25)}
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
    assert not backend.exists(a)
    backend.save(a, b"again")  # a removed name can be written anew
    assert backend.load(a) == b"again"


def test_config_is_a_single_named_file(backend: Backend) -> None:
    h = Handle(FileType.CONFIG)
    assert not backend.exists(h)
    assert list(backend.list(FileType.CONFIG)) == []
    backend.save(h, b"config bytes")
    assert backend.load(h) == b"config bytes"
    assert [i.size for i in backend.list(FileType.CONFIG)] == [12]


def test_concurrent_saves_and_loads_of_many_names(backend: Backend) -> None:
    blobs = [os.urandom(random.Random(i).randrange(1, 300_000)) for i in range(24)]
    errors: list[BaseException] = []

    def work(chunk: list[bytes]) -> None:
        try:
            for data in chunk:
                h = Handle(FileType.PACK, _name(data))
                backend.save(h, data)
                assert backend.load(h) == data
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(blobs[i::6],)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert {i.name: i.size for i in backend.list(FileType.PACK)} == {_name(b): len(b) for b in blobs}


def test_concurrent_saves_of_one_name(backend: Backend) -> None:
    h = Handle(FileType.PACK, "77" * 32)
    outcomes: list[str] = []

    def save() -> None:
        try:
            backend.save(h, b"same content")
            outcomes.append("saved")
        except ObjectExistsError:
            outcomes.append("exists")

    threads = [threading.Thread(target=save) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcomes) == 8
    if backend.atomic_create:
        assert outcomes.count("saved") == 1
    else:  # the server cannot refuse atomically: a lost race stores the same bytes again
        assert outcomes.count("saved") >= 1
    assert backend.load(h) == b"same content"
    assert [i.name for i in backend.list(FileType.PACK)] == ["77" * 32]


def test_delete_removes_everything_and_is_idempotent(backend: Backend) -> None:
    backend.save(Handle(FileType.PACK, "12" * 32), b"x")
    backend.save(Handle(FileType.CONFIG), b"c")
    backend.delete()
    backend.delete()
    assert list(backend.list(FileType.PACK)) == []
    assert not backend.exists(Handle(FileType.CONFIG))


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


def test_sftp_layout_matches_restic_and_hides_temp_files(sftp_server: SSHServer) -> None:
    url = sftp_server.new_url()
    be = SFTPBackend(parse(url), sftp_server.options())
    be.create()
    name = "3f" + "1" * 62
    be.save(Handle(FileType.PACK, name), b"pack")
    repo = sftp_server.root / url.rsplit("/", 1)[1]
    path = repo / "data" / "3f" / name
    assert path.read_bytes() == b"pack"
    assert len(list((repo / "data").iterdir())) == 256
    (path.parent / f"{name}-tmp-123").write_bytes(b"partial")
    assert [i.name for i in be.list(FileType.PACK)] == [name]
    be.close()


def test_s3_layout_matches_restic(s3_server: S3Server) -> None:
    url = s3_server.new_url()
    be = S3Backend(parse(url), s3_server.options())
    name = "3f" + "2" * 62
    be.save(Handle(FileType.PACK, name), b"pack")
    be.save(Handle(FileType.CONFIG), b"c")
    prefix = url.rsplit("/", 1)[1]
    keys = sorted(
        o["Key"] for o in s3_server.client().list_objects_v2(Bucket="mamori-plain", Prefix=prefix)["Contents"]
    )
    assert keys == [f"{prefix}/config", f"{prefix}/data/3f/{name}"]
    be.close()


STRANGERS = ["G" * 64, "ab" * 31 + "-x", "short", "ab" * 32 + ".tmp", "\u3042" * 64]


@pytest.mark.parametrize("kind", ["local", "sftp", "s3", "rest"])
def test_listings_skip_files_a_stranger_put_there(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Names that are not 64 lowercase hex characters, planted straight into the server's storage
    (not through our writer), never come out of `list`, so they never reach a `Handle`."""
    be = make_backend(kind, request, tmp_path)
    good = "cd" * 32
    be.save(Handle(FileType.SNAPSHOT, good), b"ours")
    names = STRANGERS
    if kind == "local":
        for name in names:
            (tmp_path / "repo" / "snapshots" / name).write_bytes(b"x")
    elif kind == "sftp":
        ssh: SSHServer = request.getfixturevalue("sftp_server")
        folder = ssh.root / be.location.rsplit("/", 1)[1] / "snapshots"
        for name in names:
            (folder / name).write_bytes(b"x")
    elif kind == "s3":
        s3: S3Server = request.getfixturevalue("s3_server")
        prefix = be.location.rsplit("/", 1)[1]
        for name in names:
            s3.client().put_object(Bucket="mamori-plain", Key=f"{prefix}/snapshots/{name}", Body=b"x")
    else:
        rest: RestServer = request.getfixturevalue("rest_server")
        folder = rest.store / be.location.rstrip("/").rsplit("/", 1)[1] / "snapshots"
        for name in names:
            (folder / name).write_bytes(b"x")
    assert [i.name for i in be.list(FileType.SNAPSHOT)] == [good]
    be.close()
