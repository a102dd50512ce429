"""Staff logins: made in bulk by the officer, the first password set through the mailed one-time link
(captured by a real SMTP server), the link refused when altered, replayed, expired or someone else's,
and a leaver's login disabled by an edit or an import."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import urlparse

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from mamori.apps.core.models import AuditEvent, Role, Staff, StaffStatus
from mamori.apps.core.services import StaffData, staff_update
from mamori.apps.core.staff_import import staff_import
from mamori.apps.core.staff_logins import first_password_tokens, staff_logins_create

from .factories import TEST_PASSWORD, StaffFactory, staff_login

pytestmark = pytest.mark.django_db
User = get_user_model()
NEW_PASSWORD = "夕焼け小焼けの赤とんぼ 2026"
LINK = re.compile(r"http://testserver(/password/set/[^/\s]+/[^/\s]+/)")


@pytest.fixture
def register(world):
    """Staff in service with and without an address, a leaver, and one who already has a login."""
    return {
        "sato": world.staff_in_scope,  # 佐藤 花子, with an address (factory)
        "suzuki": world.staff_outside,
        "no_mail": StaffFactory(department=world.gyokaku, email="", employee_number="100009"),
        "left": StaffFactory(department=world.gyokaku, status=StaffStatus.LEFT, employee_number="100010"),
        "has_login": staff_login(department=world.johou, employee_number="100011").membership.staff,
    }


@pytest.fixture
def invited(register, smtp_sink, settings, django_capture_on_commit_callbacks):
    settings.MAMORI_BASE_URL = "http://testserver"
    with django_capture_on_commit_callbacks(execute=True):
        result = staff_logins_create(actor="officer")
    return result


def _link_for(sink, address: str) -> str:
    (mail,) = [m for m, rcpt in zip(sink.messages, sink.recipients, strict=True) if rcpt == [address]]
    return LINK.search(mail.get_content()).group(1)


def _set_password(client: Client, link: str, password: str = NEW_PASSWORD):
    opened = client.get(link)
    if opened.status_code != 302:
        return opened
    return client.post(opened["Location"], {"new_password1": password, "new_password2": password})


def _main(response) -> str:
    """The page's own part (the footer's form carries a per-response CSRF token)."""
    return re.search(r"<main.*</main>", response.content.decode(), re.S).group(0)


def test_bulk_creation_makes_staff_logins_and_mails_each_a_link_never_a_password(
    register, invited, smtp_sink
):
    assert invited.created == ["100001", "400001"]  # the two in service with an address and no login
    assert invited.without_email == 1 and invited.name_taken == []
    sato = User.objects.get(username="100001")
    assert sato.membership.role == Role.STAFF and sato.membership.staff == register["sato"]
    assert not sato.has_usable_password()
    # The login that already existed has its password: it is not invited again.
    assert sorted(r[0] for r in smtp_sink.recipients) == sorted(
        [register["sato"].email, register["suzuki"].email]
    )
    body = smtp_sink.messages[0].get_content()
    assert "ユーザー名: " in body and "一度だけ" in body and "パスワードを尋ねることはありません" in body
    assert smtp_sink.messages[0]["Subject"].strip() == "[mamori] ログインのご案内（パスワードの設定）"
    events = AuditEvent.objects.filter(action__startswith="staff_logins.")
    assert [e.action for e in events] == ["staff_logins.create", "staff_logins.links_send"]
    assert events[1].after == {"sent": ["100001", "400001"], "failed": 0}
    assert AuditEvent.objects.filter(action="user.create", object_name="100001").exists()


def test_the_link_sets_the_first_password_once_and_the_person_signs_in(invited, smtp_sink, client, register):
    link = _link_for(smtp_sink, register["sato"].email)
    done = _set_password(client, link)
    assert done.status_code == 302 and done["Location"] == reverse("login")
    assert client.post(reverse("login"), {"username": "100001", "password": NEW_PASSWORD}).status_code == 302
    assert AuditEvent.objects.filter(action="user.password_set", actor="100001").count() == 1
    # The link is spent: opening it again, or replaying the form, changes nothing.
    replay = Client()
    again = replay.get(link)
    assert again.status_code == 400 and "このリンクは使えません" in again.content.decode()
    post_again = client.post(urlparse(link).path.rsplit("/", 2)[0] + "/set-password/",
                             {"new_password1": "別のパスワードです 9999", "new_password2": "別のパスワードです 9999"})  # fmt: skip
    assert post_again.status_code == 400
    assert User.objects.get(username="100001").check_password(NEW_PASSWORD)
    assert AuditEvent.objects.filter(action="user.password_set").count() == 1


def test_a_weak_first_password_is_refused_and_the_link_still_works(invited, smtp_sink, client, register):
    link = _link_for(smtp_sink, register["sato"].email)
    refused = _set_password(client, link, "password1234")
    assert refused.status_code == 200 and "よく使われる" in refused.content.decode()
    assert _set_password(Client(), link).status_code == 302


def test_an_altered_forged_or_someone_elses_link_reveals_nothing(invited, smtp_sink, register):
    sato_link = _link_for(smtp_sink, register["sato"].email)
    suzuki_link = _link_for(smtp_sink, register["suzuki"].email)
    _, _, _, sato_uid, sato_token, _ = sato_link.split("/")
    suzuki_uid = suzuki_link.split("/")[3]
    flipped = sato_token[:-1] + ("0" if sato_token[-1] != "0" else "1")
    hostile = {
        "someone else's token": f"/password/set/{suzuki_uid}/{sato_token}/",
        "altered token": f"/password/set/{sato_uid}/{flipped}/",
        "nobody": f"/password/set/OTk5OTk/{sato_token}/",  # user 99999 does not exist
        "garbage": "/password/set/!!/<script>/",
        "the form without a link": f"/password/set/{sato_uid}/set-password/",
    }
    pages = {}
    for what, path in hostile.items():
        response = Client().get(path)
        assert response.status_code == 400, what
        pages[what] = _main(response)
    assert len(set(pages.values())) == 1, "every refusal must look the same"
    assert "佐藤" not in pages["altered token"] and "100001" not in pages["altered token"]
    assert not User.objects.get(username="100001").has_usable_password()


def test_the_link_expires(invited, smtp_sink, register, settings, monkeypatch):
    link = _link_for(smtp_sink, register["sato"].email)
    later = datetime.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)
    monkeypatch.setattr(first_password_tokens, "_now", lambda: later)
    assert Client().get(link).status_code == 400


def test_a_leaver_loses_the_login_on_edit_and_the_link_dies_with_it(invited, smtp_sink, register, world):
    link = _link_for(smtp_sink, register["suzuki"].email)
    suzuki = register["suzuki"]
    data = StaffData(employee_number=suzuki.employee_number, family_name=suzuki.family_name,
                     given_name=suzuki.given_name, department=suzuki.department, email=suzuki.email,
                     status=StaffStatus.LEFT)  # fmt: skip
    staff_update(actor="officer", staff=suzuki, data=data)
    user = User.objects.get(username="400001")
    assert not user.is_active
    event = AuditEvent.objects.filter(action="user.update", object_id=str(user.pk)).last()
    assert event.after["reason"] == "staff.left" and event.after["is_active"] is False
    assert Client().get(link).status_code == 400


def test_a_leaver_loses_the_login_on_import_and_a_signed_in_session_ends(world):
    user = staff_login(staff=world.staff_in_scope)
    client = Client()
    client.post(reverse("login"), {"username": user.username, "password": TEST_PASSWORD})
    assert client.get(reverse("dashboard")).status_code == 200
    csv = "職員番号,姓,名,所属コード,状態\n100001,佐藤,花子,1002,退職\n"
    assert staff_import(actor="officer", data=csv.encode()).ok
    assert not User.objects.get(pk=user.pk).is_active
    assert client.get(reverse("dashboard")).status_code == 302  # signed out


def test_the_last_administrator_is_not_disabled_by_an_import(world):
    admin = world.users[Role.ADMINISTRATOR]
    admin.membership.staff = world.staff_in_scope
    admin.membership.save()
    csv = "職員番号,姓,名,所属コード,状態\n100001,佐藤,花子,1002,退職\n"
    result = staff_import(actor="officer", data=csv.encode())
    assert not result.ok and "最後の有効なシステム管理者" in " ".join(result.errors)
    assert User.objects.get(pk=admin.pk).is_active
    assert Staff.objects.get(pk=world.staff_in_scope.pk).status == StaffStatus.ACTIVE


def test_a_staff_login_locks_after_five_failures(world, client):
    staff_login(staff=world.staff_in_scope)
    for _ in range(5):
        client.post(reverse("login"), {"username": "100001", "password": "wrong password"})
    locked = client.post(reverse("login"), {"username": "100001", "password": TEST_PASSWORD})
    assert locked.status_code == 429 and "_auth_user_id" not in client.session


def test_the_officer_page_creates_logins_for_a_department_only(world, client, smtp_sink, settings,
                                                              django_capture_on_commit_callbacks):  # fmt: skip
    client.force_login(world.users[Role.SECURITY_OFFICER])
    page = client.get(reverse("staff_logins"))
    assert page.status_code == 200 and "ログインなし（作成できる）" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(reverse("staff_logins"), {"department": world.soumu.pk}, follow=True)
    assert "ログインを1件作成し" in done.content.decode()
    assert list(User.objects.filter(membership__role=Role.STAFF, membership__staff__isnull=False)
                .values_list("username", flat=True)) == ["100001"]  # fmt: skip
    assert smtp_sink.recipients == [[world.staff_in_scope.email]]
