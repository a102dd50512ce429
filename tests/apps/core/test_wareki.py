"""Fiscal years and 和暦: the spellings officers type, and round trips over every supported year."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mamori.apps.core.wareki import (
    fiscal_year_of,
    fiscal_year_range,
    format_date,
    format_fiscal_year,
    parse_date,
    parse_fiscal_year,
)


@pytest.mark.parametrize(
    "text",
    [
        "2012",
        "2012年度",
        "FY2012",
        "fy 2012",
        "平成24年度",
        "平成24",
        "平成24年",
        "H24",
        "h24",
        "Ｈ２４",
        "平成２４年度",
        "２０１２",
        "平成24年度（2012年度）",
    ],
)
def test_fy2012_spellings(text):
    assert parse_fiscal_year(text) == 2012


@pytest.mark.parametrize("text", ["令和元年度", "令和1年度", "R1", "R元", "平成31年度", "H31", "2019年度"])
def test_fy2019_aliases(text):
    assert parse_fiscal_year(text) == 2019


def test_heisei_32_is_reiwa_2_and_output_is_reiwa():
    assert (
        parse_fiscal_year("平成32年度") == parse_fiscal_year("令和2年度") == parse_fiscal_year("R2") == 2020
    )
    assert format_fiscal_year(2020) == "令和2年度"
    assert format_fiscal_year(2019) == "令和元年度"
    assert format_fiscal_year(2018) == "平成30年度"
    assert format_fiscal_year(1989) == "平成元年度"
    assert format_fiscal_year(1988) == "昭和63年度"
    assert format_fiscal_year(2012, "seireki") == "2012年度"


def test_integer_input():
    assert parse_fiscal_year(2026) == 2026


@pytest.mark.parametrize(
    "text", ["", "平成", "24", "来年", "平成0年度", "X24", "2012-13", "令和7年度（2024年度）", "FY99"]
)
def test_unknown_fiscal_year_is_a_clear_error(text):
    with pytest.raises(ValueError, match=r"fiscal year|era years"):
        parse_fiscal_year(text)


def test_unknown_message_names_the_accepted_forms():
    with pytest.raises(ValueError) as exc:
        parse_fiscal_year("来年")
    assert (
        str(exc.value)
        == "unknown fiscal year '来年': write it as 2012, FY2012, 2012年度, 平成24年度, 平成24, H24 or 令和元年度"
    )


def test_fiscal_year_of_dates():
    assert fiscal_year_of(date(2013, 3, 31)) == 2012
    assert fiscal_year_of(date(2012, 4, 1)) == 2012
    assert fiscal_year_range(2012) == (date(2012, 4, 1), date(2013, 3, 31))


def test_era_boundaries_for_dates():
    assert format_date(date(1989, 1, 7)) == "昭和64年1月7日"
    assert format_date(date(1989, 1, 8)) == "平成元年1月8日"
    assert format_date(date(2019, 4, 30)) == "平成31年4月30日"
    assert format_date(date(2019, 5, 1)) == "令和元年5月1日"
    assert format_date(date(2013, 3, 31)) == "平成25年3月31日"
    assert format_date(date(2013, 3, 31), "seireki") == "2013年3月31日"
    assert parse_date("H25.3.31") == date(2013, 3, 31)
    assert parse_date("令和元年5月1日") == date(2019, 5, 1)
    assert parse_date("2013-03-31") == date(2013, 3, 31)


def test_date_outside_its_era_is_refused():
    with pytest.raises(ValueError, match="not in the 平成 era"):
        parse_date("平成31年5月1日")
    with pytest.raises(ValueError, match="invalid date"):
        parse_date("平成25年2月30日")


@given(st.integers(min_value=1912, max_value=2200))
def test_fiscal_year_round_trips_both_styles(fy):
    assert parse_fiscal_year(format_fiscal_year(fy)) == fy
    assert parse_fiscal_year(format_fiscal_year(fy, "seireki")) == fy
    assert parse_fiscal_year(f"FY{fy}") == fy
    assert parse_fiscal_year(format_fiscal_year(fy, language="en")) == fy  # a label picked from a list
    assert parse_fiscal_year(format_fiscal_year(fy, "seireki", "en")) == fy


def test_english_labels_name_the_year_and_its_era():
    assert format_fiscal_year(2026, language="en") == "FY2026 (Reiwa 8)"
    assert format_fiscal_year(2019, language="en") == "FY2019 (Reiwa 1)"  # 令和元年度: the whole year
    assert format_fiscal_year(2018, language="en") == "FY2018 (Heisei 30)"
    assert format_fiscal_year(2026, "seireki", "en") == "FY2026"
    assert format_fiscal_year(2026, language="ja") == "令和8年度"
    assert format_fiscal_year(2019, "wareki", "ja-jp") == "令和元年度"


def test_english_dates_name_the_day_and_its_era():
    assert format_date(date(2019, 4, 30), language="en") == "2019-04-30 (Heisei 31)"
    assert format_date(date(2019, 5, 1), language="en") == "2019-05-01 (Reiwa 1)"
    assert format_date(date(2019, 5, 1), "seireki", "en") == "2019-05-01"
    assert format_date(date(2019, 5, 1), language="ja") == "令和元年5月1日"


@pytest.mark.parametrize("text", ["FY2025 (Heisei 7)", "FY2025 (Reiwa 8)", "Reiwa 0"])
def test_an_english_label_whose_halves_disagree_is_refused(text):
    with pytest.raises(ValueError):
        parse_fiscal_year(text)


@given(st.integers(min_value=1912, max_value=2200))
def test_fiscal_year_range_contains_exactly_its_dates(fy):
    first, last = fiscal_year_range(fy)
    assert fiscal_year_of(first) == fiscal_year_of(last) == fy
    assert fiscal_year_of(first - timedelta(days=1)) == fy - 1
    assert fiscal_year_of(last + timedelta(days=1)) == fy + 1


@given(st.dates(min_value=date(1912, 7, 30), max_value=date(2200, 12, 31)))
def test_date_round_trips(d):
    assert parse_date(format_date(d)) == d
    assert parse_date(format_date(d, "seireki")) == d
