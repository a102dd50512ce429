"""Fault injection: wrap a real backend and override one method (restic checker_test.go habit)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from mamori.vault.backend import Backend, Data, FileType, Handle
from mamori.vault.backend.wrappers import WrappingBackend
from mamori.vault.errors import PermanentBackendError, TransientBackendError

T = TypeVar("T")


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


class ScriptedFaultsBackend(WrappingBackend):
    """Each call of `method` takes the next entry of `script`: an exception class to raise before
    the call, the string "after" to make the call and then raise a transient error (the server did
    it, the reply was lost), or None to pass; after the script every call passes."""

    def __init__(self, inner: Backend, method: str, script: list[type[Exception] | str | None]) -> None:
        super().__init__(inner)
        self.method = method
        self.script = list(script)
        self.calls = 0

    def _fault(self, name: str) -> type[Exception] | str | None:
        if name != self.method:
            return None
        self.calls += 1
        return self.script.pop(0) if self.script else None

    def _run(self, name: str, call: Callable[[], T]) -> T:
        fault = self._fault(name)
        if fault == "after":
            call()
            raise TransientBackendError(f"injected: {name} done, reply lost")
        if isinstance(fault, type):
            raise fault(f"injected failure in {name}")
        return call()

    def save(self, handle: Handle, data: Data) -> None:
        self._run("save", lambda: super(ScriptedFaultsBackend, self).save(handle, data))

    def load(self, handle: Handle, offset: int = 0, length: int = 0) -> bytes:
        return self._run("load", lambda: super(ScriptedFaultsBackend, self).load(handle, offset, length))

    def remove(self, handle: Handle) -> None:
        self._run("remove", lambda: super(ScriptedFaultsBackend, self).remove(handle))


class PartialSaveBackend(WrappingBackend):
    """The first save stores only the first half under the name, then fails transiently (a server
    that keeps a truncated upload, as some REST servers do)."""

    def __init__(self, inner: Backend) -> None:
        super().__init__(inner)
        self.done = False

    def save(self, handle: Handle, data: Data) -> None:
        if not self.done:
            self.done = True
            whole = b"".join(data) if isinstance(data, list) else bytes(data)
            super().save(handle, whole[: len(whole) // 2])
            raise TransientBackendError("injected: connection reset mid-upload")
        super().save(handle, data)
