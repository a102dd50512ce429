"""The spool a pack is written into (`mamori.vault.backend.spool`): unnamed where the system allows,
a named temporary file elsewhere, and in both cases nothing left behind once closed."""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

import pytest

from mamori.vault.backend import FileType, Handle
from mamori.vault.backend import spool as spool_module
from mamori.vault.backend.local import LocalBackend
from mamori.vault.backend.spool import Spool
from mamori.vault.errors import PermanentBackendError


def _fill(spool: Spool) -> bytes:
    pieces = [os.urandom(n) for n in (10, 300_000, 0, 5, 1 << 20)]
    for piece in pieces:
        spool.write(piece)
    return b"".join(pieces)


@pytest.mark.parametrize("unnamed", [True, False])
def test_a_spool_reads_back_links_once_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unnamed: bool
) -> None:
    if not unnamed:  # a file system without O_TMPFILE
        monkeypatch.setattr(spool_module, "_O_TMPFILE", 0)
    spool = Spool(tmp_path)
    data = _fill(spool)
    assert (spool.path is None) is unnamed
    assert os.listdir(tmp_path) == ([] if unnamed else [os.path.basename(str(spool.path))])
    assert spool.digest() == hashlib.sha256(data).digest()
    assert spool.pread(299_990, 30) == data[299_990:300_020]
    assert b"".join(spool) == data == bytes(spool)
    assert spool.link(tmp_path / "pack", 0o400)
    with pytest.raises(FileExistsError):
        spool.link(tmp_path / "pack", 0o400)
    spool.close()
    spool.close()
    assert os.listdir(tmp_path) == ["pack"]
    assert (tmp_path / "pack").read_bytes() == data
    assert (tmp_path / "pack").stat().st_mode & 0o777 == 0o400


def test_many_small_appends_and_short_writes_keep_every_byte_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a pack of small files gathers thousands of blobs (more than one writev takes); a system
    # call may write less than asked
    real_writev = os.writev
    monkeypatch.setattr(os, "writev", lambda fd, views: real_writev(fd, [views[0][:777]]))
    pieces = [os.urandom(n % 50) for n in range(3000)]
    whole = os.urandom(400_000)
    spool = Spool(tmp_path)
    for piece in pieces:
        spool.write(piece)
    spool.write(memoryview(whole)[1000:])
    data = b"".join(pieces) + whole[1000:]
    assert bytes(spool) == data and spool.digest() == hashlib.sha256(data).digest()
    spool.close()


def test_a_spool_on_another_file_system_is_not_linked(tmp_path: Path) -> None:
    spool = Spool()  # the temporary directory: /dev/shm is another file system
    _fill(spool)
    if os.stat(spool.directory).st_dev == os.stat("/dev/shm").st_dev:
        pytest.fail("the temporary directory is /dev/shm's file system: pick another target")
    assert spool.link("/dev/shm/" + os.urandom(8).hex(), 0o400) is False
    spool.close()


def test_the_local_backend_links_its_own_spool_into_place(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path / "repo")
    backend.create()
    spool = backend.spool()
    data = _fill(spool)
    inode = os.fstat(spool.fd).st_ino
    handle = Handle(FileType.PACK, hashlib.sha256(data).hexdigest())
    backend.save(handle, spool)
    spool.close()
    backend.sync()
    stored = tmp_path / "repo" / "data" / handle.name[:2] / handle.name
    assert stored.stat().st_ino == inode, "copied instead of linked"
    assert stored.read_bytes() == data


def test_a_full_temporary_disk_is_one_line_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spool = Spool(tmp_path)  # the temporary-directory spool of the SFTP, S3 and REST backends

    class FullDisk:
        """The os module as the spool sees it, on a disk with no space left."""

        def __getattr__(self, name: str) -> object:
            return getattr(os, name)

        @staticmethod
        def write(fd: int, data: object) -> int:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(spool_module, "os", FullDisk())
    with pytest.raises(
        PermanentBackendError, match=r"^.*: No space left on device: the disk of the temporary"
    ):
        spool.write(os.urandom(300_000))
    spool.close()
