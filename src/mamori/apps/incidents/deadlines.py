"""Statutory report deadlines to the Personal Information Protection Commission (個人情報保護委員会).

The rule (for a city, an administrative organ under the Act since April 2023):
- 個人情報の保護に関する法律 第68条第1項: the head of the organ reports a leak, loss or damage of
  retained personal information that is likely to harm individuals' rights, as the Commission's
  rules define it.
- 個人情報の保護に関する法律施行規則 第43条: the cases that must be reported — special-care
  personal information (要配慮個人情報), possible financial damage from misuse, a case that may
  have been done for an unauthorised purpose (不正の目的), more than 100 people, and for local
  governments information their ordinance defines as special-care (条例要配慮個人情報).
- 同規則 第44条: a preliminary report (速報) promptly after learning of it, a final report (確報)
  within 30 days of the day the organ learned of it, 60 days when it may have been done for an
  unauthorised purpose.
- The Commission's guidelines: "promptly" is about 3–5 days; the day the organ learned of the case
  counts as day 1 when the 30 / 60 days are counted.
My Number data (特定個人情報) has its own reporting rule under the My Number Act (番号法 第29条の4);
mamori records the flag but does not decide that case. Check the article numbers on e-Gov when the
rules are amended.

How mamori counts: calendar days in Japan time (Asia/Tokyo), the day of learning = day 1; the 速報
target is day 3 and its outer limit day 5; the 確報 deadline day 30 (60). The rule moves no deadline
off a weekend or holiday, so neither does mamori. Because the city office is closed then, mamori also
shows a "file by" date: the last open day (開庁日) on or before each deadline, skipping Saturdays,
Sundays, national holidays and substitute holidays (the `holidays` package's Japan calendar, updated
with each year's cabinet announcements) and the year-end closure 29 December – 3 January (行政機関の
休日に関する法律 第1条).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

JAPAN = ZoneInfo("Asia/Tokyo")
PRELIMINARY_TARGET_DAY = 3
PRELIMINARY_LIMIT_DAY = 5
FINAL_DAY = 30
FINAL_DAY_UNAUTHORISED_PURPOSE = 60
REPORTABLE_PEOPLE_OVER = 100


def learned_on(learned_at: datetime) -> date:
    """The day (Japan time) the city learned of the case: day 1 of every count."""
    if learned_at.tzinfo is None:
        raise ValueError("learned_at must be timezone-aware")
    return learned_at.astimezone(JAPAN).date()


def nth_day(start: date, n: int) -> date:
    """Day n when `start` is day 1."""
    return start + timedelta(days=n - 1)


def end_of_day(d: date) -> datetime:
    """The last moment of a day in Japan time, as the exclusive next midnight."""
    return datetime.combine(d + timedelta(days=1), time(), JAPAN)


@functools.cache
def _national_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.Japan(years=year))


def is_closed_day(d: date) -> bool:
    """Office closed: weekend, national / substitute holiday, or the 29 Dec – 3 Jan closure."""
    if d.weekday() >= 5 or d in _national_holidays(d.year):
        return True
    return (d.month, d.day) >= (12, 29) or (d.month, d.day) <= (1, 3)


def last_open_day_on_or_before(d: date) -> date:
    while is_closed_day(d):
        d -= timedelta(days=1)
    return d


@dataclass(frozen=True)
class Deadline:
    kind: str  # "preliminary" (速報) or "final" (確報)
    day: date  # the statutory last day
    due: datetime  # end of that day, Japan time (exclusive)
    file_by: date  # last open day on or before `day`
    target_day: date | None = None  # 速報: the 3rd day the guidelines aim at

    def remaining(self, now: datetime) -> timedelta:
        return self.due - now

    def met_by(self, filed_at: datetime | None) -> bool | None:
        """True / False once filed; None while not filed."""
        return None if filed_at is None else filed_at < self.due


def report_deadlines(learned_at: datetime, *, unauthorised_purpose: bool) -> tuple[Deadline, Deadline]:
    start = learned_on(learned_at)
    limit = nth_day(start, PRELIMINARY_LIMIT_DAY)
    final_day = nth_day(start, FINAL_DAY_UNAUTHORISED_PURPOSE if unauthorised_purpose else FINAL_DAY)
    preliminary = Deadline(
        "preliminary",
        limit,
        end_of_day(limit),
        last_open_day_on_or_before(limit),
        target_day=nth_day(start, PRELIMINARY_TARGET_DAY),
    )
    final = Deadline("final", final_day, end_of_day(final_day), last_open_day_on_or_before(final_day))
    return preliminary, final


def reportable_reasons(
    *,
    personal_data: bool,
    special_care: bool,
    financial_damage: bool,
    unauthorised_purpose: bool,
    people: int,
    ordinance_special_care: bool,
) -> list[str]:
    """Which of 規則第43条's cases apply (codes); empty: no report to the Commission is required."""
    if not personal_data:
        return []
    checks = [
        ("special_care", special_care),
        ("financial_damage", financial_damage),
        ("unauthorised_purpose", unauthorised_purpose),
        ("over_100_people", people > REPORTABLE_PEOPLE_OVER),
        ("ordinance_special_care", ordinance_special_care),
    ]
    return [code for code, applies in checks if applies]
