"""Key files (`keys/<id>`): plain JSON holding scrypt parameters and the master key sealed with the
password-derived key. Several key files may wrap the same master key (restic `internal/repository/key.go`).
"""

from __future__ import annotations

import base64
import getpass
import json
import os
import socket
from dataclasses import dataclass
from datetime import datetime

from mamori.vault.backend import Backend, FileType, Handle
from mamori.vault.crypto import SALT_SIZE, KDFParams, Key, derive_key
from mamori.vault.errors import (
    AuthenticationError,
    InvalidArgumentError,
    InvalidDataError,
    LegacyLayoutError,
    MalformedKeyFileError,
    NoUsableKeyError,
    WrongPasswordError,
)
from mamori.vault.ids import hash_bytes
from mamori.vault.kdf import key_file_params
from mamori.vault.timefmt import format_time, now, parse_time

__all__ = ["KeyFile", "add_key", "list_keys", "load_key_file", "open_master_key", "remove_key"]


@dataclass(frozen=True, slots=True)
class KeyFile:
    """A decoded key file; `id` is the SHA-256 of its JSON bytes."""

    id: str
    created: datetime
    username: str
    hostname: str
    params: KDFParams
    salt: bytes
    data: bytes

    def unlock(self, password: str) -> Key:
        """The master key, or `AuthenticationError` when the password does not fit."""
        user_key = derive_key(password, self.salt, self.params)
        return Key.from_json(user_key.open(self.data))


def _username() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def load_key_file(backend: Backend, key_id: str) -> KeyFile:
    """Read and parse one key file; refuses KDFs other than scrypt like restic."""
    raw = backend.load(Handle(FileType.KEY, key_id))
    try:
        doc = json.loads(raw)
        salt, n, r, p = key_file_params(doc)
        return KeyFile(
            id=key_id,
            created=parse_time(doc["created"]) if doc.get("created") else now(),
            username=str(doc.get("username") or ""),
            hostname=str(doc.get("hostname") or ""),
            params=KDFParams(n=n, r=r, p=p),
            salt=salt,
            data=base64.b64decode(doc["data"], validate=True),
        )
    except (ValueError, KeyError, TypeError, InvalidArgumentError) as exc:
        raise MalformedKeyFileError(key_id, str(exc)) from exc


def add_key(backend: Backend, master: Key, password: str, params: KDFParams | None = None) -> str:
    """Write a new key file wrapping `master` under `password`; returns its id."""
    if not password:
        raise InvalidArgumentError("an empty password is not allowed: choose a password")
    params = params or KDFParams()
    salt = os.urandom(SALT_SIZE)
    user_key = derive_key(password, salt, params)
    doc = {
        "created": format_time(now()),
        "username": _username(),
        "hostname": socket.gethostname(),
        "kdf": "scrypt",
        "N": params.n,
        "r": params.r,
        "p": params.p,
        "salt": base64.b64encode(salt).decode(),
        "data": base64.b64encode(user_key.seal(master.to_json())).decode(),
    }
    raw = json.dumps(doc, separators=(",", ":")).encode()
    key_id = hash_bytes(raw).hex()
    backend.save(Handle(FileType.KEY, key_id), raw)
    return key_id


def list_keys(backend: Backend) -> tuple[list[KeyFile], list[MalformedKeyFileError]]:
    """Every usable key file, oldest first, and the malformed ones."""
    keys: list[KeyFile] = []
    malformed: list[MalformedKeyFileError] = []
    for info in backend.list(FileType.KEY):
        try:
            keys.append(load_key_file(backend, info.name))
        except MalformedKeyFileError as exc:
            malformed.append(exc)
    return sorted(keys, key=lambda k: (k.created, k.id)), malformed


def open_master_key(
    backend: Backend, password: str, *, hint: str | None = None
) -> tuple[Key, str, list[MalformedKeyFileError]]:
    """Try key files (the hinted one first) until one opens: (master key, key id, malformed ones skipped).

    A malformed key file (bad JSON, scrypt cost beyond `kdf` bounds) is skipped before any derivation;
    if every key file is malformed that is `NoUsableKeyError`, otherwise no match is `WrongPasswordError`.
    """
    names = sorted(info.name for info in backend.list(FileType.KEY))  # the order `kdf.warm_up` guesses
    if not names:
        if next(iter(backend.list(FileType.LEGACY_KEY)), None) is not None:
            raise LegacyLayoutError(backend.location)
        raise InvalidDataError(
            f"{backend.location} has no key files: the repository is incomplete; restore keys/ from a copy",
            path="keys",
        )
    if hint in names:
        names.remove(hint)
        names.insert(0, hint)
    malformed: list[MalformedKeyFileError] = []
    for name in names:
        try:
            key_file = load_key_file(backend, name)
        except MalformedKeyFileError as exc:
            malformed.append(exc)
            continue
        try:
            return key_file.unlock(password), name, malformed
        except (AuthenticationError, InvalidDataError):
            continue
    if len(malformed) == len(names):
        raise NoUsableKeyError(backend.location, [str(e) for e in malformed])
    raise WrongPasswordError(backend.location, skipped=len(malformed))


def remove_key(backend: Backend, key_id: str, *, current: str) -> None:
    """Delete a key file; the key in use cannot be removed (restic refuses the same)."""
    if key_id == current:
        raise InvalidArgumentError(
            "refusing to remove the key currently in use: open with another password first"
        )
    backend.remove(Handle(FileType.KEY, key_id))
