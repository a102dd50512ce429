"""The officer writes and sends a campaign on the pages; the rate per department is on its page for
the officer, for a lead only their departments'; staff see their own notices only; the worker
prepares the built-in seasons ahead of time and reminds before the due date."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mamori.apps.awareness import periodic, services
from mamori.apps.awareness.models import Campaign, CampaignKind, CampaignStatus, Recipient
from mamori.apps.core.errors import ApplicationError
from mamori.apps.core.models import AuditEvent, Role
from mamori.apps.core.services import staff_transfer
from mamori.apps.core.wareki import fiscal_year_of
from tests.apps.lights import dashboard_light

from .helpers import campaign_data

pytestmark = pytest.mark.django_db
JST = ZoneInfo("Asia/Tokyo")


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_officer_writes_a_campaign_for_one_department_and_sends_it(
    city, smtp_sink, django_capture_on_commit_callbacks
):
    officer = _client(city.world.users[Role.SECURITY_OFFICER])
    form = {
        "subject": "【臨時】{市名} 不審メールにご注意ください", "body": "{氏名} 様\n添付ファイルを開かないでください。",
        "send_at": "2030-01-10T09:00", "due_on": "2030-01-17", "remind_days_before": "2",
        "audience": "departments", "departments": [city.world.fukushi.pk], "role": "",
    }  # fmt: skip
    created = officer.post(reverse("awareness:create"), form)
    campaign = Campaign.objects.get()
    assert created.status_code == 302 and created["Location"] == reverse(
        "awareness:detail", args=[campaign.pk]
    )
    hostile = form | {"body": "{{ settings.SECRET_KEY }}"}
    refused = officer.post(reverse("awareness:edit", args=[campaign.pk]), hostile)
    assert (
        refused.status_code == 200
        and "差し込み項目 { settings.SECRET_KEY } は使えません" in refused.content.decode()
    )
    assert Campaign.objects.get().body.startswith("{氏名} 様")
    with django_capture_on_commit_callbacks(execute=True):
        officer.post(reverse("awareness:send", args=[campaign.pk]))
    assert list(Recipient.objects.values_list("staff__employee_number", flat=True)) == [
        "400001"
    ]  # 福祉部 only
    assert smtp_sink.recipients == [[city.world.staff_outside.email]]
    # Sent is final: the text people received cannot change afterwards.
    assert (
        "配信済みの注意喚起は変更できません"
        in officer.post(reverse("awareness:edit", args=[campaign.pk]), form).content.decode()
    )


def test_rates_per_department_for_the_officer_and_only_their_departments_for_a_lead(city, sent):
    services.acknowledgement_record(
        actor=city.sato, recipient=Recipient.objects.get(campaign=sent, staff=city.world.staff_in_scope)
    )
    page = _client(city.world.users[Role.SECURITY_OFFICER]).get(reverse("awareness:detail", args=[sent.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and '<strong id="rate">33.3%</strong>' in html
    assert html.index("子育て支援課") < html.index("行政改革課")  # the lowest rate first
    assert (
        'value="1.000"' in html and 'value="0.000"' in html
    )  # 行政改革課 1/1; 子育て支援課 0/1, 情報政策課 0/1
    lead = _client(city.world.users[Role.DEPARTMENT_LEAD])  # 総務部: 行政改革課 and 情報政策課
    lead_html = lead.get(reverse("awareness:detail", args=[sent.pk])).content.decode()
    assert '<strong id="rate">50.0%</strong>' in lead_html and "子育て支援課" not in lead_html
    assert "鈴木" not in lead_html and "佐藤" in lead_html
    assert "50.0%" in lead.get(reverse("awareness:list")).content.decode()


def test_a_lead_does_not_see_a_campaign_that_reached_none_of_their_departments(
    city, smtp_sink, django_capture_on_commit_callbacks
):
    campaign = services.campaign_create(
        actor="officer", data=campaign_data(audience="departments", departments=[city.world.fukushi])
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.campaign_send(actor="officer", campaign=campaign)
    lead = _client(city.world.users[Role.DEPARTMENT_LEAD])
    assert lead.get(reverse("awareness:detail", args=[campaign.pk])).status_code == 404
    listed = lead.get(reverse("awareness:list")).content.decode()
    assert reverse("awareness:detail", args=[campaign.pk]) not in listed


def test_staff_see_their_own_notices_and_nothing_of_others(city, sent):
    mine = _client(city.sato).get(reverse("awareness:mine")).content.decode()
    assert "佐藤 花子 様" in mine and "鈴木" not in mine
    assert _client(city.sato).get(reverse("awareness:detail", args=[sent.pk])).status_code == 403


def test_the_worker_prepares_the_seasons_ahead_sends_them_when_due_and_reminds(
    city, smtp_sink, django_capture_on_commit_callbacks
):
    fy = fiscal_year_of(timezone.localdate()) + 1
    send_at = datetime(fy, 4, 1, 9, tzinfo=JST)
    periodic.periodic_tick(send_at - timedelta(days=60))
    assert not Campaign.objects.filter(kind=CampaignKind.TRANSFER, season=fy).exists()
    periodic.periodic_tick(send_at - timedelta(days=40))
    periodic.periodic_tick(send_at - timedelta(days=39))  # idempotent
    campaign = Campaign.objects.get(kind=CampaignKind.TRANSFER, season=fy)
    assert campaign.status == CampaignStatus.SCHEDULED and "人事異動" in campaign.subject
    for staff, to in (
        (city.world.staff_in_scope, city.world.johou),
        (city.world.staff_outside, city.world.gyokaku),
    ):
        staff_transfer(
            actor="test", staff=staff, to_department=to, effective_date=send_at.date()
        )  # the movers
    with django_capture_on_commit_callbacks(execute=True):
        periodic.periodic_tick(campaign.send_at + timedelta(minutes=1))
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT and len(smtp_sink.messages) == 2
    remind_at = datetime.combine(campaign.due_on - timedelta(days=2), datetime.min.time(), JST) + timedelta(
        hours=9
    )
    with django_capture_on_commit_callbacks(execute=True):
        periodic.periodic_tick(remind_at)
        periodic.periodic_tick(remind_at + timedelta(hours=1))  # once only
    assert len(smtp_sink.messages) == 4 and all(
        m["Subject"].strip().startswith("【確認のお願い】") for m in smtp_sink.messages[2:]
    )
    assert AuditEvent.objects.filter(action="awareness.campaign.remind", actor="worker").count() == 1


def test_the_kpi_command_shows_the_rate_with_each_campaign_as_evidence(city, sent):
    services.acknowledgement_record(
        actor=city.sato, recipient=Recipient.objects.get(campaign=sent, staff=city.world.staff_in_scope)
    )
    out = StringIO()
    call_command("kpi", "--fiscal-year", str(fiscal_year_of(timezone.localdate())), "--json", stdout=out)
    rows = {row["code"]: row for row in json.loads(out.getvalue())}
    rate, count = rows["awareness.ack_rate"], rows["awareness.campaigns"]
    assert (rate["value"], rate["unit"], rate["evidence_count"]) == ("33.3", "%", 1)
    assert rate["detail"] == {"recipients": 3, "acknowledged": 1, "campaigns": 1}
    assert "確認 1/3人 (33.3%)" in rate["evidence"][0]["label"]
    assert rate["evidence"][0]["url"] == reverse("awareness:detail", args=[sent.pk])
    assert (count["value"], count["unit"]) == ("1", "回")


def test_the_reminder_note_on_the_detail_page_reads_in_english_with_ascii_parentheses(city, sent):
    Campaign.objects.filter(pk=sent.pk).update(reminded_at=datetime(2026, 6, 1, 9, 30, tzinfo=JST))
    client = _client(city.world.users[Role.SECURITY_OFFICER])
    url = reverse("awareness:detail", args=[sent.pk])
    assert "（督促 2026-06-01 09:30）" in client.get(url).content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = client.get(url).content.decode()
    assert " (reminded 2026-06-01 09:30)" in html and "（reminded" not in html


@pytest.mark.parametrize(
    ("send_at", "year"), [("2027-03-31T09:00", "令和8年度"), ("2027-04-01T09:00", "令和9年度")]
)
def test_an_officers_subject_gets_the_fiscal_year_of_its_send_date_written_out(city, send_at, year):
    officer = _client(city.world.users[Role.SECURITY_OFFICER])
    form = {
        "subject": "【臨時】不審メールにご注意ください（{年度}）", "body": "{氏名} 様", "send_at": send_at,
        "due_on": "2027-04-20", "remind_days_before": "2", "audience": "all", "role": "",
    }  # fmt: skip
    officer.post(reverse("awareness:create"), form)
    campaign = Campaign.objects.get()
    assert campaign.subject == f"【臨時】不審メールにご注意ください（{year}）"
    event = AuditEvent.objects.get(action="awareness.campaign.create")
    assert event.object_name == campaign.subject and event.after["subject"] == campaign.subject
    edit = officer.get(reverse("awareness:edit", args=[campaign.pk])).content.decode()
    assert f'value="{campaign.subject}"' in edit


def test_a_subject_whose_years_overflow_the_field_is_refused_and_nothing_saved(city):
    """{年度} is 4 characters and 令和8年度 5: a subject of 37 of them at 148 characters grows to 185."""
    with pytest.raises(ApplicationError) as exc:
        services.campaign_create(actor="officer", data=campaign_data(subject="{年度}" * 37))
    assert "件名" in exc.value.message and not Campaign.objects.exists()


def test_the_cards_light_names_the_rate_and_who_is_missing_and_leads_to_the_reminder(city, sent):
    officer = _client(city.world.users[Role.SECURITY_OFFICER])
    light = dashboard_light(officer, "awareness")
    assert light.status == "red" and "未確認 3人" in light.label
    assert light.url == reverse("awareness:detail", args=[sent.pk])
    page = officer.get(light.url).content.decode()
    assert f'action="{reverse("awareness:remind", args=[sent.pk])}"' in page
    lead = _client(city.world.users[Role.DEPARTMENT_LEAD])  # 総務部: two of the three recipients
    lead_light = dashboard_light(lead, "awareness")
    assert lead_light.status == "red" and "未確認 2人" in lead_light.label
    assert lead.get(lead_light.url).status_code == 200
    Recipient.objects.update(acknowledged_at=timezone.now())
    light = dashboard_light(officer, "awareness")
    assert (light.status, light.url) == ("green", "") and "100" in light.label
