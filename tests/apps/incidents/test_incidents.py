"""Reporting, triage, the statutory reports and closing; who may see which incident; bad input is
refused with one line and nothing saved."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from mamori.apps.backups import services as backup_services
from mamori.apps.core.models import AuditEvent, Role
from mamori.apps.incidents import services
from mamori.apps.incidents.deadlines import JAPAN
from mamori.apps.incidents.errors import IncidentError
from mamori.apps.incidents.kpis import count_of
from mamori.apps.incidents.models import Incident, IncidentStatus
from mamori.apps.incidents.selectors import incident_reports, open_deadlines
from tests.apps.disposal.helpers import medium, signed_in
from tests.apps.incidents.helpers import closed as _closed
from tests.apps.incidents.helpers import reported as _report
from tests.apps.lights import Light, dashboard_light


def test_staff_reports_from_the_short_form_and_the_officer_sees_the_deadline(world):
    staff = signed_in(world, Role.STAFF)
    now = timezone.localtime()
    response = staff.post(
        reverse("incidents:report"),
        {"title": "住民票の誤交付", "kind": "misdelivery", "department": world.gyokaku.pk,
         "detected_at": now.strftime("%Y-%m-%dT%H:%M"), "learned_at": now.strftime("%Y-%m-%dT%H:%M"),
         "description": "別の方の住民票を交付した", "personal_data": "on", "people_affected": 1,
         "special_care": "on"},
    )  # fmt: skip
    incident = Incident.objects.get()
    assert response.status_code == 302 and incident.reported_by == world.users[Role.STAFF]
    page = signed_in(world, Role.SECURITY_OFFICER).get(reverse("incidents:detail", args=[incident.pk]))
    html = page.content.decode()
    final = incident_reports(incident).final.deadline
    assert 'data-deadline="preliminary"' in html and f"{final.day:%Y-%m-%d}" in html
    assert [i for i, _s in open_deadlines(user=world.users[Role.SECURITY_OFFICER])] == [incident]


def test_reports_filed_on_time_and_late_are_told_apart(world):
    on_time = _report(world, days_ago=10, personal_data=True, people_affected=1, special_care=True)
    services.incident_file_report(
        actor="o", incident=on_time, report="preliminary", filed_at=on_time.learned_at + timedelta(days=2)
    )
    late = _report(world, days_ago=10, personal_data=True, people_affected=200)
    services.incident_file_report(
        actor="o", incident=late, report="preliminary", filed_at=late.learned_at + timedelta(days=6)
    )
    assert incident_reports(on_time).preliminary.met is True
    assert incident_reports(late).preliminary.met is False
    assert incident_reports(late).final.met is None and not incident_reports(late).final.overdue


def test_the_reports_are_recorded_in_order_once_and_never_in_the_future(world):
    incident = _report(world, days_ago=3, personal_data=True, people_affected=1, special_care=True)
    with pytest.raises(IncidentError) as exc:
        services.incident_file_report(actor="o", incident=incident, report="final", filed_at=timezone.now())
    assert exc.value.code == "final_before_preliminary"
    with pytest.raises(IncidentError) as exc:
        services.incident_file_report(
            actor="o", incident=incident, report="preliminary", filed_at=timezone.now() + timedelta(hours=1)
        )
    assert exc.value.code == "in_future"
    with pytest.raises(IncidentError) as exc:
        services.incident_file_report(
            actor="o",
            incident=incident,
            report="preliminary",
            filed_at=incident.learned_at - timedelta(hours=1),
        )
    assert exc.value.code == "filed_before_learned"
    services.incident_file_report(actor="o", incident=incident, report="preliminary", filed_at=timezone.now())
    with pytest.raises(IncidentError) as exc:
        services.incident_file_report(
            actor="o", incident=incident, report="preliminary", filed_at=timezone.now()
        )
    assert exc.value.code == "already_filed"


def test_an_incident_without_reportable_personal_data_has_no_reports(world):
    incident = _report(world, personal_data=True, people_affected=3)
    assert incident_reports(incident) is None
    with pytest.raises(IncidentError) as exc:
        services.incident_file_report(
            actor="o", incident=incident, report="preliminary", filed_at=timezone.now()
        )
    assert exc.value.code == "not_reportable"
    services.incident_close(actor="o", incident=incident)
    assert Incident.objects.get(pk=incident.pk).status == IncidentStatus.CLOSED


def test_a_reportable_incident_cannot_close_before_the_final_report(world):
    incident = _report(world, personal_data=True, people_affected=1, special_care=True)
    with pytest.raises(IncidentError) as exc:
        services.incident_close(actor="o", incident=incident)
    assert exc.value.code == "final_missing"
    assert Incident.objects.get(pk=incident.pk).status == IncidentStatus.REPORTED


def test_dates_in_the_future_are_refused_and_nothing_saved(world):
    events = AuditEvent.objects.count()
    with pytest.raises(IncidentError) as exc:
        _report(world, days_ago=-1)
    assert exc.value.code == "in_future"
    assert not Incident.objects.exists() and AuditEvent.objects.count() == events


def test_staff_see_only_their_own_reports_and_leads_their_departments(world):
    mine = _report(world)
    other_staff = _report(world, actor="someone", department=world.gyokaku)
    welfare = _report(world, actor="someone", department=world.kosodate)
    staff, lead = signed_in(world, Role.STAFF), signed_in(world, Role.DEPARTMENT_LEAD)
    assert staff.get(reverse("incidents:detail", args=[mine.pk])).status_code == 200
    assert staff.get(reverse("incidents:detail", args=[other_staff.pk])).status_code == 404
    assert lead.get(reverse("incidents:detail", args=[other_staff.pk])).status_code == 200
    assert lead.get(reverse("incidents:detail", args=[welfare.pk])).status_code == 404
    assert lead.post(reverse("incidents:entry", args=[welfare.pk]), {"text": "x"}).status_code == 404
    assert lead.post(reverse("incidents:triage", args=[mine.pk]), {"severity": "high"}).status_code == 403
    listing = lead.get(reverse("incidents:list")).content.decode()
    assert f'href="{reverse("incidents:detail", args=[welfare.pk])}"' not in listing
    assert welfare.timeline.count() == 1  # nothing added by the refused request


def test_staff_cannot_report_for_another_department(world):
    now = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    response = signed_in(world, Role.STAFF).post(
        reverse("incidents:report"),
        {"title": "x", "kind": "loss", "department": world.kosodate.pk, "detected_at": now,
         "learned_at": now, "description": "x", "people_affected": 0},
    )  # fmt: skip
    assert response.status_code == 200 and not Incident.objects.exists()


def test_the_officer_triages_files_and_closes_through_the_pages(world):
    incident = _report(world, days_ago=2, personal_data=True, people_affected=1, special_care=True)
    officer = signed_in(world, Role.SECURITY_OFFICER)
    officer.post(
        reverse("incidents:triage", args=[incident.pk]),
        {"kind": "loss", "severity": "high", "status": "handling", "personal_data": "on", "people_affected": 1,
         "special_care": "on", "root_cause": "持ち出し手順の不備"},
    )  # fmt: skip
    stamp = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    for report in ("preliminary", "final"):
        officer.post(reverse("incidents:filing", args=[incident.pk]), {"report": report, "filed_at": stamp})
    officer.post(reverse("incidents:close", args=[incident.pk]))
    incident.refresh_from_db()
    assert (incident.severity, incident.status, incident.root_cause) == (
        "high",
        "closed",
        "持ち出し手順の不備",
    )
    assert incident_reports(incident).final.met is True
    actions = set(AuditEvent.objects.filter(object_id=str(incident.pk)).values_list("action", flat=True))
    assert {"incidents.incident.triage", "incidents.report.preliminary", "incidents.report.final",
            "incidents.incident.close"} <= actions  # fmt: skip


def test_the_officer_is_asked_to_file_and_staff_see_the_card_only_for_their_own_incident(world):
    officer, staff = signed_in(world, Role.SECURITY_OFFICER), signed_in(world, Role.STAFF)
    assert 'data-card="incidents"' not in staff.get(reverse("dashboard")).content.decode()
    incident = _report(world, personal_data=True, people_affected=1, special_care=True)
    tasks = (
        officer.get(reverse("dashboard"))
        .content.decode()
        .split('data-card="tasks"')[1]
        .split("</section>")[0]
    )
    assert f"速報を提出: {incident.title}" in tasks
    file_by = incident_reports(incident).preliminary.deadline.file_by
    assert f"期限 {file_by.year}年{file_by.month}月{file_by.day}日" in tasks
    assert 'data-card="incidents"' in staff.get(reverse("dashboard")).content.decode()


def test_linked_media_and_systems_lead_to_their_records_and_the_list_queries_are_bounded(
    world, django_assert_max_num_queries
):
    system = backup_services.system_create(
        actor="t", code="jumin", name="住民情報システム", department=world.gyokaku
    )
    usb = medium("USB-9", world.gyokaku)
    incident = _report(world)
    services.incident_triage(actor="o", incident=incident, systems=[system], media=[usb], severity="high")
    officer = signed_in(world, Role.SECURITY_OFFICER)
    page = officer.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert f'href="{reverse("backups:system-detail", args=["jumin"])}"' in page
    assert f'href="{reverse("disposal:medium-detail", args=[usb.pk])}"' in page
    for i in range(20):
        _report(world, days_ago=2 + i)
    with django_assert_max_num_queries(12):
        assert officer.get(reverse("incidents:list")).status_code == 200


def test_the_pages_speak_english_when_english_is_chosen(world):
    client = signed_in(world, Role.SECURITY_OFFICER)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    incident = _report(world, personal_data=True, people_affected=1, special_care=True)
    page = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert (
        "Reports to the Personal Information Protection Commission" in page and "Preliminary report" in page
    )
    assert "Media disposal" in client.get(reverse("disposal:media")).content.decode()


def test_incidents_count_in_the_fiscal_year_the_city_learned_of_them_in_japan_time(world):
    for title, learned in (
        ("3月末", datetime(2027, 3, 31, 23, 30, tzinfo=JAPAN)),
        ("4月1日", datetime(2027, 4, 1, 0, 10, tzinfo=JAPAN)),
    ):
        Incident.objects.create(
            title=title, kind="loss", department=world.gyokaku, detected_at=learned, learned_at=learned,
            reported_at=learned, description="x",
        )  # fmt: skip
    fy2026, fy2027 = count_of()(2026), count_of()(2027)
    assert (fy2026.value, fy2027.value) == (1, 1)
    assert "3月末" in fy2026.evidence[0].label and "4月1日" in fy2027.evidence[0].label
    assert fy2026.detail["loss"] == 1 and count_of("malware")(2026).value == 0


def test_hostile_text_in_a_report_is_shown_as_text(world):
    script = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    learned = timezone.now() - timedelta(hours=1)
    incident = services.incident_report(
        actor=world.users[Role.STAFF], scope=None, title=script, kind="other", department=world.gyokaku,
        detected_at=learned, learned_at=learned, description=f"1行目\n{script}",
    )  # fmt: skip
    for role in (Role.SECURITY_OFFICER, Role.STAFF):
        client = signed_in(world, role)
        for url in (reverse("incidents:detail", args=[incident.pk]), reverse("incidents:list")):
            page = client.get(url).content.decode()
            assert "<script>alert" not in page and "<img src=x" not in page
            assert "&lt;script&gt;alert" in page


def test_a_closed_incident_shows_no_form_that_would_change_it_only_reopen(world):
    incident = _closed(world, personal_data=True, people_affected=1, special_care=True)
    detail = reverse("incidents:detail", args=[incident.pk])
    for role in (Role.SECURITY_OFFICER, Role.DEPARTMENT_LEAD, Role.STAFF):
        page = signed_in(world, role).get(detail).content.decode()
        for name in ("triage", "filing", "entry", "close"):
            assert reverse(f"incidents:{name}", args=[incident.pk]) not in page, (role, name)
    officer_page = signed_in(world, Role.SECURITY_OFFICER).get(detail).content.decode()
    assert f'href="{reverse("incidents:reopen", args=[incident.pk])}"' in officer_page
    assert (
        reverse("incidents:reopen", args=[incident.pk])
        not in signed_in(world, Role.AUDITOR).get(detail).content.decode()
    )


def test_a_closed_incident_refuses_changes_until_it_is_reopened(world):
    incident = _closed(world)
    for change in (
        lambda: services.incident_entry_add(actor="o", incident=incident, text="追記"),
        lambda: services.incident_triage(actor="o", incident=incident, severity="high"),
    ):
        with pytest.raises(IncidentError) as exc:
            change()
        assert exc.value.code == "closed"
    officer = signed_in(world, Role.SECURITY_OFFICER)
    response = officer.post(reverse("incidents:entry", args=[incident.pk]), {"text": "追記"})
    assert response.status_code == 200 and "この事故は既に完了しています" in response.content.decode()
    assert incident.timeline.filter(text="追記").count() == 0


def test_the_officer_reopens_a_closed_incident_with_a_reason_in_one_audited_step(world):
    incident = _closed(world)
    officer = signed_in(world, Role.SECURITY_OFFICER)
    url = reverse("incidents:reopen", args=[incident.pk])
    events = AuditEvent.objects.count()
    refused = officer.post(url, {"reason": "   "})
    assert refused.status_code == 200 and AuditEvent.objects.count() == events
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.CLOSED
    response = officer.post(url, {"reason": "委託先から追加の誤送付の報告"})
    assert response.status_code == 302 and response["Location"] == reverse(
        "incidents:detail", args=[incident.pk]
    )
    incident.refresh_from_db()
    assert (incident.status, incident.closed_at) == (IncidentStatus.HANDLING, None)
    event = AuditEvent.objects.order_by("-sequence").first()
    assert AuditEvent.objects.count() == events + 1
    assert (event.action, event.before["status"], event.after) == (
        "incidents.incident.reopen",
        "closed",
        {"status": "handling", "reason": "委託先から追加の誤送付の報告"},
    )
    page = officer.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert "再開しました: 委託先から追加の誤送付の報告" in page
    assert reverse("incidents:triage", args=[incident.pk]) in page and url not in page
    with pytest.raises(IncidentError) as exc:
        services.incident_reopen(actor="o", incident=incident, reason="もう一度")
    assert exc.value.code == "not_closed"


def test_only_officers_may_reopen(world):
    incident = _closed(world)
    for role in (Role.DEPARTMENT_LEAD, Role.STAFF, Role.AUDITOR):
        response = signed_in(world, role).post(
            reverse("incidents:reopen", args=[incident.pk]), {"reason": "x"}
        )
        assert response.status_code == 403, role
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.CLOSED


def test_a_reopened_incident_keeps_its_filed_reports_and_counts_new_deadlines_from_the_day_learned(world):
    filed = _closed(world, personal_data=True, people_affected=1, special_care=True)
    services.incident_reopen(actor="o", incident=filed, reason="本人の数の訂正")
    reports = incident_reports(filed)
    assert reports.preliminary.met is True and reports.final.met is True
    officer = world.users[Role.SECURITY_OFFICER]
    assert open_deadlines(user=officer) == []
    page = signed_in(world, Role.SECURITY_OFFICER).get(reverse("incidents:detail", args=[filed.pk]))
    assert reverse("incidents:filing", args=[filed.pk]) not in page.content.decode()  # nothing left to file

    # Closed as not reportable, reopened when special-care data turns up: the reports were due
    # counting from the day the city learned of the case, 10 days ago — the 速報 is overdue.
    plain = _closed(world, personal_data=True, people_affected=1)
    services.incident_reopen(actor="o", incident=plain, reason="要配慮個人情報が含まれていた")
    services.incident_triage(
        actor="o", incident=plain, personal_data=True, people_affected=1, special_care=True
    )
    [(incident, status)] = open_deadlines(user=officer)
    assert incident == plain and status.deadline.kind == "preliminary" and status.overdue
    dashboard = signed_in(world, Role.SECURITY_OFFICER).get(reverse("dashboard")).content.decode()
    assert f"速報を提出: {plain.title}" in dashboard


def test_the_filing_form_offers_the_report_still_to_file(world):
    incident = _report(world, days_ago=3, personal_data=True, people_affected=1, special_care=True)
    officer = signed_in(world, Role.SECURITY_OFFICER)
    detail = reverse("incidents:detail", args=[incident.pk])
    assert 'value="preliminary" selected' in officer.get(detail).content.decode()
    services.incident_file_report(actor="o", incident=incident, report="preliminary", filed_at=timezone.now())
    assert 'value="final" selected' in officer.get(detail).content.decode()


def test_an_incident_recorded_afterwards_keeps_its_timeline_in_order(world):
    """The officer records last week's incident: received when it came in, the filings after it."""
    officer = signed_in(world, Role.SECURITY_OFFICER)
    learned = timezone.localtime() - timedelta(days=7)
    stamp = "%Y-%m-%dT%H:%M"
    response = officer.post(
        reverse("incidents:report"),
        {"title": "通知書の誤送付", "kind": "misdelivery", "department": world.gyokaku.pk,
         "detected_at": learned.strftime(stamp), "learned_at": learned.strftime(stamp),
         "reported_at": (learned + timedelta(hours=1)).strftime(stamp), "description": "x",
         "personal_data": "on", "people_affected": 1, "special_care": "on"},
    )  # fmt: skip
    incident = Incident.objects.get()
    assert response.status_code == 302
    early = (learned + timedelta(minutes=30)).strftime(stamp)
    page = officer.post(
        reverse("incidents:filing", args=[incident.pk]), {"report": "preliminary", "filed_at": early}
    )
    assert "提出日時" in page.content.decode() and "報告日時" in page.content.decode()
    for report, days in (("preliminary", 2), ("final", 5)):
        filed = (learned + timedelta(days=days)).strftime(stamp)
        officer.post(reverse("incidents:filing", args=[incident.pk]), {"report": report, "filed_at": filed})
    incident.refresh_from_db()
    timeline = list(incident.timeline.all())
    assert [entry.shown for entry in timeline] == [
        "報告を受け付けました",
        "速報を個人情報保護委員会に提出",
        "確報を個人情報保護委員会に提出",
    ]
    assert timeline[0].at == incident.reported_at and incident.reported_at < incident.preliminary_filed_at


