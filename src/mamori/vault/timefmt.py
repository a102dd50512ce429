"""Go `time.Time` JSON spelling (RFC 3339, up to nanoseconds) ↔ aware `datetime`."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from mamori.vault.errors import InvalidDataError

__all__ = ["format_time", "now", "parse_time"]

_RFC3339 = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


def now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def format_time(value: datetime) -> str:
    """RFC 3339 with microseconds (trailing zeros trimmed, like Go) and ``Z`` or ``±hh:mm``."""
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += "." + f"{value.microsecond:06d}".rstrip("0")
    offset = value.utcoffset()
    if not offset:
        return text + "Z"
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{text}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def parse_time(text: str) -> datetime:
    """Parse Go's RFC 3339 (nanoseconds truncated to microseconds); malformed is `InvalidDataError`."""
    match = _RFC3339.match(text)
    if match is None:
        raise InvalidDataError(f"invalid time {text!r}")
    base, frac, zone = match.groups()
    micro = (frac or "").ljust(6, "0")[:6]
    zone = "+00:00" if zone == "Z" else zone
    try:
        return datetime.fromisoformat(f"{base}.{micro}{zone}")
    except ValueError as exc:
        raise InvalidDataError(f"invalid time {text!r}") from exc
