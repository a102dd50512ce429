"""A CSV file as Excel, GLPI and Snipe-IT save it, read into line-numbered rows keyed by column.

UTF-8 (with or without BOM), UTF-16 with BOM or CP932; comma, semicolon (GLPI's default) or tab, told by the header
line. Columns are found by alias, Japanese or English, case and width folded; columns no alias names
are left out with a note (exports carry dozens). Size and row limits stop hostile files early.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from mamori.apps.core.textdecode import decode_text

from .errors import Problem, Problems, fail, gettext_noop
from .values import fold

MAX_BYTES = 64 * 1024 * 1024
MAX_ROWS = 200_000
TITLE_ROWS = 10  # the header is looked for in the first lines: titles and notes may come before it
MAX_CELL_CHARS = 2_000  # csv's own limit is 128 KiB; no inventory cell is near 2,000 characters

TOO_BIG = gettext_noop(
    "ファイルが大きすぎます（%(size)s MB、上限 %(limit)s MB）。期間や部署で分けて取り込んでください"
)
TOO_MANY_ROWS = gettext_noop("行が多すぎます（上限 %(limit)d 行）。ファイルを分けて取り込んでください")
EMPTY = gettext_noop("ファイルが空です（1行目に見出しが必要です）")
UNREADABLE_CHARS = gettext_noop("文字コード %(encoding)s として読めない文字があります")
NUL = gettext_noop("NUL文字（0x00）が含まれています。CSVのテキストとして保存し直してください")
NOT_CSV = gettext_noop("CSVとして読めません（%(reason)s）")
TOO_LONG = gettext_noop("%(column)s が長すぎます（%(limit)d文字まで）")
DUPLICATE_COLUMN = gettext_noop("列 '%(name)s' が2回あります")
MISSING_COLUMNS = gettext_noop("必須の列 %(columns)s がありません")
MISSING_ONE_OF = gettext_noop("%(columns)s のどれかの列が必要です")
TOO_MANY_CELLS = gettext_noop("列の数 (%(n)d) が見出しの列の数 (%(m)d) より多いです")
TITLE_SKIPPED = gettext_noop("%(last)d行目までは表題として読み飛ばし、この行を見出しとして読みました")
IGNORED_COLUMN = gettext_noop("列 '%(name)s' は使わずに読み飛ばしました")
NO_ROWS = gettext_noop("データの行がありません")


@dataclass(frozen=True)
class Table:
    encoding: str
    rows: list[tuple[int, dict[str, str]]]  # (first physical line, {key: stripped cell})
    columns: frozenset[str]
    notes: tuple[Problem, ...]


def check_size(data: bytes) -> None:
    limit = MAX_BYTES
    if len(data) > limit:
        raise fail(TOO_BIG, size=f"{len(data) / 2**20:.1f}", limit=f"{limit / 2**20:.0f}")


def decode(data: bytes, problems: Problems) -> tuple[str, str]:
    """Text and encoding (core's `decode_text`: BOM, UTF-8, else CP932); else every unreadable line."""
    decoded = decode_text(data)
    for number in decoded.unreadable_lines:
        problems.add(UNREADABLE_CHARS, line=number, encoding=decoded.label)
    return decoded.text, decoded.encoding


def check_nul(text: str, problems: Problems) -> None:
    """NUL is no text: PostgreSQL refuses it, and csv stops at it."""
    if "\x00" in text:
        for number, line in enumerate(text.splitlines(), start=1):
            if "\x00" in line:
                problems.add(NUL, line=number)


def delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: (counts[d], d == ","))


