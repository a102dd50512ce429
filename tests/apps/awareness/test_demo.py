"""The awareness demo: the last three seasons with a realistic spread of acknowledgements per
department, this year's transfer season for the April movers only, the demo's staff login with the
latest notice it received still to do, idempotent; the current fiscal
year's sheet has the awareness headline KPI bound (the evaluation demo binds one or two per measure)."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mamori.apps.awareness import demo, selectors
from mamori.apps.awareness.kpis import kpi_ack_rate
from mamori.apps.awareness.models import Campaign, CampaignKind, CampaignStatus
from mamori.apps.core.models import AuditEvent, Department, Role, StaffTransfer
from mamori.apps.core.services import staff_transfer
from mamori.apps.core.wareki import fiscal_year_of
from mamori.apps.evaluation import demo as evaluation_demo
from mamori.apps.evaluation.models import Indicator
from tests.apps.core.factories import StaffFactory
from tests.apps.core.world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_city(db):
    world = build_world()
    departments = [world.gyokaku, world.johou, world.kosodate]
    for n in range(60):
        staff = StaffFactory(department=departments[n % 3], employee_number=f"7{n:05d}")
        if n % 3:  # this April's transfers (定期人事異動) move two in three of them
            target = departments[(n + 1) % 3]
            staff_transfer(actor="demo", staff=staff, to_department=target, effective_date=date(2026, 4, 1))
    membership = world.users[Role.STAFF].membership  # the demo's `staff` login has a staff record
    membership.staff = StaffFactory(department=world.gyokaku, employee_number="799999")
    membership.save()
    return world


def test_the_demo_delivers_the_last_three_seasons_with_a_realistic_spread(demo_city, monkeypatch):
    now = datetime(2026, 12, 4, 10, tzinfo=timezone.get_current_timezone())
    monkeypatch.setattr(timezone, "now", lambda: now)
    out = io.StringIO()
    demo.setup_demo(organisation=demo_city.organisation, stdout=out)
    campaigns = list(Campaign.objects.order_by("send_at"))
    assert [(c.kind, c.season, c.status) for c in campaigns] == [
        (CampaignKind.TRANSFER, 2025, CampaignStatus.SENT),
        (CampaignKind.YEAR_END, 2025, CampaignStatus.SENT),
        (CampaignKind.TRANSFER, 2026, CampaignStatus.SENT),
    ]
    # this year's transfer season went to the April movers; the seasons before to everyone at work
    movers = set(StaffTransfer.objects.values_list("staff_id", flat=True))
    assert set(campaigns[-1].recipients.values_list("staff_id", flat=True)) == movers and len(movers) == 40
    assert [c.recipients.count() for c in campaigns[:2]] == [63, 63]  # the world's 2, 60, the staff login's
    rates = [
        selectors.rate_of(c.recipients.exclude(acknowledged_at=None).count(), c.recipients.count())
        for c in campaigns
    ]
    assert all(60 <= r < 100 for r in rates), rates
    by_department = selectors.department_rates(campaigns[-1], department_ids=None)
    assert len({r.percent for r in by_department}) > 1  # departments differ
    # acknowledgements come after the mail, mostly within the first days
    latest = campaigns[-1]
    delays = [
        (r.acknowledged_at - latest.sent_at).days for r in latest.recipients.exclude(acknowledged_at=None)
    ]
    assert min(delays) >= 0 and sorted(delays)[len(delays) // 2] <= 2
    staff = Client()
    staff.force_login(demo_city.users[Role.STAFF])
    assert staff.get(reverse("dashboard")).content.decode().count("data-banner") == 1
    events = AuditEvent.objects.count()
    demo.setup_demo(organisation=demo_city.organisation, stdout=io.StringIO())
    assert AuditEvent.objects.count() == events and Campaign.objects.count() == 3  # idempotent
    assert "人事異動期 2026年度" in out.getvalue()
    # each title carries its fiscal year in 和暦, in the list, the audit log and the KPI's evidence
    assert [c.subject[-7:] for c in campaigns] == ["（令和7年度）", "（令和7年度）", "（令和8年度）"]
    officer = Client()
    officer.force_login(demo_city.users[Role.SECURITY_OFFICER])
    pages = [officer.get(reverse(name)).content.decode() for name in ("awareness:list", "audit_list")]
    names = AuditEvent.objects.filter(action__startswith="awareness.campaign").values_list(
        "object_name", flat=True
    )
    evidence = [e.label for e in kpi_ack_rate(2025).evidence]
    for shown in [*pages, *names, *evidence]:
        assert "{年度}" not in shown
    assert "人事異動期の情報セキュリティ（令和8年度）" in pages[0] and "（令和7年度）" in evidence[0]


def test_this_years_sheet_binds_the_awareness_headline_kpi(demo_city):
    demo.setup_demo(organisation=demo_city.organisation, stdout=io.StringIO())
    evaluation_demo.setup_demo(organisation=demo_city.organisation, stdout=io.StringIO())
    latest = Campaign.objects.order_by("-sent_at").first()
    bound = set(
        Indicator.objects.filter(kpi_code__startswith="awareness.").values_list("kpi_code", flat=True)
    )
    assert bound == {"awareness.ack_rate"}
    assert Department.objects.filter(name="行政改革課").count() == 1
    value = kpi_ack_rate(fiscal_year_of(timezone.localtime(latest.sent_at).date()))
    assert value.value is not None and len(value.evidence) >= 1
