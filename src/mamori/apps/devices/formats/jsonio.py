"""JSON from files someone else wrote: size-limited, nesting-limited, errors with line and path.

`load` parses one document; `lines` yields the objects of a JSON-lines file with their line
numbers. A truncated or malformed document is a FormatError naming the line and column; nesting
deeper than Python's parser can take is one too, never a RecursionError.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from .errors import fail, gettext_noop
from .table import TOO_MANY_ROWS, check_size

MAX_JSON_LINES = 1_000_000

NOT_UTF8 = gettext_noop("JSON は UTF-8 で保存してください（%(position)d バイト目が読めません）")
BAD_JSON = gettext_noop(
    "JSON として読めません（%(column)d 文字目: %(reason)s）。ファイルが途中で切れていないか確かめてください"
)
TOO_DEEP = gettext_noop("JSON の入れ子が深すぎます。ツールが出力したままのファイルを使ってください")
NOT_OBJECT = gettext_noop("JSON のオブジェクト（{…}）ではありません")
WRONG_TYPE = gettext_noop("%(expected)s のはずが %(found)s です")

TYPE_NAMES = {
    dict: "オブジェクト",
    list: "配列",
    str: "文字列",
    int: "数値",
    float: "数値",
    bool: "真偽値",
    type(None): "null",
}


def _text(data: bytes) -> str:
    check_size(data)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise fail(NOT_UTF8, position=exc.start + 1) from None


def _parse(text: str, line: int | None = None) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise fail(
            BAD_JSON, line=line if line is not None else exc.lineno, column=exc.colno, reason=exc.msg
        ) from None
    except RecursionError:
        raise fail(TOO_DEEP, line=line) from None


def load(data: bytes) -> Any:
    return _parse(_text(data))


def lines(data: bytes) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line; a line that is no object stops the reading."""
    text = _text(data)
    for number, line in enumerate(text.split("\n"), start=1):
        if number > MAX_JSON_LINES:
            raise fail(TOO_MANY_ROWS, line=number, limit=MAX_JSON_LINES)
        if not line.strip():
            continue
        value = _parse(line, number)
        if not isinstance(value, dict):
            raise fail(NOT_OBJECT, line=number)
        yield number, value


def type_name(value: object) -> str:
    return TYPE_NAMES.get(type(value), type(value).__name__)


def local_date(moment: datetime, tz: tzinfo) -> date:
    """The calendar day in the city's time zone; a naive time is taken as UTC (as the tools write)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(tz).date()
