"""Retention policies exactly as restic `forget` applies them (`internal/restic/snapshot_policy.go`).

Snapshots are grouped (restic's `--group-by`, default host and paths), sorted newest first, and
each rule keeps the newest snapshot of its next N distinct periods (hours, days, ISO weeks, months,
years) in the snapshot's own UTC offset, as Go's `time.Time` methods do. Tag rules keep matching
snapshots without counting. `restic_json` gives restic's `forget --json` shape.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from mamori.vault.backend import FileType, Handle
from mamori.vault.errors import BackendNotFoundError, InvalidArgumentError, InvalidDataError
from mamori.vault.repository import Repository
from mamori.vault.timefmt import parse_time

__all__ = [
    "GROUP_FIELDS",
    "Duration",
    "ForgetGroup",
    "ForgetResult",
    "RetentionPolicy",
    "SnapshotRef",
    "apply_policy",
    "forget_snapshots",
    "load_snapshot_refs",
    "parse_group_by",
    "restic_json",
]

GROUP_FIELDS = ("host", "paths", "tags")


_DURATION = re.compile(r"^(?:(\d+)y)?(?:(\d+)m)?(?:(\d+)d)?(?:(\d+)h)?$")


@dataclass(frozen=True)
class Duration:
    """restic's `--keep-within` span: calendar years, months and days, then hours (`1y2m3d4h`)."""

    years: int = 0
    months: int = 0
    days: int = 0
    hours: int = 0

    @classmethod
    def parse(cls, text: str) -> Duration:
        match = _DURATION.match(text)
        if not text or match is None:
            raise InvalidArgumentError(f"invalid duration {text!r}: use e.g. 1y2m3d4h")
        return cls(*(int(g or 0) for g in match.groups()))

    def __bool__(self) -> bool:
        return any((self.years, self.months, self.days, self.hours))

    def __str__(self) -> str:
        parts = zip((self.years, self.months, self.days, self.hours), "ymdh", strict=True)
        return "".join(f"{n}{unit}" for n, unit in parts if n)

    def before(self, t: datetime) -> datetime:
        """`t` minus the span as Go's `t.AddDate(-y, -m, -d).Add(-h)`: a day past the month's end
        rolls over (31 March minus 1 month is 3 March)."""
        month0 = t.year * 12 + (t.month - 1) - self.years * 12 - self.months
        first = t.replace(year=month0 // 12, month=month0 % 12 + 1, day=1)
        return first + timedelta(days=t.day - 1 - self.days, hours=-self.hours)


@dataclass(frozen=True)
class RetentionPolicy:
    """How many of the newest periods to keep; `keep_tags` entries may be "a,b" (needs both tags)."""

    keep_last: int = 0
    keep_hourly: int = 0
    keep_daily: int = 0
    keep_weekly: int = 0
    keep_monthly: int = 0
    keep_yearly: int = 0
    keep_tags: tuple[str, ...] = ()
    keep_within: Duration | None = None

    def __post_init__(self) -> None:
        counts = (self.keep_last, self.keep_hourly, self.keep_daily, self.keep_weekly)
        if any(n < 0 for n in (*counts, self.keep_monthly, self.keep_yearly)):
            raise InvalidArgumentError("keep counts must be zero or positive")

    @property
    def empty(self) -> bool:
        """No rule at all: restic then keeps everything."""
        counts = (self.keep_last, self.keep_hourly, self.keep_daily, self.keep_weekly)
        return not any((*counts, self.keep_monthly, self.keep_yearly, self.keep_tags, self.keep_within))


@dataclass(frozen=True)
class SnapshotRef:
    """What the policy needs to know about a snapshot."""

    id: str
    time: datetime
    hostname: str = ""
    paths: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    doc: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """The snapshot file's JSON (for restic's output shape)."""


@dataclass(frozen=True)
class ForgetGroup:
    """One group's decisions; a key field is None when the grouping does not use it."""

    host: str | None
    paths: tuple[str, ...] | None
    tags: tuple[str, ...] | None
    keep: list[SnapshotRef]
    remove: list[SnapshotRef]
    reasons: dict[str, list[str]]
    counters: dict[str, dict[str, int]]
    """Per kept snapshot: the counts each rule has left after it (restic's `counters`)."""


@dataclass(frozen=True)
class ForgetResult:
    """Snapshot ids kept and removed (removed = would be removed with `dry_run`); `locked` are the
    ones the policy would remove that stay under Object Lock, with the date they stay until."""

    kept: list[str]
    removed: list[str]
    reasons: dict[str, list[str]] = field(default_factory=dict)
    locked: dict[str, datetime] = field(default_factory=dict)
    groups: list[ForgetGroup] = field(default_factory=list, compare=False, repr=False)


def parse_group_by(text: str) -> tuple[str, ...]:
    """restic's `--group-by` value: any of host, paths, tags, comma-separated; "" = one group."""
    fields = tuple(f.strip() for f in text.split(",") if f.strip())
    unknown = [f for f in fields if f not in GROUP_FIELDS]
    if unknown:
        raise InvalidArgumentError(
            f"--group-by {text!r}: unknown field {unknown[0]!r}: use host, paths, tags or a combination"
        )
    return fields


def _bucket_functions() -> list[tuple[str, str, Callable[[datetime, int], int]]]:
    return [
        ("keep_last", "last snapshot", lambda _t, nr: nr),  # the attribute's tail is restic's counter key
        (
            "keep_hourly",
            "hourly snapshot",
            lambda t, _nr: ((t.year * 100 + t.month) * 100 + t.day) * 100 + t.hour,
        ),
        ("keep_daily", "daily snapshot", lambda t, _nr: (t.year * 100 + t.month) * 100 + t.day),
        ("keep_weekly", "weekly snapshot", lambda t, _nr: t.isocalendar()[0] * 100 + t.isocalendar()[1]),
        ("keep_monthly", "monthly snapshot", lambda t, _nr: t.year * 100 + t.month),
        ("keep_yearly", "yearly snapshot", lambda t, _nr: t.year),
    ]


@dataclass
class _Bucket:
    count: int
    reason: str
    period: Callable[[datetime, int], int]
    last: int | None = None


def _tag_reason(spec: str) -> str:
    """restic prints the tag list with its TagList.String: `has tags [a, b]`."""
    return f"has tags [{', '.join(t for t in spec.split(',') if t)}]"


def _has_tags(snapshot: SnapshotRef, spec: str) -> bool:
    wanted = [t for t in spec.split(",") if t]
    return all(t in snapshot.tags for t in wanted)


def apply_policy(
    snapshots: Sequence[SnapshotRef], policy: RetentionPolicy
) -> tuple[list[SnapshotRef], list[SnapshotRef], dict[str, list[str]]]:
    """(keep, remove, reasons) for ONE group, newest first, like restic `ApplyPolicy`."""
    keep, remove, reasons, _counters = apply_policy_counted(snapshots, policy)
    return keep, remove, reasons


def apply_policy_counted(
    snapshots: Sequence[SnapshotRef], policy: RetentionPolicy
) -> tuple[list[SnapshotRef], list[SnapshotRef], dict[str, list[str]], dict[str, dict[str, int]]]:
    """`apply_policy` plus, per kept snapshot, the counts left after it (restic's `counters`)."""
    ordered = sorted(snapshots, key=lambda s: s.time, reverse=True)  # stable, like sort.Stable
    if policy.empty:
        return ordered, [], {s.id: ["policy is empty"] for s in ordered}, {s.id: {} for s in ordered}
    names = [attr.removeprefix("keep_") for attr, _reason, _fn in _bucket_functions()]
    buckets = [_Bucket(getattr(policy, attr), reason, fn) for attr, reason, fn in _bucket_functions()]
    latest = ordered[0].time if ordered else None
    keep: list[SnapshotRef] = []
    remove: list[SnapshotRef] = []
    reasons: dict[str, list[str]] = {}
    counters: dict[str, dict[str, int]] = {}
    for nr, snap in enumerate(ordered):
        why: list[str] = []
        why.extend(_tag_reason(spec) for spec in policy.keep_tags if _has_tags(snap, spec))
        if policy.keep_within and latest is not None and snap.time > policy.keep_within.before(latest):
            why.append(f"within {policy.keep_within}")
        for bucket in buckets:
            if bucket.count > 0:
                value = bucket.period(snap.time, nr)
                if value != bucket.last:
                    why.append(bucket.reason)
                    bucket.last = value
                    bucket.count -= 1
        if why:
            keep.append(snap)
            reasons[snap.id] = why
            counters[snap.id] = {n: b.count for n, b in zip(names, buckets, strict=True) if b.count}
        else:
            remove.append(snap)
    return keep, remove, reasons, counters


def load_snapshot_refs(repo: Repository) -> list[SnapshotRef]:
    """Every snapshot's policy-relevant fields, with its time in its own offset (as restic buckets it)."""
    refs = []
    for snap_id in repo.list_files(FileType.SNAPSHOT):
        try:
            doc = json.loads(repo.load_unpacked(FileType.SNAPSHOT, snap_id))
            refs.append(
                SnapshotRef(
                    id=snap_id,
                    time=_local_time(str(doc["time"])),
                    hostname=str(doc.get("hostname") or ""),
                    paths=tuple(str(p) for p in doc.get("paths") or []),
                    tags=tuple(str(t) for t in doc.get("tags") or []),
                    doc=doc,
                )
            )
        except BackendNotFoundError:
            continue
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidDataError(
                f"snapshot {snap_id[:8]} is malformed ({exc}): run `mamori vault check`",
                path=f"snapshots/{snap_id}",
            ) from exc
    return refs


def _local_time(text: str) -> datetime:
    """Parse keeping the written UTC offset (Go keeps it, and buckets use it)."""
    value = parse_time(text)
    offset = text[-6:] if text[-6] in "+-" else "+00:00"
    sign = 1 if offset[0] == "+" else -1
    tz = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6])))
    return value.astimezone(tz)


