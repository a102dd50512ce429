"""The transfer season's campaign goes to the staff who moved: with the demo city's April transfers
(定期人事異動), exactly the movers get the mail (a real SMTP server) and the banner, and the rates
count them alone. The officer may widen it to everyone; who receives it is fixed when it is sent."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mamori.apps.awareness import services
from mamori.apps.awareness.kpis import kpi_ack_rate
from mamori.apps.awareness.models import Audience, Campaign, CampaignKind, Recipient
from mamori.apps.core.demo_city import demo_city_setup, last_april_first
from mamori.apps.core.models import Department, Role, Staff, StaffStatus, StaffTransfer
from mamori.apps.core.services import staff_transfer
from mamori.apps.core.wareki import fiscal_year_of
from tests.apps.core.factories import staff_login

from .helpers import campaign_data

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.slow
def test_the_demo_citys_transfer_season_reaches_exactly_the_movers(
    settings, smtp_sink, django_capture_on_commit_callbacks
):
    settings.MAMORI_BASE_URL = "http://testserver"
    demo_city_setup()
    april = last_april_first(timezone.localdate())
    # the movers, read from the transfer records themselves (not through the audience's selector)
    movers = set(
        StaffTransfer.objects.filter(effective_date__gte=april, staff__status=StaffStatus.ACTIVE).values_list(
            "staff_id", flat=True
        )
    )
    assert 30 <= len(movers) < Staff.objects.count() // 10
    campaign = services.season_campaign_ensure(
        actor="worker", kind=CampaignKind.TRANSFER, fiscal_year=fiscal_year_of(april)
    )
    assert (campaign.audience, campaign.transferred_since) == (Audience.TRANSFERRED, april)
    with django_capture_on_commit_callbacks(execute=True):
        services.campaign_send(actor="worker", campaign=campaign)
    assert set(campaign.recipients.values_list("staff_id", flat=True)) == movers
    emails = set(Staff.objects.filter(pk__in=movers).exclude(email="").values_list("email", flat=True))
    assert sorted(r for rcpt in smtp_sink.recipients for r in rcpt) == sorted(emails)
    assert all("人事異動期" in m["Subject"] for m in smtp_sink.messages)

    mover = Staff.objects.filter(pk__in=movers).order_by("employee_number").first()
    stayer = (
        Staff.objects.filter(status=StaffStatus.ACTIVE, membership__isnull=True)
        .exclude(pk__in=movers)
        .first()
    )
    mover_login, stayer_login = (
        staff_login(staff=mover, password=None),
        staff_login(staff=stayer, password=None),
    )
    assert _client(mover_login).get(reverse("dashboard")).content.decode().count("data-banner") == 1
    assert "data-banner" not in _client(stayer_login).get(reverse("dashboard")).content.decode()

    # rates over the movers alone: a quarter of them acknowledge
    acknowledging = sorted(movers)[: len(movers) // 4]
    for recipient in Recipient.objects.filter(campaign=campaign, staff_id__in=acknowledging):
        services.acknowledgement_record(actor=mover_login, recipient=recipient)
    value = kpi_ack_rate(fiscal_year_of(timezone.localdate()))
    assert value.detail == {"recipients": len(movers), "acknowledged": len(acknowledging), "campaigns": 1}
    officer = Client()
    officer.force_login(Staff.objects.get(membership__user__username="officer").membership.user)
    page = officer.get(reverse("awareness:detail", args=[campaign.pk])).content.decode()
    assert f"（確認 {len(acknowledging)} / {len(movers)}人）" in page


def test_the_worker_prepares_the_transfer_season_for_the_movers_and_the_officer_may_widen_it(
    city, smtp_sink, django_capture_on_commit_callbacks
):
    fy = fiscal_year_of(timezone.localdate()) + 1
    campaign = services.season_campaign_ensure(actor="worker", kind=CampaignKind.TRANSFER, fiscal_year=fy)
    officer = _client(city.world.users[Role.SECURITY_OFFICER])
    page = officer.get(reverse("awareness:detail", args=[campaign.pk])).content.decode()
    assert (
        f"発令日が {fy}-04-01 以降" in page and "いま配信すると 0人" in page
    )  # the transfers are not in yet
    # a transfer last year does not count; this April's does
    staff_transfer(
        actor="test", staff=city.world.staff_outside, to_department=city.world.gyokaku,
        effective_date=date(fy - 1, 4, 1),
    )  # fmt: skip
    staff_transfer(
        actor="test", staff=city.world.staff_in_scope, to_department=city.world.kosodate,
        effective_date=date(fy, 4, 1),
    )  # fmt: skip
    assert (
        "いま配信すると 1人" in officer.get(reverse("awareness:detail", args=[campaign.pk])).content.decode()
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.campaign_send(actor="worker", campaign=campaign)
    assert smtp_sink.recipients == [[city.world.staff_in_scope.email]]
    # fixed at sending: someone who moves afterwards is not added
    staff_transfer(
        actor="test", staff=city.world.staff_outside, to_department=city.world.johou,
        effective_date=date(fy, 4, 2),
    )  # fmt: skip
    assert list(campaign.recipients.values_list("staff_id", flat=True)) == [city.world.staff_in_scope.pk]

    # the next season's, widened to everyone by the officer before it goes out
    widened = services.season_campaign_ensure(actor="worker", kind=CampaignKind.TRANSFER, fiscal_year=fy + 1)
    form = {
        "subject": widened.subject, "body": widened.body, "send_at": f"{fy + 1}-04-01T09:00",
        "due_on": f"{fy + 1}-04-15", "remind_days_before": "2", "audience": "all", "transferred_since": "",
    }  # fmt: skip
    assert officer.post(reverse("awareness:edit", args=[widened.pk]), form).status_code == 302
    widened.refresh_from_db()
    assert (widened.audience, widened.transferred_since, widened.kind) == (
        Audience.ALL,
        None,
        CampaignKind.TRANSFER,
    )
    services.campaign_send(actor="officer", campaign=widened, mail=False)
    assert widened.recipients.count() == Staff.objects.filter(status=StaffStatus.ACTIVE).count()


def test_movers_without_a_date_are_refused_with_the_reason(city):
    officer = _client(city.world.users[Role.SECURITY_OFFICER])
    form = {
        "subject": "異動された方へ", "body": "{氏名} 様\n引継ぎにご注意ください。", "send_at": "2030-04-01T09:00",
        "due_on": "2030-04-15", "remind_days_before": "2", "audience": "transferred", "transferred_since": "",
    }  # fmt: skip
    refused = officer.post(reverse("awareness:create"), form)
    assert refused.status_code == 200 and str(services.MSG_NEEDS_SINCE) in refused.content.decode()
    assert not Campaign.objects.exists()
    created = officer.post(reverse("awareness:create"), form | {"transferred_since": "2030-04-01"})
    assert created.status_code == 302
    assert Campaign.objects.get().transferred_since == date(2030, 4, 1)


def test_a_transferred_audience_sent_today_counts_from_its_date(city):
    """An ad hoc campaign for everyone who moved since a date in the past (a mid-year transfer)."""
    since = timezone.localdate() - timedelta(days=30)
    staff_transfer(
        actor="test", staff=city.world.staff_outside, to_department=city.world.gyokaku, effective_date=since
    )
    campaign = services.campaign_create(
        actor="officer", data=campaign_data(audience=Audience.TRANSFERRED, transferred_since=since)
    )
    services.campaign_send(actor="officer", campaign=campaign, mail=False)
    recipient = campaign.recipients.get()
    assert recipient.staff == city.world.staff_outside and recipient.department == Department.objects.get(
        pk=city.world.gyokaku.pk
    )
