"""A run's error is stored as its message and parameters and read in the reader's language; a row
written before (plain Japanese text) still shows as written."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from mamori.apps.backups.executors import CHECK_ERRORS, NOT_RESTORED, SOURCE_MISSING
from mamori.apps.backups.jobs import _finish
from mamori.apps.backups.models import Alert, JobKind, ProtectedSystem, Run, RunStatus
from mamori.apps.core.messages import Message, message_json, message_text

from .conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def system(departments) -> ProtectedSystem:
    return ProtectedSystem.objects.create(code="fs", name="ファイルサーバ", department=departments["joho"])


def _failed(system: ProtectedSystem, error) -> Run:
    run = Run.objects.create(system=system, kind=JobKind.CHECK_SUBSET, started_at=timezone.now())
    return _finish(run, None, message_json(error), 1.0)


def test_a_failed_run_reads_in_each_readers_language(system):
    run = _failed(
        system, Message(CHECK_ERRORS, problems=[Message(NOT_RESTORED, path="/共有/a.txt"), "pack 1f"])
    )
    japanese = "整合性検査でエラーが見つかりました: /共有/a.txt: 復元されていません / pack 1f"
    assert run.error_text == japanese and run.error == japanese
    with translation.override("en"):
        assert run.error == "The integrity check found errors: /共有/a.txt: not restored / pack 1f"
        assert Alert.objects.get(run=run).text.startswith("Integrity check failed: The integrity check found")


def test_an_old_run_with_japanese_text_shows_it_unchanged(system, client, users):
    run = Run.objects.create(
        system=system,
        kind=JobKind.BACKUP,
        status=RunStatus.FAILED,
        error_text="リポジトリが見つかりません: x",
    )
    client.force_login(users["officer"])
    client.cookies["django_language"] = "en"
    page = client.get(reverse("backups:run-detail", args=[run.pk])).content.decode()
    assert "リポジトリが見つかりません: x" in page


def test_the_run_page_shows_the_error_in_english(system, client, users):
    run = _failed(system, Message(SOURCE_MISSING, path="/srv/共有"))
    client.force_login(users["officer"])
    client.cookies["django_language"] = "en"
    page = client.get(reverse("backups:run-detail", args=[run.pk])).content.decode()
    assert "Source not found: /srv/共有" in page and "バックアップ元" not in page
    client.cookies["django_language"] = "ja"
    page = client.get(reverse("backups:run-detail", args=[run.pk])).content.decode()
    assert "バックアップ元が見つかりません: /srv/共有" in page


def test_hostile_parameters_stay_text_and_lose_their_credentials(system):
    path = "/srv/{path}{0}{kind!r}/x https://admin:hunter2@nas.example/ PGPASSWORD=s3cret"
    run = _failed(system, Message(SOURCE_MISSING, path=path))
    assert "hunter2" not in str(run.error_message) and "s3cret" not in str(run.error_message)
    assert "hunter2" not in run.error_text and "s3cret" not in run.error_text
    with translation.override("en"):
        assert (
            run.error
            == "Source not found: /srv/{path}{0}{kind!r}/x https://admin:***@nas.example/ PGPASSWORD=***"
        )


def test_a_stored_message_built_by_hand_cannot_break_the_page():
    """A row edited or written by an older version: unknown fields, wrong types, nesting."""
    assert message_text({"msgid": "{missing} だけ", "params": {}}) == "{missing} だけ"
    assert message_text({"msgid": "{0}", "params": {"a": 1}}) == "{0}"
    assert message_text({"msgid": 5}) == "{'msgid': 5}"
    assert message_text(["a", {"msgid": "b {x}", "params": {"x": ["c", "d"]}}]) == "a\nb c / d"
    assert message_text(None) == "" and message_text("そのまま") == "そのまま"


def test_a_lead_reading_in_english_sees_english_too(system, client, departments):
    lead = make_user("lead-joho", "department_lead", departments["joho"])
    run = _failed(system, Message(SOURCE_MISSING, path="/srv"))
    client.force_login(lead)
    client.cookies["django_language"] = "en"
    response = client.get(reverse("backups:run-detail", args=[run.pk]))
    assert response.status_code == 200 and "Source not found: /srv" in response.content.decode()
