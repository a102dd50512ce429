"""Staff import from CSV: UTF-8 (with or without BOM) or CP932 as Excel saves it, all or nothing.

The whole file is checked first; any problem yields line-numbered messages and nothing is written.
A known 職員番号 updates that staff record, and a new 所属コード for them is recorded as a transfer.
Staff missing from the file are left as they are (a file need not be the whole roster).

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

from .audit import Actor, audit_record
from .models import Department, EmploymentCategory, Staff, StaffStatus
from .services import StaffData, staff_create, staff_update

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


class Problems:
    """Line-numbered messages: the first MAX_ERRORS_SHOWN kept, every one counted."""

    def __init__(self) -> None:
        self.shown: list[str] = []
        self.count = 0

    def add(self, message: str) -> None:
        self.count += 1
        if len(self.shown) < MAX_ERRORS_SHOWN:
            self.shown.append(message)


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


def _decode(raw: bytes, errors: Problems) -> tuple[str, str]:
    """Text, encoding name and errors: BOM → UTF-8; valid UTF-8 → UTF-8; else CP932 (Excel)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        encodings = ["utf-8-sig"]
    else:
        encodings = ["utf-8", "cp932"]
    for encoding in encodings:
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    # Neither reads the whole file: name the lines that CP932 (or UTF-8 after a BOM) cannot read.
    encoding = encodings[-1]
    for number, line in enumerate(raw.splitlines(), start=1):
        try:
            line.decode(encoding)
        except UnicodeDecodeError:
            errors.add(
                _("%(line)d行目: 文字コード %(encoding)s として読めない文字があります")
                % {"line": number, "encoding": "UTF-8" if encoding == "utf-8-sig" else "CP932 (Shift_JIS)"}
            )
    return "", encoding


def _check_nul(text: str, errors: Problems) -> None:
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


def staff_import(
    *, actor: Actor, data: bytes, filename: str = "", today: date | None = None
) -> StaffImportResult:
    """Check the whole file, then create / update every row in one transaction, or write nothing."""
    errors = Problems()
    text, encoding = _decode(data, errors)
    if not errors.count:
        _check_nul(text, errors)
    rows = _parse(text, errors) if not errors.count else []
    result = StaffImportResult(
        encoding="CP932" if encoding == "cp932" else "UTF-8",
        rows=len(rows),
        errors=errors.shown,
        error_count=errors.count,
    )
    if not result.ok:
        return result
    effective_default = today or timezone.localdate()
    with transaction.atomic():
        existing = {
            s.employee_number: s
            for s in Staff.objects.select_for_update().filter(
                employee_number__in=[r.data.employee_number for r in rows]
            )
        }
        for row in rows:
            staff = existing.get(row.data.employee_number)
            if staff is None:
                staff_create(actor=actor, data=row.data)
                result.created += 1
                continue
            moved = staff.department_id != row.data.department.pk
            snapshot = {f.attname: getattr(staff, f.attname) for f in Staff._meta.concrete_fields}
            staff_update(
                actor=actor,
                staff=staff,
                data=_merge(staff, row),
                effective_date=row.effective_date or effective_default,
                note=_("職員取込"),
            )
            after = {f.attname: getattr(staff, f.attname) for f in Staff._meta.concrete_fields}
            result.transferred += int(moved)
            if after == snapshot:
                result.unchanged += 1
            else:
                result.updated += 1
        audit_record(
            actor=actor,
            action="staff.import",
            object_type="core.staff",
            after={
                "filename": filename,
                "sha256": hashlib.sha256(data).hexdigest(),
                "encoding": result.encoding,
                "rows": result.rows,
                "created": result.created,
                "updated": result.updated,
                "transferred": result.transferred,
                "unchanged": result.unchanged,
            },
        )
    return result
