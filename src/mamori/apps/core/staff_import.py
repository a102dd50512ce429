"""Staff import from CSV as Excel saves it, all or nothing.

UTF-8 (with or without BOM), UTF-16 (with BOM) or CP932: `textdecode` tells which. The whole file is checked first; any problem yields line-numbered messages and nothing is written.
A known 職員番号 updates that staff record, and a new 所属コード for them is recorded as a transfer.
Staff missing from the file are left as they are (a file need not be the whole roster).

`staff_import_preview` says what an import would do — each creation, each change (old → new, per
field), each transfer — and warns of numbers that look stripped of their leading zeros (Excel saves
`000002` as `2`); `staff_import(expected_digest=...)` imports only if that is still what it would do.

Header (first line; the Japanese names, or the English aliases in parentheses):
職員番号 (employee_number), 姓 (family_name), 名 (given_name) and 所属コード (department_code) are
required; 姓かな (family_name_kana), 名かな (given_name_kana), メール (email), 職名 (position),
任用区分 (employment_category: 正職員 / 再任用 / 会計年度任用), 状態 (status: 在職 / 休職 / 退職),
採用日 (joined_on), 退職日 (left_on) and 異動日 (effective_date, the transfer date) are optional.
Dates are written 2024-04-01 or 2024/4/1.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .audit import Actor, audit_record
from .errors import ApplicationError
from .models import Department, EmploymentCategory, Staff, StaffStatus
from .services import STAFF_PLAIN_FIELDS, StaffData, staff_create, staff_update
from .textdecode import decode_text

COLUMNS: dict[str, tuple[str, ...]] = {
    "employee_number": ("職員番号", "employee_number", "employee number"),
    "family_name": ("姓", "family_name", "family name"),
    "given_name": ("名", "given_name", "given name"),
    "family_name_kana": ("姓かな", "姓（かな）", "セイ", "family_name_kana"),
    "given_name_kana": ("名かな", "名（かな）", "メイ", "given_name_kana"),
    "email": ("メール", "メールアドレス", "email"),
    "department": ("所属コード", "department_code", "department"),
    "position": ("職名", "position"),
    "employment_category": ("任用区分", "employment_category"),
    "status": ("状態", "status"),
    "joined_on": ("採用日", "joined_on"),
    "left_on": ("退職日", "left_on"),
    "effective_date": ("異動日", "effective_date", "transfer_date"),
}
REQUIRED = ("employee_number", "family_name", "given_name", "department")
LABELS = {key: names[0] for key, names in COLUMNS.items()}
MAX_LENGTHS = {
    "employee_number": 20,
    "family_name": 50,
    "given_name": 50,
    "family_name_kana": 50,
    "given_name_kana": 50,
    "position": 50,
}
CATEGORY_VALUES = (
    {str(label): value for value, label in EmploymentCategory.choices}
    | {v: v for v in EmploymentCategory.values}
    | {"会計年度任用職員": EmploymentCategory.FISCAL_YEAR}
)
STATUS_VALUES = {str(label): value for value, label in StaffStatus.choices} | {
    v: v for v in StaffStatus.values
}
DATE_RE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
# A file of 300,000 bad lines must not become a 63 MB page: the first messages and a count.
MAX_ERRORS_SHOWN = 100
# The preview lists this many creations and changes each; the counts cover them all.
MAX_PREVIEW_SHOWN = 1000
PLAN_CHANGED = gettext_lazy(
    "プレビューの後に職員の登録内容が変わったため、取り込みませんでした。新しいプレビューを確認してください。"
)


class Problems:
    """Line-numbered messages: the first MAX_ERRORS_SHOWN kept, every one counted."""

    def __init__(self) -> None:
        self.shown: list[str] = []
        self.count = 0

    def add(self, message: str) -> None:
        self.count += 1
        if len(self.shown) < MAX_ERRORS_SHOWN:
            self.shown.append(message)


@dataclass(frozen=True)
class FieldChange:
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class StaffCreation:
    line: int
    employee_number: str
    name: str
    department: str


@dataclass(frozen=True)
class StaffChange:
    """What the import changes in one stored person; `transfer` is the department's old → new."""

    line: int
    employee_number: str
    name: str
    fields: list[FieldChange]
    transfer: FieldChange | None


