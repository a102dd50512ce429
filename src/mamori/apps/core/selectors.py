"""Core reads. `department_ids` (from `membership_department_ids`) limits a department lead to the
departments below their own; None means every department.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet

from .models import (
    AuditEvent,
    Department,
    Membership,
    Organisation,
    PopulationRecord,
    Role,
    Staff,
    StaffStatus,
    StaffTransfer,
)

User = get_user_model()


def organisation_get() -> Organisation | None:
    """The installation's organisation, or None before setup."""
    return Organisation.objects.order_by("pk").first()


def population_record_list(*, organisation: Organisation) -> QuerySet[PopulationRecord]:
    return PopulationRecord.objects.filter(organisation=organisation).order_by("-reference_date")


def population_record_get(*, organisation: Organisation, on: date | None = None) -> PopulationRecord | None:
    """The latest record on or before `on` (the population a per-resident figure divides by)."""
    records = population_record_list(organisation=organisation)
    if on is not None:
        records = records.filter(reference_date__lte=on)
    return records.first()


@dataclass
class DepartmentNode:
    department: Department
    depth: int
    staff_count: int  # active staff of this department itself
    total: int = 0  # … and of every department below it


def department_list(*, department_ids: set[int] | None = None) -> QuerySet[Department]:
    departments = Department.objects.select_related("parent").order_by("code")
    return departments if department_ids is None else departments.filter(pk__in=department_ids)


def department_tree(*, department_ids: set[int] | None = None) -> list[DepartmentNode]:
    """Departments in tree order (parents before children), with their active staff counts."""
    departments = list(
        department_list(department_ids=department_ids).annotate(
            active_staff=Count("staff", filter=Q(staff__status=StaffStatus.ACTIVE))
        )
    )
    by_parent: dict[int | None, list[Department]] = {}
    present = {d.pk for d in departments}
    for d in departments:
        by_parent.setdefault(d.parent_id if d.parent_id in present else None, []).append(d)
    nodes: list[DepartmentNode] = []

    def walk(parent: int | None, depth: int) -> int:
        total = 0
        for d in by_parent.get(parent, []):
            node = DepartmentNode(d, depth, d.active_staff)  # type: ignore[attr-defined]
            nodes.append(node)
            node.total = node.staff_count + walk(d.pk, depth + 1)
            total += node.total
        return total

    walk(None, 0)
    return nodes


def department_get(*, code: str) -> Department | None:
    return Department.objects.filter(code=code).first()


def staff_list(
    *,
    department_ids: set[int] | None = None,
    query: str = "",
    department: Department | None = None,
    status: str = "",
) -> QuerySet[Staff]:
    """Staff visible in a scope, filtered by a search text (number, name, kana, email) and department.

    Filtering by a department includes the departments below it.
    """
    staff = Staff.objects.select_related("department", "department__parent").order_by("employee_number")
    if department_ids is not None:
        staff = staff.filter(department_id__in=department_ids)
    if department is not None:
        staff = staff.filter(department_id__in=department.descendant_ids())
    if status:
        staff = staff.filter(status=status)
    for word in query.split():
        staff = staff.filter(
            Q(employee_number__icontains=word)
            | Q(family_name__icontains=word)
            | Q(given_name__icontains=word)
            | Q(family_name_kana__icontains=word)
            | Q(given_name_kana__icontains=word)
            | Q(email__icontains=word)
        )
    return staff


def staff_transfer_list(
    *, staff: Staff | None = None, since: date | None = None, until: date | None = None
) -> QuerySet[StaffTransfer]:
    """Transfers, newest first: one person's history, or everyone's between two dates (inclusive),
    e.g. the April transfers that trigger training for moved staff."""
    transfers = StaffTransfer.objects.select_related(
        "staff", "from_department__parent", "to_department__parent"
    )
    if staff is not None:
        transfers = transfers.filter(staff=staff)
    if since is not None:
        transfers = transfers.filter(effective_date__gte=since)
    if until is not None:
        transfers = transfers.filter(effective_date__lte=until)
    return transfers.order_by("-effective_date", "-pk")


def staff_transferred_since(*, since: date) -> QuerySet[Staff]:
    """Staff at work (在職) with a transfer effective on or after `since`: from 1 April, everyone the
    定期人事異動 moved. One rule for every audience of movers (training assignments, awareness)."""
    moved = StaffTransfer.objects.filter(effective_date__gte=since).values("staff_id")
    return Staff.objects.filter(status=StaffStatus.ACTIVE, pk__in=moved)


def user_list() -> QuerySet:  # type: ignore[type-arg]
    return User.objects.select_related("membership", "membership__staff", "membership__department").order_by(
        "username"
    )


@dataclass(frozen=True)
class Contact:
    name: str
    email: str


def security_contact_list() -> list[Contact]:
    """The security officers a person reports a lost device or a suspicious mail to."""
    found = []
    for m in Membership.objects.filter(role=Role.SECURITY_OFFICER).select_related("user", "staff"):
        name = m.staff.full_name if m.staff else (m.user.get_full_name() or m.user.get_username())
        found.append(Contact(name=name, email=(m.staff.email if m.staff else "") or m.user.email))
    return sorted(found, key=lambda c: c.name)


def audit_event_list(
    *, query: str = "", person: str = "", obj: tuple[str, str] | None = None
) -> QuerySet[AuditEvent]:
    """Newest first, narrowed by every word of `query`, by `person` and to one object.

    A word matches the action, the actor, the object type or the object's name as written; an object
    whose name matched in any event brings all its events (so a renamed system's older entries too).
    `person` matches the actor's username or the name of the staff member or user behind it.
    """
    events = AuditEvent.objects.order_by("-sequence")
    for word in query.split():
        match = Q(action__icontains=word) | Q(actor__icontains=word) | Q(object_type__icontains=word)
        named = AuditEvent.objects.filter(object_name__icontains=word).exclude(object_id="")
        # One uncorrelated IN (subquery) per object type that has a match, not one per event.
        for object_type in named.values_list("object_type", flat=True).distinct().order_by():
            ids = named.filter(object_type=object_type).values("object_id")
            match |= Q(object_type=object_type, object_id__in=ids)
        events = events.filter(match | Q(object_name__icontains=word))
    for word in person.split():
        usernames = User.objects.filter(
            Q(username__icontains=word)
            | Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(membership__staff__family_name__icontains=word)
            | Q(membership__staff__given_name__icontains=word)
            | Q(membership__staff__family_name_kana__icontains=word)
            | Q(membership__staff__given_name_kana__icontains=word)
        ).values("username")
        events = events.filter(Q(actor__icontains=word) | Q(actor__in=usernames))
    if obj is not None:
        events = events.filter(object_type=obj[0], object_id=obj[1])
    return events


@dataclass(frozen=True)
class OrganisationSummary:
    organisation: Organisation | None
    population: PopulationRecord | None
    departments: int
    active_staff: int


def organisation_summary(*, department_ids: set[int] | None = None) -> OrganisationSummary:
    """What the dashboard's header shows: the city, its latest population, departments and staff."""
    org = organisation_get()
    return OrganisationSummary(
        organisation=org,
        population=population_record_get(organisation=org) if org else None,
        departments=department_list(department_ids=department_ids).count(),
        active_staff=staff_list(department_ids=department_ids, status=StaffStatus.ACTIVE).count(),
    )
