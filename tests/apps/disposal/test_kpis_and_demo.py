"""The disposal and incident KPIs for the sheet, with evidence, through `mamori kpi --json`; and the
demo (disposal + incidents) set up twice without creating anything twice."""

from __future__ import annotations

import io
import json
from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone

from mamori.apps.core.demo_city import demo_city_setup
from mamori.apps.core.wareki import fiscal_year_of
from mamori.apps.disposal import demo as disposal_demo
from mamori.apps.disposal import services
from mamori.apps.disposal.models import Certificate, Medium, MediumState
from mamori.apps.incidents import demo as incidents_demo
from mamori.apps.incidents.models import Incident
from mamori.apps.incidents.selectors import incident_reports

from .helpers import checked_pdf, handed_over, stored


def _kpis(fiscal_year: int) -> dict[str, dict]:
    out = io.StringIO()
    call_command("kpi", "--fiscal-year", str(fiscal_year), "--json", stdout=out)
    return {row["code"]: row for row in json.loads(out.getvalue())}


def test_certified_rate_and_late_certificates_with_evidence(world, settings):
    settings.MAMORI_DISPOSAL_CERTIFICATE_DAYS = 30
    on_time, late, waiting = (stored(f"USB-{i}", world.gyokaku) for i in (1, 2, 3))
    batch = handed_over([on_time, late], days_ago=5)
    services.certificate_register(
        actor="o",
        batch=batch,
        checked=checked_pdf(),
        number="C",
        issued_on=timezone.localdate(),
        media=[on_time],
    )
    handed_over([waiting], days_ago=3)
    fy = fiscal_year_of(timezone.localdate() - timedelta(days=5))
    rows = _kpis(fy)
    rate = rows["disposal.certified_rate"]
    assert rate["value"] is not None and float(rate["value"]) == round(100 / 3, 1)
    assert rate["evidence_count"] == 3
    assert float(rows["disposal.certificate_late"]["value"]) == 0  # nothing is 30 days old yet
    settings.MAMORI_DISPOSAL_CERTIFICATE_DAYS = 4
    late_rows = _kpis(fy)["disposal.certificate_late"]
    # on_time's certificate came 5 days after its hand-over, `late` has none after 5; `waiting` is 3 days in
    assert float(late_rows["value"]) == 2 and late_rows["evidence_count"] == 2


def test_the_demo_sets_up_media_in_each_state_and_two_closed_incidents_once(db):
    city = demo_city_setup()
    for _ in range(2):
        disposal_demo.setup_demo(organisation=city.organisation, stdout=io.StringIO())
        incidents_demo.setup_demo(organisation=city.organisation, stdout=io.StringIO())
    states = {s: Medium.objects.filter(state=s).count() for s in MediumState}
    assert states == {"registered": 1, "stored": 1, "handed_over": 2, "certified": 3}
    assert Certificate.objects.count() == 1
    now = timezone.now()
    for m in Medium.objects.select_related("batch", "certificate"):
        steps = [m.registered_at, m.stored_at, m.batch and m.batch.handed_over_at, now]
        dated = [step for step in steps if step]
        assert dated == sorted(dated), m.label  # each custody step after the one before it
        if m.certificate:
            assert (
                timezone.localdate(m.batch.handed_over_at) <= m.certificate.issued_on <= timezone.localdate()
            )
    incidents = {i.kind: i for i in Incident.objects.all()}
    assert set(incidents) == {"misdelivery", "malware"} and {i.status for i in incidents.values()} == {
        "closed"
    }
    for incident in incidents.values():  # the timeline in order, 「報告を受け付けました」 first
        timeline = [(e.at, e.shown) for e in incident.timeline.order_by("pk")]
        assert [at for at, _text in timeline] == sorted(at for at, _text in timeline)
        assert timeline[0] == (incident.reported_at, "報告を受け付けました")
        assert incident.detected_at <= incident.learned_at <= incident.reported_at
        # closed when the case was done, days ago — not at the moment the demo was set up
        assert timeline[-1] == (incident.closed_at, "完了しました")
        assert incident.closed_at <= now - timedelta(days=2)
    reports = incident_reports(incidents["misdelivery"])
    assert reports.preliminary.met and reports.final.met
    assert incident_reports(incidents["malware"]) is None
    fy = fiscal_year_of(timezone.localdate())
    rows = _kpis(fy) | _kpis(fy - 1)
    assert {"disposal.certified_rate", "incidents.count", "incidents.reports_on_time"} <= set(rows)
