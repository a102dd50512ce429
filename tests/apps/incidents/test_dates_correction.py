"""The officer corrects when the city learned of an incident (and when it happened): the statutory
deadlines count from that moment, so a wrong first entry must not keep them wrong. Officers only,
with a reason, one audited step with a timeline entry, the dates still in order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from mamori.apps.core.models import AuditEvent, Role
from mamori.apps.incidents import services
from mamori.apps.incidents.errors import IncidentError
from mamori.apps.incidents.models import Incident
from mamori.apps.incidents.selectors import incident_reports, open_deadlines
from tests.apps.disposal.helpers import signed_in
from tests.apps.incidents.helpers import closed, reported
from tests.apps.lights import Light, dashboard_light

STAMP = "%Y-%m-%dT%H:%M"
SPECIAL = {"personal_data": True, "people_affected": 1, "special_care": True}


def _staff_report_now(world) -> Incident:
    """What a staff member's form gives when its two dates are left at their default, now."""
    now = timezone.localtime().strftime(STAMP)
    signed_in(world, Role.STAFF).post(
        reverse("incidents:report"),
        {"title": "住民票の誤交付", "kind": "misdelivery", "department": world.gyokaku.pk,
         "detected_at": now, "learned_at": now, "description": "別の方の住民票を交付した",
         "personal_data": "on", "people_affected": 1, "special_care": "on"},
    )  # fmt: skip
    return Incident.objects.get()


def _form(detected, learned, reason="窓口の記録で前日の把握と確認") -> dict[str, str]:
    return {
        "detected_at": timezone.localtime(detected).strftime(STAMP),
        "learned_at": timezone.localtime(learned).strftime(STAMP),
        "reason": reason,
    }


def test_the_officer_corrects_the_day_learned_and_the_deadlines_move_with_it(world):
    """Staff left both dates at 'now'; the city had learned of it six days before the report."""
    incident = _staff_report_now(world)
    assert not incident_reports(incident).preliminary.overdue
    officer = signed_in(world, Role.SECURITY_OFFICER)
    detail = reverse("incidents:detail", args=[incident.pk])
    url = reverse("incidents:dates", args=[incident.pk])
    assert f'href="{url}"' in officer.get(detail).content.decode()
    form = officer.get(url).content.decode()
    assert timezone.localtime(incident.learned_at).strftime(STAMP) in form  # today's value to correct

    events = AuditEvent.objects.count()
    learned = timezone.now() - timedelta(days=6)
    response = officer.post(url, _form(learned - timedelta(hours=2), learned))
    assert response.status_code == 302 and response["Location"] == detail
    incident.refresh_from_db()
    assert timezone.localtime(incident.learned_at).strftime(STAMP) == _form(learned, learned)["learned_at"]

    reports = incident_reports(incident)
    assert reports.preliminary.overdue  # day 5 has passed: the 速報 is late, and now it says so
    [(_incident, status)] = open_deadlines(user=world.users[Role.SECURITY_OFFICER])
    assert status.deadline == reports.preliminary.deadline
    page = officer.get(detail).content.decode()
    assert f"{reports.final.deadline.day:%Y-%m-%d}" in page
    assert "日時を訂正しました" in page and "窓口の記録で前日の把握と確認" in page
    assert dashboard_light(officer, "incidents") == Light("red", f"報告期限切れ: {incident.title}", detail)

    assert AuditEvent.objects.count() == events + 1
    event = AuditEvent.objects.order_by("-sequence").first()
    assert event.action == "incidents.incident.correct" and event.object_id == str(incident.pk)
    assert event.after["reason"] == "窓口の記録で前日の把握と確認"
    assert event.before["learned_at"] != event.after["learned_at"]


def test_a_reason_is_required_and_what_was_typed_stays(world):
    incident = reported(world, days_ago=2, **SPECIAL)
    before = (incident.detected_at, incident.learned_at, incident.timeline.count())
    events = AuditEvent.objects.count()
    learned = timezone.now() - timedelta(days=4)
    response = signed_in(world, Role.SECURITY_OFFICER).post(
        reverse("incidents:dates", args=[incident.pk]), _form(learned, learned, reason="   ")
    )
    html = response.content.decode()
    assert response.status_code == 200 and "このフィールドは必須です" in html.split('name="reason"')[1]
    assert _form(learned, learned)["learned_at"] in html  # the corrected date is still in the form
    incident.refresh_from_db()
    assert (incident.detected_at, incident.learned_at, incident.timeline.count()) == before
    assert AuditEvent.objects.count() == events
    with pytest.raises(IncidentError) as exc:  # the service's own check, for callers without the form
        services.incident_correct_dates(
            actor="o", incident=incident, detected_at=learned, learned_at=learned, reason=" \n"
        )
    assert exc.value.message == "訂正する理由を入力してください"


