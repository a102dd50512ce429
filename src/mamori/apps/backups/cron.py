"""Cron expressions evaluated in the city's time zone (settings.TIME_ZONE), returning aware UTC times."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from croniter import croniter
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .errors import BackupError

MAX_OCCURRENCES = 500


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def cron_validate(expression: str) -> None:
    if not croniter.is_valid(expression) or len(expression.split()) != 5:
        raise BackupError(
            _("cron式が正しくありません: {expression}（例: 「0 2 * * *」は毎日2時）").format(
                expression=repr(expression)
            ),
            code="invalid_cron",
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


# Plans an officer chooses without cron: daily / weekly / monthly at a time; cron stays the advanced way.
WEEKDAYS = [
    (1, _("月曜")),
    (2, _("火曜")),
    (3, _("水曜")),
    (4, _("木曜")),
    (5, _("金曜")),
    (6, _("土曜")),
    (0, _("日曜")),
]
DAILY, WEEKLY, MONTHLY, CRON = "daily", "weekly", "monthly", "cron"
_SIMPLE = re.compile(r"^(\d{1,2}) (\d{1,2}) (\*|\d{1,2}) \* (\*|\d)$")


@dataclass(frozen=True)
class Plan:
    frequency: str
    hour: int = 2
    minute: int = 0
    weekday: int = 0  # cron numbering: 0 = Sunday
    day: int = 1


def cron_from_plan(plan: Plan) -> str:
    if plan.frequency == DAILY:
        return f"{plan.minute} {plan.hour} * * *"
    if plan.frequency == WEEKLY:
        return f"{plan.minute} {plan.hour} * * {plan.weekday}"
    return f"{plan.minute} {plan.hour} {plan.day} * *"


def plan_from_cron(expression: str) -> Plan | None:
    """The simple plan an expression stands for, or None when only cron can say it."""
    m = _SIMPLE.match(expression.strip())
    if not m:
        return None
    minute, hour, day, weekday = int(m[1]), int(m[2]), m[3], m[4]
    if minute > 59 or hour > 23:
        return None
    if day == "*" and weekday == "*":
        return Plan(DAILY, hour, minute)
    if day == "*" and int(weekday) <= 6:
        return Plan(WEEKLY, hour, minute, weekday=int(weekday))
    if weekday == "*" and 1 <= int(day) <= 28:
        return Plan(MONTHLY, hour, minute, day=int(day))
    return None


def cron_describe(expression: str) -> str:
    """「毎日 02:00」「毎週日曜 04:00」「毎月1日 10:00」, or the expression itself for anything else."""
    plan = plan_from_cron(expression)
    if plan is None:
        return f"cron: {expression}"
    at = f"{plan.hour:02}:{plan.minute:02}"
    if plan.frequency == DAILY:
        return str(_("毎日 {at}").format(at=at))
    if plan.frequency == WEEKLY:
        return str(_("毎週{weekday} {at}").format(weekday=dict(WEEKDAYS)[plan.weekday], at=at))
    return str(_("毎月{day}日 {at}").format(day=plan.day, at=at))
