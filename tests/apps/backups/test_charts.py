"""The system page's charts tell the truth about failed runs: a failed backup has no size and no
duration, so it is marked as failed (the line breaks, a red ✕), never drawn as a 0-byte, 0-second point."""

from __future__ import annotations

import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from mamori.apps.backups import charts, services
from mamori.apps.backups.models import JobKind, Run, RunStatus
from mamori.apps.backups.selectors import HistoryPoint, backup_history

BOTTOM = charts.HEIGHT - charts.PAD_B
BACKEND = "django.contrib.auth.backends.ModelBackend"


def _circles(svg: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)"', svg)]


def test_a_failed_run_breaks_the_line_and_is_marked_not_drawn_at_zero():
    now = timezone.now()
    points = [
        HistoryPoint(now - timedelta(days=2), 2048, 4.0, True),
        HistoryPoint(now - timedelta(days=1), None, None, False),
        HistoryPoint(now, 4096, 6.0, True),
    ]
    for svg in (str(charts.size_chart(points)), str(charts.duration_chart(points))):
        assert svg.count("<polyline") == 2  # one segment each side of the failure
        assert len(_circles(svg)) == 2 and all(y < BOTTOM for _x, y in _circles(svg))
        [failed] = re.findall(r'<g class="failed" data-failed="([\d.]+)">', svg)
        assert float(failed) == (charts.PAD_L + charts.WIDTH - charts.PAD_R) / 2  # the middle run
        assert "失敗（値なし）" in svg
    assert "4.0 KiB" in str(charts.size_chart(points))  # the axis top is the largest real backup


def test_only_failed_runs_give_no_line_and_no_scale():
    points = [HistoryPoint(timezone.now(), None, None, False)]
    svg = str(charts.size_chart(points))
    assert "<polyline" not in svg and "<circle" not in svg and 'class="failed"' in svg
    assert ">—</text>" in svg and "1 B" not in svg


def _run(system, status, *, days_ago, bytes_total=None, duration_s=None):
    finished = timezone.now() - timedelta(days=days_ago)
    return Run.objects.create(
        system=system, kind=JobKind.BACKUP, status=status, started_at=finished - timedelta(seconds=5),
        finished_at=finished, bytes_total=bytes_total, duration_s=duration_s,
    )  # fmt: skip


def test_the_system_page_shows_a_failed_run_as_failed(users, departments, client):
    system = services.system_create(
        actor="t", code="bunsho", name="文書管理システム", department=departments["joho"]
    )
    _run(system, RunStatus.SUCCEEDED, days_ago=3, bytes_total=10_000, duration_s=12.0)
    # A failed run that wrote some figures before failing is still not a backup of that size.
    _run(system, RunStatus.FAILED, days_ago=2, bytes_total=0, duration_s=0.4)
    _run(system, RunStatus.WARNING, days_ago=1, bytes_total=12_000, duration_s=14.0)
    assert [p.ok for p in backup_history(system=system)] == [True, False, True]
    client.force_login(users["officer"], backend=BACKEND)
    html = client.get(reverse("backups:system-detail", args=["bunsho"])).content.decode()
    assert html.count('class="failed"') == 2 and 'data-legend="failed"' in html
    assert all(y < BOTTOM for _x, y in _circles(html))
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = client.get(reverse("backups:system-detail", args=["bunsho"])).content.decode()
    assert "failed (no figures)" in html and "Failed run (1): no size or duration" in html