@pytest.mark.parametrize(
    ("shift", "code", "words"),
    [
        (lambda i: {"learned_at": timezone.now() + timedelta(hours=2)}, "in_future", "未来"),
        # after the report came in: the report would come before the city knew of it
        (lambda i: {"learned_at": i.reported_at + timedelta(hours=3)}, "out_of_order", "報告日時"),
        (lambda i: {"learned_at": i.detected_at - timedelta(hours=1)}, "learned_before_detected", "発生"),
        (lambda i: {"detected_at": timezone.now() + timedelta(days=1)}, "in_future", "発生・発見日時"),
    ],
)
def test_out_of_order_corrections_are_refused_in_one_line_and_nothing_saved(world, shift, code, words):
    incident = reported(world, days_ago=3, **SPECIAL)
    services.incident_file_report(
        actor="o", incident=incident, report="preliminary", filed_at=incident.reported_at + timedelta(days=1)
    )
    dates = {"detected_at": incident.detected_at, "learned_at": incident.learned_at} | shift(incident)
    events, entries = AuditEvent.objects.count(), incident.timeline.count()
    with pytest.raises(IncidentError) as exc:
        services.incident_correct_dates(actor="o", incident=incident, reason="訂正", **dates)
    assert exc.value.code == code and words in exc.value.message and "\n" not in exc.value.message
    fresh = Incident.objects.get(pk=incident.pk)
    assert (fresh.detected_at, fresh.learned_at) == (incident.detected_at, incident.learned_at)
    assert AuditEvent.objects.count() == events and fresh.timeline.count() == entries


def test_the_out_of_order_message_names_both_dates_on_the_page(world):
    incident = reported(world, days_ago=3, **SPECIAL)
    late = incident.reported_at + timedelta(hours=3)
    html = (
        signed_in(world, Role.SECURITY_OFFICER)
        .post(reverse("incidents:dates", args=[incident.pk]), _form(incident.detected_at, late))
        .content.decode()
    )
    assert timezone.localtime(late).strftime("%Y-%m-%d %H:%M") in html
    assert timezone.localtime(incident.reported_at).strftime("%Y-%m-%d %H:%M") in html


def test_an_unchanged_form_is_refused_rather_than_audited(world):
    incident = reported(world, days_ago=2)
    events = AuditEvent.objects.count()
    response = signed_in(world, Role.SECURITY_OFFICER).post(
        reverse("incidents:dates", args=[incident.pk]), _form(incident.detected_at, incident.learned_at)
    )
    assert response.status_code == 200 and "日時が変わっていません" in response.content.decode()
    assert AuditEvent.objects.count() == events


def test_a_closed_incident_is_reopened_before_its_dates_are_corrected(world):
    incident = closed(world, **SPECIAL)
    officer = signed_in(world, Role.SECURITY_OFFICER)
    url = reverse("incidents:dates", args=[incident.pk])
    detail = reverse("incidents:detail", args=[incident.pk])
    assert url not in officer.get(detail).content.decode()
    earlier = incident.learned_at - timedelta(days=1)
    refused = officer.post(url, _form(earlier, earlier))
    assert refused.status_code == 200 and "この事故は既に完了しています" in refused.content.decode()

    services.incident_reopen(actor="o", incident=incident, reason="把握日の誤り")
    assert f'href="{url}"' in officer.get(detail).content.decode()
    assert officer.post(url, _form(earlier, earlier)).status_code == 302
    incident.refresh_from_db()
    # The reports filed on days 2 and 5 are now on days 3 and 6: both still within their limits.
    reports = incident_reports(incident)
    assert reports.preliminary.met is True and reports.final.met is True
    assert reports.preliminary.deadline.day == timezone.localtime(earlier).date() + timedelta(days=4)


def test_only_officers_may_correct_the_dates(world):
    """The lead follows this incident (their department) and the staff member reported it: both
    may read it, neither may move its deadlines."""
    incident = reported(world, days_ago=2, **SPECIAL)
    learned = incident.learned_at
    url = reverse("incidents:dates", args=[incident.pk])
    earlier = learned - timedelta(days=20)
    for role in (Role.DEPARTMENT_LEAD, Role.STAFF, Role.AUDITOR):
        client = signed_in(world, role)
        assert url not in client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
        assert client.post(url, _form(earlier, earlier)).status_code == 403, role
    incident.refresh_from_db()
    assert incident.learned_at == learned
    admin = signed_in(world, Role.ADMINISTRATOR)
    assert admin.post(url, _form(earlier, earlier)).status_code == 302


def test_a_hostile_reason_is_shown_as_text(world):
    incident = reported(world, days_ago=2)
    script = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    earlier = incident.learned_at - timedelta(days=1)
    services.incident_correct_dates(
        actor="o", incident=incident, detected_at=earlier, learned_at=earlier, reason=script
    )
    page = signed_in(world, Role.SECURITY_OFFICER).get(reverse("incidents:detail", args=[incident.pk]))
    html = page.content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html and "&lt;script&gt;alert" in html


def test_a_correction_learned_before_detected_names_both_dates_on_the_page(world):
    """The 訂正 form's one line says which two dates conflict and what each was; both stay typed."""
    incident = reported(world, days_ago=3, **SPECIAL)
    detected = incident.learned_at - timedelta(hours=1)
    learned = detected - timedelta(hours=4)
    form = _form(detected, learned)
    response = signed_in(world, Role.SECURITY_OFFICER).post(
        reverse("incidents:dates", args=[incident.pk]), form
    )
    html = response.content.decode()
    shown = {
        k: timezone.localtime(v).strftime("%Y-%m-%d %H:%M") for k, v in (("d", detected), ("l", learned))
    }
    assert response.status_code == 200
    assert f"市が把握した日時（{shown['l']}）が発生・発見日時（{shown['d']}）より前です。" in html
    assert form["detected_at"] in html and form["learned_at"] in html
    fresh = Incident.objects.get(pk=incident.pk)
    assert (fresh.detected_at, fresh.learned_at) == (incident.detected_at, incident.learned_at)
