from datetime import date

import pytest

from mamori.apps.core import selectors, services
from mamori.apps.core.audit import audit_verify
from mamori.apps.core.errors import ApplicationError
from mamori.apps.core.models import AuditEvent, Membership, Role, StaffTransfer
from mamori.apps.core.permissions import membership_department_ids
from mamori.apps.core.services import StaffData

from .factories import UserFactory, user_with_role

pytestmark = pytest.mark.django_db


def _data(world, **changes):
    base = {
        "employee_number": "100099",
        "family_name": "高橋",
        "given_name": "誠",
        "family_name_kana": "たかはし",
        "given_name_kana": "まこと",
        "department": world.gyokaku,
        "position": "主事",
    }
    return StaffData(**(base | changes))


def test_staff_create_records_an_audit_event_with_the_new_values(world):
    staff = services.staff_create(actor=world.users[Role.SECURITY_OFFICER], data=_data(world))
    event = AuditEvent.objects.get(action="staff.create", object_id=str(staff.pk))
    assert event.actor == "officer"
    assert event.before is None
    assert event.after["family_name"] == "高橋" and event.after["department_id"] == world.gyokaku.pk
    assert audit_verify().ok


def test_staff_create_rejects_a_duplicate_employee_number(world):
    with pytest.raises(ApplicationError, match="職員番号"):
        services.staff_create(
            actor="t", data=_data(world, employee_number=world.staff_in_scope.employee_number)
        )


def test_staff_transfer_moves_the_staff_member_and_keeps_the_history(world):
    staff = world.staff_in_scope
    transfer = services.staff_transfer(
        actor="officer",
        staff=staff,
        to_department=world.kosodate,
        effective_date=date(2026, 4, 1),
        note="定期",
    )
    staff.refresh_from_db()
    assert staff.department == world.kosodate
    assert transfer.from_department == world.gyokaku and transfer.to_department == world.kosodate
    assert list(selectors.staff_transfer_list(staff=staff)) == [transfer]
    event = AuditEvent.objects.get(action="staff.transfer")
    assert event.before == {"department_id": world.gyokaku.pk}
    assert event.after["department_id"] == world.kosodate.pk and event.after["effective_date"] == "2026-04-01"


def test_staff_transfer_to_the_same_department_is_refused(world):
    with pytest.raises(ApplicationError) as exc:
        services.staff_transfer(
            actor="t",
            staff=world.staff_in_scope,
            to_department=world.gyokaku,
            effective_date=date(2026, 4, 1),
        )
    assert exc.value.code == "same_department"
    assert not StaffTransfer.objects.exists()


def test_staff_update_with_a_new_department_is_a_transfer(world):
    staff = world.staff_in_scope
    data = _data(world, employee_number=staff.employee_number, department=world.johou, position="主任")
    services.staff_update(actor="officer", staff=staff, data=data, effective_date=date(2026, 10, 1))
    staff.refresh_from_db()
    assert (staff.department, staff.position, staff.family_name) == (world.johou, "主任", "高橋")
    assert StaffTransfer.objects.get(staff=staff).effective_date == date(2026, 10, 1)
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["staff.transfer", "staff.update"]


def test_an_update_that_changes_nothing_records_nothing(world):
    staff = world.staff_in_scope
    data = StaffData(**{f: getattr(staff, f) for f in StaffData.__dataclass_fields__})
    services.staff_update(actor="officer", staff=staff, data=data)
    assert not AuditEvent.objects.exists()


def test_population_record_for_an_existing_date_replaces_it(world):
    first = services.population_record_set(
        actor="o", organisation=world.organisation, reference_date=date(2026, 4, 1),
        residents=109_000, households=49_000, source="住民基本台帳",
    )  # fmt: skip
    second = services.population_record_set(
        actor="o", organisation=world.organisation, reference_date=date(2026, 4, 1),
        residents=109_215, households=49_862, source="住民基本台帳",
    )  # fmt: skip
    assert first.pk == second.pk
    assert selectors.population_record_get(organisation=world.organisation).residents == 109_215
    assert (
        selectors.population_record_get(organisation=world.organisation, on=date(2020, 1, 1)).residents
        == 112_400
    )
    event = AuditEvent.objects.filter(action="population.update").get()
    assert event.before["residents"] == 109_000 and event.after["residents"] == 109_215


def test_department_cannot_move_below_itself(world):
    with pytest.raises(ApplicationError) as exc:
        services.department_update(actor="o", department=world.soumu, name="総務部", parent=world.gyokaku)
    assert exc.value.code == "department_cycle"


def test_department_tree_lists_parents_before_children_with_staff_counts(world):
    nodes = selectors.department_tree()
    names = [(n.department.name, n.depth, n.total) for n in nodes]
    assert names == [
        ("総務部", 0, 1), ("行政改革課", 1, 1), ("情報政策課", 1, 0), ("福祉部", 0, 1), ("子育て支援課", 1, 1),
    ]  # fmt: skip


