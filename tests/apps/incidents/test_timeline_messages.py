"""The timeline's own entries (受付, 速報/確報, 日時の訂正, 完了, 再開) are stored as messages and read in
the reader's language, whoever wrote them in whichever language; what a person typed (an entry, a
reason) stays as typed; an entry written before shows its text as written."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from mamori.apps.core.models import Role
from mamori.apps.incidents import services
from mamori.apps.incidents.models import Incident, TimelineEntry
from tests.apps.disposal.helpers import signed_in
from tests.apps.incidents.helpers import closed

pytestmark = pytest.mark.django_db
REPORTABLE = {"personal_data": True, "people_affected": 1, "special_care": True}


def history(world, language: str) -> Incident:
    """Reported, both reports filed, closed, reopened with a typed reason, dates corrected, a typed
    entry — every write made with `language` active (as the writer's page would have it)."""
    with translation.override(language):
        incident = closed(world, **REPORTABLE)
        services.incident_reopen(actor="o", incident=incident, reason="追加の紛失が判明 <b>")
        services.incident_correct_dates(
            actor="o",
            incident=incident,
            detected_at=incident.detected_at - timedelta(hours=2),
            learned_at=incident.learned_at - timedelta(hours=1),
            reason="受付票の誤記",
        )
        services.incident_entry_add(actor="o", incident=incident, text="本人に連絡済み")
    return incident


def timeline_in(language: str, world, incident: Incident) -> str:
    client = signed_in(world, Role.AUDITOR)
    client.cookies["django_language"] = language
    page = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    return unescape(page[page.index('<ol class="timeline">') :].split("</ol>")[0])


def test_a_timeline_written_in_japanese_reads_in_english(world):
    page = timeline_in("en", world, history(world, "ja"))
    for words in (
        "Report received",
        "Preliminary report filed with the Commission",
        "Final report filed with the Commission",
        "Closed",
        "Reopened: 追加の紛失が判明 <b>",
        "Dates corrected (Occurred / found at ",
        ", City learned of it at ",
        "): 受付票の誤記",
        "本人に連絡済み",
    ):
        assert words in page, words
    for japanese in ("受け付け", "提出", "完了", "再開", "訂正", "、"):
        assert japanese not in page, japanese


def test_a_timeline_written_in_english_reads_in_japanese(world):
    page = timeline_in("ja", world, history(world, "en"))
    for words in (
        "報告を受け付けました",
        "速報を個人情報保護委員会に提出",
        "確報を個人情報保護委員会に提出",
        "完了しました",
        "再開しました: 追加の紛失が判明 <b>",
        "日時を訂正しました（発生・発見日時 ",
        "、市が把握した日時 ",
        "）: 受付票の誤記",
    ):
        assert words in page, words
    assert "Report" not in page and "Closed" not in page


def test_an_entry_written_before_shows_its_text_and_a_typed_one_is_not_read_as_a_message(world):
    incident = closed(world)
    TimelineEntry.objects.create(incident=incident, at=timezone.now(), text="報告を受け付けました（旧）")
    services_entry = "{reason} %(x)s 完了しました"
    with translation.override("ja"):
        services.incident_reopen(actor="o", incident=incident, reason="x")
        services.incident_entry_add(actor="o", incident=incident, text=services_entry)
    page = timeline_in("en", world, incident)
    assert "報告を受け付けました（旧）" in page and services_entry in page