def forget_snapshots(
    repo: Repository,
    policy: RetentionPolicy,
    *,
    dry_run: bool = False,
    host: str | None = None,
    group_by: Sequence[str] = ("host", "paths"),
) -> ForgetResult:
    """Apply the policy per group and remove the other snapshot files (take an exclusive lock)."""
    refs = [r for r in load_snapshot_refs(repo) if host is None or r.hostname == host]
    groups = group_snapshots(refs, policy, group_by)
    kept = [s.id for g in groups for s in g.keep]
    removed = [s.id for g in groups for s in g.remove]
    reasons = {k: v for g in groups for k, v in g.reasons.items()}
    locked = _locked(repo, removed)
    removed = [s for s in removed if s not in locked]
    if not dry_run:
        for snap_id in removed:
            try:
                repo.remove_file(FileType.SNAPSHOT, snap_id)
            except BackendNotFoundError:
                continue
    return ForgetResult(kept=kept, removed=removed, reasons=reasons, locked=locked, groups=groups)


def group_snapshots(
    refs: Sequence[SnapshotRef], policy: RetentionPolicy, group_by: Sequence[str]
) -> list[ForgetGroup]:
    """restic's `GroupSnapshots` then `ApplyPolicy` per group (groups in a stable order)."""
    buckets: dict[tuple[str | None, tuple[str, ...] | None, tuple[str, ...] | None], list[SnapshotRef]] = {}
    for ref in refs:
        key = (
            ref.hostname if "host" in group_by else None,
            tuple(sorted(ref.paths)) if "paths" in group_by else None,
            tuple(sorted(ref.tags)) if "tags" in group_by else None,
        )
        buckets.setdefault(key, []).append(ref)
    groups = []
    for key in sorted(buckets, key=repr):
        keep, remove, reasons, counters = apply_policy_counted(buckets[key], policy)
        groups.append(ForgetGroup(*key, keep=keep, remove=remove, reasons=reasons, counters=counters))
    return groups


