"""Imports: an uploaded file is stored and recorded (`import_submit`), then run (`import_execute`, in
the worker: `tasks`; or at once: `mamori import devices ...`). The file is removed once it has run.

The file readers in `formats` turn bytes into records or a `FormatError`; this module maps the
records onto devices and reports and writes them all in one transaction with one audit event, or
writes nothing and keeps every line-numbered error on the import record. Errors and notes are kept
as messages (`core.messages`: msgid and parameters), so every reader sees them in their language.

- Inventory (CSV): a device is known by its asset tag; a changed field is updated and kept in the
  device's history; devices absent from the file are left alone. Re-importing a file changes nothing.
- Hygiene (Wazuh API JSON, osquery result log, CSV): a report is (device, day, source); the same
  report again replaces it (or changes nothing). Hosts the inventory does not know are listed on
  the import, not imported. Every device touched gets its current state (`DeviceHygiene`) rebuilt.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any, BinaryIO

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext as _

from mamori.apps.core.audit import Actor, actor_name, audit_record
from mamori.apps.core.messages import Message, message_json
from mamori.apps.core.models import Department

from . import formats
from .errors import DeviceError
from .hygiene import MERGED_FIELDS, merge
from .models import (
    Device,
    DeviceChange,
    DeviceHygiene,
    DeviceImport,
    HygieneReport,
    ImportKind,
    ImportState,
)
from .services import DEVICE_FIELDS, device_diff, field_value, history_record
from .uploads import StoredUpload, upload_read, upload_remove, upload_store

logger = logging.getLogger(__name__)
MAX_ERRORS = 50
MAX_UNKNOWN_HOSTS = 200
UNEXPECTED = gettext_lazy(
    "予期しないエラーで取込が止まりました。何も取り込んでいません。管理者がログを確認できます。"
)
AT_LINE = gettext_lazy("{line}行目: {message}")
CONCURRENT = gettext_lazy("同時に行われた変更と重なりました。もう一度取り込んでください。")
NO_ZONE = gettext_lazy("ネットワーク区分がありません")
NO_DEPARTMENT = gettext_lazy(
    "所属「{value}」が見つからないか、同名の所属が複数あります（所属コードで書いてください）"
)
FIELD_INVALID = "{label}: {messages}"  # a field's name and Django's own messages: nothing to translate
DUPLICATE_TAG = gettext_lazy("資産番号 {tag} が{other}行目と重複しています")
DUPLICATE_HOST = gettext_lazy("ホスト名 {host} が{other}行目と重複しています")
HOST_TAKEN = gettext_lazy("ホスト名 {host} は既に {tag} で登録されています")
FUTURE_DAY = gettext_lazy("日付 {day} は未来の日付です")
REPORT_FIELDS = ["av_product", "av_engine", *MERGED_FIELDS[1:]]
#: how far back the current state looks for a figure a newer report lacks
STATE_LOOKBACK = timedelta(days=90)

Report = Callable[[int, int, str], None]

READERS: dict[str, Callable[[bytes], formats.Parsed[Any]]] = {
    ImportKind.INVENTORY: formats.read_inventory_csv,
    ImportKind.WAZUH: formats.read_wazuh,
    ImportKind.OSQUERY: formats.read_osquery,
    ImportKind.HYGIENE_CSV: formats.read_hygiene_csv,
}


@dataclass
class Outcome:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, Any]] = field(default_factory=list)  # (line or 0, stored message)
    error_count: int = 0
    unknown_hosts: list[str] = field(default_factory=list)
    notes: list[Any] = field(default_factory=list)  # stored messages

    def error(self, line: int | None, message: Message | Promise) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            stored = Message(AT_LINE, line=line, message=message) if line else message
            self.errors.append((line or 0, message_json(stored)))


def problem_message(problem: formats.Problem) -> Message:
    """A reader's problem as a stored message: its msgid and fields, after its line or JSON path —
    shown as `problem.render(gettext)` shows it, in the language of whoever reads it."""
    text = Message(problem.message, **problem.params)
    if problem.where is None:
        return text
    prefix, fields = problem.where
    return Message("{at}{message}", at=Message(prefix, **fields), message=text)


def _no_report(done: int, total: int, message: str = "") -> None:
    return None


def import_submit(*, actor: Actor, filename: str, data: bytes | BinaryIO, kind: str = "") -> DeviceImport:
    """Store the file (bytes, or an open file read in chunks; at most MAX_IMPORT_BYTES) and record it
    as a queued import (audited); `import_execute` runs it. Without `kind` the format is told from
    the content; a file of no known format is refused at once, and nothing is kept of a refused one."""
    if kind and kind not in ImportKind.values:
        raise ValueError(kind)
    stored = upload_store(data)
    try:
        if not kind:
            try:
                kind = formats.detect_format(filename, stored.head)
            except formats.FormatError as exc:
                raise DeviceError(exc.render(gettext), code="unknown_format") from exc
        return _record(actor=actor, kind=kind, filename=filename, stored=stored)
    except BaseException:
        upload_remove(stored.name)
        raise


def _record(*, actor: Actor, kind: str, filename: str, stored: StoredUpload) -> DeviceImport:
    with transaction.atomic():
        record = DeviceImport.objects.create(
            kind=kind,
            filename=filename[:200],
            sha256=stored.sha256,
            size=stored.size,
            stored_file=stored.name,
            requested_by=actor if getattr(actor, "is_authenticated", False) else None,
            actor=actor_name(actor),
            created_at=timezone.now(),
        )
        audit_record(
            actor=actor,
            action="devices.import.submit",
            obj=record,
            after={"kind": kind, "filename": record.filename, "sha256": record.sha256, "size": record.size},
        )
    return record


def import_execute(*, import_id: int, report: Report = _no_report) -> DeviceImport:
    """Run a queued import to its end: all written (SUCCEEDED) or nothing written (FAILED, with the
    errors), then remove its file. A second delivery of the same task does nothing."""
    record = DeviceImport.objects.get(pk=import_id)
    if record.state != ImportState.QUEUED:
        return record
    DeviceImport.objects.filter(pk=record.pk).update(state=ImportState.RUNNING)
    try:
        _execute(record, report)
    except Exception:  # a bug still ends the import as failed, with nothing written
        logger.exception("device import %s failed", record.pk)
        outcome = Outcome()
        outcome.error(None, UNEXPECTED)
        with transaction.atomic():
            _finish(record, outcome)
        raise
    finally:
        upload_remove(record.stored_file)
    record.refresh_from_db()
    return record


def _execute(record: DeviceImport, report: Report) -> None:
    outcome = Outcome()
    records: list[Any] = []
    try:
        parsed = READERS[record.kind](upload_read(record.stored_file))
        records = list(parsed)
        outcome.notes = [message_json(problem_message(note)) for note in parsed.notes]
    except formats.FormatError as exc:
        outcome.errors = [(0, message_json(problem_message(p))) for p in exc.problems[:MAX_ERRORS]]
        outcome.error_count = exc.count
    except DeviceError as exc:  # the file is gone
        outcome.error(None, exc.message)
    outcome.rows = len(records)
    if not outcome.error_count:
        try:
            with transaction.atomic():
                apply = _inventory_apply if record.kind == ImportKind.INVENTORY else _hygiene_apply
                apply(record, records, outcome, report)
                if outcome.error_count:
                    raise _Rollback
                _finish(record, outcome)
        except _Rollback:
            pass
        except IntegrityError:  # a concurrent edit took a tag or host name this file uses
            outcome.error(None, CONCURRENT)
    if outcome.error_count:
        with transaction.atomic():
            _finish(record, outcome)


class _Rollback(Exception):
    """Errors found while mapping: leave the transaction with nothing written."""


def _finish(record: DeviceImport, outcome: Outcome) -> None:
    failed = bool(outcome.error_count)
    record.state = ImportState.FAILED if failed else ImportState.SUCCEEDED
    record.finished_at = timezone.now()
    counts = {k: getattr(outcome, k) for k in ("rows", "created", "updated", "unchanged", "error_count")}
    if failed:
        counts |= {"created": 0, "updated": 0, "unchanged": 0}
    for name, value in counts.items():
        setattr(record, name, value)
    record.errors = [text for _line, text in sorted(outcome.errors, key=lambda e: e[0])]
    record.unknown_hosts = outcome.unknown_hosts[:MAX_UNKNOWN_HOSTS]
    record.notes = outcome.notes[:MAX_ERRORS]
    record.save()
    audit_record(
        actor=record.actor,
        action="devices.import.fail" if failed else "devices.import.apply",
        obj=record,
        after={
            "kind": record.kind,
            "sha256": record.sha256,
            **counts,
            "unknown_hosts": len(outcome.unknown_hosts),
        },
    )


# --- inventory -----------------------------------------------------------------------------------


def normalised(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


class _Departments:
    """A department by its code, its name or its full name (部 課); an ambiguous name is not guessed."""

    def __init__(self) -> None:
        self.by_key: dict[str, Department | None] = {}
        for department in Department.objects.select_related("parent"):
            self.by_key[normalised(department.code)] = department
            for key in {normalised(department.name), normalised(department.full_name)}:
                self.by_key[key] = None if key in self.by_key else department

    def get(self, text: str) -> Department | None:
        return self.by_key.get(normalised(text))


def _device_data(
    record: formats.DeviceRecord, departments: _Departments, outcome: Outcome
) -> dict[str, Any] | None:
    """The device fields of an inventory line (the reader has checked kind, zone, status and dates)."""
    problems: list[Message | Promise] = []
    department = departments.get(record.department)
    if not record.zone:
        problems.append(NO_ZONE)
    if department is None:
        problems.append(Message(NO_DEPARTMENT, value=record.department))
    data = {
        "asset_tag": record.asset_tag.strip(),
        "hostname": record.hostname.strip(),
        "kind": record.kind,
        "maker": record.maker.strip(),
        "model_name": record.model.strip(),
        "serial": record.serial.strip(),
        "os_name": record.os_name.strip(),
        "os_version": record.os_version.strip(),
        "department": department,
        "location": record.location.strip(),
        "network_zone": record.zone,
        "purchase_date": record.purchase_date,
        "lease_end": record.lease_end,
        "end_of_support": record.end_of_support,
        "status": record.status,
    }
    if not problems:
        try:
            Device(**data).clean_fields(exclude=["department", "disposal_media"])
        except ValidationError as exc:
            for name, errors in exc.error_dict.items():
                label = Device._meta.get_field(name).verbose_name
                messages = [Message(e.message, **(e.params or {})) for e in errors]
                problems.append(Message(FIELD_INVALID, label=label, messages=messages))
    for problem in problems:
        outcome.error(record.line, problem)
    return None if problems else data


def _inventory_apply(record: DeviceImport, records: list[Any], outcome: Outcome, report: Report) -> None:
    departments = _Departments()
    rows: list[tuple[int | None, dict[str, Any]]] = []
    seen_tags: dict[str, int | None] = {}
    seen_hosts: dict[str, int | None] = {}
    for i, item in enumerate(records):
        data = _device_data(item, departments, outcome)
        line = item.line
        if data is None:
            continue
        tag, host = data["asset_tag"], formats.host_key(data["hostname"])
        if tag in seen_tags:
            outcome.error(line, Message(DUPLICATE_TAG, tag=tag, other=seen_tags[tag]))
        if host and host in seen_hosts:
            outcome.error(line, Message(DUPLICATE_HOST, host=data["hostname"], other=seen_hosts[host]))
        seen_tags[tag], seen_hosts[host] = line, line
        rows.append((line, data))
        report(i + 1, len(records) * 2, _("検証中"))
    owners = dict(Device.objects.exclude(host_key="").values_list("host_key", "asset_tag"))
    for line, data in rows:
        owner = owners.get(formats.host_key(data["hostname"]))
        if owner and owner != data["asset_tag"] and owner not in seen_tags:
            outcome.error(line, Message(HOST_TAKEN, host=data["hostname"], tag=owner))
    if outcome.error_count:
        return
    existing = {
        d.asset_tag: d
        for d in Device.objects.select_related("department__parent").filter(asset_tag__in=seen_tags)
    }
    via = record.filename[:40]
    new: list[Device] = []
    changed: list[Device] = []
    history: list[DeviceChange] = []
    for i, (_line, data) in enumerate(rows):
        device = existing.get(data["asset_tag"])
        if device is None:
            device = Device(**data, host_key=formats.host_key(data["hostname"]))
            new.append(device)
        else:
            diff = device_diff(device, data)
            if not diff:
                outcome.unchanged += 1
                continue
            for name, value in data.items():
                setattr(device, name, value)
            device.host_key = formats.host_key(device.hostname)
            changed.append(device)
            history.append(history_record(device=device, actor=record.actor, via=via, changes=diff))
        report(len(rows) + i + 1, len(rows) * 2, _("書き込み中"))
    Device.objects.bulk_create(new, batch_size=500)
    for device in new:
        changes = {name: [None, field_value(device, name)] for name in DEVICE_FIELDS}
        history.append(history_record(device=device, actor=record.actor, via=via, changes=changes))
    now = timezone.now()
    for device in changed:
        device.updated_at = now
    Device.objects.bulk_update(changed, [*DEVICE_FIELDS, "host_key", "updated_at"], batch_size=500)
    DeviceChange.objects.bulk_create(history, batch_size=500)
    outcome.created, outcome.updated = len(new), len(changed)


# --- hygiene -------------------------------------------------------------------------------------


def _report_values(item: formats.HygieneReport) -> dict[str, Any]:
    pct = item.baseline_pass_pct
    return {
        "av_product": item.av_product[:100],
        "av_engine": item.av_engine_version[:60],
        "signature_date": item.av_signature_date,
        "signatures_current": item.av_signatures_current,
        "realtime": item.av_realtime,
        "last_patch_date": item.last_patch_date,
        "missing_updates": item.missing_updates,
        "baseline_pass_pct": None if pct is None else Decimal(pct).quantize(Decimal("0.1")),
    }


class _Matcher:
    """A report's device: by serial when both have one, else asset tag, else host name (`records`)."""

    def __init__(self) -> None:
        rows = Device.objects.values_list("pk", "serial", "asset_tag", "host_key")
        self.serials = {serial: pk for pk, serial, _tag, _host in rows if serial}
        self.tags = {tag: pk for pk, _serial, tag, _host in rows}
        self.hosts = {host: pk for pk, _serial, _tag, host in rows if host}

    def get(self, item: formats.HygieneReport) -> int | None:
        if item.serial and item.serial in self.serials:
            return self.serials[item.serial]
        if item.asset_tag and item.asset_tag in self.tags:
            return self.tags[item.asset_tag]
        return self.hosts.get(item.host_key) if item.hostname else None