@dataclass
class StaffImportResult:
    encoding: str = ""
    rows: int = 0
    created: int = 0
    updated: int = 0
    transferred: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)  # the first MAX_ERRORS_SHOWN
    error_count: int = 0
    # the preview: the first MAX_PREVIEW_SHOWN of each, the warnings, and the digest that binds a
    # confirmation to this file and this state of the register
    creations: list[StaffCreation] = field(default_factory=list)
    changes: list[StaffChange] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    digest: str = ""
    stale: bool = False  # refused: the import would no longer do what the expected preview showed

    @property
    def ok(self) -> bool:
        return not self.error_count

    @property
    def errors_not_shown(self) -> int:
        return self.error_count - len(self.errors)


@dataclass
class _Row:
    line: int
    data: StaffData
    effective_date: date | None
    present: set[str]


def csv_decode(raw: bytes, errors: Problems) -> tuple[str, str]:
    """Text and the encoding's short name for the result page (see `textdecode`); an unreadable file
    adds one error per line."""
    decoded = decode_text(raw)
    for number in decoded.unreadable_lines:
        errors.add(
            _("%(line)d行目: 文字コード %(encoding)s として読めない文字があります")
            % {"line": number, "encoding": decoded.label}
        )
    return decoded.text, decoded.label.split(" ")[0]


def csv_check_nul(text: str, errors: Problems) -> None:
    """NUL is no text: SQLite would store it, PostgreSQL refuses the row with an internal error."""
    if "\x00" not in text:
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if "\x00" in line:
            errors.add(
                _("%(line)d行目: NUL文字（0x00）が含まれています。CSVのテキストとして保存し直してください")
                % {"line": number}
            )


def _header_map(header: list[str]) -> tuple[dict[str, int], list[str]]:
    aliases = {name.lower(): key for key, names in COLUMNS.items() for name in names}
    columns: dict[str, int] = {}
    errors = []
    for index, name in enumerate(header):
        key = aliases.get(name.strip().lower())
        if key is None:
            if name.strip():
                errors.append(_("1行目: 列 '%(name)s' は使えません") % {"name": name.strip()})
        elif key in columns:
            errors.append(_("1行目: 列 '%(name)s' が2回あります") % {"name": name.strip()})
        else:
            columns[key] = index
    missing = [LABELS[k] for k in REQUIRED if k not in columns]
    if missing:
        errors.append(_("1行目: 必須の列 %(columns)s がありません") % {"columns": "、".join(missing)})
    return columns, errors


def _parse_date(value: str) -> date:
    match = DATE_RE.match(value)
    if not match:
        raise ValueError(value)
    return date(int(match[1]), int(match[2]), int(match[3]))


def _parse_row(
    line: int,
    cells: list[str],
    columns: dict[str, int],
    departments: dict[str, Department],
    errors: Problems,
) -> _Row | None:
    values = {key: cells[i].strip() if i < len(cells) else "" for key, i in columns.items()}
    before = errors.count

    def error(message: str, **params: object) -> None:
        errors.add(_("%(line)d行目: ") % {"line": line} + message % params)

    for key in REQUIRED:
        if not values.get(key):
            error(_("%(column)s が空です"), column=LABELS[key])
    for key, limit in MAX_LENGTHS.items():
        if len(values.get(key, "")) > limit:
            error(_("%(column)s が長すぎます（%(limit)d文字まで）"), column=LABELS[key], limit=limit)
    department = departments.get(values.get("department", ""))
    if values.get("department") and department is None:
        error(_("所属コード '%(code)s' が存在しません"), code=values["department"])
    if values.get("email"):
        try:
            validate_email(values["email"])
        except ValidationError:
            error(_("メール '%(value)s' はメールアドレスの形式ではありません"), value=values["email"])
    category = CATEGORY_VALUES.get(values.get("employment_category") or "正職員")
    if category is None:
        error(
            _("任用区分 '%(value)s' は 正職員・再任用・会計年度任用 のいずれかにしてください"),
            value=values["employment_category"],
        )
    status = STATUS_VALUES.get(values.get("status") or "在職")
    if status is None:
        error(_("状態 '%(value)s' は 在職・休職・退職 のいずれかにしてください"), value=values["status"])
    dates: dict[str, date | None] = {}
    for key in ("joined_on", "left_on", "effective_date"):
        try:
            dates[key] = _parse_date(values[key]) if values.get(key) else None
        except ValueError:
            error(
                _("%(column)s '%(value)s' は日付（例 2024-04-01）ではありません"),
                column=LABELS[key],
                value=values[key],
            )
    if errors.count > before or department is None:
        return None
    data = StaffData(
        employee_number=values["employee_number"],
        family_name=values["family_name"],
        given_name=values["given_name"],
        department=department,
        family_name_kana=values.get("family_name_kana", ""),
        given_name_kana=values.get("given_name_kana", ""),
        email=values.get("email", ""),
        position=values.get("position", ""),
        employment_category=category or EmploymentCategory.REGULAR,
        status=status or StaffStatus.ACTIVE,
        joined_on=dates["joined_on"],
        left_on=dates["left_on"],
    )
    return _Row(line, data, dates["effective_date"], set(columns))


