"""Hygiene from osquery result logs (the filesystem logger's JSON lines), on Windows hosts.

Each line is one scheduled query's result for one host: differential (`"action": "added"` with
`columns`; "removed" lines are ignored), snapshot (`"action": "snapshot"` with a `snapshot` array)
or batched (`diffResults.added`). Queries are told by their columns, not their names, since each
city names its packs: windows_security_products (type, name, state, signatures_up_to_date),
windows_security_center (antivirus, firewall, autoupdate), patches (hotfix_id, installed_on),
windows_update_history (update_id, result_code, date), os_version (name, version, platform) and
system_info (hostname, hardware_serial). Other queries are noted and skipped.

All lines of one host on one day (the city's day of `unixTime`) make one report; later lines win.
The host is `decorations.hostname` when the config adds it, else `hostIdentifier`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from .errors import Problem, Problems, gettext_noop
from .jsonio import lines, local_date, type_name
from .records import HygieneReport, Parsed
from .values import parse_us_date

CITY_TZ = ZoneInfo("Asia/Tokyo")
MAX_TEXT = 200
MAX_ROWS_PER_LINE = 100_000

NOT_OSQUERY = gettext_noop(
    "osquery の結果ログ（name・hostIdentifier・unixTime を持つ JSON の行）ではありません"
)
MISSING = gettext_noop("%(field)s がありません")
WRONG_TYPE = gettext_noop("%(field)s は%(expected)sのはずが %(found)s です")
BAD_TIME = gettext_noop("unixTime '%(value)s' が時刻として読めません")
NUL_TEXT = gettext_noop("%(field)s に NUL文字（\\u0000）が含まれています")
TOO_LONG = gettext_noop("%(field)s が長すぎます（%(limit)d文字まで）")
TOO_MANY_ROWS = gettext_noop("1行の結果が多すぎます（上限 %(limit)d 件）")
UNUSED_QUERY = gettext_noop("クエリ '%(name)s' の結果は使わないので読み飛ばしました")
NO_REPORTS = gettext_noop("衛生状態に使える結果（ウイルス対策・パッチ・OS）がありません")

# (table, the columns that tell it, the columns read from it)
TABLES: tuple[tuple[str, frozenset[str], tuple[str, ...]], ...] = (
    (
        "windows_security_products",
        frozenset({"type", "name", "state", "signatures_up_to_date"}),
        ("type", "name", "state", "signatures_up_to_date"),
    ),
    ("windows_security_center", frozenset({"antivirus", "firewall", "autoupdate"}), ("antivirus",)),
    ("patches", frozenset({"hotfix_id", "installed_on"}), ("hotfix_id", "installed_on")),
    (
        "windows_update_history",
        frozenset({"update_id", "result_code", "date"}),
        ("result_code", "date", "operation"),
    ),
    ("os_version", frozenset({"name", "version", "platform"}), ("name", "version")),
    ("system_info", frozenset({"hostname", "hardware_serial"}), ("hardware_serial",)),
)


@dataclass
class _Day:
    """What one host's lines of one day said so far; the last line read wins per field."""

    line: int
    hostname: str
    values: dict[str, Any] = field(default_factory=dict)
    hotfixes: set[str] = field(default_factory=set)
    latest_patch: date | None = None

    def patched(self, day: date | None) -> None:
        if day is not None and (self.latest_patch is None or day > self.latest_patch):
            self.latest_patch = day


def _table_of(columns: dict[str, Any]) -> tuple[str, frozenset[str], tuple[str, ...]] | None:
    keys = columns.keys()
    for table, needed, used in TABLES:
        if needed <= keys:
            return table, needed, used
    return None


def read_osquery(data: bytes, *, tz: tzinfo = CITY_TZ) -> Parsed[HygieneReport]:
    """One report per host per day, or FormatError naming every bad line."""
    problems = Problems()
    days: dict[tuple[str, date], _Day] = {}
    unused: dict[str, int] = {}
    for number, entry in lines(data):
        host, day = _header(entry, number, problems, tz)
        if host is None or day is None:
            continue
        rows = _rows(entry, number, problems)
        # One line is one query's result, so its rows share their columns: the first tells the table.
        found = _table_of(rows[0]) if rows else None
        if found is None:
            if rows:
                unused.setdefault(str(entry.get("name", ""))[:MAX_TEXT], number)
            continue
        table, needed, used = found
        state = days.get((host.casefold(), day))
        if state is None:
            state = days[host.casefold(), day] = _Day(number, host)
        for columns in rows:
            row = _clean(columns, used, number, problems) if needed <= columns.keys() else None
            if row is not None:
                _apply(state, table, row, tz)
    problems.raise_if_any()
    notes = tuple(Problem(UNUSED_QUERY, {"name": name}, line=line) for name, line in unused.items())
    reports = tuple(_report(state, day) for (_, day), state in days.items())
    if not reports:
        problems.add(NO_REPORTS)
        problems.raise_if_any()
    return Parsed(reports, "utf-8", notes)