def test_a_lead_sees_only_the_staff_of_their_department_subtree(world):
    scope = membership_department_ids(world.users[Role.DEPARTMENT_LEAD])
    assert scope == {world.soumu.pk, world.gyokaku.pk, world.johou.pk}
    assert list(selectors.staff_list(department_ids=scope)) == [world.staff_in_scope]
    assert membership_department_ids(world.users[Role.AUDITOR]) is None


def test_staff_list_searches_number_name_and_kana(world):
    assert list(selectors.staff_list(query="佐藤")) == [world.staff_in_scope]
    assert list(selectors.staff_list(query="400001")) == [world.staff_outside]
    assert list(selectors.staff_list(department=world.fukushi)) == [world.staff_outside]


def test_user_create_keeps_the_password_out_of_the_audit_log(world):
    user = services.user_create(
        actor="admin",
        username="newuser",
        password="a long passphrase 123",
        role=Role.STAFF,
        staff=world.staff_in_scope,
    )
    assert user.check_password("a long passphrase 123")
    event = AuditEvent.objects.get(action="user.create")
    assert "a long passphrase 123" not in str(event.after) and event.after["role"] == "staff"
    services.user_set_password(actor="admin", user=user, password="another passphrase 456")
    assert "another passphrase" not in str(AuditEvent.objects.get(action="user.password_set").after)


def test_a_lead_needs_a_department(world):
    with pytest.raises(ApplicationError) as exc:
        services.user_create(actor="admin", username="x", password=None, role=Role.DEPARTMENT_LEAD)
    assert exc.value.code == "lead_needs_department"


def test_membership_set_changes_role_and_records_before_and_after(world):
    user = world.users[Role.STAFF]
    services.membership_set(actor="admin", user=user, role=Role.DEPARTMENT_LEAD, department=world.fukushi)
    assert Membership.objects.get(user=user).role == Role.DEPARTMENT_LEAD
    event = AuditEvent.objects.get(action="user.update")
    assert event.before["role"] == "staff" and event.after["role"] == "department_lead"


def test_transfers_between_two_dates(world):
    for when, staff in ((date(2026, 4, 1), world.staff_in_scope), (date(2025, 4, 1), world.staff_outside)):
        services.staff_transfer(actor="o", staff=staff, to_department=world.johou, effective_date=when)
    april = selectors.staff_transfer_list(since=date(2026, 4, 1), until=date(2026, 4, 30))
    assert [t.staff for t in april] == [world.staff_in_scope]
    assert selectors.staff_transfer_list().count() == 2


# --- the last administrator ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "change", [{"role": Role.SECURITY_OFFICER}, {"role": Role.ADMINISTRATOR, "is_active": False}]
)
def test_the_last_administrator_cannot_be_demoted_or_deactivated(world, change):
    admin = world.users[Role.ADMINISTRATOR]
    events = AuditEvent.objects.count()
    with pytest.raises(ApplicationError) as exc:
        services.membership_set(actor=admin, user=admin, **change)
    assert exc.value.code == "last_administrator"
    assert str(exc.value).startswith("最後の有効なシステム管理者")
    admin.refresh_from_db()
    assert admin.is_active and admin.membership.role == Role.ADMINISTRATOR
    assert AuditEvent.objects.count() == events


def test_an_administrator_may_step_down_while_another_active_one_remains(world):
    first = world.users[Role.ADMINISTRATOR]
    second = user_with_role(Role.ADMINISTRATOR, username="admin2")
    services.membership_set(actor=first, user=first, role=Role.AUDITOR)
    assert Membership.objects.get(user=first).role == Role.AUDITOR
    with pytest.raises(ApplicationError, match="最後の有効なシステム管理者"):
        services.membership_set(actor=first, user=second, role=Role.STAFF)  # by anyone


def test_an_inactive_administrator_does_not_count(world):
    admin = world.users[Role.ADMINISTRATOR]
    UserFactory(role=Role.ADMINISTRATOR, username="admin2", is_active=False)
    with pytest.raises(ApplicationError, match="最後の有効なシステム管理者"):
        services.membership_set(actor=admin, user=admin, role=Role.STAFF)


def test_a_superuser_without_a_role_counts_as_an_administrator(world, django_user_model):
    admin = world.users[Role.ADMINISTRATOR]
    django_user_model.objects.create_superuser("root", password=None)
    services.membership_set(actor=admin, user=admin, role=Role.STAFF)
    assert Membership.objects.get(user=admin).role == Role.STAFF


def test_a_nul_character_is_refused_by_the_services_whoever_calls_them(world):
    """Forms refuse NUL; imports call the services directly (PostgreSQL would raise an internal error)."""
    data = StaffData(
        employee_number="700001", family_name="山\x00田", given_name="花子", department=world.johou
    )
    with pytest.raises(ApplicationError) as exc:
        services.staff_create(actor="import", data=data)
    assert exc.value.code == "nul_character" and str(exc.value) == "姓 にNUL文字（0x00）は使えません。"
    with pytest.raises(ApplicationError, match="所属名 にNUL文字"):
        services.department_create(actor="import", organisation=world.organisation, code="9", name="課\x00")
    assert not AuditEvent.objects.filter(action__in=["staff.create", "department.create"]).exists()
