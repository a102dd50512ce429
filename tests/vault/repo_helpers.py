"""Small builders for repository tests: a cheap scrypt, a fresh repository, and the closing check."""

from __future__ import annotations

from mamori.vault.backend import Backend
from mamori.vault.backend.mem import MemoryBackend
from mamori.vault.checker import CheckResult, check_repository
from mamori.vault.crypto import KDFParams
from mamori.vault.repository import Repository

PASSWORD = "correct horse battery staple"
# Tests only: restic reads any valid N/r/p from the key file, and N=1024 keeps each open fast.
FAST_KDF = KDFParams(n=1024, r=8, p=1)


def new_repository(
    backend: Backend | None = None, *, version: int = 2, pack_size: int = 1 << 20
) -> Repository:
    """A fresh repository with small packs so tests see several of them."""
    return Repository.init(
        backend if backend is not None else MemoryBackend(),
        PASSWORD,
        version=version,
        kdf_params=FAST_KDF,
        pack_size=pack_size,
    )


def assert_check_clean(backend: Backend, *, read_data: bool = True) -> CheckResult:
    """Every repository test ends here: reopen from the backend and run a full check."""
    repo = Repository.open(backend, PASSWORD)
    result = check_repository(repo, read_data=read_data)
    assert result.ok, [e.message for e in result.errors]
    return result
