"""Core writes: organisation, population records, departments, staff and transfers, logins and roles.

Every service is keyword-only, runs in one `transaction.atomic()` and records an audit event with
the before / after snapshot, so the audit log can answer who changed what and when.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .audit import Actor, audit_record, snapshot_of
from .errors import ApplicationError
from .models import (
    Department,
    EmploymentCategory,
    Membership,
    Organisation,
    PopulationRecord,
    Role,
    Staff,
    StaffStatus,
    StaffTransfer,
)

User = get_user_model()

MSG_SAME_DEPARTMENT = _("異動先が現在の所属と同じです。")
MSG_DEPARTMENT_CYCLE = _("上位の所属に自分自身または下位の所属は指定できません。")
MSG_LEAD_NEEDS_DEPARTMENT = _("所属長ロールには担当する所属を指定してください。")
MSG_USERNAME_TAKEN = _("このユーザー名は既に使われています。")
MSG_NUL_CHARACTER = _("%(field)s にNUL文字（0x00）は使えません。")
MSG_LAST_ADMINISTRATOR = _(
    "最後の有効なシステム管理者のロールは変更・無効化できません。先に別のログインをシステム管理者にしてください。"
)
USER_FIELDS = ["id", "username", "email", "is_active"]


def validated(
    obj: models.Model,
    *,
    exclude: list[str] | None = None,
    fields_only: bool = False,
    error: type[ApplicationError] = ApplicationError,
) -> None:
    """`full_clean()` with Django's field errors turned into one `error` line naming each field.

    NUL is refused first: forms refuse it, but services are also called by imports, and PostgreSQL
    would refuse the row with an internal error where SQLite stores it. `fields_only` checks the
    plain fields alone (lengths, blanks, choices), not uniqueness or `clean()`: for a row that may
    already exist. `error` is the calling app's ApplicationError subclass.
    """
    for field in obj._meta.concrete_fields:
        value = getattr(obj, field.attname)
        if isinstance(value, str) and "\x00" in value:
            raise error(MSG_NUL_CHARACTER % {"field": field.verbose_name}, code="nul_character")
    try:
        if fields_only:
            relations = [f.name for f in obj._meta.fields if f.is_relation]
            obj.clean_fields(exclude=[*(exclude or []), *relations])
        else:
            obj.full_clean(exclude=exclude)
    except ValidationError as exc:
        parts = []
        for field, messages in exc.message_dict.items():
            label = obj._meta.get_field(field).verbose_name if field != "__all__" else ""
            parts.append(f"{label}: {' '.join(messages)}" if label else " ".join(messages))
        raise error("; ".join(parts), code="invalid", extra=exc.message_dict) from exc


# --- organisation and population -------------------------------------------------------------


def organisation_upsert(
    *, actor: Actor, name: str, prefecture: str, name_en: str = "", code: str = ""
) -> Organisation:
    """Create the installation's organisation, or update it (there is one per installation)."""
    with transaction.atomic():
        org = Organisation.objects.select_for_update().order_by("pk").first()
        before = snapshot_of(org) if org else None
        org = org or Organisation()
        org.name, org.prefecture, org.name_en, org.code = name, prefecture, name_en, code
        validated(org)
        org.save()
        if before != snapshot_of(org):
            audit_record(
                actor=actor,
                action="organisation.update" if before else "organisation.create",
                obj=org,
                before=before,
                after=snapshot_of(org),
            )
    return org


def population_record_set(
    *,
    actor: Actor,
    organisation: Organisation,
    reference_date: date,
    residents: int,
    households: int,
    source: str,
) -> PopulationRecord:
    """Record residents and households on a date; a second record for the same date replaces it."""
    with transaction.atomic():
        record = (
            PopulationRecord.objects.select_for_update()
            .filter(organisation=organisation, reference_date=reference_date)
            .first()
        )
        before = snapshot_of(record) if record else None
        record = record or PopulationRecord(organisation=organisation, reference_date=reference_date)
        record.residents, record.households, record.source = residents, households, source
        validated(record, exclude=["organisation", "reference_date"])
        record.save()
        if before != snapshot_of(record):
            audit_record(
                actor=actor,
                action="population.update" if before else "population.create",
                obj=record,
                before=before,
                after=snapshot_of(record),
            )
    return record


# --- departments ---------------------------------------------------------------------------------


def department_create(
    *, actor: Actor, organisation: Organisation, code: str, name: str, parent: Department | None = None
) -> Department:
    with transaction.atomic():
        dept = Department(organisation=organisation, code=code.strip(), name=name.strip(), parent=parent)
        validated(dept)
        dept.save()
        audit_record(actor=actor, action="department.create", obj=dept, after=snapshot_of(dept))
    return dept


