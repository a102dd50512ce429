"""Coverage and the failing list: the rules judged on today, the chart's figures, the drill-down, the
XLSX export with hostile text kept as text, and the page's query count."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from mamori.apps.core.models import NetworkZone, Role
from mamori.apps.devices.hygiene import HygieneState, Rule, Thresholds, failures, merge
from mamori.apps.devices.models import DeviceKind
from tests.apps.disposal.helpers import signed_in

from .helpers import days_ago, device, report

pytestmark = pytest.mark.django_db


def test_each_figure_comes_from_the_newest_report_that_has_it():
    reports = [
        {"day": days_ago(0), "av_product": "", "signature_date": None, "realtime": None,
         "last_patch_date": None, "missing_updates": None, "baseline_pass_pct": 72,
         "signatures_current": None},  # Wazuh: SCA only
        {"day": days_ago(1), "av_product": "Defender", "signature_date": days_ago(1), "realtime": True,
         "signatures_current": None,
         "last_patch_date": days_ago(9), "missing_updates": 2, "baseline_pass_pct": None},  # osquery
    ]  # fmt: skip
    state = merge(reports)
    assert state.last_report_day == days_ago(0)
    assert (state.av_product, state.signature_date, state.baseline_pass_pct) == ("Defender", days_ago(1), 72)


def test_the_rules_fire_at_their_thresholds():
    t = Thresholds(signature_days=7, silent_days=7, patch_days=35)
    today = timezone.localdate()
    fresh = HygieneState(
        last_report_day=today, av_product="x", signature_date=days_ago(7), realtime=True,
        last_patch_date=days_ago(35), baseline_pass_pct=80,
    )  # fmt: skip
    assert failures(fresh, today, t) == []
    stale = HygieneState(**{**fresh.__dict__, "signature_date": days_ago(8), "last_patch_date": days_ago(36)})
    assert failures(stale, today, t) == [Rule.SIGNATURES, Rule.PATCHES]
    off = HygieneState(**{**fresh.__dict__, "realtime": False, "baseline_pass_pct": 79.9})
    assert failures(off, today, t) == [Rule.NO_AV, Rule.BASELINE]
    undated = HygieneState(**{**fresh.__dict__, "signature_date": None, "signatures_current": True})
    assert failures(undated, today, t) == []  # osquery: "up to date", no date
    told_stale = HygieneState(**{**undated.__dict__, "signatures_current": False})
    unknown = HygieneState(**{**undated.__dict__, "signatures_current": None})
    assert failures(told_stale, today, t) == failures(unknown, today, t) == [Rule.SIGNATURES]
    quiet = HygieneState(**{**stale.__dict__, "last_report_day": days_ago(8)})
    assert failures(quiet, today, t) == [Rule.SILENT]  # old figures say nothing about today


@pytest.fixture
def fleet(world):
    good = device("PC-GOOD", world.gyokaku)
    stale = device("PC-STALE", world.gyokaku, hostname='=HYPERLINK("http://x","y")')
    quiet = device("PC-QUIET", world.kosodate, network_zone=NetworkZone.MYNUMBER)
    never = device("PC-NEVER", world.kosodate)
    device("FW-1", world.johou, kind=DeviceKind.FIREWALL)  # sends no reports: not counted
    report(good)
    report(stale, signature_date=days_ago(20))
    report(quiet, days_ago=10)
    return {"good": good, "stale": stale, "quiet": quiet, "never": never}


def test_coverage_by_zone_and_department_counts_what_the_rules_say(world, fleet):
    page = signed_in(world, Role.SECURITY_OFFICER).get("/devices/coverage/").content.decode()
    assert '<strong data-kpi="av">25.0%</strong>' in page  # 1 of 4 PCs
    assert '<g data-row="lgwan" data-av-pct="33.3">' in page  # good, stale, never
    assert '<g data-row="mynumber" data-av-pct="0.0">' in page
    assert (
        '<tr data-row="mynumber"><td>マイナンバー利用事務系</td><td>1</td><td>0.0%</td>' in page
    )  # zero is shown
    assert f'<g data-row="{world.gyokaku.pk}" data-av-pct="50.0">' in page
    assert "子育て支援課" in page and "情報政策課" not in page  # the firewall's 課 has no reporting device


def test_the_failing_list_drills_down_by_rule_and_department(world, fleet):
    client = signed_in(world, Role.SECURITY_OFFICER)
    page = client.get("/devices/failing/").content.decode()
    assert "PC-STALE" in page and "PC-QUIET" in page and "PC-NEVER" in page and "PC-GOOD" not in page
    signatures = client.get("/devices/failing/?rule=signatures").content.decode()
    assert "PC-STALE" in signatures and "PC-QUIET" not in signatures
    by_dept = client.get(f"/devices/failing/?department={world.kosodate.pk}").content.decode()
    assert "PC-QUIET" in by_dept and "PC-STALE" not in by_dept
    loose = client.get("/devices/failing/?signature_days=30").content.decode()
    assert "PC-STALE" not in loose  # the officer's own N


def test_a_lead_sees_coverage_of_their_departments_only(world, fleet):
    lead = signed_in(world, Role.DEPARTMENT_LEAD)
    page = lead.get("/devices/failing/").content.decode()
    assert "PC-STALE" in page and "PC-QUIET" not in page
    assert lead.get(f"/devices/failing/?department={world.kosodate.pk}").status_code == 404
    assert lead.get(f"/devices/failing.xlsx?department={world.kosodate.pk}").status_code == 404


def test_the_xlsx_keeps_a_formula_like_host_name_as_text(world, fleet):
    response = signed_in(world, Role.AUDITOR).get("/devices/failing.xlsx?rule=signatures")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert [r[0] for r in rows] == ["PC-STALE"]
    cell = sheet.cell(row=3, column=2)
    assert cell.value == '=HYPERLINK("http://x","y")' and cell.data_type == "s"
    assert rows[0][5] == "定義ファイルが古い"


def test_the_coverage_page_queries_do_not_grow_with_devices(world, fleet):
    client = signed_in(world, Role.SECURITY_OFFICER)
    client.get("/devices/coverage/")
    with CaptureQueriesContext(connection) as few:
        client.get("/devices/coverage/")
    for i in range(10):
        report(device(f"PC-MORE-{i}", world.johou), days_ago=i)
    with CaptureQueriesContext(connection) as more:
        client.get("/devices/coverage/")
    assert len(more) == len(few) <= 12


def test_a_device_page_shows_its_state_and_reports(world, fleet):
    page = signed_in(world, Role.SECURITY_OFFICER).get(f"/devices/{fleet['stale'].pk}/").content.decode()
    assert 'data-rule="signatures"' in page
    assert (timezone.localdate() - timedelta(days=20)).isoformat() in page
