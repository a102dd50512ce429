"""Go `time.Time` JSON spelling (RFC 3339, up to nanoseconds) ↔ aware `datetime`.

A thin datetime face on `gojson.GoTime`, which holds the one formatter and parser; key files, locks
and snapshot times for `forget` use this, tree nodes use `GoTime` directly (nanoseconds).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from mamori.vault.errors import InvalidDataError
from mamori.vault.gojson import GoTime

__all__ = ["format_time", "now", "parse_time"]


def now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def format_time(value: datetime) -> str:
    """RFC 3339 with the fraction's trailing zeros trimmed (like Go) and ``Z`` or ``±hh:mm``."""
    return GoTime.from_datetime(value).format()


def parse_time(text: str) -> datetime:
    """Parse Go's RFC 3339 (nanoseconds truncated to microseconds), keeping the written offset;
    malformed is `InvalidDataError`."""
    try:
        moment = GoTime.parse(text)
        return moment.to_datetime().astimezone(timezone(timedelta(seconds=moment.offset)))
    except (ValueError, OverflowError) as exc:
        raise InvalidDataError(f"invalid time {text!r}") from exc
