"""Object Lock retention of an immutable repository: which objects the snapshots need, how long
they are locked, and extending that (kopia's `--extend-object-locks`, Veeam's block generations).

Every object a kept snapshot needs — its snapshot file, the packs holding its blobs, the index
files naming those packs, the key files and `config` — must stay locked for as long as the
snapshot should be recoverable. Objects are locked for `days` when written; `extend_locks` moves
the retain-until date of every needed object to now + `days`, skipping objects already locked
until at least now + `days` - `slack_days`, so a daily run touches each object about once per slack.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from mamori.vault.backend import FileType, Handle, ObjectLock
from mamori.vault.errors import BackendNotFoundError, InvalidArgumentError
from mamori.vault.model import Snapshot
from mamori.vault.prune import used_blobs
from mamori.vault.repository import Repository

__all__ = ["LockStatus", "RetentionResult", "extend_locks", "lock_status", "needed_objects"]

_WORKERS = 8


@dataclass(frozen=True)
class RetentionResult:
    """What `extend_locks` did: objects needed, extended, already locked long enough."""

    objects: int
    extended: int
    unchanged: int
    until: datetime


@dataclass(frozen=True)
class LockStatus:
    """The repository's Object Lock as read back from the server.

    `latest_until` is the earliest retain-until date among the objects the newest snapshot needs
    (None when there is no snapshot or one of its objects is not locked): the date until which
    that snapshot is certainly recoverable."""

    lock: ObjectLock | None
    latest_snapshot: str | None
    latest_until: datetime | None
    objects_checked: int


def _require_lock(repo: Repository) -> ObjectLock:
    lock = repo.backend.object_lock
    if lock is None:
        raise InvalidArgumentError(
            f"{repo.backend.location} has no Object Lock: create an immutable repository with "
            "`mamori vault init --object-lock --lock-days N` on a bucket with Object Lock"
        )
    return lock


def needed_objects(repo: Repository, snapshot_ids: list[str]) -> list[Handle]:
    """Every object the given snapshots need (the index must be loaded)."""
    trees = [Snapshot.from_json(repo.load_unpacked(FileType.SNAPSHOT, s)).tree for s in snapshot_ids]
    blobs = used_blobs(repo, trees)
    packs: set[str] = set()
    for blob_type, blob_id in blobs:
        found = repo.lookup_blob(blob_type, blob_id)
        if found is not None:
            packs.add(found[0])
    handles = [Handle(FileType.SNAPSHOT, s) for s in snapshot_ids]
    handles += [Handle(FileType.PACK, p) for p in sorted(packs)]
    for index_id in sorted(repo.list_files(FileType.INDEX)):
        if packs & set(repo.load_index_file(index_id).packs):
            handles.append(Handle(FileType.INDEX, index_id))
    handles += [Handle(FileType.KEY, k) for k in sorted(repo.list_files(FileType.KEY))]
    handles.append(Handle(FileType.CONFIG))
    return handles


def extend_locks(
    repo: Repository,
    *,
    days: int | None = None,
    slack_days: int = 1,
    progress: Callable[[str], None] | None = None,
    now: datetime | None = None,
) -> RetentionResult:
    """Lock every object a snapshot needs until now + `days` (default: the repository's days)."""
    lock = _require_lock(repo)
    days = lock.days if days is None else days
    if days < 1 or slack_days < 0:
        raise InvalidArgumentError("extend-locks needs --days of at least 1")
    now = now or datetime.now(UTC)
    until = now + timedelta(days=days)
    enough = until - timedelta(days=slack_days)
    say = progress or (lambda _msg: None)
    say("finding the objects the snapshots need")
    repo.load_index()
    handles = needed_objects(repo, sorted(repo.list_files(FileType.SNAPSHOT)))

    def extend(handle: Handle) -> bool:
        try:
            current = repo.backend.retention(handle)
        except BackendNotFoundError:
            return False
        if current is not None and current >= enough:
            return False
        repo.backend.extend_retention(handle, until)
        return True

    say(f"extending the retention of {len(handles)} objects")
    with ThreadPoolExecutor(_WORKERS) as pool:
        changed = sum(pool.map(extend, handles))
    return RetentionResult(
        objects=len(handles), extended=changed, unchanged=len(handles) - changed, until=until
    )


def lock_status(repo: Repository) -> LockStatus:
    """Read back the lock settings and the retention of the newest snapshot's objects."""
    lock = repo.backend.object_lock
    snaps = []
    for snap_id in repo.list_files(FileType.SNAPSHOT):
        snaps.append((Snapshot.from_json(repo.load_unpacked(FileType.SNAPSHOT, snap_id)).time.ns, snap_id))
    if lock is None or not snaps:
        return LockStatus(lock, max(snaps)[1] if snaps else None, None, 0)
    latest = max(snaps)[1]
    repo.load_index()
    handles = needed_objects(repo, [latest])
    with ThreadPoolExecutor(_WORKERS) as pool:
        dates = list(pool.map(repo.backend.retention, handles))
    earliest = None if any(d is None for d in dates) else min(d for d in dates if d is not None)
    return LockStatus(lock, latest, earliest, len(handles))
