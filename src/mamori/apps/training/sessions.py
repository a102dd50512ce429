"""Classroom sessions (集合研修): creation, registration within capacity, attendance typed in or
imported from CSV.

The attendance CSV (UTF-8 or CP932, read as the staff import reads it) has the columns 職員番号 and
出欠 (出席 / 欠席). It is all or nothing: any bad line and nothing is recorded, with every problem
named by its line.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.audit import Actor, audit_record, snapshot_of
from mamori.apps.core.chronology import check_after, check_past
from mamori.apps.core.models import Staff
from mamori.apps.core.services import validated
from mamori.apps.core.staff_import import Problems, csv_check_nul, csv_decode

from .errors import TrainingError
from .models import ClassroomSession, Registration

MAX_BYTES = 2 * 1024 * 1024
FULL = _("定員（{n}名）に達しているため登録できません")
ALREADY = _("既に登録されています")
STARTED = _("開始した集合研修の申込は取り消せません")
STARTED_REGISTER = _("開始した集合研修には申し込めません")
NOT_MINE = _("この集合研修への申込はありません")  # also: the registration was removed meanwhile
NUMBER_COLUMNS = {"職員番号", "employee_number"}
ATTENDED_COLUMNS = {"出欠", "attended"}
ATTENDED_VALUES = {
    "出席": True,
    "○": True,
    "1": True,
    "yes": True,
    "欠席": False,
    "×": False,
    "0": False,
    "no": False,
}


def session_create(
    *,
    actor: Actor,
    title: str,
    starts_at: datetime,
    place: str,
    capacity: int,
    created_at: datetime | None = None,
) -> ClassroomSession:
    """`created_at` (default now): for a session recorded afterwards, with its registrations."""
    created_at = created_at or timezone.now()
    check_past(created_at, field=_("作成日時"), error=TrainingError)
    session = ClassroomSession(
        title=title, starts_at=starts_at, place=place, capacity=capacity, created_at=created_at
    )
    validated(session)
    with transaction.atomic():
        session.save()
        audit_record(
            actor=actor,
            action="training.session.create",
            obj=session,
            after=snapshot_of(session, ["title", "starts_at", "place", "capacity"]),
        )
    return session


def registration_add(
    *, actor: Actor, session: ClassroomSession, staff: Staff, registered_at: datetime | None = None
) -> Registration:
    """A seat for `staff`, before the session starts. `registered_at` (default now): for a
    registration recorded afterwards, not before the session was created."""
    registered_at = registered_at or timezone.now()
    check_past(registered_at, field=_("申込日時"), error=TrainingError)
    with transaction.atomic():
        session = ClassroomSession.objects.select_for_update().get(pk=session.pk)
        if session.starts_at <= registered_at:
            raise TrainingError(STARTED_REGISTER, code="started", http_status=409)
        check_after(
            registered_at,
            session.created_at,
            field=_("申込日時"),
            previous=_("作成日時"),
            error=TrainingError,
        )
        if session.registrations.filter(staff=staff).exists():
            raise TrainingError(ALREADY, code="already_registered", http_status=409)
        if session.registrations.count() >= session.capacity:
            raise TrainingError(FULL.format(n=session.capacity), code="full", http_status=409)
        registration = Registration.objects.create(session=session, staff=staff, registered_at=registered_at)
        audit_record(
            actor=actor,
            action="training.session.register",
            obj=registration,
            object_name=f"{session} {staff}",
            after={"session_id": session.pk, "staff": staff.employee_number},
        )
    return registration


def registration_cancel(*, actor: Actor, session: ClassroomSession, staff: Staff) -> None:
    """Withdraw the staff member's own registration before the session starts; the seat is freed."""
    _withdraw(actor=actor, session=session, action="training.session.cancel", staff=staff)


def registration_remove(*, actor: Actor, session: ClassroomSession, registration_id: int) -> Staff:
    """The officer takes someone off a session before it starts (moved, on leave, registered by
    mistake); the seat is freed. Returns whose registration it was."""
    return _withdraw(actor=actor, session=session, action="training.session.remove", pk=registration_id)


def _withdraw(*, actor: Actor, session: ClassroomSession, action: str, **which: Any) -> Staff:
    with transaction.atomic():
        session = ClassroomSession.objects.select_for_update().get(pk=session.pk)
        registration = session.registrations.select_related("staff").filter(**which).first()
        if registration is None:
            raise TrainingError(NOT_MINE, code="not_registered", http_status=404)
        if session.starts_at <= timezone.now():
            raise TrainingError(STARTED, code="started", http_status=409)
        staff = registration.staff
        audit_record(
            actor=actor,
            action=action,
            obj=registration,
            object_name=f"{session} {staff}",
            before={"session_id": session.pk, "staff": staff.employee_number},
        )
        registration.delete()
    return staff


