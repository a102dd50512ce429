"""Training reads. Staff see their own records; department leads their departments' people
(`membership_department_ids`); officers and auditors everything."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from django.db.models import Count, F, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from mamori.apps.core.models import Department, Membership, Role, Staff
from mamori.apps.core.permissions import LEADS_AND_READERS, READERS, membership_department_ids, user_role
from mamori.apps.core.wareki import fiscal_year_range

from .models import Assignment, Attempt, ClassroomSession, Completion, Course, Progress


def staff_of(user) -> Staff | None:  # type: ignore[no-untyped-def]
    """The staff record behind a login (None for a login that is no one's, e.g. a service account)."""
    membership = Membership.objects.filter(user=user).select_related("staff__department").first()
    return membership.staff if membership else None


def my_assignments(staff: Staff | None) -> QuerySet[Assignment]:
    if staff is None:
        return Assignment.objects.none()
    return (
        Assignment.objects.filter(staff=staff)
        .select_related("course", "completion")
        .order_by(F("completion").asc(nulls_first=True), "due_on")  # open first on either database
    )


def my_courses(staff: Staff | None) -> list[Assignment]:
    """One assignment per course a person is asked to take: the open one due first, else the last done.
    Two rules can ask for the same course (all staff, and again the staff transferred in April); one pass
    completes both, so the person sees the course once, by its earliest open due date."""
    chosen: dict[int, Assignment] = {}
    for assignment in my_assignments(staff):  # open ones first, by due date
        chosen.setdefault(assignment.course_id, assignment)
    return list(chosen.values())


def my_completions(staff: Staff | None) -> QuerySet[Completion]:
    if staff is None:
        return Completion.objects.none()
    return Completion.objects.filter(staff=staff).select_related("course", "version")


def course_list() -> QuerySet[Course]:
    return Course.objects.annotate(
        question_count=Count("questions", filter=Q(questions__active=True), distinct=True),
        assigned=Count("assignments", distinct=True),
    )


def course_for_reader(*, user, pk: int) -> Course:  # type: ignore[no-untyped-def]
    """Officers, auditors and department leads read any course; staff only one assigned to them or passed."""
    course = get_object_or_404(Course, pk=pk)
    if user_role(user) in LEADS_AND_READERS:
        return course
    staff = staff_of(user)
    if staff is None or not (
        Assignment.objects.filter(staff=staff, course=course).exists()
        or Completion.objects.filter(staff=staff, course=course).exists()
    ):
        raise Http404
    return course


def progress_section(staff: Staff | None, course: Course) -> int:
    if staff is None:
        return 0
    return Progress.objects.filter(staff=staff, course=course).values_list("section", flat=True).first() or 0


def _scoped(queryset: QuerySet, user, staff_field: str):  # type: ignore[no-untyped-def]
    """Own rows for staff; leads also their department subtree; readers all.

    A 職員 login's department (where they may report an incident for) never opens a colleague's
    attempt or certificate."""
    role = user_role(user)
    if role in READERS:
        return queryset
    staff = staff_of(user)
    own = Q(**{staff_field: staff}) if staff else Q(pk__in=[])
    if role != Role.DEPARTMENT_LEAD:
        return queryset.filter(own)
    scope = membership_department_ids(user) or set()
    return queryset.filter(own | Q(**{f"{staff_field}__department_id__in": scope}))


def attempt_get(*, user, pk: int) -> Attempt:  # type: ignore[no-untyped-def]
    attempts = Attempt.objects.select_related("course", "version", "staff__department")
    return get_object_or_404(_scoped(attempts, user, "staff"), pk=pk)


def completion_get(*, user, pk: int) -> Completion:  # type: ignore[no-untyped-def]
    completions = Completion.objects.select_related("course", "version", "staff__department", "attempt")
    return get_object_or_404(_scoped(completions, user, "staff"), pk=pk)


def session_list() -> QuerySet[ClassroomSession]:
    return ClassroomSession.objects.annotate(
        registered=Count("registrations", distinct=True),
        attended=Count("registrations", filter=Q(registrations__attended=True), distinct=True),
    )


@dataclass(frozen=True)
class DepartmentRate:
    department: Department
    assigned: int
    completed: int
    overdue: int

    @property
    def rate(self) -> int:
        return round(100 * self.completed / self.assigned) if self.assigned else 0


def assignments_in_scope(*, user, course: Course | None = None) -> QuerySet[Assignment]:  # type: ignore[no-untyped-def]
    """Assignments of the people a reader (all) or department lead (their subtree) may see."""
    scope = membership_department_ids(user)
    assignments = Assignment.objects.all()
    if scope is not None:
        assignments = assignments.filter(staff__department_id__in=scope)
    return assignments.filter(course=course) if course else assignments


def department_rates(
    *, user, course: Course | None = None, today: date | None = None
) -> list[DepartmentRate]:  # type: ignore[no-untyped-def]
    """Completion per department (課) with assignments, lowest rate first (where to look)."""
    today = today or timezone.localdate()
    rows = (
        assignments_in_scope(user=user, course=course)
        .values("staff__department")
        .annotate(
            assigned=Count("pk"),
            completed=Count("pk", filter=Q(completion__isnull=False)),
            overdue=Count("pk", filter=Q(completion__isnull=True, due_on__lt=today)),
        )
    )
    departments = Department.objects.select_related("parent").in_bulk([r["staff__department"] for r in rows])
    rates = [
        DepartmentRate(departments[r["staff__department"]], r["assigned"], r["completed"], r["overdue"])
        for r in rows
    ]
    return sorted(rates, key=lambda r: (r.rate, r.department.code))


def department_people(*, user, department_id: int, course: Course | None = None) -> QuerySet[Assignment]:  # type: ignore[no-untyped-def]
    scope = membership_department_ids(user)
    if scope is not None and department_id not in scope:
        raise Http404
    return (
        assignments_in_scope(user=user, course=course)
        .filter(staff__department_id=department_id)
        .select_related("staff", "course", "completion")
        .order_by("staff__employee_number", "due_on")
    )


def overdue_list(*, user, course: Course | None = None, today: date | None = None) -> QuerySet[Assignment]:  # type: ignore[no-untyped-def]
    today = today or timezone.localdate()
    return (
        assignments_in_scope(user=user, course=course)
        .filter(completion__isnull=True, due_on__lt=today)
        .select_related("staff__department__parent", "course")
        .order_by("due_on", "staff__department__code", "staff__employee_number")
    )


@dataclass(frozen=True)
class Asked:
    """One person asked to take one course, by one rule or several (all staff, and again as a mover):
    counted once, due by the earliest due date, done when they passed it (one pass completes all)."""

    assignment: Assignment  # the completed one when there is one, else the earliest due
    due_on: date

    @property
    def completion(self) -> Completion | None:
        return self.assignment.completion


def asked_in_year(*, fiscal_year: int, department_ids: set[int] | None = None) -> list[Asked]:
    """What the completion rate counts, for the sheet's KPI and the dashboard card alike: each person
    and course with an assignment due in the fiscal year (of the given departments; None: all). One query."""
    first, last = fiscal_year_range(fiscal_year)
    assignments = Assignment.objects.filter(due_on__gte=first, due_on__lte=last)
    if department_ids is not None:
        assignments = assignments.filter(staff__department_id__in=department_ids)
    asked: dict[tuple[int, int], Asked] = {}
    for a in assignments.select_related("staff", "course", "completion").order_by("due_on", "pk"):
        seen = asked.get((a.staff_id, a.course_id))
        if seen is None:
            asked[a.staff_id, a.course_id] = Asked(a, a.due_on)
        elif seen.completion is None and a.completion is not None:
            asked[a.staff_id, a.course_id] = replace(seen, assignment=a)
    return list(asked.values())


def asked_rates(asked: list[Asked], *, today: date) -> list[DepartmentRate]:
    """`asked` per department (課), lowest rate first."""
    counts: dict[int, list[int]] = {}
    for a in asked:
        row = counts.setdefault(a.assignment.staff.department_id, [0, 0, 0])
        row[0] += 1
        row[1] += a.completion is not None
        row[2] += a.completion is None and a.due_on < today
    departments = Department.objects.select_related("parent").in_bulk(list(counts))
    rates = [DepartmentRate(departments[pk], *row) for pk, row in counts.items()]
    return sorted(rates, key=lambda r: (r.rate, r.department.code))
