"""A campaign from the officer's text to each person's mail (real SMTP) and acknowledgement: the
personal link works once, only for its recipient signed in as themselves, and expires; an altered,
forged or someone else's link is refused with one message that names nobody; nothing is saved."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mamori.apps.awareness import delivery, periodic, services
from mamori.apps.awareness.models import Recipient
from mamori.apps.awareness.tokens import MSG_EXPIRED, MSG_INVALID, SALT
from mamori.apps.core.models import AuditEvent, Role
from mamori.apps.core.wareki import fiscal_year_of, format_fiscal_year
from tests.remote_servers import free_port

from .conftest import link_for
from .helpers import campaign_data

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _said(response) -> list[str]:
    """The one-line messages of the page a refused or accepted request leads to (followed)."""
    assert response.status_code == 200 and response.redirect_chain, response.status_code
    return re.findall(r'<p class="message [a-z]+" role="status">([^<]*)</p>', response.content.decode())


def test_each_recipient_gets_a_personal_mail_with_the_city_and_dates_filled_in(city, sent, smtp_sink):
    sato = city.world.staff_in_scope
    assert sorted(r[0] for r in smtp_sink.recipients) == sorted([sato.email, city.world.staff_outside.email])
    mail = next(m for m, r in zip(smtp_sink.messages, smtp_sink.recipients, strict=True) if r == [sato.email])
    fy = format_fiscal_year(fiscal_year_of(timezone.localdate()))
    assert mail["Subject"].strip() == f"【注意喚起】みなと台市からのお知らせ（{fy}）"
    body = mail.get_content().replace("\r\n", "\n")
    due = sent.due_on
    assert body.startswith("佐藤 花子 様（総務部 行政改革課）\n")
    assert f"{due.month}月{due.day}日までに確認してください。" in body
    assert "{" not in body and "/awareness/ack/" in body
    # Three in service: two mailed, one (no address) sees the banner only; 休職 and 退職 are not asked.
    assert sent.recipients.count() == 3 and sent.recipients.filter(mailed_at__isnull=False).count() == 2
    actions = list(
        AuditEvent.objects.filter(action__startswith="awareness.").values_list("action", flat=True)
    )
    assert actions == ["awareness.campaign.create", "awareness.campaign.send", "awareness.mails.send"]


def test_the_link_acknowledges_once_for_its_recipient_after_signing_in(city, sent, smtp_sink):
    link = link_for(smtp_sink, city.world.staff_in_scope.email)
    anonymous = Client().get(link)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))
    client = _client(city.sato)
    page = client.get(link)
    assert page.status_code == 200 and "不審なメールの添付ファイル" in page.content.decode()
    done = client.post(link, follow=True)
    assert done.redirect_chain == [(reverse("awareness:mine"), 302)]
    assert _said(done) == ["確認しました。ご協力ありがとうございます。"]
    recipient = Recipient.objects.get(campaign=sent, staff=city.world.staff_in_scope)
    first = recipient.acknowledged_at
    assert first is not None and recipient.acknowledged_by == city.sato
    # The replayed POST: a clear message, nothing changed, no second audit event.
    replay = client.post(link, follow=True)
    assert "確認済みです" in _said(replay)[0]
    recipient.refresh_from_db()
    assert recipient.acknowledged_at == first
    assert AuditEvent.objects.filter(action="awareness.acknowledge").count() == 1


def test_someone_elses_altered_or_forged_link_is_refused_alike_and_saves_nothing(city, sent, smtp_sink):
    sato_link = link_for(smtp_sink, city.world.staff_in_scope.email)
    token = sato_link.rstrip("/").rsplit("/", 1)[1]
    suzuki_recipient = Recipient.objects.get(campaign=sent, staff=city.world.staff_outside)
    hostile = {
        "someone else's": sato_link,
        "altered": sato_link.replace(token, token[:-2] + ("AA" if token[-2:] != "AA" else "BB")),
        "forged with another key": reverse("awareness:ack", args=[signing.dumps({"r": suzuki_recipient.pk}, key="x" * 50, salt=SALT)]),
        "another salt": reverse("awareness:ack", args=[signing.dumps({"r": suzuki_recipient.pk})]),
        "nobody": reverse("awareness:ack", args=[signing.dumps({"r": 999_999}, salt=SALT)]),
        "not a dict": reverse("awareness:ack", args=[signing.dumps([suzuki_recipient.pk], salt=SALT)]),
    }  # fmt: skip
    suzuki = _client(city.suzuki)
    for what, path in hostile.items():
        for method in (suzuki.get, suzuki.post):
            response = method(path, follow=True)
            assert response.redirect_chain == [(reverse("awareness:mine"), 302)], what
            assert _said(response) == [str(MSG_INVALID)], what
    assert not Recipient.objects.filter(campaign=sent, acknowledged_at__isnull=False).exists()
    assert not AuditEvent.objects.filter(action="awareness.acknowledge").exists()


def test_the_link_expires_and_says_so_to_its_owner_only(city, sent, smtp_sink, settings, monkeypatch):
    link = link_for(smtp_sink, city.world.staff_in_scope.email)
    later = timezone.now() + timedelta(days=settings.MAMORI_ACK_LINK_DAYS, minutes=1)
    monkeypatch.setattr("time.time", lambda: later.timestamp())
    assert _said(_client(city.sato).post(link, follow=True)) == [str(MSG_EXPIRED)]
    assert _said(_client(city.suzuki).post(link, follow=True)) == [str(MSG_INVALID)]
    assert not Recipient.objects.filter(acknowledged_at__isnull=False).exists()


def test_the_banner_shows_until_acknowledged_and_a_reminder_goes_only_to_the_rest(
    city, sent, smtp_sink, django_capture_on_commit_callbacks
):
    client = _client(city.sato)
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert dashboard.count("data-banner") == 1 and "未確認の注意喚起: 【注意喚起】みなと台市" in dashboard
    assert client.post(reverse("awareness:acknowledge", args=[sent.pk])).status_code == 302
    assert "data-banner" not in client.get(reverse("dashboard")).content.decode()
    before = len(smtp_sink.messages)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.campaign_remind(actor="officer", campaign=sent) == 1
    reminders = smtp_sink.recipients[before:]
    assert reminders == [[city.world.staff_outside.email]]
    assert smtp_sink.messages[-1]["Subject"].strip().startswith("【確認のお願い】")
    # The reminder's own link works (a fresh token) and the first mail's link still does too.
    fresh = link_for(smtp_sink, city.world.staff_outside.email, nth=1)
    assert _said(_client(city.suzuki).post(fresh, follow=True)) == [
        "確認しました。ご協力ありがとうございます。"
    ]


def test_a_notice_for_someone_else_is_not_shown_nor_acknowledged(city, sent):
    officer = _client(city.world.users[Role.SECURITY_OFFICER])  # an officer without a staff record
    shown = officer.get(reverse("awareness:notice", args=[sent.pk]), follow=True)
    assert (
        _said(shown) == ["この注意喚起はあなたあてではありません。"]
        and "不審なメール" not in shown.content.decode()
    )
    refused = officer.post(reverse("awareness:acknowledge", args=[sent.pk]), follow=True)
    assert _said(refused) == ["この注意喚起はあなたあてではありません。"]
    auditor = _client(city.world.users[Role.AUDITOR])
    assert auditor.post(reverse("awareness:acknowledge", args=[sent.pk])).status_code == 403
    assert not Recipient.objects.filter(acknowledged_at__isnull=False).exists()


def test_an_unreachable_mail_server_leaves_the_mails_for_a_later_tick(
    city, smtp_sink, settings, django_capture_on_commit_callbacks, clock
):
    # mid-June: a tick on a season's sending day would also send that season's campaign to everyone
    clock(datetime(2026, 6, 10, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo")))
    port, settings.EMAIL_PORT = settings.EMAIL_PORT, free_port()  # nobody listens there
    campaign = services.campaign_create(actor="officer", data=campaign_data())
    with django_capture_on_commit_callbacks(execute=True):
        services.campaign_send(actor="officer", campaign=campaign)
    assert not campaign.recipients.filter(mailed_at__isnull=False).exists()
    settings.EMAIL_PORT = port
    periodic.periodic_tick(timezone.now() + periodic.RETRY_AFTER + timedelta(minutes=1))
    assert campaign.recipients.filter(mailed_at__isnull=False).count() == 2 and len(smtp_sink.messages) == 2
    assert not delivery.pending_mails(campaign, reminder=False).exists()
