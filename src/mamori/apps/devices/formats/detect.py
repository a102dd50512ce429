"""Which reader a file needs, told by its content (the name only breaks a tie), so an officer can
drop any export on one upload form."""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable
from typing import Any, Literal

from . import hygiene_csv, inventory_csv
from .errors import fail, gettext_noop
from .hygiene_csv import read_hygiene_csv
from .inventory_csv import read_inventory_csv
from .osquery import read_osquery
from .records import Parsed
from .table import TITLE_ROWS, alias_index, delimiter
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
IDENTITY = frozenset({"reported_on", "hostname", "serial", "asset_tag", "os_name", "os_version"})

UNKNOWN = gettext_noop(
    "ファイル '%(name)s' の形式が分かりません。機器台帳CSV・衛生状態CSV・Wazuh API のJSON・osquery の結果ログのいずれかを選んでください"
)


def detect_format(filename: str, data: bytes) -> Format:
    """The format of a file, or FormatError saying which formats are accepted."""
    head = data[:SNIFF_BYTES].removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
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


def _head_text(head: bytes) -> str:
    """The sniffed bytes as text; a character cut at the end of the sample is dropped."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head[: len(head) // 2 * 2].decode("utf-16", "replace")
    try:
        return codecs.getincrementaldecoder("utf-8")().decode(head)
    except UnicodeDecodeError:
        return head.decode("cp932", "replace")


def _csv_kind(head: bytes) -> Format | None:
    """Told by the first line (within the first TITLE_ROWS) that names a format's columns."""
    hygiene = alias_index(hygiene_csv.COLUMNS)
    inventory = alias_index(inventory_csv.COLUMNS)
    for line in _head_text(head).splitlines()[:TITLE_ROWS]:
        folded = [fold(name.strip('"')).casefold() for name in line.split(delimiter(line))]
        # A hygiene file has a report date and a hygiene column; an inventory has a kind column.
        hygiene_hits = {hygiene[n] for n in folded if n in hygiene}
        if "reported_on" in hygiene_hits and hygiene_hits - IDENTITY:
            return "hygiene_csv"
        if "kind" in {inventory[n] for n in folded if n in inventory}:
            return "inventory_csv"
    return None


def read_file(filename: str, data: bytes) -> tuple[Format, Parsed[Any]]:
    """Detect the format and read the file: the one call an upload needs."""
    kind = detect_format(filename, data)
    return kind, READERS[kind](data)
