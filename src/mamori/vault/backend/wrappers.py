"""Cross-cutting behaviour as wrappers around any backend: retry (transient errors only), logging.

Order as restic `wrapBackend`: `RetryBackend(LoggingBackend(backend))`, so each attempt is logged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TypeVar

from mamori.vault.backend import Backend, Data, FileInfo, FileType, Handle, Spool, data_size
from mamori.vault.errors import BackendNotFoundError, ObjectExistsError, TransientBackendError

__all__ = ["LoggingBackend", "RetryBackend", "WrappingBackend", "retrying"]

T = TypeVar("T")
log = logging.getLogger("mamori.vault.backend")


class WrappingBackend(Backend):
    """Forwards every call to `inner`; subclasses override what they change (also used by fault doubles)."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.location = inner.location
        self.atomic_create = inner.atomic_create
        self.object_lock = inner.object_lock

    def retention(self, handle: Handle) -> datetime | None:
        return self.inner.retention(handle)

    def extend_retention(self, handle: Handle, until: datetime) -> None:
        self.inner.extend_retention(handle, until)

    def create(self) -> None:
        self.inner.create()

    def save(self, handle: Handle, data: Data) -> None:
        self.inner.save(handle, data)

    def load(self, handle: Handle, offset: int = 0, length: int = 0) -> bytes:
        return self.inner.load(handle, offset, length)

    def stat(self, handle: Handle) -> int:
        return self.inner.stat(handle)

    def list(self, file_type: FileType) -> Iterator[FileInfo]:
        return self.inner.list(file_type)

    def remove(self, handle: Handle) -> None:
        self.inner.remove(handle)

    def delete(self) -> None:
        self.inner.delete()

    def spool(self) -> Spool:
        return self.inner.spool()

    def sync(self) -> None:
        self.inner.sync()

    def close(self) -> None:
        self.inner.close()


def retrying(
    what: str,
    call: Callable[[int], T],
    *,
    attempts: int = 10,
    first_delay: float = 0.5,
    max_delay: float = 30.0,
    max_elapsed: float = 300.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """`call(attempt)` until it returns, the error is not transient, or attempts or time run out."""
    delay = first_delay
    start = clock()
    for attempt in range(1, attempts + 1):
        try:
            return call(attempt)
        except TransientBackendError as exc:
            left = max_elapsed - (clock() - start)
            if attempt == attempts or left < delay:
                raise
            log.warning("%s failed (%s), retry %d/%d in %.1fs", what, exc, attempt, attempts, delay)
            sleep(delay)
            delay = min(delay * 2, max_delay)
    raise AssertionError("unreachable")  # pragma: no cover


class RetryBackend(WrappingBackend):
    """Retries `TransientBackendError` with exponential backoff, for at most `max_elapsed` seconds
    in all; every other error passes through at once (restic retries for up to 15 minutes)."""

    def __init__(
        self,
        inner: Backend,
        *,
        attempts: int = 10,
        first_delay: float = 0.5,
        max_delay: float = 30.0,
        max_elapsed: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(inner)
        self.attempts = attempts
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.max_elapsed = max_elapsed
        self._sleep = sleep
        self._clock = clock

    def _retry(self, what: str, call: Callable[[int], T]) -> T:
        return retrying(
            what,
            call,
            attempts=self.attempts,
            first_delay=self.first_delay,
            max_delay=self.max_delay,
            max_elapsed=self.max_elapsed,
            sleep=self._sleep,
            clock=self._clock,
        )

    def save(self, handle: Handle, data: Data) -> None:
        def attempt(n: int) -> None:
            try:
                self.inner.save(handle, data)
            except ObjectExistsError:
                if n == 1:
                    raise
                # A retry finds the object our failed attempt sent: the server stored it and the
                # reply was lost (same size under a content-hash name: done), or it kept a
                # truncated upload under the name (replace it).
                if self.inner.stat(handle) == data_size(data):
                    return
                log.warning("save %s: replacing the partial upload of a failed attempt", handle)
                self.inner.remove(handle)
                self.inner.save(handle, data)

        self._retry(f"save {handle}", attempt)

    def load(self, handle: Handle, offset: int = 0, length: int = 0) -> bytes:
        return self._retry(f"load {handle}", lambda _n: self.inner.load(handle, offset, length))

    def stat(self, handle: Handle) -> int:
        return self._retry(f"stat {handle}", lambda _n: self.inner.stat(handle))

    def list(self, file_type: FileType) -> Iterator[FileInfo]:
        return iter(self._retry(f"list {file_type}", lambda _n: list(self.inner.list(file_type))))

    def remove(self, handle: Handle) -> None:
        def attempt(n: int) -> None:
            try:
                self.inner.remove(handle)
            except BackendNotFoundError:
                if n == 1:  # on a retry: the failed attempt had removed it
                    raise

        self._retry(f"remove {handle}", attempt)

    def create(self) -> None:
        self._retry("create", lambda _n: self.inner.create())

    def retention(self, handle: Handle) -> datetime | None:
        return self._retry(f"retention {handle}", lambda _n: self.inner.retention(handle))

    def extend_retention(self, handle: Handle, until: datetime) -> None:
        self._retry(f"extend retention {handle}", lambda _n: self.inner.extend_retention(handle, until))


class LoggingBackend(WrappingBackend):
    """Logs every call at DEBUG level (names and sizes only, never content)."""

    def save(self, handle: Handle, data: Data) -> None:
        log.debug("save %s (%d bytes)", handle, data_size(data))
        super().save(handle, data)

    def load(self, handle: Handle, offset: int = 0, length: int = 0) -> bytes:
        log.debug("load %s offset=%d length=%d", handle, offset, length)
        return super().load(handle, offset, length)

    def stat(self, handle: Handle) -> int:
        log.debug("stat %s", handle)
        return super().stat(handle)

    def list(self, file_type: FileType) -> Iterator[FileInfo]:
        log.debug("list %s", file_type.value)
        return super().list(file_type)

    def remove(self, handle: Handle) -> None:
        log.debug("remove %s", handle)
        super().remove(handle)
