"""Repository locks with restic semantics (`internal/restic/lock.go`).

A lock is an encrypted file in `locks/`: ``{"time","exclusive","hostname","username","pid","uid","gid"}``.
Any number of shared locks may coexist; an exclusive lock excludes every other lock. A lock is
stale when older than 30 minutes, or when it comes from this host and its process is gone. A held
lock is refreshed every 5 minutes by writing a new file and removing the old one.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Protocol

from mamori.vault.backend import FileType
from mamori.vault.errors import (
    BackendNotFoundError,
    IntegrityError,
    RepositoryLockedError,
    VaultError,
)
from mamori.vault.timefmt import format_time, now, parse_time

__all__ = [
    "REFRESH_INTERVAL",
    "STALE_AFTER",
    "LockInfo",
    "RepositoryLock",
    "list_locks",
    "remove_stale_locks",
]

STALE_AFTER = timedelta(minutes=30)
REFRESH_INTERVAL = timedelta(minutes=5)
log = logging.getLogger("mamori.vault.lock")


class LockStore(Protocol):
    """What locking needs from a repository: encrypted small files in `locks/`."""

    def save_unpacked(self, file_type: FileType, data: bytes) -> str: ...
    def load_unpacked(self, file_type: FileType, file_id: str) -> bytes: ...
    def list_files(self, file_type: FileType) -> Iterator[str]: ...
    def remove_file(self, file_type: FileType, file_id: str) -> None: ...


@dataclass(frozen=True, slots=True)
class LockInfo:
    """A decoded lock file."""

    id: str
    time: datetime
    exclusive: bool
    hostname: str
    username: str
    pid: int
    uid: int
    gid: int

    def is_stale(self, at: datetime | None = None) -> bool:
        """Older than 30 min, or from this host with a dead process."""
        if (at or now()) - self.time > STALE_AFTER:
            return True
        if self.hostname != socket.gethostname():
            return False
        return not _process_alive(self.pid)

    def conflicts_with(self, exclusive: bool) -> bool:
        """Whether this lock stops someone wanting a lock of the given kind."""
        return exclusive or self.exclusive


def _process_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _encode_lock(exclusive: bool) -> bytes:
    try:
        username = getpass.getuser()
    except (KeyError, OSError):
        username = ""
    doc = {
        "time": format_time(now()),
        "exclusive": exclusive,
        "hostname": socket.gethostname(),
        "username": username,
        "pid": os.getpid(),
        "uid": os.getuid(),
        "gid": os.getgid(),
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def _load_lock(store: LockStore, lock_id: str) -> LockInfo | None:
    """The lock, or None when it vanished meanwhile; an unreadable lock counts as held by 'unknown'."""
    try:
        doc = json.loads(store.load_unpacked(FileType.LOCK, lock_id))
        return LockInfo(
            id=lock_id,
            time=parse_time(doc["time"]),
            exclusive=bool(doc.get("exclusive", False)),
            hostname=str(doc.get("hostname", "")),
            username=str(doc.get("username", "")),
            pid=int(doc.get("pid", 0)),
            uid=int(doc.get("uid", 0)),
            gid=int(doc.get("gid", 0)),
        )
    except BackendNotFoundError:
        return None
    except (IntegrityError, ValueError, KeyError, TypeError):
        log.warning("lock %s cannot be read; treating it as stale", lock_id[:8])
        return LockInfo(lock_id, now() - 2 * STALE_AFTER, False, "?", "?", 0, 0, 0)


def list_locks(store: LockStore) -> list[LockInfo]:
    """Every readable lock in the repository."""
    locks = (_load_lock(store, name) for name in list(store.list_files(FileType.LOCK)))
    return [lock for lock in locks if lock is not None]


def remove_stale_locks(store: LockStore, *, remove_all: bool = False) -> list[str]:
    """`unlock`: remove stale locks (or every lock); returns the removed ids."""
    removed = []
    for lock in list_locks(store):
        if remove_all or lock.is_stale():
            try:
                store.remove_file(FileType.LOCK, lock.id)
            except BackendNotFoundError:
                continue
            removed.append(lock.id)
    return removed


class RepositoryLock:
    """A held lock: context manager that creates, refreshes (background thread) and removes it."""

    def __init__(
        self, store: LockStore, *, exclusive: bool, location: str | None = None, refresh: bool = True
    ) -> None:
        self._store = store
        self._refresh = refresh
        self.exclusive = exclusive
        self._location = location
        self.lock_id: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._mutex = threading.Lock()

    def _check_others(self) -> None:
        for lock in list_locks(self._store):
            if lock.id == self.lock_id or lock.is_stale() or not lock.conflicts_with(self.exclusive):
                continue
            raise RepositoryLockedError(
                lock_id=lock.id,
                hostname=lock.hostname,
                username=lock.username,
                pid=lock.pid,
                exclusive=lock.exclusive,
                created=format_time(lock.time),
                location=self._location,
            )

    def acquire(self) -> None:
        """Check, write our lock, check again (another process may have raced us)."""
        self._check_others()
        self.lock_id = self._store.save_unpacked(FileType.LOCK, _encode_lock(self.exclusive))
        try:
            self._check_others()
        except RepositoryLockedError:
            self._remove()
            raise
        if self._refresh:
            self.start_refresh()

    def start_refresh(self) -> None:
        """Start the thread that refreshes the lock (at once unless made with `refresh=False`: a
        backup forks its worker processes first)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._refresh_loop, name="vault-lock-refresh", daemon=True)
            self._thread.start()

    def refresh(self) -> None:
        """Replace the lock file with a fresh one (new time), then remove the old one."""
        with self._mutex:
            old = self.lock_id
            self.lock_id = self._store.save_unpacked(FileType.LOCK, _encode_lock(self.exclusive))
            if old is not None:
                try:
                    self._store.remove_file(FileType.LOCK, old)
                except BackendNotFoundError:
                    pass

    def _refresh_loop(self) -> None:
        while not self._stop.wait(REFRESH_INTERVAL.total_seconds()):
            try:
                self.refresh()
            except VaultError:  # a failed refresh must not kill the backup; the next one retries
                log.exception("refreshing the repository lock failed")

    def _remove(self) -> None:
        with self._mutex:
            if self.lock_id is None:
                return
            try:
                self._store.remove_file(FileType.LOCK, self.lock_id)
            except BackendNotFoundError:
                pass
            self.lock_id = None

    def release(self) -> None:
        """Stop refreshing and remove the lock file."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._remove()

    def __enter__(self) -> RepositoryLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
