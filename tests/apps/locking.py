"""Row-lock checks for the PostgreSQL pass: one request paused inside its transaction (its row locks
held) while another request runs under a short lock timeout. SQLite has no row locks, so the tests
that use this run on PostgreSQL only (the second pass of `make test`)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connection, transaction

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks exist on PostgreSQL only (the second pass runs this)"
)


@contextmanager
def paused_inside(
    monkeypatch: pytest.MonkeyPatch, module: Any, name: str, call: Callable[[], object]
) -> Iterator[None]:
    """Run `call` in another thread and pause it when it reaches `module.name` (inside its transaction,
    after the rows it locks are locked); resume it when the block ends."""
    reached, resume = threading.Event(), threading.Event()
    original = getattr(module, name)

    def paused(*args: Any, **kwargs: Any) -> Any:
        if threading.current_thread() is worker:
            reached.set()
            resume.wait(30)
        return original(*args, **kwargs)

    def run() -> None:
        try:
            call()
        finally:
            connection.close()

    monkeypatch.setattr(module, name, paused)
    worker = threading.Thread(target=run)
    worker.start()
    try:
        assert reached.wait(30), f"{name} was never reached"
        yield
    finally:
        resume.set()
        worker.join(30)


@contextmanager
def lock_timeout(seconds: float = 2) -> Iterator[None]:
    """A transaction that fails (instead of waiting) when a row it needs is locked by someone else,
    foreign-key checks at commit included."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{int(seconds * 1000)}ms'")
        yield
