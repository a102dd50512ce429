"""A record's steps dated in order: each no earlier than the step before it, none in the future.

Compared to the minute in local time, because the forms take minutes (`datetime-local`): a
hand-over entered as 10:15 for a medium stored at 10:15:30 is in order. A date (a certificate's
issue date) is compared with the other step's local date.
"""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .errors import ApplicationError

IN_FUTURE = _("{field}に未来の日時は指定できません")
OUT_OF_ORDER = _("{field}（{value}）が{previous}（{earlier}）より前です。日時を確かめてください")


def shown(value: datetime | date) -> str:
    """The local minute (or the date) as the pages show it: 2026-11-15 10:00."""
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def _comparable(value: datetime | date, other: datetime | date) -> datetime | date:
    if isinstance(value, datetime):
        local = timezone.localtime(value)
        return local.date() if not isinstance(other, datetime) else local.replace(second=0, microsecond=0)
    return value


def is_before(value: datetime | date, earlier: datetime | date) -> bool:
    return _comparable(value, earlier) < _comparable(earlier, value)  # type: ignore[operator]


def check_past(value: datetime | date, *, field: object, error: type[ApplicationError]) -> None:
    now = timezone.now()
    if (value > now) if isinstance(value, datetime) else (value > timezone.localdate(now)):
        raise error(IN_FUTURE.format(field=field), code="in_future")


def check_after(
    value: datetime | date,
    earlier: datetime | date | None,
    *,
    field: object,
    previous: object,
    error: type[ApplicationError],
) -> None:
    """Refuse `value` dated before `earlier` (the previous step; None: no previous step yet)."""
    if earlier is not None and is_before(value, earlier):
        message = OUT_OF_ORDER.format(
            field=field, value=shown(value), previous=previous, earlier=shown(earlier)
        )
        raise error(message, code="out_of_order")
