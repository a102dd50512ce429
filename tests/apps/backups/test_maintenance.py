"""Offsite copy and forget / prune against real repositories, checked with the real restic."""

from __future__ import annotations

import json

import pytest

from mamori.apps.backups import selectors, services
from mamori.apps.backups.models import JobKind, RunStatus

from .test_jobs import restic

pytestmark = pytest.mark.django_db(transaction=True)


def snapshot_ids(repo) -> list[str]:
    out = restic(repo, "snapshots", "--json")
    assert out.returncode == 0, out.stderr
    return [s["id"] for s in json.loads(out.stdout)]


def test_offsite_copy_copies_missing_snapshots_once(sut):
    backup = sut.run()
    copy = sut.run(JobKind.OFFSITE_COPY)
    assert copy.status == RunStatus.SUCCEEDED, copy.error_text
    assert len(copy.detail["copied"]) == 1 and copy.detail["copied"][0][0] == backup.snapshot_id
    assert snapshot_ids(sut.offsite) == [copy.snapshot_id]
    assert restic(sut.offsite, "check", "--read-data").returncode == 0
    again = sut.run(JobKind.OFFSITE_COPY)
    assert again.status == RunStatus.SUCCEEDED and again.detail["copied"] == []
    flags = selectors.system_status(system=sut.system).checklist.flags
    assert flags["three_copies"]
    # both repositories are folders on this host: not offsite, not a second medium (the design rule)
    assert not flags["two_media"] and not flags["one_offsite"]
    assert not flags["one_immutable"]  # neither local repository is immutable: the checklist says so


def test_forget_prune_keeps_what_the_policy_says(sut):
    for i in range(3):
        (sut.data / f"日報{i}.txt").write_text(f"day {i}\n" * 100, encoding="utf-8")
        assert sut.run().status == RunStatus.SUCCEEDED
    services.retention_set(
        actor="t", system=sut.system, keep_last=1, keep_daily=0, keep_weekly=0, keep_monthly=0, keep_yearly=0
    )
    latest = snapshot_ids(sut.primary)[-1]
    run = sut.run(JobKind.FORGET_PRUNE)
    assert run.status == RunStatus.SUCCEEDED, run.error_text
    assert len(run.detail["removed"]) == 2
    assert snapshot_ids(sut.primary) == [latest]
    assert restic(sut.primary, "check", "--read-data").returncode == 0


def test_empty_retention_policy_is_refused(sut):
    with pytest.raises(Exception, match="保持ルールが空です"):
        services.retention_set(
            actor="t",
            system=sut.system,
            keep_last=0,
            keep_daily=0,
            keep_weekly=0,
            keep_monthly=0,
            keep_yearly=0,
        )
