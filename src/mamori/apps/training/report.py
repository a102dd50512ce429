"""The completion report as XLSX: by department, then every person, then the overdue list."""

from __future__ import annotations

import io

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook

from mamori.apps.core.spreadsheet import xlsx_append

from .models import Course
from .selectors import assignments_in_scope, department_rates


def report_xlsx(*, user, course: Course | None) -> bytes:  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    book = Workbook()
    sheet = book.active
    sheet.title = _("所属別")
    xlsx_append(
        sheet,
        [
            _("所属コード"),
            _("所属"),
            pgettext("course", "対象者"),
            _("修了"),
            _("修了率（%）"),
            _("期限超過"),
        ],
    )
    for row in department_rates(user=user, course=course, today=today):
        xlsx_append(sheet, [row.department.code, row.department.full_name, row.assigned, row.completed,
                            row.rate, row.overdue])  # fmt: skip
    people = book.create_sheet(_("職員別"))
    xlsx_append(
        people, [_("職員番号"), _("氏名"), _("所属"), _("研修"), _("期限"), _("状態"), _("修了日"), _("得点")]
    )
    assignments = (
        assignments_in_scope(user=user, course=course)
        .select_related("staff__department__parent", "course", "completion")
        .order_by("staff__department__code", "staff__employee_number", "due_on")
    )
    for a in assignments:
        done = a.completion
        state = _("修了") if done else (_("期限超過") if a.due_on < today else _("未修了"))
        xlsx_append(people, [
            a.staff.employee_number, a.staff.full_name, a.staff.department.full_name, a.course.title,
            a.due_on, state, timezone.localdate(done.completed_at) if done else None, done.score if done else None,
        ])  # fmt: skip
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