def _hygiene_apply(record: DeviceImport, records: list[Any], outcome: Outcome, report: Report) -> None:
    matcher = _Matcher()
    latest_day = timezone.localdate() + timedelta(days=1)  # a report from a host a time zone ahead
    incoming: dict[tuple[int, Any, str], dict[str, Any]] = {}
    unknown: set[str] = set()
    for item in records:
        device_id = matcher.get(item)
        if device_id is None:
            unknown.add(item.hostname or item.serial or item.asset_tag)
            continue
        if item.reported_on > latest_day:
            outcome.error(item.line, Message(FUTURE_DAY, day=item.reported_on))
            continue
        key = (device_id, item.reported_on, str(item.source))
        values = _report_values(item)
        merged = incoming.setdefault(key, values)  # two lines for one device and day add up
        for name, value in values.items():
            if value not in (None, ""):
                merged[name] = value
    outcome.unknown_hosts = sorted(unknown)
    if outcome.error_count or not incoming:
        return
    days = [k[1] for k in incoming]
    device_ids = {k[0] for k in incoming}
    existing = {
        (device_id, day, source): (pk, rest)
        for pk, device_id, day, source, *rest in HygieneReport.objects.filter(
            device_id__in=device_ids, day__gte=min(days), day__lte=max(days)
        ).values_list("pk", "device_id", "day", "source", *REPORT_FIELDS)
    }
    new: list[tuple[Any, ...]] = []
    changed: list[HygieneReport] = []
    total = len(incoming)
    for i, (key, values) in enumerate(incoming.items()):
        current = existing.get(key)
        row = [values[n] for n in REPORT_FIELDS]
        if current is None:
            new.append((*key, *row, record.pk))
        elif current[1] != row:
            changed.append(HygieneReport(pk=current[0], **dict(zip(REPORT_FIELDS, row, strict=True))))
        else:
            outcome.unchanged += 1
        if i % 500 == 0:
            report(i, total, _("書き込み中"))
    _insert_reports(new)
    for report_ in changed:
        report_.imported_by = record
    HygieneReport.objects.bulk_update(changed, [*REPORT_FIELDS, "imported_by"], batch_size=1000)
    outcome.created, outcome.updated = len(new), len(changed)
    if new or changed:
        hygiene_rebuild(device_ids=device_ids)
    report(total, total, _("完了"))


