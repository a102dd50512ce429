"""Fault injection: wrap a real backend and override one method (restic checker_test.go habit)."""

from __future__ import annotations

from mamori.vault.backend import Backend, Data, FileType, Handle
from mamori.vault.backend.wrappers import WrappingBackend
from mamori.vault.errors import PermanentBackendError, TransientBackendError


class FlipLastByteBackend(WrappingBackend):
    """Loads of the chosen file type come back with the last byte inverted (bit rot on read)."""

    def __init__(self, inner: Backend, file_type: FileType = FileType.PACK) -> None:
        super().__init__(inner)
        self.file_type = file_type

    def load(self, handle: Handle, offset: int = 0, length: int = 0) -> bytes:
        data = super().load(handle, offset, length)
        if handle.type is self.file_type and data:
            return data[:-1] + bytes((data[-1] ^ 0xFF,))
        return data


class TruncatingBackend(WrappingBackend):
    """Loads of the chosen file type lose their last `cut` bytes (a short read)."""

    def __init__(self, inner: Backend, file_type: FileType = FileType.PACK, cut: int = 1) -> None:
        super().__init__(inner)
        self.file_type = file_type
        self.cut = cut

    def load(self, handle: Handle, offset: int = 0, length: int = 0) -> bytes:
        data = super().load(handle, offset, length)
        if handle.type is self.file_type:
            return data[: max(0, len(data) - self.cut)]
        return data


class FailNthSaveBackend(WrappingBackend):
    """The n-th save (1-based) fails with the given error class; the others pass through."""

    def __init__(self, inner: Backend, n: int, error: type[Exception] = PermanentBackendError) -> None:
        super().__init__(inner)
        self.n = n
        self.error = error
        self.saves = 0

    def save(self, handle: Handle, data: Data) -> None:
        self.saves += 1
        if self.saves == self.n:
            raise self.error(f"injected failure saving {handle}")
        super().save(handle, data)


class FlakyBackend(WrappingBackend):
    """The first `failures` loads raise `TransientBackendError`, then loads succeed."""

    def __init__(self, inner: Backend, failures: int) -> None:
        super().__init__(inner)
        self.failures = failures

    def load(self, handle: Handle, offset: int = 0, length: int = 0) -> bytes:
        if self.failures > 0:
            self.failures -= 1
            raise TransientBackendError(f"injected timeout loading {handle}")
        return super().load(handle, offset, length)
