"""Cross-cutting behaviour as wrappers around any backend: retry (transient errors only), logging."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from mamori.vault.backend import Backend, Data, FileInfo, FileType, Handle, data_size
from mamori.vault.errors import TransientBackendError

__all__ = ["LoggingBackend", "RetryBackend", "WrappingBackend"]

T = TypeVar("T")
log = logging.getLogger("mamori.vault.backend")


class WrappingBackend(Backend):
    """Forwards every call to `inner`; subclasses override what they change (also used by fault doubles)."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.location = inner.location

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

    def sync(self) -> None:
        self.inner.sync()

    def close(self) -> None:
        self.inner.close()


class RetryBackend(WrappingBackend):
    """Retries `TransientBackendError` with exponential backoff; every other error passes through at once."""

    def __init__(
        self,
        inner: Backend,
        *,
        attempts: int = 5,
        first_delay: float = 0.5,
        max_delay: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(inner)
        self.attempts = attempts
        self.first_delay = first_delay
        self.max_delay = max_delay
        self._sleep = sleep

    def _retry(self, what: str, call: Callable[[], T]) -> T:
        delay = self.first_delay
        for attempt in range(1, self.attempts + 1):
            try:
                return call()
            except TransientBackendError as exc:
                if attempt == self.attempts:
                    raise
                log.warning("%s failed (%s), retry %d/%d in %.1fs", what, exc, attempt, self.attempts, delay)
                self._sleep(delay)
                delay = min(delay * 2, self.max_delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def save(self, handle: Handle, data: Data) -> None:
        # Safe to repeat: a failed save leaves nothing under the name.
        self._retry(f"save {handle}", lambda: self.inner.save(handle, data))

    def load(self, handle: Handle, offset: int = 0, length: int = 0) -> bytes:
        return self._retry(f"load {handle}", lambda: self.inner.load(handle, offset, length))

    def stat(self, handle: Handle) -> int:
        return self._retry(f"stat {handle}", lambda: self.inner.stat(handle))

    def list(self, file_type: FileType) -> Iterator[FileInfo]:
        return iter(self._retry(f"list {file_type}", lambda: list(self.inner.list(file_type))))

    def remove(self, handle: Handle) -> None:
        self._retry(f"remove {handle}", lambda: self.inner.remove(handle))


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
