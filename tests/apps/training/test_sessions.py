"""Classroom sessions: registration within capacity; attendance typed in or imported from CSV
(UTF-8 or CP932), all or nothing, with line-numbered errors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mamori.apps.core.models import AuditEvent
from mamori.apps.training import sessions
from mamori.apps.training.errors import TrainingError
from mamori.apps.training.models import Registration
from tests.apps.core.factories import StaffFactory, staff_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def session(db):  # type: ignore[no-untyped-def]
    return sessions.session_create(
        actor="test", title="情報セキュリティ研修（集合）", starts_at=timezone.now() + timedelta(days=3),
        place="本庁舎 第1会議室", capacity=2,
    )  # fmt: skip


def test_registration_stops_at_capacity_and_twice_is_refused(session, world):
    sessions.registration_add(actor="test", session=session, staff=world.staff_in_scope)
    with pytest.raises(TrainingError) as twice:
        sessions.registration_add(actor="test", session=session, staff=world.staff_in_scope)
    sessions.registration_add(actor="test", session=session, staff=world.staff_outside)
    with pytest.raises(TrainingError) as full:
        sessions.registration_add(actor="test", session=session, staff=StaffFactory(department=world.johou))
    assert (twice.value.code, full.value.code) == ("already_registered", "full")
    assert session.registrations.count() == 2


def test_attendance_in_cp932_as_excel_writes_it(session, world):
    data = "職員番号,氏名,出欠\r\n100001,佐藤 花子,出席\r\n400001,鈴木 一郎,欠席\r\n".encode("cp932")
    result = sessions.attendance_import(actor="test", session=session, data=data)
    assert (result.recorded, result.encoding, result.error_count) == (2, "CP932", 0)
    assert dict(session.registrations.values_list("staff__employee_number", "attended")) == {
        "100001": True, "400001": False,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("職員番号,出欠\n100001,出席\n999999,出席\n", ["3行目: 職員番号 '999999' の職員はいません"]),
        ("職員番号,出欠\n100001,たぶん\n", ["2行目: 出欠 'たぶん' は 出席 か 欠席 にしてください"]),
        ("職員番号,出欠\n100001,出席\n100001,欠席\n", ["3行目: 職員番号 100001 は 2行目にもあります"]),
        ("番号,出席\n100001,出席\n", ["1行目: 見出しに 職員番号 と 出欠 の列が必要です"]),
        ("職員番号,出欠\n,出席\n", ["2行目: 職員番号が空です"]),
    ],
)
def test_a_bad_line_records_nothing_and_is_named(session, world, content, expected):
    events = AuditEvent.objects.count()
    result = sessions.attendance_import(actor="test", session=session, data=content.encode())
    assert result.errors == expected and result.recorded == 0
    assert not Registration.objects.exists() and AuditEvent.objects.count() == events


def test_bytes_that_are_neither_utf8_nor_cp932_name_their_line(session):
    data = "職員番号,出欠\n".encode("cp932") + b"100001,\x82\xff\n"
    result = sessions.attendance_import(actor="test", session=session, data=data)
    assert result.errors == ["2行目: 文字コード CP932 (Shift_JIS) として読めない文字があります"]
    assert not Registration.objects.exists()


def test_more_people_than_seats_records_nothing(session, world):
    StaffFactory(department=world.johou, employee_number="700001")
    data = "職員番号,出欠\n100001,出席\n400001,出席\n700001,出席\n".encode()
    result = sessions.attendance_import(actor="test", session=session, data=data)
    assert result.errors == ["定員（2名）を超えるため取り込めません"] and not Registration.objects.exists()


def test_the_officer_ticks_attendance_on_the_page_and_a_forged_id_is_refused(session, world):
    registration = sessions.registration_add(actor="test", session=session, staff=world.staff_in_scope)
    client = Client()
    client.force_login(world.users["security_officer"])
    url = reverse("training:session-attendance", args=[session.pk])
    client.post(url, {"attended": [str(registration.pk)]})
    registration.refresh_from_db()
    assert registration.attended is True
    client.post(url, {"attended": [str(registration.pk + 1000)]}, follow=True)
    registration.refresh_from_db()
    assert registration.attended is True  # the forged id refused the whole post


def test_the_import_page_lists_the_errors(session, world):
    client = Client()
    client.force_login(world.users["security_officer"])
    upload = ("attendance.csv", "職員番号,出欠\n999999,出席\n".encode())
    page = client.post(reverse("training:attendance-import", args=[session.pk]),
                       {"file": SimpleUploadedFile(*upload)}).content.decode()  # fmt: skip
    assert "何も記録していません" in page and "2行目: 職員番号 &#x27;999999&#x27; の職員はいません" in page


@pytest.fixture
def user(world):  # type: ignore[no-untyped-def]
    """The world's staff login, linked to the staff member in scope."""
    user = world.users["staff"]
    user.membership.staff = world.staff_in_scope
    user.membership.save(update_fields=["staff"])
    return user


