"""The device KPIs per fiscal year with their evidence (`mamori kpi --json`), the end-of-support alert
mailed through a real SMTP server once per device and date, and the page of equipment past support."""

from __future__ import annotations

import io
import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from mamori.apps.backups.worker import BackupWorker
from mamori.apps.core.models import AuditEvent, Role
from mamori.apps.core.wareki import fiscal_year_of
from mamori.apps.devices import alerts, services
from mamori.apps.devices.models import DeviceKind, DeviceStatus
from tests.apps.disposal.helpers import signed_in
from tests.apps.lights import Light, dashboard_light

from .helpers import days_ago, device, report

pytestmark = pytest.mark.django_db


@pytest.fixture
def city(world):
    pcs = [device(f"PC-{i}", world.gyokaku) for i in range(4)]
    report(pcs[0])
    report(pcs[1], signature_date=days_ago(30), last_patch_date=days_ago(90))
    report(pcs[2], baseline_pass_pct=50)
    # pcs[3] never reported: in use, so not covered this year
    fw = device("FW-1", world.johou, kind=DeviceKind.FIREWALL, end_of_support=days_ago(10))
    device(
        "SW-OLD",
        world.johou,
        kind=DeviceKind.SWITCH,
        end_of_support=days_ago(400),
        status=DeviceStatus.RETIRED,
    )
    return {"pcs": pcs, "fw": fw}


def test_mamori_kpi_shows_the_device_kpis_with_evidence(city):
    out = io.StringIO()
    call_command("kpi", "--fiscal-year", str(fiscal_year_of(timezone.localdate())), "--json", stdout=out)
    rows = {r["code"]: r for r in json.loads(out.getvalue())}
    assert rows["devices.av_coverage"]["value"] == "50.0"  # PC-0 and PC-2 of four
    assert rows["devices.av_coverage"]["evidence_count"] == 4
    assert rows["devices.patch_currency"]["value"] == "50.0"
    assert rows["devices.baseline_pass_rate"]["value"] == "66.7"  # three assessed, PC-2 below 80 %
    assert (
        rows["devices.eol_in_service"]["value"] == "1"
    )  # the firewall; the retired switch is not in service
    assert rows["devices.eol_in_service"]["unit"] == "件"


def test_a_year_without_reports_has_no_value(city):
    out = io.StringIO()
    call_command("kpi", "--fiscal-year", "2015", "--json", stdout=out)
    rows = {r["code"]: r for r in json.loads(out.getvalue())}
    assert rows["devices.av_coverage"]["value"] is None and rows["devices.eol_in_service"]["value"] == "0"


def test_the_end_of_support_alert_is_mailed_once_per_device_and_date(world, smtp_sink, settings):
    settings.MAMORI_ALERT_EMAILS = ["security@city.example.jp"]
    settings.MAMORI_DEVICES_EOS_ALERT_MONTHS = 6
    today = timezone.localdate()
    soon = device("FW-1", world.johou, kind=DeviceKind.FIREWALL, end_of_support=today + timedelta(days=150))
    device("MG-1", world.johou, kind=DeviceKind.MAIL_GATEWAY, end_of_support=today + timedelta(days=200))
    now = timezone.now()
    assert alerts.eos_alert_send(now=now) == 1
    (message,) = smtp_sink.messages
    assert smtp_sink.recipients == [["security@city.example.jp"]]
    assert "サポート終了が近い機器: 1台" in message["Subject"] and "FW-1" in message.get_content()
    assert "MG-1" not in message.get_content() and "あと150日" in message.get_content()
    assert alerts.eos_alert_send(now=now) == 0  # mailed already
    services.device_update(actor="t", device=soon, end_of_support=today + timedelta(days=100))
    assert alerts.eos_alert_send(now=now) == 1  # a new date is a new alert
    assert AuditEvent.objects.filter(action="devices.eos_alert.send").count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_worker_sends_the_alert_at_most_once_a_day(world, smtp_sink, settings, clock):
    # The worker runs every app's work: in mid-June no awareness season's campaign mails the staff (on
    # 1 April or 20 December it would, and the count below would be off). One clock for the worker and
    # the audit log it reads back.
    now = clock(datetime(2026, 6, 10, 12, 0, tzinfo=ZoneInfo("Asia/Tokyo")))
    settings.MAMORI_ALERT_EMAILS = ["security@city.example.jp"]
    device("FW-1", world.johou, kind=DeviceKind.FIREWALL, end_of_support=now.date())
    worker = BackupWorker(clock=lambda: timezone.now())
    worker.run_once()
    device("FW-2", world.johou, kind=DeviceKind.FIREWALL, end_of_support=now.date())
    worker.run_once()
    assert len(smtp_sink.messages) == 1
    clock(now + timedelta(hours=25))
    worker.run_once()
    assert len(smtp_sink.messages) == 2 and "FW-2" in smtp_sink.messages[1].get_content()


def test_the_past_support_page_lists_equipment_still_in_use(world, city):
    page = signed_in(world, Role.AUDITOR).get("/devices/end-of-support/").content.decode()
    assert 'data-device="FW-1"' in page and "SW-OLD" not in page
    assert alerts.add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)


def test_the_cards_light_counts_what_is_wrong_and_leads_to_those_devices(city, world):
    officer = signed_in(world, Role.SECURITY_OFFICER)
    light = dashboard_light(officer, "devices")
    assert light == Light("red", "サポート終了後も使用中: 1台", reverse("devices:end-of-support"))
    assert "FW-1" in officer.get(light.url).content.decode()
    lead = signed_in(world, Role.DEPARTMENT_LEAD)  # 総務部 holds 情報政策課's firewall
    assert dashboard_light(lead, "devices").status == "red" and lead.get(light.url).status_code == 200
    services.device_update(actor="test", device=city["fw"], status=DeviceStatus.RETIRED)
    light = dashboard_light(officer, "devices")
    assert light.status == "amber" and light.url == reverse("devices:failing")
    assert light.label == "基準を満たさない機器: 3台"  # stale signatures, a failed baseline, no report
    failing = officer.get(light.url).content.decode()
    assert (
        all(f'data-device="pc-{i}-host"' in failing for i in (1, 2, 3))
        and 'data-device="pc-0-host"' not in failing
    )
