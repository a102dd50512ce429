"""The dashboard per role: officers see the program's areas, staff and leads what is asked of them and
whom to call; no card that says only 「まだ記録がありません」 to someone who cannot act on it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mamori.apps.core import navigation
from mamori.apps.core.models import Membership, Role
from mamori.apps.core.navigation import Task, register_tasks
from tests.apps.lights import Light, card_light

from .factories import StaffFactory

pytestmark = pytest.mark.django_db

PLACEHOLDER = "まだ記録がありません"


def _cards(client: Client, user) -> tuple[list[str], str]:  # type: ignore[no-untyped-def]
    client.force_login(user)
    html = client.get(reverse("dashboard")).content.decode()
    keys = [part.split('"')[0] for part in html.split('data-card="')[1:]]
    return keys, html


@pytest.fixture
def task_sources(monkeypatch):  # type: ignore[no-untyped-def]
    """A private copy of the task registry, so a test's source does not outlive it."""
    monkeypatch.setattr(navigation, "_task_sources", {})


def test_staff_see_what_is_asked_of_them_and_whom_to_call_not_dead_cards(world, client, task_sources):
    officer = world.users[Role.SECURITY_OFFICER]
    officer.membership.staff = StaffFactory(
        family_name="高橋", given_name="守", email="takahashi@city.example"
    )
    officer.membership.save()
    keys, html = _cards(client, world.users[Role.STAFF])
    assert keys == ["tasks", "me"]
    assert PLACEHOLDER not in html
    assert "今、あなたにお願いしていることはありません。" in html
    assert "行政改革課" in html  # their department
    assert "高橋 守" in html and 'href="mailto:takahashi@city.example"' in html


def test_a_task_an_app_registers_is_listed_for_that_person_overdue_first(world, client, task_sources):
    today = timezone.localdate()
    register_tasks(
        "training",
        lambda request: (
            [
                Task("標的型メール訓練", "/t/2", due=today + timedelta(days=5)),
                Task("情報セキュリティ基礎研修", "/t/1", due=today - timedelta(days=1)),
            ]
            if request.user.username == "staff"
            else []
        ),
    )
    _, html = _cards(client, world.users[Role.STAFF])
    tasks = html.split('data-card="tasks"')[1].split("</section>")[0]
    assert tasks.index("情報セキュリティ基礎研修") < tasks.index("標的型メール訓練")
    assert 'class="overdue"' in tasks and card_light(html, "tasks") == Light(
        "red", "期限を過ぎた依頼 1件", "/t/1"
    )
    keys, _ = _cards(client, world.users[Role.SECURITY_OFFICER])
    assert "tasks" not in keys  # nothing asked of the officer: no empty card for them


def test_tasks_not_yet_due_turn_the_light_amber_and_lead_to_the_first(world, client, task_sources):
    today = timezone.localdate()
    register_tasks("training", lambda request: [Task("研修", "/t/3", due=today), Task("通知", "/t/4")])
    _, html = _cards(client, world.users[Role.STAFF])
    assert card_light(html, "tasks") == Light("amber", "未完了の依頼 2件", "/t/3")
    client.post(reverse("set_language"), {"language": "en", "next": "/"})  # a count, whatever the number
    html = client.get(reverse("dashboard")).content.decode()
    assert card_light(html, "tasks") == Light("amber", "Open requests: 2", "/t/3")


def test_officers_and_auditors_see_every_area_of_the_program(world, client):
    for role in (Role.SECURITY_OFFICER, Role.AUDITOR):
        keys, _ = _cards(client, world.users[role])
        assert {"backups", "training", "awareness", "incidents", "evaluation"} <= set(keys)
        assert "me" not in keys


def test_a_lead_gets_no_placeholder_of_an_area_they_cannot_act_on(world, client, task_sources):
    keys, html = _cards(client, world.users[Role.DEPARTMENT_LEAD])
    assert PLACEHOLDER not in html
    assert {"training", "awareness", "devices", "disposal", "incidents"}.isdisjoint(keys)
    assert {"tasks", "me"} <= set(keys)


def test_a_login_without_staff_or_department_is_told_whom_to_ask(world, client, task_sources):
    user = world.users[Role.STAFF]
    Membership.objects.filter(user=user).update(department=None)
    _, html = _cards(client, user)
    assert "このログインには職員情報が結び付いていません。" in html


def test_the_language_menu_names_each_language_in_its_own_language(world, client):
    client.force_login(world.users[Role.STAFF])
    for language in ("ja", "en"):
        client.post(reverse("set_language"), {"language": language, "next": "/"})
        html = client.get(reverse("dashboard")).content.decode()
        menu = html.split('id="language"')[1].split("</select>")[0]
        assert '<option value="ja" lang="ja"' in menu and ">日本語</option>" in menu
        assert '<option value="en" lang="en"' in menu and ">English</option>" in menu


def test_every_page_starts_with_a_link_to_the_main_content(world, client):
    client.force_login(world.users[Role.STAFF])
    html = client.get(reverse("dashboard")).content.decode()
    body = html.split("<body>")[1]
    assert body.lstrip().startswith('<a class="skip-link" href="#main">本文へ移動</a>')
    assert '<main id="main" tabindex="-1">' in html


def test_the_header_counts_one_department_in_the_singular(world, client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    _keys, html = _cards(client, world.users[Role.STAFF])  # a staff member's scope: their own 課
    assert " staff in 1 department</p>" in html
    _keys, html = _cards(client, world.users[Role.SECURITY_OFFICER])
    assert " departments</p>" in html
