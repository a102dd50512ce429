"""Repository ids: 32-byte SHA-256 values, written as 64 lowercase hex characters, shown as 8-char short ids."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from mamori.vault.errors import AmbiguousIdError, InvalidArgumentError, NotFoundError

__all__ = [
    "ID_SIZE",
    "SHORT_ID_LENGTH",
    "find_by_prefix",
    "find_id",
    "hash_bytes",
    "is_hex_id",
    "parse_id",
    "short_id",
]

ID_SIZE = 32
SHORT_ID_LENGTH = 8
_HEX = frozenset("0123456789abcdef")


def hash_bytes(data: bytes | bytearray | memoryview) -> bytes:
    """The id of `data`: its SHA-256 digest (hashlib releases the GIL for large inputs)."""
    return hashlib.sha256(data).digest()


def find_id(
    ids: bytes | bytearray, blob_id: bytes | bytearray, start: int = 0, end: int | None = None
) -> int:
    """The offset of `blob_id` among 32-byte ids stored back to back in `ids[start:end]`, or -1
    (`start` a multiple of 32). A plain `find` could match across two neighbouring ids."""
    stop = len(ids) if end is None else end
    pos = ids.find(blob_id, start, stop)
    while pos != -1 and pos % ID_SIZE:
        pos = ids.find(blob_id, pos + 1, stop)
    return pos


def is_hex_id(text: str) -> bool:
    """Whether `text` is a full id in restic's spelling (64 lowercase hex characters)."""
    return len(text) == 2 * ID_SIZE and set(text) <= _HEX


def parse_id(text: str) -> bytes:
    """Turn a 64-character hex id into its 32 bytes; a malformed id is an `InvalidArgumentError`."""
    if not is_hex_id(text.lower()):
        raise InvalidArgumentError(f"{text!r} is not an id: expected 64 hex characters")
    return bytes.fromhex(text)


def short_id(value: str | bytes) -> str:
    """The 8-character form users see (`restic snapshots` prints the same)."""
    text = value.hex() if isinstance(value, bytes) else value
    return text[:SHORT_ID_LENGTH]


def find_by_prefix(prefix: str, candidates: Iterable[str], *, file_type: str) -> str:
    """The one candidate starting with `prefix`; none or several matches raise a clear error."""
    prefix = prefix.lower()
    if not prefix or not set(prefix) <= _HEX:
        raise InvalidArgumentError(f"{prefix!r} is not an id or id prefix: use hex characters")
    found: str | None = None
    count = 0
    for name in candidates:
        if name.startswith(prefix):
            if name == prefix:
                return name
            found = name
            count += 1
    if found is None:
        raise NotFoundError(
            f"no {file_type} file matches {prefix!r}: list them with `mamori vault list {file_type}`",
            file_type=file_type,
            ref=prefix,
        )
    if count > 1:
        raise AmbiguousIdError(file_type=file_type, prefix=prefix, matches=count)
    return found