def attendance_set(*, actor: Actor, session: ClassroomSession, attended: dict[int, bool]) -> int:
    """Record attendance by registration id; ids of other sessions are refused."""
    with transaction.atomic():
        registrations = {r.pk: r for r in session.registrations.select_for_update()}
        if set(attended) - set(registrations):
            raise TrainingError(_("この研修に登録されていない受講者が含まれています"), code="not_registered")
        changed = [r for pk, r in registrations.items() if pk in attended and r.attended != attended[pk]]
        for r in changed:
            r.attended = attended[r.pk]
        Registration.objects.bulk_update(changed, ["attended"])
        audit_record(
            actor=actor,
            action="training.session.attendance",
            obj=session,
            after={"attended": {r.staff_id: r.attended for r in changed}},
        )
    return len(changed)


@dataclass
class AttendanceImport:
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    recorded: int = 0
    encoding: str = ""


def _rows(text: str, problems: Problems) -> list[tuple[int, str, bool]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [c.strip() for c in next(reader, [])]
    number_col = next((i for i, c in enumerate(header) if c in NUMBER_COLUMNS), None)
    attended_col = next((i for i, c in enumerate(header) if c in ATTENDED_COLUMNS), None)
    if number_col is None or attended_col is None:
        problems.add(gettext("1行目: 見出しに 職員番号 と 出欠 の列が必要です"))
        return []
    rows = []
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        number = cells[number_col].strip() if number_col < len(cells) else ""
        value = cells[attended_col].strip() if attended_col < len(cells) else ""
        if not number:
            problems.add(gettext("{line}行目: 職員番号が空です").format(line=line))
        elif value.lower() not in ATTENDED_VALUES:
            problems.add(
                gettext("{line}行目: 出欠 '{value}' は 出席 か 欠席 にしてください").format(
                    line=line, value=value
                )
            )
        else:
            rows.append((line, number, ATTENDED_VALUES[value.lower()]))
    return rows


def attendance_import(*, actor: Actor, session: ClassroomSession, data: bytes) -> AttendanceImport:
    """Attendance from CSV, all or nothing; a person not yet registered is registered (within capacity)."""
    problems = Problems()
    if len(data) > MAX_BYTES:
        problems.add(gettext("ファイルが大きすぎます（上限 {n} MB）").format(n=MAX_BYTES // (1024 * 1024)))
        data = b""
    text, encoding = csv_decode(data, problems)
    result = AttendanceImport(encoding=encoding)
    if text:
        csv_check_nul(text, problems)
    rows = _rows(text, problems) if not problems.count else []
    if not problems.count and not rows:
        problems.add(gettext("出欠の行がありません"))
    with transaction.atomic():
        session = ClassroomSession.objects.select_for_update().get(pk=session.pk)
        staff = {s.employee_number: s for s in Staff.objects.filter(employee_number__in=[r[1] for r in rows])}
        seen: dict[str, int] = {}
        for line, number, _attended in rows:
            if number not in staff:
                problems.add(
                    gettext("{line}行目: 職員番号 '{number}' の職員はいません").format(
                        line=line, number=number
                    )
                )
            elif number in seen:
                problems.add(gettext("{line}行目: 職員番号 {number} は {first}行目にもあります").format(
                    line=line, number=number, first=seen[number]))  # fmt: skip
            seen.setdefault(number, line)
        registered = {r.staff_id: r for r in session.registrations.all()}
        newcomers = {staff[n].pk for _l, n, _a in rows if n in staff} - set(registered)
        if len(registered) + len(newcomers) > session.capacity:
            problems.add(gettext("定員（{n}名）を超えるため取り込めません").format(n=session.capacity))
        if problems.count:
            result.errors, result.error_count = problems.shown, problems.count
            return result
        now = timezone.now()
        for _line, number, attended in rows:
            person = staff[number]
            registration = registered.get(person.pk) or Registration(
                session=session, staff=person, registered_at=now
            )
            registration.attended = attended
            registration.save()
        result.recorded = len(rows)
        audit_record(
            actor=actor,
            action="training.session.attendance_import",
            obj=session,
            after={"rows": len(rows), "encoding": result.encoding, "attended": sum(1 for r in rows if r[2])},
        )
    return result
