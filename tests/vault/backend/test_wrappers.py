"""Retry only transient failures; URLs map to backends or a clear 'not supported yet'."""

from __future__ import annotations

from pathlib import Path

import pytest

from mamori.vault.backend import FileType, Handle
from mamori.vault.backend.location import open_backend, parse_location
from mamori.vault.backend.mem import MemoryBackend
from mamori.vault.backend.wrappers import RetryBackend
from mamori.vault.errors import (
    BackendNotFoundError,
    InvalidArgumentError,
    TransientBackendError,
    UnsupportedBackendError,
)
from tests.vault.faults import FlakyBackend

H = Handle(FileType.SNAPSHOT, "aa" * 32)


def test_transient_errors_are_retried_with_backoff() -> None:
    inner = MemoryBackend()
    inner.save(H, b"data")
    delays: list[float] = []
    backend = RetryBackend(FlakyBackend(inner, failures=3), sleep=delays.append)
    assert backend.load(H) == b"data"
    assert delays == [0.5, 1.0, 2.0]


def test_retries_give_up_and_other_errors_pass_at_once() -> None:
    delays: list[float] = []
    backend = RetryBackend(FlakyBackend(MemoryBackend(), failures=10), attempts=3, sleep=delays.append)
    with pytest.raises(TransientBackendError):
        backend.load(H)
    assert len(delays) == 2
    delays.clear()
    with pytest.raises(BackendNotFoundError):
        RetryBackend(MemoryBackend(), sleep=delays.append).load(H)
    assert delays == []


def test_repository_urls(tmp_path: Path) -> None:
    assert parse_location(str(tmp_path)) == ("local", str(tmp_path))
    assert parse_location(f"local:{tmp_path}") == ("local", str(tmp_path))
    assert open_backend(f"local:{tmp_path}").location == str(tmp_path)
    for url in ("sftp:user@host:/srv/repo", "s3:s3.amazonaws.com/bucket", "rest:http://host:8000/"):
        with pytest.raises(UnsupportedBackendError, match="not supported yet"):
            open_backend(url)
    for bad in ("", "local:"):
        with pytest.raises(InvalidArgumentError):
            open_backend(bad)