def department_update(
    *, actor: Actor, department: Department, name: str, parent: Department | None
) -> Department:
    """Rename or move a department; a department cannot move below itself."""
    if parent is not None and parent.pk in department.descendant_ids():
        raise ApplicationError(MSG_DEPARTMENT_CYCLE, code="department_cycle")
    with transaction.atomic():
        before = snapshot_of(department)
        department.name, department.parent = name.strip(), parent
        validated(department)
        department.save(update_fields=["name", "parent"])
        audit_record(
            actor=actor,
            action="department.update",
            obj=department,
            before=before,
            after=snapshot_of(department),
        )
    return department


# --- staff ---------------------------------------------------------------------------------------


@dataclass
class StaffData:
    """The editable fields of a staff record, as a form or an import row gives them."""

    employee_number: str
    family_name: str
    given_name: str
    department: Department
    family_name_kana: str = ""
    given_name_kana: str = ""
    email: str = ""
    position: str = ""
    employment_category: str = EmploymentCategory.REGULAR
    status: str = StaffStatus.ACTIVE
    joined_on: date | None = None
    left_on: date | None = None


STAFF_PLAIN_FIELDS = [f.name for f in fields(StaffData) if f.name not in {"department", "employee_number"}]


def staff_create(*, actor: Actor, data: StaffData) -> Staff:
    with transaction.atomic():
        staff = Staff(**{f.name: getattr(data, f.name) for f in fields(StaffData)})
        validated(staff)
        staff.save()
        audit_record(actor=actor, action="staff.create", obj=staff, after=snapshot_of(staff))
    return staff


def staff_update(
    *, actor: Actor, staff: Staff, data: StaffData, effective_date: date | None = None, note: str = ""
) -> Staff:
    """Update a staff record; a new department is recorded as a transfer on `effective_date`."""
    with transaction.atomic():
        if data.department.pk != staff.department_id:
            staff_transfer(
                actor=actor,
                staff=staff,
                to_department=data.department,
                effective_date=effective_date or timezone.localdate(),
                note=note,
            )
        before = snapshot_of(staff)
        for name in STAFF_PLAIN_FIELDS:
            setattr(staff, name, getattr(data, name))
        validated(staff)
        if snapshot_of(staff) != before:
            staff.save(update_fields=STAFF_PLAIN_FIELDS)
            audit_record(
                actor=actor, action="staff.update", obj=staff, before=before, after=snapshot_of(staff)
            )
        if staff.status == StaffStatus.LEFT:
            _leaver_login_disable(actor=actor, staff=staff)
    return staff