def _insert_reports(rows: list[tuple[Any, ...]]) -> None:
    """One prepared INSERT for many rows: a month of a city's reports is ~35,000 rows, and building a
    model instance and compiling SQL for each (bulk_create) took most of the import's time."""
    if not rows:
        return
    fields = [
        HygieneReport._meta.get_field(n) for n in ["device", "day", "source", *REPORT_FIELDS, "imported_by"]
    ]
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 - names from the model, values as parameters
        quote(HygieneReport._meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    adapt = [
        connection.ops.adapt_datefield_value if f.get_internal_type() == "DateField" else None for f in fields
    ]
    prepared = [
        tuple(a(v) if a and v is not None else v for a, v in zip(adapt, row, strict=True)) for row in rows
    ]
    with connection.cursor() as cursor:
        for start in range(0, len(prepared), 2000):
            cursor.executemany(sql, prepared[start : start + 2000])


def hygiene_rebuild(*, device_ids: Iterable[int]) -> None:
    """Recompute the current state of these devices from their reports (newest first)."""
    ids = sorted(set(device_ids))
    names = ("day", *MERGED_FIELDS)
    for start in range(0, len(ids), 500):
        rows = (
            HygieneReport.objects.filter(device_id__in=ids[start : start + 500])
            .order_by("device_id", "-day", "source")
            .values_list("device_id", *names)
        )
        by_device: dict[int, list[dict[str, Any]]] = {}
        for device_id, *values in rows:
            reports = by_device.setdefault(device_id, [])
            if not reports or values[0] >= reports[0]["day"] - STATE_LOOKBACK:
                reports.append(dict(zip(names, values, strict=True)))
        states = [DeviceHygiene(device_id=pk, **asdict(merge(reports))) for pk, reports in by_device.items()]
        DeviceHygiene.objects.bulk_create(
            states,
            update_conflicts=True,
            unique_fields=["device"],
            update_fields=["last_report_day", *MERGED_FIELDS],
        )
