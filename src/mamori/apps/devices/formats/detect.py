"""Which reader a file needs, told by its content (the name only breaks a tie), so an officer can
drop any export on one upload form."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Literal

from . import hygiene_csv, inventory_csv
from .errors import fail, gettext_noop
from .hygiene_csv import read_hygiene_csv
from .inventory_csv import read_inventory_csv
from .osquery import read_osquery
from .records import Parsed
from .table import alias_index, delimiter
from .values import fold
from .wazuh import read_wazuh

Format = Literal["inventory_csv", "hygiene_csv", "wazuh", "osquery"]
READERS: dict[str, Callable[[bytes], Parsed[Any]]] = {
    "inventory_csv": read_inventory_csv,
    "hygiene_csv": read_hygiene_csv,
    "wazuh": read_wazuh,
    "osquery": read_osquery,
}
SNIFF_BYTES = 64 * 1024

UNKNOWN = gettext_noop(
    "ファイル '%(name)s' の形式が分かりません。機器台帳CSV・衛生状態CSV・Wazuh API のJSON・osquery の結果ログのいずれかを選んでください"
)


def detect_format(filename: str, data: bytes) -> Format:
    """The format of a file, or FormatError saying which formats are accepted."""
    head = data[:SNIFF_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"{"):
        first_line = head.split(b"\n", 1)[0]
        if b'"hostIdentifier"' in first_line or (b'"unixTime"' in first_line and b'"name"' in first_line):
            return "osquery"
        if b'"affected_items"' in head or b'"agents"' in head:
            return "wazuh"
        try:  # a one-line document: try the keys
            keys = json.loads(first_line).keys()
        except (ValueError, AttributeError, RecursionError):
            keys = set()
        if "hostIdentifier" in keys:
            return "osquery"
    elif head and not filename.casefold().endswith((".json", ".jsonl", ".log", ".ndjson")):
        kind = _csv_kind(head)
        if kind is not None:
            return kind
    raise fail(UNKNOWN, name=filename[:100])


def _csv_kind(head: bytes) -> Format | None:
    for encoding in ("utf-8", "cp932"):
        try:
            text = head.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        text = head.decode("utf-8", "replace")
    first = text.split("\n", 1)[0].strip("\r")
    names = [name.strip().strip('"') for name in first.split(delimiter(first))]
    hygiene = alias_index(hygiene_csv.COLUMNS)
    inventory = alias_index(inventory_csv.COLUMNS)
    folded = [fold(n).casefold() for n in names]
    # A hygiene file has a report date and a hygiene column; an inventory has a kind column.
    hygiene_hits = {hygiene[n] for n in folded if n in hygiene}
    if "reported_on" in hygiene_hits and hygiene_hits - {
        "reported_on",
        "hostname",
        "serial",
        "asset_tag",
        "os_name",
        "os_version",
    }:
        return "hygiene_csv"
    if "kind" in {inventory[n] for n in folded if n in inventory}:
        return "inventory_csv"
    return None


def read_file(filename: str, data: bytes) -> tuple[Format, Parsed[Any]]:
    """Detect the format and read the file: the one call an upload needs."""
    kind = detect_format(filename, data)
    return kind, READERS[kind](data)
