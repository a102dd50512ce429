"""Go-compatible text encodings restic relies on: `strconv.Quote`/`Unquote`, `encoding/json` strings
and RFC 3339 times with nanoseconds.

Tree blob IDs are SHA-256 of the tree JSON, so these must match Go byte for byte for trees to dedupe
with restic's; names must round-trip exactly or restic cannot decode the tree at all.
"""

from __future__ import annotations

import functools
import re
import time as _time
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_QUOTE_ESCAPES = {7: "\\a", 8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v"}
_HEX = "0123456789abcdef"


def _is_print(ch: str) -> bool:
    """Go's `strconv.IsPrint`: letters, marks, numbers, punctuation, symbols and ASCII space."""
    return ch == " " or unicodedata.category(ch)[0] in "LMNPS"


def go_quote(raw: bytes) -> str:
    """`strconv.Quote(raw)[1:-1]`: escape quotes, backslashes, non-printables and invalid UTF-8 bytes."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        # Python's isprintable is Go's IsPrint: categories L, M, N, P, S and the ASCII space only
        if text.isprintable() and '"' not in text and "\\" not in text:
            return text
    return _quote_each(raw)


def _quote_each(raw: bytes) -> str:
    """`go_quote` character by character (names with escapes, control characters or invalid UTF-8)."""
    out: list[str] = []
    for ch in raw.decode("utf-8", "surrogateescape"):
        cp = ord(ch)
        if 0xDC80 <= cp <= 0xDCFF:  # an invalid UTF-8 byte, as surrogateescape marks it
            out.append("\\x" + _HEX[(cp - 0xDC00) >> 4] + _HEX[cp & 15])
        elif ch in '"\\':
            out.append("\\" + ch)
        elif cp < 0x80 and 0x20 <= cp < 0x7F:
            out.append(ch)
        elif cp >= 0x80 and _is_print(ch):
            out.append(ch)
        elif cp in _QUOTE_ESCAPES:
            out.append(_QUOTE_ESCAPES[cp])
        elif cp < 0x20 or cp == 0x7F:
            out.append(f"\\x{cp:02x}")
        elif cp < 0x10000:
            out.append(f"\\u{cp:04x}")
        else:
            out.append(f"\\U{cp:08x}")
    return "".join(out)


_UNQUOTE_SIMPLE = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92, '"': 34}


def go_unquote(quoted: str) -> bytes:
    """Inverse of `go_quote` (`strconv.Unquote` of a double-quoted string); ValueError on a bad escape."""
    if "\\" not in quoted:
        if '"' in quoted or "\n" in quoted:
            raise ValueError(f"invalid quoted name {quoted!r}")
        return quoted.encode("utf-8", "surrogateescape")
    out = bytearray()
    i, n = 0, len(quoted)
    while i < n:
        ch = quoted[i]
        if ch != "\\":
            if ch in '"\n':
                raise ValueError(f"invalid quoted name {quoted!r}")
            out += ch.encode("utf-8", "surrogateescape")
            i += 1
            continue
        if i + 1 >= n:
            raise ValueError(f"invalid escape at end of {quoted!r}")
        esc = quoted[i + 1]
        if esc in _UNQUOTE_SIMPLE:
            out.append(_UNQUOTE_SIMPLE[esc])
            i += 2
        elif esc == "x":
            out.append(int(quoted[i + 2 : i + 4], 16))
            i += 4
        elif esc in "uU":
            width = 4 if esc == "u" else 8
            digits = quoted[i + 2 : i + 2 + width]
            if len(digits) != width:
                raise ValueError(f"invalid escape in {quoted!r}")
            out += chr(int(digits, 16)).encode("utf-8")
            i += 2 + width
        elif esc in "01234567":
            out.append(int(quoted[i + 1 : i + 4], 8))
            i += 4
        else:
            raise ValueError(f"invalid escape \\{esc} in {quoted!r}")
    return bytes(out)


_JSON_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_JSON_NEEDS = re.compile(r'[\x00-\x1f"\\<>&\u2028\u2029\udc80-\udcff]')


def _json_escape(match: re.Match[str]) -> str:
    ch = match.group(0)
    if ch in _JSON_ESCAPES:
        return _JSON_ESCAPES[ch]
    if 0xDC80 <= ord(ch) <= 0xDCFF:
        return "\\ufffd"
    return f"\\u{ord(ch):04x}"


def json_string(value: str | bytes) -> str:
    """A JSON string literal as Go's `encoding/json` writes it (HTML-safe, invalid UTF-8 → U+FFFD)."""
    text = value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value
    return '"' + _JSON_NEEDS.sub(_json_escape, text) + '"'


def name_json(raw: bytes) -> str:
    """`json_string(go_quote(raw))`, a node's name in a tree, at the cost of one check for the
    names that need no escape at all (printable UTF-8 without `"`, `\\`, `<`, `>`, `&`)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return json_string(_quote_each(raw))
    # printable: no control characters, U+2028/U+2029 or surrogates for either function to escape
    if text.isprintable() and _JSON_NEEDS.search(text) is None:
        return '"' + text + '"'
    return json_string(go_quote(raw))


@dataclass(frozen=True, slots=True)
class GoTime:
    """An instant with nanosecond precision and the UTC offset it was written with (Go `time.Time`)."""

    ns: int  # nanoseconds since the Unix epoch
    offset: int = 0  # seconds east of UTC

    @classmethod
    def local(cls, ns: int) -> GoTime:
        """The instant in the machine's local zone, as Go's `time.Unix` renders file times."""
        return cls(ns, _local_offset(ns // 1_000_000_000 // 900))

    @classmethod
    def from_datetime(cls, value: datetime) -> GoTime:
        """Convert an aware datetime, keeping its offset."""
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        offset = value.utcoffset() or timedelta(0)
        delta = value - datetime(1970, 1, 1, tzinfo=UTC)
        ns = (delta.days * 86400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000
        return cls(ns, int(offset.total_seconds()))

    def to_datetime(self) -> datetime:
        """Aware UTC datetime (microsecond precision)."""
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=self.ns // 1000)

    def format(self) -> str:
        """RFC 3339 with trailing-zero-trimmed nanoseconds, `Z` for UTC (Go `time.RFC3339Nano`)."""
        return _format(self.ns, self.offset)

    @staticmethod
    def format_local(ns: int) -> str:
        """`GoTime.local(ns).format()` without the object (a backup formats two per file)."""
        return _format(ns, _local_offset(ns // 1_000_000_000 // 900))

    @classmethod
    def parse(cls, text: str) -> GoTime:
        """Parse RFC 3339 with up to nine fractional digits."""
        m = _TIME_RE.fullmatch(text)
        if m is None:
            raise ValueError(f"invalid time {text!r}")
        head, frac, zone = m.groups()
        # the files of a tree share their seconds: the calendar part is converted once per second
        secs, offset = _parse_seconds(head, zone)
        nanos = int(frac[:9].ljust(9, "0")) if frac else 0
        return cls(secs * 1_000_000_000 + nanos, offset)


@functools.lru_cache(maxsize=4096)
def _parse_seconds(head: str, zone: str) -> tuple[int, int]:
    """(seconds since the epoch, zone offset) of `YYYY-MM-DDTHH:MM:SS` and its zone."""
    year, rest = head[:-15], head[-14:]
    if zone in ("Z", "z"):
        offset = 0
    else:
        sign = 1 if zone[0] == "+" else -1
        offset = sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    base = datetime(
        int(year),
        int(rest[0:2]),
        int(rest[3:5]),
        int(rest[6:8]),
        int(rest[9:11]),
        int(rest[12:14]),
        tzinfo=UTC,
    )
    delta = base - datetime(1970, 1, 1, tzinfo=UTC)
    return delta.days * 86400 + delta.seconds - offset, offset


@functools.lru_cache(maxsize=4096)
def _local_offset(quarter_hour: int) -> int:
    # zone offsets change on quarter-hour boundaries at the finest, so this caches safely
    return _time.localtime(quarter_hour * 900).tm_gmtoff


@functools.lru_cache(maxsize=8192)
def _format(ns: int, offset: int) -> str:
    # file times differ in their nanoseconds but share seconds (a directory written at once): the
    # date and zone are cached per second, only the fraction is formatted per call
    secs, frac = divmod(ns, 1_000_000_000)
    date, zone = _format_seconds(secs, offset)
    if frac:
        return date + "." + f"{frac:09d}".rstrip("0") + zone
    return date + zone


@functools.lru_cache(maxsize=4096)
def _format_seconds(secs: int, offset: int) -> tuple[str, str]:
    t = _time.gmtime(secs + offset)
    date = f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"
    if offset == 0:
        return date, "Z"
    sign = "+" if offset > 0 else "-"
    minutes = abs(offset) // 60
    return date, f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


_TIME_RE = re.compile(r"(-?\d{4,}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d)(?:\.(\d+))?([Zz]|[+-]\d\d:\d\d)")
