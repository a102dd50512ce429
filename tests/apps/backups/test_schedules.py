"""Schedules without cron: 「毎日 02:00」「毎週日曜 04:00」「毎月1日 10:00」, cron as the advanced choice;
the page lists the schedules with their next run times and edits one in place."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from mamori.apps.backups.cron import cron_describe, plan_from_cron
from mamori.apps.backups.models import Schedule

from .test_views import as_user

pytestmark = pytest.mark.django_db
JST = ZoneInfo("Asia/Tokyo")
FORM = {"check_subset": "10%", "drill_sample": 20, "enabled": "on"}


@pytest.mark.parametrize(
    "post,cron,described",
    [
        ({"frequency": "daily", "at": "02:00"}, "0 2 * * *", "毎日 02:00"),
        ({"frequency": "weekly", "at": "04:30", "weekday": "0"}, "30 4 * * 0", "毎週日曜 04:30"),
        ({"frequency": "monthly", "at": "10:00", "day": "1"}, "0 10 1 * *", "毎月1日 10:00"),
        ({"frequency": "cron", "cron": "*/15 8-18 * * 1-5"}, "*/15 8-18 * * 1-5", "cron: */15 8-18 * * 1-5"),
    ],
)
def test_an_officer_sets_a_schedule_without_cron(sut, users, client, post, cron, described):
    client = as_user(client, users, "officer")
    response = client.post(
        reverse("backups:schedule-set", args=["fileserver"]), {"kind": "backup", **FORM, **post}
    )
    assert response.status_code == 302
    schedule = Schedule.objects.get()
    assert schedule.cron == cron and cron_describe(schedule.cron) == described
    page = client.get(reverse("backups:schedule-set", args=["fileserver"])).content.decode()
    due = schedule.next_due_at.astimezone(JST)
    assert described in page and f"{due:%Y-%m-%d %H:%M}" in page and 'data-schedule="backup"' in page


def test_a_schedule_is_edited_in_place(sut, users, client):
    client = as_user(client, users, "officer")
    url = reverse("backups:schedule-set", args=["fileserver"])
    client.post(url, {"kind": "offsite_copy", **FORM, "frequency": "weekly", "at": "04:00", "weekday": "0"})
    form = client.get(url + "?kind=offsite_copy").content.decode()
    assert 'value="04:00"' in form and '<option value="weekly" selected>' in form
    client.post(url, {"kind": "offsite_copy", **FORM, "frequency": "weekly", "at": "04:00", "weekday": "6"})
    schedule = Schedule.objects.get()
    assert schedule.cron == "0 4 * * 6"
    assert schedule.next_due_at.astimezone(JST).weekday() == 5  # Saturday


def test_plans_round_trip_and_odd_cron_stays_cron():
    assert plan_from_cron("0 2 * * *").frequency == "daily"
    assert plan_from_cron("0 2 31 * *") is None and plan_from_cron("0 2 1 * 1") is None
    assert cron_describe("0 2 31 * *") == "cron: 0 2 31 * *"
