"""The statutory deadlines, counted in Japan time with the day of learning as day 1, across
weekends, national and substitute holidays, the year-end closure and fiscal-year boundaries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mamori.apps.incidents.deadlines import (
    JAPAN,
    is_closed_day,
    learned_on,
    report_deadlines,
    reportable_reasons,
)


def jst(*args: int) -> datetime:
    return datetime(*args, tzinfo=JAPAN)


def test_learning_on_a_friday_across_a_weekend_and_the_year_end_closure():
    preliminary, final = report_deadlines(jst(2026, 12, 4, 16, 0), unauthorised_purpose=False)
    assert preliminary.target_day == date(2026, 12, 6)  # day 3 is a Sunday …
    assert preliminary.day == date(2026, 12, 8)  # … day 5 a Tuesday
    assert preliminary.file_by == date(2026, 12, 8)
    assert final.day == date(2027, 1, 2)  # day 30 falls in the 29 Dec – 3 Jan closure
    assert final.file_by == date(2026, 12, 28)  # the last open day before it (Monday)
    assert final.due == jst(2027, 1, 3)  # the statutory day itself is not moved


def test_golden_week_and_substitute_holidays_are_closed_days():
    _preliminary, final = report_deadlines(jst(2026, 4, 6, 9, 0), unauthorised_purpose=False)
    assert final.day == date(2026, 5, 5)  # こどもの日
    assert final.file_by == date(2026, 5, 1)  # 5/4 みどりの日, 5/3 憲法記念日 (Sun), 5/2 Sat
    assert is_closed_day(date(2026, 5, 6))  # 振替休日
    assert is_closed_day(date(2026, 9, 22))  # 国民の休日 between two holidays
    assert not is_closed_day(date(2026, 5, 7))


def test_unauthorised_purpose_gives_sixty_days():
    _p, final = report_deadlines(jst(2026, 6, 1, 10, 0), unauthorised_purpose=True)
    assert final.day == date(2026, 7, 30)  # day 60


def test_the_day_of_learning_is_taken_in_japan_time():
    late_evening_utc = datetime(2026, 4, 30, 15, 30, tzinfo=UTC)  # 2026-05-01 00:30 in Tokyo
    assert learned_on(late_evening_utc) == date(2026, 5, 1)
    _p, final = report_deadlines(late_evening_utc, unauthorised_purpose=False)
    assert final.day == date(2026, 5, 30)
    with pytest.raises(ValueError):
        learned_on(datetime(2026, 5, 1, 0, 30))


def test_a_deadline_crosses_the_fiscal_year_boundary():
    _p, final = report_deadlines(jst(2027, 3, 20, 11, 0), unauthorised_purpose=False)
    assert final.day == date(2027, 4, 18)  # FY2027, for an incident of FY2026
    assert final.file_by == date(2027, 4, 16)  # Sunday 18th → Friday 16th


def test_filing_on_the_last_day_until_midnight_meets_the_deadline():
    preliminary, _f = report_deadlines(jst(2026, 12, 4, 16, 0), unauthorised_purpose=False)
    assert preliminary.met_by(jst(2026, 12, 8, 23, 59))
    assert not preliminary.met_by(jst(2026, 12, 9, 0, 0))
    assert preliminary.met_by(None) is None


@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)))
def test_deadlines_hold_for_any_moment(learned_at):
    start = learned_on(learned_at)
    preliminary, final = report_deadlines(learned_at, unauthorised_purpose=False)
    assert (final.day - start).days == 29 and (preliminary.day - start).days == 4
    for deadline in (preliminary, final):
        assert deadline.file_by <= deadline.day and not is_closed_day(deadline.file_by)
        gap = (deadline.day - deadline.file_by).days
        assert all(is_closed_day(deadline.file_by + timedelta(days=i)) for i in range(1, gap + 1))


def test_which_cases_must_be_reported():
    base = dict(
        special_care=False, financial_damage=False, unauthorised_purpose=False, ordinance_special_care=False
    )
    assert reportable_reasons(personal_data=True, people=100, **base) == []
    assert reportable_reasons(personal_data=True, people=101, **base) == ["over_100_people"]
    assert reportable_reasons(personal_data=False, people=5000, **{**base, "special_care": True}) == []
    assert reportable_reasons(personal_data=True, people=1, **{**base, "special_care": True}) == [
        "special_care"
    ]