def test_out_of_order_dates_are_refused_with_both_dates_and_nothing_saved(world):
    incident = _report(world, days_ago=5, personal_data=True, people_affected=1, special_care=True)
    with pytest.raises(IncidentError) as exc:
        _report(world, days_ago=5, reported_at=timezone.now() - timedelta(days=6))
    assert exc.value.code == "out_of_order" and "市が把握した日時" in exc.value.message
    with pytest.raises(IncidentError) as exc:
        services.incident_entry_add(
            actor="o", incident=incident, text="x", at=incident.reported_at - timedelta(hours=2)
        )
    assert exc.value.code == "out_of_order"
    services.incident_file_report(
        actor="o", incident=incident, report="preliminary", filed_at=incident.reported_at + timedelta(days=3)
    )
    with pytest.raises(IncidentError) as exc:
        services.incident_file_report(
            actor="o", incident=incident, report="final", filed_at=incident.reported_at + timedelta(days=2)
        )
    assert exc.value.code == "out_of_order" and "速報の提出日時" in exc.value.message
    incident.refresh_from_db()
    assert incident.final_filed_at is None and incident.timeline.count() == 2
    assert Incident.objects.count() == 1


def test_staff_cannot_backdate_their_report(world):
    """Only the officer's form has 報告日時; a staff member's hand-made field is ignored."""
    staff = signed_in(world, Role.STAFF)
    assert 'name="reported_at"' not in staff.get(reverse("incidents:report")).content.decode()
    assert (
        'name="reported_at"'
        in signed_in(world, Role.SECURITY_OFFICER).get(reverse("incidents:report")).content.decode()
    )
    now = timezone.localtime()
    staff.post(
        reverse("incidents:report"),
        {"title": "x", "kind": "loss", "department": world.gyokaku.pk,
         "detected_at": (now - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M"),
         "learned_at": (now - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M"),
         "reported_at": (now - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M"),
         "description": "x", "people_affected": 0},
    )  # fmt: skip
    assert timezone.now() - Incident.objects.get().reported_at < timedelta(minutes=5)


def test_each_incident_form_leads_back_to_its_incident(world):
    incident = _report(world, personal_data=True, people_affected=1, special_care=True)
    officer = signed_in(world, Role.SECURITY_OFFICER)
    back = f'href="{reverse("incidents:detail", args=[incident.pk])}" data-action="back"'
    for name in ("triage", "dates", "filing", "entry", "reopen"):
        assert back in officer.get(reverse(f"incidents:{name}", args=[incident.pk])).content.decode(), name
    to_list = f'href="{reverse("incidents:list")}" data-action="back"'
    for role in (Role.STAFF, Role.SECURITY_OFFICER):  # the report form: back to the list, not a dead end
        assert to_list in signed_in(world, role).get(reverse("incidents:report")).content.decode(), role


def test_the_cards_light_names_the_late_report_and_leads_to_it(world):
    officer, staff = signed_in(world, Role.SECURITY_OFFICER), signed_in(world, Role.STAFF)
    assert dashboard_light(officer, "incidents") == Light("green", "対応中の事故なし", "")
    plain = _report(world, days_ago=1)  # open, nothing to report
    assert dashboard_light(officer, "incidents") == Light(
        "amber", "対応中の事故 1件", reverse("incidents:list")
    )
    due = _report(world, days_ago=1, personal_data=True, people_affected=1, special_care=True)
    file_by = incident_reports(due).preliminary.deadline.file_by
    detail = reverse("incidents:detail", args=[due.pk])
    assert dashboard_light(officer, "incidents") == Light(
        "amber", f"報告の提出期限 {file_by:%Y-%m-%d}: {due.title}", detail
    )
    late = _report(world, days_ago=8, personal_data=True, people_affected=1, special_care=True)
    late_detail = reverse("incidents:detail", args=[late.pk])
    assert dashboard_light(officer, "incidents") == Light("red", f"報告期限切れ: {late.title}", late_detail)
    assert 'value="preliminary" selected' in officer.get(late_detail).content.decode()  # file it there
    staff_light = dashboard_light(staff, "incidents")  # the staff member reported both: theirs to open
    assert staff_light.status == "red" and staff.get(staff_light.url).status_code == 200
    _report(world, days_ago=9, personal_data=True, people_affected=1, special_care=True)
    assert dashboard_light(officer, "incidents") == Light(
        "red", "報告期限切れ 2件", reverse("incidents:list")
    )
    listing = officer.get(reverse("incidents:list")).content.decode()
    assert listing.count(f'href="{reverse("incidents:detail", args=[plain.pk])}"') >= 1


def test_an_incident_recorded_afterwards_closes_on_the_day_it_was_done_in_order(world):
    incident = _report(world, days_ago=10)
    services.incident_entry_add(
        actor="o", incident=incident, text="端末を回収", at=incident.reported_at + timedelta(days=2)
    )
    for closed_at, code in (
        (timezone.now() + timedelta(hours=1), "in_future"),
        (incident.reported_at + timedelta(days=1), "out_of_order"),  # before the last entry
    ):
        with pytest.raises(IncidentError) as exc:
            services.incident_close(actor="o", incident=incident, closed_at=closed_at)
        assert exc.value.code == code
    assert Incident.objects.get(pk=incident.pk).status != IncidentStatus.CLOSED
    done = incident.reported_at + timedelta(days=3)
    services.incident_close(actor="o", incident=incident, closed_at=done)
    incident.refresh_from_db()
    assert incident.closed_at == done
    last = incident.timeline.last()
    assert last is not None and (last.at, last.shown) == (done, "完了しました")


def test_the_people_involved_read_as_one_person_or_many_in_english(world):
    one = _report(world, personal_data=True, people_affected=1)
    many = _report(world, personal_data=True, people_affected=3)
    officer = signed_in(world, Role.SECURITY_OFFICER)
    officer.cookies["django_language"] = "en"
    assert "1 person" in officer.get(reverse("incidents:detail", args=[one.pk])).content.decode()
    assert "3 people" in officer.get(reverse("incidents:detail", args=[many.pk])).content.decode()
    officer.cookies["django_language"] = "ja"
    assert "1人分" in officer.get(reverse("incidents:detail", args=[one.pk])).content.decode()


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (
            "ja",
            (
                "市が把握した日時（{learned}）が発生・発見日時（{detected}）より前です。どちらかを直してください",
            ),
        ),
        ("en", ("The city learned of it ({learned}) before it occurred or was found ({detected})",)),
    ],
)
def test_learned_before_detected_names_both_dates_with_their_values(world, language, words):
    """The report form refuses 市が把握した日時 before 発生・発見日時 in one line that says which two
    dates conflict and what each was, so the reporter corrects the right one; what was typed stays."""
    staff = signed_in(world, Role.STAFF)
    staff.cookies["django_language"] = language
    detected = timezone.localtime() - timedelta(days=1)
    learned = detected - timedelta(hours=5)
    form = {
        "title": "住民票の誤交付", "kind": "misdelivery", "department": world.gyokaku.pk,
        "detected_at": detected.strftime("%Y-%m-%dT%H:%M"), "learned_at": learned.strftime("%Y-%m-%dT%H:%M"),
        "description": "別の方の住民票を交付した", "people_affected": 0,
    }  # fmt: skip
    events = AuditEvent.objects.count()
    response = staff.post(reverse("incidents:report"), form)
    html = response.content.decode()
    values = {"learned": learned.strftime("%Y-%m-%d %H:%M"), "detected": detected.strftime("%Y-%m-%d %H:%M")}
    assert response.status_code == 200
    for word in words:
        assert word.format(**values) in html
    assert form["detected_at"] in html and form["learned_at"] in html  # nothing typed is lost
    assert not Incident.objects.exists() and AuditEvent.objects.count() == events


def test_a_report_filed_before_the_city_learned_names_both_dates(world):
    incident = _report(world, days_ago=3, personal_data=True, people_affected=1, special_care=True)
    filed = timezone.localtime(incident.learned_at) - timedelta(hours=2)
    response = signed_in(world, Role.SECURITY_OFFICER).post(
        reverse("incidents:filing", args=[incident.pk]),
        {"report": "preliminary", "filed_at": filed.strftime("%Y-%m-%dT%H:%M")},
    )
    html = response.content.decode()
    learned = timezone.localtime(incident.learned_at).strftime("%Y-%m-%d %H:%M")
    assert response.status_code == 200
    assert f"提出日時（{filed:%Y-%m-%d %H:%M}）が市が把握した日時（{learned}）より前です。" in html
    assert Incident.objects.get(pk=incident.pk).preliminary_filed_at is None