def _cancel(user, session):  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client.post(reverse("training:session-cancel", args=[session.pk]), follow=True)


def test_the_staff_member_cancels_their_own_registration_and_the_seat_is_freed(session, world, user):
    sessions.registration_add(actor="test", session=session, staff=world.staff_in_scope)
    sessions.registration_add(actor="test", session=session, staff=world.staff_outside)  # now full
    page = _cancel(user, session)
    assert "の申込を取り消しました" in page.content.decode()
    assert not session.registrations.filter(staff=world.staff_in_scope).exists()
    event = AuditEvent.objects.order_by("-sequence").first()
    assert (event.action, event.actor, event.before["staff"]) == (
        "training.session.cancel",
        user.username,
        world.staff_in_scope.employee_number,
    )
    sessions.registration_add(actor="test", session=session, staff=StaffFactory(department=world.johou))


def test_another_persons_registration_cannot_be_cancelled(session, world, user):
    sessions.registration_add(actor="test", session=session, staff=world.staff_outside)
    before = AuditEvent.objects.count()
    assert _cancel(user, session).status_code == 404
    assert _cancel(world.users["security_officer"], session).status_code == 404  # no staff record of theirs
    assert session.registrations.filter(staff=world.staff_outside).exists()
    assert AuditEvent.objects.count() == before


def test_a_registration_cannot_be_cancelled_once_the_session_has_started(session, world, user):
    sessions.registration_add(actor="test", session=session, staff=world.staff_in_scope)
    session.starts_at = timezone.now() - timedelta(minutes=1)
    session.save(update_fields=["starts_at"])
    page = _cancel(user, session)
    assert "開始した集合研修の申込は取り消せません" in page.content.decode()
    assert session.registrations.filter(staff=world.staff_in_scope).exists()
    assert not AuditEvent.objects.filter(action="training.session.cancel").exists()


def test_the_staff_member_is_asked_before_their_registration_is_cancelled(session, world, user):
    sessions.registration_add(actor="test", session=session, staff=world.staff_in_scope)
    client = Client()
    client.force_login(user)
    listing = client.get(reverse("training:sessions")).content.decode()
    cancel = reverse("training:session-cancel", args=[session.pk])
    assert f'href="{cancel}"' in listing and f'action="{cancel}"' not in listing  # a link, not a POST
    page = client.get(cancel).content.decode()
    assert "申込を取り消しますか" in page and "本庁舎 第1会議室" in page and 'data-action="confirm"' in page
    assert session.registrations.filter(staff=world.staff_in_scope).exists()  # asking changes nothing
    assert not AuditEvent.objects.filter(action="training.session.cancel").exists()


def _officer(world):  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(world.users["security_officer"])
    return client


def _remove_url(registration):  # type: ignore[no-untyped-def]
    return reverse("training:session-registration-remove", args=[registration.session_id, registration.pk])


