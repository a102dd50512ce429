"""Retention like restic `forget`: property tests of the policy and restic itself as the oracle."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.vault.backend import FileType
from mamori.vault.backend.local import LocalBackend
from mamori.vault.forget import RetentionPolicy, SnapshotRef, apply_policy, forget_snapshots
from mamori.vault.gojson import GoTime
from mamori.vault.repository import Repository
from tests.vault.repo_helpers import FAST_KDF, PASSWORD, assert_check_clean, new_repository, write_snapshot
from tests.vault.restic_oracle import restic

times = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC))
snapshot_lists = st.lists(
    st.tuples(times, st.lists(st.sampled_from(["daily", "monthly", "keep"]), max_size=2)), max_size=40
).map(
    lambda items: [SnapshotRef(id=f"{i:064x}", time=t, tags=tuple(tags)) for i, (t, tags) in enumerate(items)]
)
policies = st.builds(
    RetentionPolicy,
    keep_last=st.integers(0, 5),
    keep_hourly=st.integers(0, 5),
    keep_daily=st.integers(0, 10),
    keep_weekly=st.integers(0, 5),
    keep_monthly=st.integers(0, 12),
    keep_yearly=st.integers(0, 3),
    keep_tags=st.lists(st.sampled_from(["keep", "daily,monthly"]), max_size=1).map(tuple),
)


@settings(max_examples=200, deadline=None)
@given(snapshot_lists, policies)
def test_policy_partitions_snapshots_and_respects_counts(
    snaps: list[SnapshotRef], policy: RetentionPolicy
) -> None:
    keep, remove, reasons = apply_policy(snaps, policy)
    assert sorted(s.id for s in keep + remove) == sorted(s.id for s in snaps)
    assert set(reasons) == {s.id for s in keep}
    if policy.empty:
        assert not remove
        return
    ordered = sorted(snaps, key=lambda s: s.time, reverse=True)
    assert {s.id for s in ordered[: policy.keep_last]} <= {s.id for s in keep}
    untagged_limit = sum(
        (
            policy.keep_last,
            policy.keep_hourly,
            policy.keep_daily,
            policy.keep_weekly,
            policy.keep_monthly,
            policy.keep_yearly,
        )
    )
    tagged = [s for s in snaps if any(all(t in s.tags for t in spec.split(",")) for spec in policy.keep_tags)]
    assert len(keep) <= untagged_limit + len(tagged)
    assert {s.id for s in tagged} <= {s.id for s in keep}


@settings(max_examples=100, deadline=None)
@given(snapshot_lists, st.integers(1, 10))
def test_keep_daily_keeps_the_newest_snapshot_of_the_newest_days(snaps: list[SnapshotRef], n: int) -> None:
    keep, _remove, _ = apply_policy(snaps, RetentionPolicy(keep_daily=n))
    newest_per_day: dict[object, SnapshotRef] = {}
    for s in sorted(snaps, key=lambda s: s.time, reverse=True):
        newest_per_day.setdefault(s.time.date(), s)
    expected = [newest_per_day[d] for d in sorted(newest_per_day, reverse=True)[:n]]
    assert {s.id for s in keep} == {s.id for s in expected}


def test_forget_removes_snapshot_files_per_host_and_paths_group() -> None:
    repo = new_repository()
    base = int(datetime(2026, 4, 1, tzinfo=UTC).timestamp()) * 10**9
    ids = {}
    for day in range(5):
        for host in ("a", "b"):
            ids[(host, day)] = write_snapshot(
                repo, {"f": b"x"}, time_ns=base + day * 86400 * 10**9, hostname=host
            )
    dry = forget_snapshots(repo, RetentionPolicy(keep_last=2), dry_run=True)
    assert len(dry.removed) == 6
    assert len(list(repo.list_files(FileType.SNAPSHOT))) == 10, "a dry run removes nothing"
    result = forget_snapshots(repo, RetentionPolicy(keep_last=2))
    assert sorted(result.kept) == sorted(ids[(h, d)] for h in "ab" for d in (3, 4))
    assert sorted(result.removed) == sorted(dry.removed)
    assert_check_clean(repo.backend)


@pytest.mark.restic
def test_same_decisions_as_restic_forget(tmp_path: Path) -> None:
    path = tmp_path / "repo"
    repo = Repository.init(LocalBackend(path), PASSWORD, kdf_params=FAST_KDF)
    rng = random.Random(7)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    jst = timezone(timedelta(hours=9))
    for i in range(60):
        when = start + timedelta(hours=rng.randrange(0, 24 * 500), minutes=i)
        zone = jst if i % 3 else UTC
        t = GoTime.from_datetime(when.astimezone(zone))
        write_snapshot(
            repo,
            {"f": b"x"},
            time_ns=t.ns,
            offset=t.offset,
            hostname=rng.choice(["h1", "h2"]),
            tags=("k",) if i % 11 == 0 else (),
        )
    args = [
        "--keep-last",
        "2",
        "--keep-daily",
        "5",
        "--keep-weekly",
        "4",
        "--keep-monthly",
        "6",
        "--keep-yearly",
        "1",
        "--keep-tag",
        "k",
    ]
    groups = json.loads(restic(path, "forget", "--dry-run", "--json", *args).stdout)
    restic_keep = {s["id"] for g in groups for s in g["keep"] or []}
    restic_remove = {s["id"] for g in groups for s in g["remove"] or []}
    ours = forget_snapshots(
        repo,
        RetentionPolicy(
            keep_last=2, keep_daily=5, keep_weekly=4, keep_monthly=6, keep_yearly=1, keep_tags=("k",)
        ),
        dry_run=True,
    )
    assert len(restic_keep) > 10 and len(restic_remove) > 10
    assert set(ours.kept) == restic_keep
    assert set(ours.removed) == restic_remove
    assert_check_clean(repo.backend)
