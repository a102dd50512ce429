"""`forget --group-by` and restic's `--json` shape, with the real restic as the oracle: random
histories (hosts, paths, tags, time zones) and random policies, compared group by group, field by field."""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from mamori.vault.backend.local import LocalBackend
from mamori.vault.errors import InvalidArgumentError
from mamori.vault.forget import Duration, RetentionPolicy, forget_snapshots, parse_group_by, restic_json
from mamori.vault.gojson import GoTime
from mamori.vault.repository import Repository
from tests.vault.repo_helpers import FAST_KDF, PASSWORD, write_snapshot
from tests.vault.restic_oracle import restic

ZONES = [UTC, timezone(timedelta(hours=9)), timezone(timedelta(hours=-5))]
START = datetime(2024, 12, 20, tzinfo=UTC)

snapshot = st.tuples(
    st.integers(0, 24 * 420),  # hours after START
    st.sampled_from(ZONES),
    st.sampled_from(["jumin-db", "fileserver", "zaimu"]),
    st.sampled_from([("/srv/a",), ("/srv/b",), ("/srv/a", "/srv/b")]),
    st.sets(st.sampled_from(["daily", "monthly", "manual"]), max_size=2),
)
policy = st.builds(
    RetentionPolicy,
    keep_last=st.integers(0, 3),
    keep_hourly=st.integers(0, 2),
    keep_daily=st.integers(0, 5),
    keep_weekly=st.integers(0, 3),
    keep_monthly=st.integers(0, 4),
    keep_yearly=st.integers(0, 2),
    keep_tags=st.lists(st.sampled_from(["manual", "daily,monthly"]), max_size=2, unique=True).map(tuple),
    keep_within=st.none()
    | st.builds(Duration, st.integers(0, 1), st.integers(0, 3), st.integers(0, 40), st.integers(0, 30)),
).filter(lambda p: not p.empty)
group_by = st.lists(st.sampled_from(["host", "paths", "tags"]), max_size=3, unique=True)


def _restic_args(p: RetentionPolicy) -> list[str]:
    args = []
    for name in ("last", "hourly", "daily", "weekly", "monthly", "yearly"):
        if getattr(p, f"keep_{name}"):
            args += [f"--keep-{name}", str(getattr(p, f"keep_{name}"))]
    for spec in p.keep_tags:
        args += ["--keep-tag", spec]
    if p.keep_within:
        args += ["--keep-within", str(p.keep_within)]
    return args


def _by_key(groups: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    """Groups keyed by their (host, paths, tags): Go prints them in map order."""
    return {json.dumps([g["host"], g["paths"], g["tags"]]): g for g in groups}


@pytest.mark.restic
# no shrinking: each example runs restic; a failure prints its history and policy as generated
@settings(
    max_examples=12,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)
@given(history=st.lists(snapshot, min_size=1, max_size=20), p=policy, fields=group_by)
def test_forget_json_matches_restic_group_by_group(
    history: list[tuple[int, timezone, str, tuple[str, ...], set[str]]], p: RetentionPolicy, fields: list[str]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "repo"
        repo = Repository.init(LocalBackend(path), PASSWORD, kdf_params=FAST_KDF)
        for i, (hours, zone, host, paths, tags) in enumerate(history):
            t = GoTime.from_datetime((START + timedelta(hours=hours, seconds=i)).astimezone(zone))
            write_snapshot(
                repo,
                {"f": b"x"},
                time_ns=t.ns,
                offset=t.offset,
                hostname=host,
                paths=paths,
                tags=tuple(sorted(tags)),
            )
        theirs = json.loads(
            restic(
                path, "forget", "--dry-run", "--json", "--group-by", ",".join(fields), *_restic_args(p)
            ).stdout
        )
        ours = json.loads(
            json.dumps(restic_json(forget_snapshots(repo, p, dry_run=True, group_by=fields).groups))
        )
    theirs_by, ours_by = _by_key(theirs), _by_key(ours)
    assert ours_by.keys() == theirs_by.keys()
    for key, want in theirs_by.items():
        got = ours_by[key]
        assert got.keys() == want.keys()
        for field in ("keep", "remove"):
            assert [s["id"] for s in got[field] or []] == [s["id"] for s in want[field] or []], (key, field)
            assert got[field] == want[field], (key, field)  # every field of every snapshot
        assert got["reasons"] == want["reasons"], key


def test_keep_within_counts_calendar_months_like_go() -> None:
    latest = datetime(2025, 3, 31, 12, tzinfo=UTC)
    assert Duration.parse("1m").before(latest) == datetime(2025, 3, 3, 12, tzinfo=UTC), "31 Feb rolls over"
    assert Duration.parse("1y2m3d4h").before(latest) == datetime(2024, 1, 28, 8, tzinfo=UTC)
    assert str(Duration.parse("1y3d")) == "1y3d" and not Duration.parse("0d")
    with pytest.raises(InvalidArgumentError, match="1y2m3d4h"):
        Duration.parse("3 weeks")


def test_group_by_is_validated() -> None:
    assert parse_group_by("host,tags") == ("host", "tags")
    assert parse_group_by("") == ()
    with pytest.raises(InvalidArgumentError, match="unknown field 'hostname'"):
        parse_group_by("hostname")
