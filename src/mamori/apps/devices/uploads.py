"""An import's file between its upload and its run in the worker: a private file under MAMORI_HOME.

The bytes are written as they arrive (a 200 MB upload is never whole in the web process's memory),
mode 0600 in a 0700 directory, under a random name; a file over the limit is deleted before it is
complete. The import reads it once and removes it when it has run (`upload_remove`).
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .errors import DeviceError

MAX_IMPORT_BYTES = 200 * 1024 * 1024
TOO_LARGE = _("ファイルが大きすぎます（上限 200 MB）。")
GONE = _(
    "取り込むファイルが見つかりません（既に取り込まれたか、削除されました）。もう一度アップロードしてください。"
)
HEAD_BYTES = 64 * 1024  # what the format detection reads
CHUNK = 1024 * 1024
NAME_RE = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class StoredUpload:
    name: str
    sha256: str
    size: int
    head: bytes  # the first HEAD_BYTES, to tell the format by


def _directory() -> Path:
    path = Path(settings.MAMORI_HOME) / "device-imports"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _path(name: str) -> Path:
    if not NAME_RE.match(name):  # a name from the database, never a path
        raise DeviceError(GONE, code="gone")
    return _directory() / name


def _chunks(source: bytes | BinaryIO) -> Iterator[bytes]:
    if isinstance(source, bytes):
        yield source
        return
    while chunk := source.read(CHUNK):
        yield chunk


def upload_store(source: bytes | BinaryIO) -> StoredUpload:
    """Write `source` (bytes, or a file read in chunks) to a new private file; DeviceError if larger
    than MAX_IMPORT_BYTES."""
    name = secrets.token_hex(16)
    path = _directory() / name
    digest, size, head = hashlib.sha256(), 0, b""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as file:
            for chunk in _chunks(source):
                size += len(chunk)
                if size > MAX_IMPORT_BYTES:
                    raise DeviceError(TOO_LARGE, code="too_large", http_status=413)
                if len(head) < HEAD_BYTES:
                    head += chunk[: HEAD_BYTES - len(head)]
                digest.update(chunk)
                file.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return StoredUpload(name=name, sha256=digest.hexdigest(), size=size, head=head)


def upload_read(name: str) -> bytes:
    try:
        return _path(name).read_bytes()
    except FileNotFoundError as exc:
        raise DeviceError(GONE, code="gone") from exc


def upload_remove(name: str) -> None:
    if NAME_RE.match(name):
        (_directory() / name).unlink(missing_ok=True)