def restic_json(groups: Sequence[ForgetGroup]) -> list[dict[str, Any]]:
    """`restic forget --json`: a list of groups with `tags`, `host`, `paths`, `keep`, `remove`, `reasons`."""

    def snap(ref: SnapshotRef) -> dict[str, Any]:
        return {**ref.doc, "id": ref.id, "short_id": ref.id[:8]}

    return [
        {
            "tags": list(g.tags) if g.tags else None,
            "host": g.host or "",
            "paths": list(g.paths) if g.paths else None,
            "keep": [snap(s) for s in g.keep] or None,
            "remove": [snap(s) for s in g.remove] or None,
            "reasons": [
                {"snapshot": s.doc, "matches": g.reasons[s.id], "counters": g.counters.get(s.id, {})}
                for s in g.keep
            ]
            or None,
        }
        for g in groups
    ]


def _locked(repo: Repository, snapshot_ids: list[str]) -> dict[str, datetime]:
    """The snapshots among `snapshot_ids` under Object Lock, with their retain-until dates (never
    try to delete them: an immutable repository keeps them until then)."""
    if repo.backend.object_lock is None:
        return {}
    found = {}
    for snap_id in snapshot_ids:
        until = repo.backend.retention(Handle(FileType.SNAPSHOT, snap_id))
        if until is not None:
            found[snap_id] = until
    return found