def alias_index(columns: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    return {fold(name).casefold(): key for key, names in columns.items() for name in names}


def read_table(
    data: bytes,
    columns: Mapping[str, tuple[str, ...]],
    *,
    labels: Mapping[str, str],
    required: tuple[str, ...] = (),
    one_of: tuple[str, ...] = (),
) -> Table:
    """Rows of the file; raises FormatError for any file-level, header or cell-length problem."""
    check_size(data)
    problems = Problems()
    text, encoding = decode(data, problems)
    check_nul(text, problems)
    problems.raise_if_any()
    head = "\n".join(text.split("\n", TITLE_ROWS)[:TITLE_ROWS])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter(head))
    try:
        header, header_line, skipped = _find_header(reader, columns, required, one_of)
        index, notes = _header(header, header_line, columns, labels, required, one_of, problems)
        if skipped:
            notes = (Problem(TITLE_SKIPPED, {"last": header_line - 1}, line=header_line), *notes)
        problems.raise_if_any()
        rows = list(_rows(reader, index, len(header), header_line, labels, problems))
    except csv.Error as exc:
        raise fail(NOT_CSV, line=reader.line_num, reason=str(exc)) from None
    if not rows and not problems:
        problems.add(NO_ROWS)
    problems.raise_if_any()
    return Table(encoding, rows, frozenset(index), notes)


def _find_header(
    reader: Iterator[list[str]],
    columns: Mapping[str, tuple[str, ...]],
    required: tuple[str, ...],
    one_of: tuple[str, ...],
) -> tuple[list[str], int, bool]:
    """The header row and its line: the first row naming the required columns within the first
    TITLE_ROWS lines (a sheet often starts with a title such as 機器台帳（令和6年度）), else the first
    row that is not blank."""
    aliases = alias_index(columns)
    first: tuple[list[str], int] | None = None
    for cells in reader:
        line = reader.line_num  # type: ignore[attr-defined]
        if not any(c.strip() for c in cells):
            if line >= TITLE_ROWS:
                break
            continue
        keys = {aliases.get(fold(c).casefold()) for c in cells}
        if all(k in keys for k in required) and (not one_of or any(k in keys for k in one_of)):
            return cells, line, first is not None
        if first is None:
            first = cells, line
        if line >= TITLE_ROWS:
            break
    if first is None:
        raise fail(EMPTY)
    # No row names the columns: report against the first one (rows after it are not read).
    return first[0], first[1], False


def _header(
    header: list[str],
    header_line: int,
    columns: Mapping[str, tuple[str, ...]],
    labels: Mapping[str, str],
    required: tuple[str, ...],
    one_of: tuple[str, ...],
    problems: Problems,
) -> tuple[dict[str, int], tuple[Problem, ...]]:
    aliases = alias_index(columns)
    index: dict[str, int] = {}
    notes = []
    for position, name in enumerate(header):
        key = aliases.get(fold(name).casefold())
        if key is None:
            if name.strip():
                notes.append(Problem(IGNORED_COLUMN, {"name": name.strip()}, line=header_line))
        elif key in index and fold(header[index[key]]).casefold() == fold(name).casefold():
            problems.add(DUPLICATE_COLUMN, line=header_line, name=name.strip())
        elif key in index:  # a second alias of the same field ("Model" and "Model No."): the first wins
            notes.append(Problem(IGNORED_COLUMN, {"name": name.strip()}, line=header_line))
        else:
            index[key] = position
    missing = [labels[k] for k in required if k not in index]
    if missing:
        problems.add(MISSING_COLUMNS, line=header_line, columns="、".join(missing))
    if one_of and not any(k in index for k in one_of):
        problems.add(MISSING_ONE_OF, line=header_line, columns="・".join(labels[k] for k in one_of))
    return index, tuple(notes)


def _rows(
    reader: Iterator[list[str]],
    index: dict[str, int],
    width: int,
    header_line: int,
    labels: Mapping[str, str],
    problems: Problems,
) -> Iterator[tuple[int, dict[str, str]]]:
    line = header_line
    max_rows = MAX_ROWS
    count = 0
    for cells in reader:
        start, line = line + 1, reader.line_num  # type: ignore[attr-defined]
        if not any(c.strip() for c in cells):
            continue
        count += 1
        if count > max_rows:
            raise fail(TOO_MANY_ROWS, line=start, limit=max_rows)
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            problems.add(TOO_MANY_CELLS, line=start, n=len(cells), m=width)
            continue
        row = {key: cells[i].strip() if i < len(cells) else "" for key, i in index.items()}
        for key, value in row.items():
            if len(value) > MAX_CELL_CHARS:
                problems.add(TOO_LONG, line=start, column=labels[key], limit=MAX_CELL_CHARS)
                row[key] = ""
        yield start, row