def test_the_officer_removes_someone_elses_registration_after_confirming(session, world):
    mine = sessions.registration_add(actor="test", session=session, staff=world.staff_outside)
    sessions.registration_add(actor="test", session=session, staff=world.staff_in_scope)  # now full
    officer = _officer(world)
    detail = officer.get(reverse("training:session-detail", args=[session.pk])).content.decode()
    assert f'href="{_remove_url(mine)}"' in detail
    asked = officer.get(_remove_url(mine)).content.decode()
    assert world.staff_outside.full_name in asked and "申込を取り消しますか" in asked
    page = officer.post(_remove_url(mine), follow=True).content.decode()
    assert f"{world.staff_outside.full_name} さんの申込を取り消しました" in page
    assert not Registration.objects.filter(pk=mine.pk).exists()
    event = AuditEvent.objects.order_by("-sequence").first()
    assert (event.action, event.actor, event.before["staff"]) == (
        "training.session.remove",
        world.users["security_officer"].username,
        world.staff_outside.employee_number,
    )
    sessions.registration_add(actor="test", session=session, staff=StaffFactory(department=world.johou))


def test_the_officer_cannot_remove_once_the_session_has_started_nor_from_another_session(session, world):
    registration = sessions.registration_add(actor="test", session=session, staff=world.staff_outside)
    other = sessions.session_create(
        actor="test", title="別の研修", starts_at=timezone.now() + timedelta(days=5), place="x", capacity=5
    )
    officer = _officer(world)
    forged = reverse("training:session-registration-remove", args=[other.pk, registration.pk])
    assert officer.get(forged).status_code == 404 and officer.post(forged).status_code == 404
    session.starts_at = timezone.now() - timedelta(minutes=1)
    session.save(update_fields=["starts_at"])
    asked = officer.get(_remove_url(registration)).content.decode()
    assert "開始した集合研修の申込は取り消せません" in asked and 'data-action="confirm"' not in asked
    assert (
        _remove_url(registration)
        not in officer.get(reverse("training:session-detail", args=[session.pk])).content.decode()
    )
    page = officer.post(_remove_url(registration), follow=True).content.decode()  # a hand-made POST
    assert "開始した集合研修の申込は取り消せません" in page
    assert Registration.objects.filter(pk=registration.pk).exists()
    assert not AuditEvent.objects.filter(action="training.session.remove").exists()


@pytest.mark.parametrize("role", ["staff", "department_lead", "auditor"])
def test_no_one_but_the_officer_may_remove_a_registration(session, world, role):
    registration = sessions.registration_add(actor="test", session=session, staff=world.staff_outside)
    client = Client()
    client.force_login(world.users[role])
    assert client.post(_remove_url(registration)).status_code == 403
    assert Registration.objects.filter(pk=registration.pk).exists()


def test_a_removal_post_without_the_csrf_token_is_refused(session, world):
    registration = sessions.registration_add(actor="test", session=session, staff=world.staff_outside)
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["security_officer"])
    assert client.post(_remove_url(registration)).status_code == 403
    assert Registration.objects.filter(pk=registration.pk).exists()


def test_no_one_registers_for_a_session_that_has_begun(world):
    """The sessions page shows no button then; a hand-made POST is refused in one line, nothing saved."""
    begun = sessions.session_create(
        actor="test", title="開始済みの研修", starts_at=timezone.now() - timedelta(minutes=5),
        place="会議室", capacity=10, created_at=timezone.now() - timedelta(days=7),
    )  # fmt: skip
    with pytest.raises(TrainingError) as exc:
        sessions.registration_add(actor="test", session=begun, staff=world.staff_in_scope)
    assert (exc.value.code, exc.value.message) == ("started", "開始した集合研修には申し込めません")
    client = Client()
    client.force_login(staff_login(staff=world.staff_in_scope))
    response = client.post(reverse("training:session-register", args=[begun.pk]), follow=True)
    assert "開始した集合研修には申し込めません" in response.content.decode()
    assert not begun.registrations.exists()
    # recorded afterwards: registered before it began, not before it was announced
    early = begun.created_at - timedelta(days=1)
    with pytest.raises(TrainingError) as exc:
        sessions.registration_add(
            actor="test", session=begun, staff=world.staff_in_scope, registered_at=early
        )
    assert exc.value.code == "out_of_order"
    on_time = begun.starts_at - timedelta(days=1)
    sessions.registration_add(actor="test", session=begun, staff=world.staff_in_scope, registered_at=on_time)
    assert begun.registrations.get().registered_at == on_time
