"""Save threads: compress, encrypt and pack batches of blobs through `save_blobs`, pack the blobs a
backup's worker processes sealed (`save_run`), or run a copy's re-encryption of source blobs.

zstd, AES and SHA-256 release the GIL, so a few threads keep the CPUs busy with large chunks; a
bounded number of batches is queued or in work, so memory stays flat. A full pack is hashed and
written by the thread that filled it, so the backup's walker never waits for the disk.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from typing import Protocol

from mamori.vault.pack import BlobType, SealedRun

__all__ = ["BATCH_BLOBS", "BATCH_BYTES", "SavePool"]


class BlobSaver(Protocol):
    def save_blobs(self, items: Sequence[tuple[BlobType, bytes, bytes]]) -> int: ...
    def save_run(self, blob_type: BlobType, run: SealedRun) -> tuple[int, int]: ...


# Small blobs (office files, trees) travel to the workers in batches: one hand-over per batch
# instead of per blob keeps thread switching (futex calls) from costing more than the work.
BATCH_BYTES = 512 * 1024
BATCH_BLOBS = 64


class SavePool:
    """Worker threads that save batches of blobs; at most `slots` batches are queued or in work,
    so memory stays flat. The first failure stops the work and is raised to the walker."""

    def __init__(self, repo: BlobSaver, workers: int, slots: int) -> None:
        self.repo = repo
        self.failure: BaseException | None = None
        # (blobs, bytes) stored per sealed batch, bytes per plain batch (list.append is atomic)
        self.stored: list[int] = []
        self.sealed: list[tuple[int, int]] = []
        self._tasks: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._tokens: queue.SimpleQueue[None] = queue.SimpleQueue()
        self._slots = slots
        for _ in range(slots):
            self._tokens.put(None)
        self._threads = [
            threading.Thread(target=self._work, name=f"vault-save-{i}", daemon=True) for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def _work(self) -> None:
        while True:
            task = self._tasks.get()
            if task is None:
                return
            try:
                if self.failure is None:
                    task()
            except BaseException as exc:  # handed to the walker thread, which raises it
                self.failure = exc
            finally:
                # let go of the batch before waiting: an idle thread held its last run's 2 MiB
                del task
                self._tokens.put(None)

    def submit(self, batch: list[tuple[BlobType, bytes, bytes]]) -> None:
        """Queue a batch of plaintext blobs; blocks while all slots are taken."""
        self._queue(lambda: self.stored.append(self.repo.save_blobs(batch)))

    def submit_runs(self, runs: list[SealedRun]) -> None:
        """Queue runs of data blobs a worker process sealed (`save_run`)."""
        self._queue(lambda: self.sealed.extend([self.repo.save_run(BlobType.DATA, run) for run in runs]))

    def submit_call(self, call: Callable[[], int]) -> None:
        """Queue other save work (a copy's run of source blobs); its result joins `stored`."""
        self._queue(lambda: self.stored.append(call()))

    def _queue(self, task: Callable[[], None]) -> None:
        if self.failure is not None:
            raise self.failure
        self._tokens.get()
        self._tasks.put(task)

    def drain(self) -> None:
        """Wait until every queued batch is saved; raise the first failure."""
        for _ in range(self._slots):
            self._tokens.get()
        for _ in range(self._slots):
            self._tokens.put(None)
        if self.failure is not None:
            raise self.failure

    def close(self) -> None:
        """Let the workers finish what is queued and stop."""
        for _ in self._threads:
            self._tasks.put(None)
        for thread in self._threads:
            thread.join()
