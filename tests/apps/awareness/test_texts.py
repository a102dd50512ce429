"""Campaign texts: the officer's placeholders are filled in as plain text; anything else in braces —
template code, format-string attribute access, a typo — is refused when the campaign is saved."""

from __future__ import annotations

from datetime import date

import pytest

from mamori.apps.awareness.errors import AwarenessError
from mamori.apps.awareness.models import CampaignKind
from mamori.apps.awareness.texts import (
    TEXTS,
    placeholders_check,
    render,
    season_schedule,
    values_for,
)

VALUES = values_for(city="みなと台市", due_on=date(2027, 4, 15), send_on=date(2027, 4, 1), fiscal_year=2027,
                    name="佐藤 花子", department="総務部 行政改革課")  # fmt: skip


@pytest.mark.parametrize(
    "hostile",
    [
        "{{ settings.SECRET_KEY }}",
        "{% load static %}{% debug %}",
        "{0.__class__.__mro__}",
        "{氏名.__class__}",
        "{市名!r}",
        "{city}",
        "閉じ忘れ {市名",
        "余分な } かっこ",
    ],
)
def test_anything_in_braces_but_a_known_placeholder_is_refused(hostile):
    with pytest.raises(AwarenessError) as exc:
        placeholders_check(f"お知らせ {hostile}")
    assert exc.value.code == "unknown_placeholder" and "{市名}" in exc.value.message


def test_placeholders_are_filled_in_once_as_plain_text():
    # A value that looks like a placeholder or markup is inserted as it is, never expanded again.
    values = VALUES | {"氏名": "{市名} <b>太郎</b>"}
    assert render("{氏名} 様 / {市名} / {確認期限} / {年度}", values) == (
        "{市名} <b>太郎</b> 様 / みなと台市 / 4月15日 / 令和9年度"
    )


def test_the_built_in_texts_use_only_known_placeholders():
    for subject, body in TEXTS.values():
        placeholders_check(subject)
        placeholders_check(body)
        assert "{" not in render(body, VALUES)


@pytest.mark.parametrize(
    ("kind", "fiscal_year", "send_on", "due_on"),
    [
        (CampaignKind.TRANSFER, 2026, date(2026, 4, 1), date(2026, 4, 15)),  # a Wednesday
        (CampaignKind.TRANSFER, 2028, date(2028, 4, 3), date(2028, 4, 17)),  # 1 April 2028 is a Saturday
        (CampaignKind.YEAR_END, 2026, date(2026, 12, 18), date(2026, 12, 25)),  # 20th a Sunday, 27th a Sunday
        (CampaignKind.YEAR_END, 2027, date(2027, 12, 20), date(2027, 12, 27)),
    ],
)
def test_the_seasons_fall_on_working_days(kind, fiscal_year, send_on, due_on):
    season = season_schedule(kind, fiscal_year)
    assert (season.send_at.date(), season.send_at.hour, season.due_on) == (send_on, 9, due_on)