def _parse(text: str, errors: Problems) -> list[_Row]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        return _parse_rows(reader, errors)
    except csv.Error as exc:  # e.g. a NUL byte: the file is not a CSV text file
        errors.add(
            _("%(line)d行目: CSVとして読めません（%(reason)s）") % {"line": reader.line_num, "reason": exc}
        )
        return []


def _parse_rows(reader: Any, errors: Problems) -> list[_Row]:
    header = next(reader, None)
    if not header or not any(c.strip() for c in header):
        errors.add(_("ファイルが空です（1行目に見出しが必要です）"))
        return []
    columns, header_errors = _header_map(header)
    for message in header_errors:
        errors.add(message)
    if header_errors:
        return []
    departments = {d.code: d for d in Department.objects.all()}
    rows: list[_Row] = []
    first_line: dict[str, int] = {}
    line = reader.line_num
    for cells in reader:
        start, line = line + 1, reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            errors.add(
                _("%(line)d行目: 列の数 (%(n)d) が見出しの列の数 (%(m)d) より多いです")
                % {"line": start, "n": len(cells), "m": len(header)}
            )
            continue
        row = _parse_row(start, cells, columns, departments, errors)
        number = cells[columns["employee_number"]].strip() if columns["employee_number"] < len(cells) else ""
        if number and number in first_line:
            errors.add(
                _("%(line)d行目: 職員番号 '%(number)s' が%(first)d行目と重複しています")
                % {"line": start, "number": number, "first": first_line[number]}
            )
        first_line.setdefault(number, start)
        if row is not None:
            rows.append(row)
    if not rows and not errors.count:
        errors.add(_("職員の行がありません"))
    return rows


def _merge(staff: Staff, row: _Row) -> StaffData:
    """Columns absent from the file keep the stored values."""
    data = row.data
    for name in (
        "family_name_kana",
        "given_name_kana",
        "email",
        "position",
        "employment_category",
        "status",
        "joined_on",
        "left_on",
    ):
        if name not in row.present:
            setattr(data, name, getattr(staff, name))
    return data


def _shown(value: Any, name: str) -> str:
    """A stored or imported value as the preview shows it (choice labels, ISO dates)."""
    if value is None or value == "":
        return ""
    choices = dict(Staff._meta.get_field(name).flatchoices)
    return str(choices.get(value, value))


def _diff(staff: Staff, row: _Row) -> StaffChange | None:
    data = _merge(staff, row)
    fields_changed = [
        FieldChange(str(Staff._meta.get_field(name).verbose_name), _shown(old, name), _shown(new, name))
        for name in STAFF_PLAIN_FIELDS
        if (old := getattr(staff, name)) != (new := getattr(data, name))
    ]
    transfer = None
    if data.department.pk != staff.department_id:
        transfer = FieldChange(str(_("所属")), staff.department.full_name, data.department.full_name)
    if not fields_changed and transfer is None:
        return None
    return StaffChange(row.line, staff.employee_number, staff.full_name, fields_changed, transfer)


def _stripped_zero_warnings(rows: list[_Row], existing: dict[str, Staff]) -> Problems:
    """New numbers that look like stored ones without their leading zeros (Excel drops them)."""
    warnings = Problems()
    stored = list(Staff.objects.values_list("employee_number", "family_name", "given_name"))
    padded = {n.lstrip("0"): (n, f"{f} {g}") for n, f, g in stored if n.isdigit() and n.startswith("0")}
    widths = {len(n) for n, _f, _g in stored if n.isdigit()}
    width = widths.pop() if len(widths) == 1 and padded else None  # the register is zero-padded
    for row in rows:
        number = row.data.employee_number
        if number in existing or not number.isdigit():
            continue
        if number.lstrip("0") in padded:
            match, name = padded[number.lstrip("0")]
            warnings.add(
                _(
                    "%(line)d行目: 職員番号 '%(number)s' は登録済みの '%(match)s'（%(name)s）の先頭の0が"
                    "落ちたものかもしれません。このままでは別の職員として新規登録されます"
                )
                % {"line": row.line, "number": number, "match": match, "name": name}
            )
        elif width is not None and len(number) < width:
            warnings.add(
                _(
                    "%(line)d行目: 職員番号 '%(number)s' は登録済みの番号（%(width)d桁、先頭を0で埋める）より"
                    "短く、先頭の0が落ちているかもしれません"
                )
                % {"line": row.line, "number": number, "width": width}
            )
    return warnings


