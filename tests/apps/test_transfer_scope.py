"""A login's department scope follows its staff record's transfer, at once and audited.

Role matrix style: a department lead whose own record moves from 総務部 行政改革課 to 福祉部 子育て支援課
(by the staff page, by CSV import, or by the April batch) finds the old 部's lead pages 404 and the
new 課's working on the next request; a move inside the 部 they lead changes nothing. A 職員's login
follows too (the departments they may report an incident for), and it never saw colleagues' records.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from mamori.apps.awareness import services as awareness
from mamori.apps.core.models import AuditEvent, Membership, Role, Staff
from mamori.apps.core.services import staff_transfer
from mamori.apps.core.staff_import import staff_import
from mamori.apps.training import quiz
from tests.apps.awareness.helpers import campaign_data
from tests.apps.core.factories import StaffFactory
from tests.apps.core.world import World, build_world
from tests.apps.test_role_matrix import quiet_request_log
from tests.apps.training.helpers import answers, make_course, staff_member

__all__ = ["quiet_request_log"]  # the fixture, shared with the role matrix
pytestmark = pytest.mark.django_db
APRIL = date(2026, 4, 1)
HEADER = "職員番号,姓,名,所属コード,異動日\r\n"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _by_edit(world: World, staff: Staff) -> None:
    """The officer changes the 所属 on the staff member's edit page."""
    fields = ["family_name", "given_name", "family_name_kana", "given_name_kana", "email", "position"]
    form = {f: getattr(staff, f) for f in fields} | {
        "department": world.kosodate.pk, "employment_category": staff.employment_category,
        "status": staff.status, "effective_date": APRIL.isoformat(),
    }  # fmt: skip
    officer = _client(world.users[Role.SECURITY_OFFICER])
    assert officer.post(reverse("staff_update", args=[staff.pk]), form).status_code == 302


def _by_import(world: World, staff: Staff) -> None:
    row = (
        f"{staff.employee_number},{staff.family_name},{staff.given_name},{world.kosodate.code},2026-04-01\r\n"
    )
    assert staff_import(actor="officer", data=(HEADER + row).encode()).ok


def _by_batch(world: World, staff: Staff) -> None:
    """The April batch (定期人事異動) records each move through the transfer service."""
    staff_transfer(actor="officer", staff=staff, to_department=world.kosodate, effective_date=APRIL)


WAYS = {"edit": _by_edit, "import": _by_import, "batch": _by_batch}


def _lead_pages(world: World) -> dict[str, tuple[str, str]]:
    """For each lead page: (the old 部's, the new 課's) URL."""
    old_campaign, new_campaign = (
        awareness.campaign_create(
            actor="officer", data=campaign_data(audience="departments", departments=[d])
        )
        for d in (world.soumu, world.kosodate)
    )
    for campaign in (old_campaign, new_campaign):
        awareness.campaign_send(actor="officer", campaign=campaign, mail=False)
    return {
        "staff_detail": (
            reverse("staff_detail", args=[world.staff_in_scope.pk]),
            reverse("staff_detail", args=[world.staff_outside.pk]),
        ),
        "training:report-department": (
            reverse("training:report-department", args=[world.gyokaku.pk]),
            reverse("training:report-department", args=[world.kosodate.pk]),
        ),
        "awareness:detail": (
            reverse("awareness:detail", args=[old_campaign.pk]),
            reverse("awareness:detail", args=[new_campaign.pk]),
        ),
    }


def _statuses(client: Client, pages: dict[str, tuple[str, str]]) -> dict[str, tuple[int, int]]:
    return {
        name: (client.get(old).status_code, client.get(new).status_code) for name, (old, new) in pages.items()
    }


@pytest.mark.parametrize("way", WAYS)
def test_a_lead_who_moves_away_loses_the_old_departments_pages_and_gets_the_new_ones(
    way: str, quiet_request_log
):
    world = build_world()
    lead = world.users[Role.DEPARTMENT_LEAD]  # 総務部
    record = StaffFactory(department=world.gyokaku, position="部長", employee_number="100099")
    Membership.objects.filter(user=lead).update(staff=record)
    pages = _lead_pages(world)
    client = _client(lead)  # signed in before the transfer: the change applies to this session
    assert _statuses(client, pages) == dict.fromkeys(pages, (200, 404))

    WAYS[way](world, Staff.objects.get(pk=record.pk))

    assert _statuses(client, pages) == dict.fromkeys(pages, (404, 200))
    event = AuditEvent.objects.filter(action="user.update", object_id=str(lead.pk)).last()
    assert event.before["department_id"] == world.soumu.pk
    assert event.after["department_id"] == world.kosodate.pk and event.after["reason"] == "staff.transfer"


def test_a_move_inside_the_department_a_lead_covers_keeps_the_scope(quiet_request_log):
    world = build_world()
    lead = world.users[Role.DEPARTMENT_LEAD]
    record = StaffFactory(department=world.gyokaku, position="部長", employee_number="100099")
    Membership.objects.filter(user=lead).update(staff=record)
    events = AuditEvent.objects.filter(action="user.update").count()
    staff_transfer(actor="officer", staff=record, to_department=world.johou, effective_date=APRIL)
    assert Membership.objects.get(user=lead).department == world.soumu
    assert AuditEvent.objects.filter(action="user.update").count() == events


def test_a_staff_login_follows_its_transfer_and_never_sees_a_colleagues_records(quiet_request_log):
    world = build_world()
    course = make_course()
    user, record = staff_member(world.gyokaku, number="100098")
    colleague_user, colleague = staff_member(world.gyokaku, number="100097")  # the same 課
    theirs = quiz.attempt_start(actor=colleague_user, staff=colleague, course=course)
    quiz.attempt_submit(
        actor=colleague_user, staff=colleague, attempt_id=theirs.pk, answers=answers(theirs, right=4)
    )
    client = _client(user)
    for name, pk in [("training:attempt-result", theirs.pk), ("training:certificate", theirs.completion.pk)]:
        assert client.get(reverse(name, args=[pk])).status_code == 404, name
    choices = client.get(reverse("incidents:report")).content.decode()
    assert "行政改革課" in choices and "子育て支援課" not in choices

    _by_batch(world, Staff.objects.get(pk=record.pk))

    choices = client.get(reverse("incidents:report")).content.decode()
    assert "子育て支援課" in choices and "行政改革課" not in choices
    assert Membership.objects.get(user=user).department == world.kosodate
