"""Cron expressions evaluated in the city's time zone (settings.TIME_ZONE), returning aware UTC times."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from croniter import croniter
from django.conf import settings

from .errors import BackupError

MAX_OCCURRENCES = 500


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def cron_validate(expression: str) -> None:
    if not croniter.is_valid(expression) or len(expression.split()) != 5:
        raise BackupError(
            f"cron式が正しくありません: {expression!r}（例: 「0 2 * * *」は毎日2時）", code="invalid_cron"
        )


def cron_next(expression: str, after: datetime) -> datetime:
    """The first occurrence strictly after `after`."""
    it = croniter(expression, after.astimezone(_zone()))
    return it.get_next(datetime).astimezone(UTC)


def cron_occurrences(expression: str, start: datetime, end: datetime) -> list[datetime]:
    """Occurrences in [start, end], oldest first; at most MAX_OCCURRENCES (the newest ones kept)."""
    zone = _zone()
    it = croniter(expression, start.astimezone(zone))
    first = it.get_prev(datetime)  # croniter starts strictly after its base: step back to include start
    it = croniter(expression, first)
    found: list[datetime] = []
    while True:
        t = it.get_next(datetime).astimezone(UTC)
        if t < start:
            continue
        if t > end:
            break
        found.append(t)
        if len(found) > MAX_OCCURRENCES:
            found.pop(0)
    return found