def _plan(rows: list[_Row], existing: dict[str, Staff], result: StaffImportResult, sha256: str) -> None:
    """Fill the result's counts, lists, warnings and digest with what importing `rows` would do."""
    digest = hashlib.sha256(sha256.encode())
    for row in rows:
        staff = existing.get(row.data.employee_number)
        if staff is None:
            result.created += 1
            item: StaffCreation | StaffChange | None = StaffCreation(
                row.line,
                row.data.employee_number,
                f"{row.data.family_name} {row.data.given_name}",
                row.data.department.full_name,
            )
            if len(result.creations) < MAX_PREVIEW_SHOWN:
                result.creations.append(item)  # type: ignore[arg-type]
        else:
            item = _diff(staff, row)
            if item is None:
                result.unchanged += 1
            else:
                result.updated += 1
                result.transferred += int(item.transfer is not None)
                if len(result.changes) < MAX_PREVIEW_SHOWN:
                    result.changes.append(item)
        digest.update(repr(item).encode())
    warnings = _stripped_zero_warnings(rows, existing)
    result.warnings = warnings.shown
    result.digest = digest.hexdigest()


def _prepare(data: bytes) -> tuple[StaffImportResult, list[_Row]]:
    errors = Problems()
    text, encoding = csv_decode(data, errors)
    if not errors.count:
        csv_check_nul(text, errors)
    rows = _parse(text, errors) if not errors.count else []
    result = StaffImportResult(
        encoding=encoding,
        rows=len(rows),
        errors=errors.shown,
        error_count=errors.count,
    )
    return result, rows


def _existing(rows: list[_Row], *, lock: bool) -> dict[str, Staff]:
    staff = Staff.objects.select_related("department__parent")
    if lock:
        # Lock the staff rows only: PostgreSQL refuses FOR UPDATE on the nullable side of the
        # department's parent join.
        staff = staff.select_for_update(of=("self",))
    return {
        s.employee_number: s for s in staff.filter(employee_number__in=[r.data.employee_number for r in rows])
    }


def staff_import_preview(*, data: bytes) -> StaffImportResult:
    """Check the whole file and say what importing it would do; writes nothing."""
    result, rows = _prepare(data)
    if result.ok:
        _plan(rows, _existing(rows, lock=False), result, hashlib.sha256(data).hexdigest())
    return result


def staff_import(
    *,
    actor: Actor,
    data: bytes,
    filename: str = "",
    today: date | None = None,
    expected_digest: str = "",
) -> StaffImportResult:
    """Check the whole file, then create / update every row in one transaction, or write nothing.

    With `expected_digest` (a preview's), nothing is written unless the import would still do
    exactly what that preview showed; the result then carries the new preview.
    """
    result, rows = _prepare(data)
    if not result.ok:
        return result
    effective_default = today or timezone.localdate()
    sha256 = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        existing = _existing(rows, lock=True)
        _plan(rows, existing, result, sha256)
        if expected_digest and expected_digest != result.digest:
            result.errors, result.error_count, result.stale = [str(PLAN_CHANGED)], 1, True
            return result
        for row in rows:
            staff = existing.get(row.data.employee_number)
            try:
                if staff is None:
                    staff_create(actor=actor, data=row.data)
                else:
                    staff_update(
                        actor=actor,
                        staff=staff,
                        data=_merge(staff, row),
                        effective_date=row.effective_date or effective_default,
                        note=_("職員取込"),
                    )
            except ApplicationError as exc:  # e.g. a 退職 row for the last administrator's record
                transaction.set_rollback(True)
                result.errors, result.error_count = [_("%(line)d行目: ") % {"line": row.line} + str(exc)], 1
                return result
        audit_record(
            actor=actor,
            action="staff.import",
            object_type="core.staff",
            object_name=filename,
            after={
                "filename": filename,
                "sha256": sha256,
                "encoding": result.encoding,
                "rows": result.rows,
                "created": result.created,
                "updated": result.updated,
                "transferred": result.transferred,
                "unchanged": result.unchanged,
                "warnings": result.warnings,
            },
        )
    return result
