"""Daily hygiene reports from CSV: one line per device per day, as a city's own tools export it.

Columns: 報告日 (required), ホスト名 / シリアル番号 / 資産番号 (at least one), ウイルス対策製品,
エンジンバージョン, 定義ファイル日付, 定義ファイル最新, リアルタイム保護, 最終パッチ適用日,
未適用更新数, 基準適合率 (English aliases accepted). An empty cell means "not reported".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import Problems, gettext_noop
from .records import HygieneReport, Parsed, host_key
from .table import TOO_LONG, read_table
from .values import BAD_DATE, parse_bool, parse_count, parse_date, parse_percent

COLUMNS: dict[str, tuple[str, ...]] = {
    "reported_on": ("報告日", "日付", "収集日", "取得日", "reported_on", "report date", "date"),
    "hostname": (
        "ホスト名",
        "コンピュータ名",
        "コンピューター名",
        "端末名",
        "hostname",
        "host name",
        "computer name",
        "name",
    ),
    "serial": ("シリアル番号", "製造番号", "serial", "serial number"),
    "asset_tag": ("資産番号", "管理番号", "asset_tag", "asset tag"),
    "os_name": ("OS", "OS名", "os_name", "operating system"),
    "os_version": ("OSバージョン", "os_version", "os version"),
    "av_product": (
        "ウイルス対策製品",
        "ウイルス対策ソフト",
        "ウイルス対策",
        "av_product",
        "antivirus",
        "antivirus product",
    ),
    "av_engine_version": ("エンジンバージョン", "エンジン", "av_engine_version", "engine version", "engine"),
    "av_signature_date": (
        "定義ファイル日付",
        "パターンファイル日付",
        "パターン日付",
        "定義日付",
        "av_signature_date",
        "signature date",
        "signatures date",
    ),
    "av_signatures_current": (
        "定義ファイル最新",
        "パターン最新",
        "av_signatures_current",
        "signatures up to date",
        "signatures_up_to_date",
    ),
    "av_realtime": (
        "リアルタイム保護",
        "リアルタイム検索",
        "リアルタイムスキャン",
        "av_realtime",
        "realtime protection",
        "real-time protection",
        "realtime",
    ),
    "last_patch_date": (
        "最終パッチ適用日",
        "最終更新適用日",
        "パッチ適用日",
        "last_patch_date",
        "last patch date",
        "last patched",
    ),
    "missing_updates": (
        "未適用更新数",
        "未適用パッチ数",
        "未適用の更新",
        "missing_updates",
        "missing updates",
    ),
    "baseline_pass_pct": (
        "基準適合率",
        "設定基準適合率",
        "ベースライン適合率",
        "適合率",
        "baseline_pass_pct",
        "baseline pass rate",
        "baseline",
        "compliance",
    ),
}
LABELS = {key: names[0] for key, names in COLUMNS.items()}
MAX_TEXT = 200

BAD_BOOL = gettext_noop("%(column)s '%(value)s' は はい・いいえ（有効・無効、1・0）のどちらかにしてください")
BAD_COUNT = gettext_noop("%(column)s '%(value)s' は 0 以上の整数にしてください")
BAD_PERCENT = gettext_noop("%(column)s '%(value)s' は 0〜100 の数（例 85.5 または 85.5%%）にしてください")
EMPTY = gettext_noop("%(column)s が空です")
NO_KEY = gettext_noop("ホスト名・シリアル番号・資産番号 がすべて空です")
DUPLICATE = gettext_noop("同じ機器の同じ日の報告が%(first)d行目にもあります")

PARSERS: dict[str, tuple[Callable[[str], Any], str]] = {
    "reported_on": (parse_date, BAD_DATE),
    "av_signature_date": (parse_date, BAD_DATE),
    "last_patch_date": (parse_date, BAD_DATE),
    "av_signatures_current": (parse_bool, BAD_BOOL),
    "av_realtime": (parse_bool, BAD_BOOL),
    "missing_updates": (parse_count, BAD_COUNT),
    "baseline_pass_pct": (parse_percent, BAD_PERCENT),
}
TEXT = ("hostname", "serial", "asset_tag", "os_name", "os_version", "av_product", "av_engine_version")


def read_hygiene_csv(data: bytes) -> Parsed[HygieneReport]:
    """Every report line of the file, or FormatError naming every bad line."""
    table = read_table(
        data, COLUMNS, labels=LABELS, required=("reported_on",), one_of=("hostname", "serial", "asset_tag")
    )
    problems = Problems()
    reports = []
    first_seen: dict[tuple[object, ...], int] = {}
    for line, row in table.rows:
        before = problems.count
        values: dict[str, Any] = {}
        for key in TEXT:
            if len(row.get(key, "")) > MAX_TEXT:
                problems.add(TOO_LONG, line=line, column=LABELS[key], limit=MAX_TEXT)
            values[key] = row.get(key, "")
        for key, (parse, message) in PARSERS.items():
            cell = row.get(key, "")
            if not cell:
                values[key] = None
                continue
            try:
                values[key] = parse(cell)
            except ValueError:
                problems.add(message, line=line, column=LABELS[key], value=cell)
        if not row["reported_on"]:
            problems.add(EMPTY, line=line, column=LABELS["reported_on"])
        if not (values["hostname"] or values["serial"] or values["asset_tag"]):
            problems.add(NO_KEY, line=line)
        if problems.count > before:
            continue
        device_day = _device_key(values), values["reported_on"]
        if device_day in first_seen:
            problems.add(DUPLICATE, line=line, first=first_seen[device_day])
            continue
        first_seen[device_day] = line
        reports.append(HygieneReport(line=line, source="csv", **values))
    problems.raise_if_any()
    return Parsed(tuple(reports), table.encoding, table.notes)


def _device_key(values: dict[str, Any]) -> tuple[str, str]:
    if values["serial"]:
        return "serial", values["serial"].casefold()
    if values["asset_tag"]:
        return "asset_tag", values["asset_tag"].casefold()
    return "host", host_key(values["hostname"])