def _leaver_login_disable(*, actor: Actor, staff: Staff) -> None:
    """A leaver (退職) can no longer sign in: their login is disabled with the record (edit or import).

    Their sessions end with it (Django signs out an inactive login on its next request); the last
    administrator is the one exception, refused as everywhere else.
    """
    membership = Membership.objects.select_related("user").filter(staff=staff, user__is_active=True).first()
    if membership is None:
        return
    user = membership.user
    if _is_active_administrator(user):
        _check_not_last_administrator(user)
    before = _membership_snapshot(user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    audit_record(
        actor=actor,
        action="user.update",
        obj=user,
        before=before,
        after=_membership_snapshot(user) | {"reason": "staff.left"},
    )


def staff_transfer(
    *, actor: Actor, staff: Staff, to_department: Department, effective_date: date, note: str = ""
) -> StaffTransfer:
    """A personnel transfer (人事異動): records the move and updates the staff member's department."""
    if to_department.pk == staff.department_id:
        raise ApplicationError(MSG_SAME_DEPARTMENT, code="same_department")
    with transaction.atomic():
        before = snapshot_of(staff, ["department_id"])
        transfer = StaffTransfer.objects.create(
            staff=staff,
            effective_date=effective_date,
            from_department_id=staff.department_id,
            to_department=to_department,
            note=note,
        )
        from_department = staff.department
        staff.department = to_department
        staff.save(update_fields=["department"])
        audit_record(
            actor=actor,
            action="staff.transfer",
            obj=staff,
            before=before,
            after=snapshot_of(staff, ["department_id"]) | {"effective_date": effective_date, "note": note},
        )
        _login_scope_follow(actor=actor, staff=staff, left=from_department)
    return transfer


def _login_scope_follow(*, actor: Actor, staff: Staff, left: Department) -> None:
    """The transferred person's login takes its department scope along (a lead who moved away no
    longer sees the old department's pages), from their next request on.

    Only a scope that covered the 課 they left moves: one that also covers the new 課 (a move inside
    the 部 they lead) stays, and so does one set apart from where they sit. A lead whose post changed
    (now leading a whole 部) is re-scoped by the officer.
    """
    membership = Membership.objects.select_related("user", "department").filter(staff=staff).first()
    if membership is None or membership.department is None:
        return
    covered = membership.department.descendant_ids()
    if left.pk not in covered or staff.department_id in covered:
        return
    before = _membership_snapshot(membership.user)
    membership.department = staff.department
    membership.save(update_fields=["department"])
    audit_record(
        actor=actor,
        action="user.update",
        obj=membership.user,
        before=before,
        after=_membership_snapshot(membership.user) | {"reason": "staff.transfer"},
    )


# --- logins and roles ----------------------------------------------------------------------------


def _membership_snapshot(user: AbstractBaseUser) -> dict[str, object]:
    snap = snapshot_of(user, USER_FIELDS)
    membership = Membership.objects.filter(user=user).first()
    if membership:
        snap |= snapshot_of(membership, ["role", "staff_id", "department_id"])
    return snap


def _is_active_administrator(user: AbstractBaseUser) -> bool:
    membership = Membership.objects.filter(user=user).first()
    role = membership.role if membership else (Role.ADMINISTRATOR if user.is_superuser else None)
    return bool(user.is_active) and role == Role.ADMINISTRATOR


def _check_not_last_administrator(user: AbstractBaseUser) -> None:
    """Someone must always be able to manage logins: the last active administrator stays one.

    Called inside the transaction with the administrators' rows locked, so two administrators
    demoting each other at once cannot both succeed.
    """
    admin_ids = list(
        Membership.objects.select_for_update()
        .filter(role=Role.ADMINISTRATOR)
        .values_list("user_id", flat=True)
    )
    others = User.objects.filter(is_active=True).exclude(pk=user.pk)
    if not (
        others.filter(pk__in=admin_ids).exists()
        or others.filter(is_superuser=True, membership__isnull=True).exists()
    ):
        raise ApplicationError(MSG_LAST_ADMINISTRATOR, code="last_administrator", http_status=409)


def _check_membership(role: str, department: Department | None) -> None:
    if role == Role.DEPARTMENT_LEAD and department is None:
        raise ApplicationError(MSG_LEAD_NEEDS_DEPARTMENT, code="lead_needs_department")


def user_create(
    *,
    actor: Actor,
    username: str,
    password: str | None,
    role: str,
    email: str = "",
    staff: Staff | None = None,
    department: Department | None = None,
) -> AbstractBaseUser:
    """A login with its role; `password=None` makes an account that cannot sign in yet."""
    _check_membership(role, department)
    if User.objects.filter(username=username).exists():
        raise ApplicationError(MSG_USERNAME_TAKEN, code="username_taken")
    with transaction.atomic():
        user = User(username=username, email=email)
        if password is None:
            user.set_unusable_password()
        else:
            user.set_password(password)
        user.save()
        Membership.objects.create(user=user, role=role, staff=staff, department=department)
        audit_record(actor=actor, action="user.create", obj=user, after=_membership_snapshot(user))
    return user


def membership_set(
    *,
    actor: Actor,
    user: AbstractBaseUser,
    role: str,
    staff: Staff | None = None,
    department: Department | None = None,
    is_active: bool = True,
    new_password: str | None = None,
) -> Membership:
    """Change a login's role, linked staff record, department scope, whether it may sign in and,
    when given, its password — all in one transaction."""
    _check_membership(role, department)
    with transaction.atomic():
        if _is_active_administrator(user) and (role != Role.ADMINISTRATOR or not is_active):
            _check_not_last_administrator(user)
        if new_password:
            user_set_password(actor=actor, user=user, password=new_password)
        before = _membership_snapshot(user)
        membership, _created = Membership.objects.get_or_create(user=user)
        membership.role, membership.staff, membership.department = role, staff, department
        membership.save()
        if user.is_active != is_active:
            user.is_active = is_active
            user.save(update_fields=["is_active"])
        after = _membership_snapshot(user)
        if after != before:
            audit_record(actor=actor, action="user.update", obj=user, before=before, after=after)
    return membership


def user_set_password(*, actor: Actor, user: AbstractBaseUser, password: str) -> None:
    """Set a login's password; the audit event says that it changed, never what to."""
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        audit_record(
            actor=actor, action="user.password_set", obj=user, after={"username": user.get_username()}
        )
