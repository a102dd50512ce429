"""Jobs with a `done` callback, run by forked worker processes or by threads of this process.

The restore and the check hand out independent jobs and only need each result once, in the
calling thread: `submit(job, done)` waits while every worker is full, and calls `done(result)` of
finished jobs (in any order) as it goes; `drain` waits for the rest.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

from mamori.vault.filework import FileWorkers

__all__ = ["Jobs", "ProcessJobs", "ThreadJobs"]

Done = Callable[[Any], None]


class Jobs(Protocol):
    def submit(self, job: Any, done: Done) -> None: ...
    def drain(self) -> None: ...
    def close(self) -> None: ...


class ProcessJobs:
    """`workers` forked processes (`FileWorkers`), each with at most `depth` jobs queued; they die
    with this process. `role` names them in errors ("a restore worker process (pid N) died")."""

    def __init__(self, handler: Callable[[Any], Any], workers: int, depth: int, role: str) -> None:
        self._pool = FileWorkers(handler, workers, depth, role=role)

    def submit(self, job: Any, done: Done) -> None:
        while not self._pool.has_room():
            self._complete_one()
        self._pool.submit(job, done)

    def _complete_one(self) -> None:
        done, result = self._pool.next_result()
        done(result)

    def drain(self) -> None:
        while self._pool.busy:
            self._complete_one()

    def close(self) -> None:
        self._pool.close()


class ThreadJobs:
    """Jobs in threads of this process, for a backend that cannot be forked (SFTP, S3, REST: the
    work waits on the network, not on the GIL); `done` runs in the caller's thread, in order."""

    def __init__(self, handler: Callable[[Any], Any], workers: int, depth: int) -> None:
        self._handler = handler
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="vault-job")
        self._queue: deque[tuple[Future[Any], Done]] = deque()
        self._limit = workers * depth

    def submit(self, job: Any, done: Done) -> None:
        while len(self._queue) >= self._limit:
            self._complete_oldest()
        self._queue.append((self._pool.submit(self._handler, job), done))

    def _complete_oldest(self) -> None:
        future, done = self._queue.popleft()
        done(future.result())

    def drain(self) -> None:
        while self._queue:
            self._complete_oldest()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