def _header(
    entry: dict[str, Any], line: int, problems: Problems, tz: tzinfo
) -> tuple[str | None, date | None]:
    # Older osquery (and its own logging page's event example) wrote "hostname" for "hostIdentifier".
    identifier = entry.get("hostIdentifier", entry.get("hostname"))
    if identifier is None or "unixTime" not in entry:
        problems.add(NOT_OSQUERY, line=line)
        return None, None
    decorations = entry.get("decorations")
    host = decorations.get("hostname") if isinstance(decorations, dict) else None
    host = host if isinstance(host, str) and host.strip() else identifier
    if not isinstance(host, str) or not host.strip():
        problems.add(MISSING, line=line, field="hostIdentifier")
        return None, None
    if "\x00" in host or len(host) > MAX_TEXT:
        problems.add(
            TOO_LONG if len(host) > MAX_TEXT else NUL_TEXT, line=line, field="hostIdentifier", limit=MAX_TEXT
        )
        return None, None
    raw = entry["unixTime"]
    try:
        seconds = int(raw) if not isinstance(raw, bool) else None
        if seconds is None:
            raise ValueError(raw)
        moment = datetime.fromtimestamp(seconds, UTC)
    except (ValueError, TypeError, OverflowError, OSError):
        problems.add(BAD_TIME, line=line, value=str(raw)[:40])
        return None, None
    return host.strip(), local_date(moment, tz)


def _rows(entry: dict[str, Any], line: int, problems: Problems) -> list[dict[str, Any]]:
    """The result rows a line adds: its `columns`, its `snapshot`, or its batch's `added`."""
    action = entry.get("action")
    if action == "removed":
        return []
    if "snapshot" in entry:
        rows, field_name = entry["snapshot"], "snapshot"
    elif "columns" in entry:
        rows, field_name = [entry["columns"]], "columns"
    elif isinstance(entry.get("diffResults"), dict):
        rows, field_name = entry["diffResults"].get("added", []), "diffResults.added"
    else:
        problems.add(MISSING, line=line, field="columns / snapshot")
        return []
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        found = type_name(rows) if not isinstance(rows, list) else "配列（オブジェクト以外を含む）"
        problems.add(WRONG_TYPE, line=line, field=field_name, expected="オブジェクトの配列", found=found)
        return []
    if len(rows) > MAX_ROWS_PER_LINE:
        problems.add(TOO_MANY_ROWS, line=line, limit=MAX_ROWS_PER_LINE)
        return []
    return rows


def _clean(
    columns: dict[str, Any], used: tuple[str, ...], line: int, problems: Problems
) -> dict[str, str] | None:
    """The columns read, as text: osquery logs every value as a string (numbers too, unless
    `numerics` is on); the others are not looked at."""
    row = {}
    for key in used:
        value = columns.get(key)
        if type(value) is str and len(value) <= MAX_TEXT * 10 and "\x00" not in value:
            row[key] = value.strip()  # the usual case, checked at once
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            if value is None:  # a NULL column: osquery writes "" but a hand-made log may not
                row[key] = ""
                continue
            problems.add(
                WRONG_TYPE, line=line, field=str(key)[:50], expected="文字列", found=type_name(value)
            )
            return None
        text = str(value)
        if "\x00" in text:
            problems.add(NUL_TEXT, line=line, field=str(key)[:50])
            return None
        if len(text) > MAX_TEXT * 10:
            problems.add(TOO_LONG, line=line, field=str(key)[:50], limit=MAX_TEXT * 10)
            return None
        row[key] = text.strip()
    return row


def _apply(state: _Day, table: str, row: dict[str, str], tz: tzinfo) -> None:
    values = state.values
    if table == "windows_security_products":
        if row["type"].casefold() != "antivirus":
            return
        active = row["state"].casefold() == "on"
        # Several products register (Defender stays listed, off, beside a third-party product):
        # the one that is on is the product; another is kept only if none is on.
        if active or not values.get("_av_active"):
            values.update(
                av_product=row["name"][:MAX_TEXT],
                av_realtime=active,
                av_signatures_current=row["signatures_up_to_date"] == "1",
                _av_active=active,
            )
    elif table == "windows_security_center":
        if "_av_active" in values:
            return  # windows_security_products says more
        health = row["antivirus"].casefold()
        values["av_realtime"] = True if health == "good" else None
        # Windows says Poor when protection is off or signatures are out of date; it does not say
        # which, so only the signatures are marked failing.
        values["av_signatures_current"] = {"good": True, "poor": False}.get(health)
    elif table == "patches":
        state.hotfixes.add(row["hotfix_id"][:MAX_TEXT])
        state.patched(_date_or_none(row.get("installed_on", "")))
    elif table == "windows_update_history":
        if row.get("operation", "").casefold() in ("", "installation") and row["result_code"].casefold() in (
            "succeeded",
            "succeededwitherrors",
            "2",
            "3",
        ):
            try:
                state.patched(local_date(datetime.fromtimestamp(int(row["date"]), UTC), tz))
            except (ValueError, OverflowError, OSError):
                pass  # an unreadable history entry says nothing about the last patch
    elif table == "os_version":
        values.update(os_name=row["name"][:MAX_TEXT], os_version=row["version"][:MAX_TEXT])
    elif table == "system_info":
        values["serial"] = row["hardware_serial"][:MAX_TEXT]


def _date_or_none(text: str) -> date | None:
    try:
        return parse_us_date(text) if text else None
    except ValueError:
        return None


def _report(state: _Day, day: date) -> HygieneReport:
    values = {k: v for k, v in state.values.items() if not k.startswith("_")}
    return HygieneReport(
        line=state.line,
        source="osquery",
        reported_on=day,
        hostname=state.hostname,
        last_patch_date=state.latest_patch,
        hotfixes=tuple(sorted(state.hotfixes - {""})),
        **values,
    )
