"""The dashboard's backups card has an overall light like every other card: the worst of the systems'
lights (the same status logic as the backups pages), linking to what is wrong."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from django.urls import reverse
from django.utils import timezone

from mamori.apps.backups import services
from mamori.apps.backups.models import JobKind, Run, RunStatus
from mamori.apps.backups.selectors import worst_of

BACKEND = "django.contrib.auth.backends.ModelBackend"


def _card(client, user) -> str:
    client.force_login(user, backend=BACKEND)
    page = client.get(reverse("dashboard")).content.decode()
    return page.split('data-card="backups"')[1].split("</section>")[0]


def test_the_card_light_is_the_worst_system_and_leads_to_what_is_wrong(users, departments, client):
    fileserver = services.system_create(
        actor="t", code="fileserver", name="ファイルサーバ", department=departments["joho"]
    )
    services.system_create(actor="t", code="jumin", name="住民情報システム", department=departments["shimin"])
    card = _card(client, users["officer"])  # nothing backed up yet: both amber (RPO)
    assert '<span class="light amber">' in card
    assert f'href="{reverse("backups:systems")}"' in card.split("</h2>")[0]
    assert "2システムに問題があります: ファイルサーバ、住民情報システム" in card

    finished = timezone.now() - timedelta(hours=1)
    failed = Run.objects.create(
        system=fileserver,
        kind=JobKind.BACKUP,
        status=RunStatus.FAILED,
        started_at=finished,
        finished_at=finished,
    )
    card = _card(client, users["officer"])
    head = card.split("</h2>")[0]
    assert '<span class="light red">' in head
    assert f'href="{reverse("backups:run-detail", args=[failed.pk])}"' in head
    assert "ファイルサーバ: バックアップが失敗しています" in head
    # each system that is not green says why in the card, the failed one with its run
    assert card.count("data-reason") == 2 and 'data-action="failed-run"' in card

    lead_card = _card(client, users["lead"])  # the lead's departments own 住民情報システム only
    lead_head = lead_card.split("</h2>")[0]
    assert '<span class="light amber">' in lead_head and "ファイルサーバ" not in lead_card
    assert f'href="{reverse("backups:system-detail", args=["jumin"])}"' in lead_head


def test_the_worst_light_wins():
    green, amber, red = (SimpleNamespace(light=light) for light in ("green", "amber", "red"))
    assert worst_of([green, amber, red, green]) == [red]
    assert worst_of([green, amber, amber]) == [amber, amber]
    assert worst_of([green]) == [green] and worst_of([]) == []
