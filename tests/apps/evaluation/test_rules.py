"""The sheet's arithmetic: rounding rules, personnel cost, per-capita cost, 達成率 and suggestions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation

from mamori.apps.evaluation import rules as r
from mamori.apps.evaluation.sheet import PopulationInput, YearInput, compute_costs


def seed_year(**kw):
    base = dict(
        fiscal_year=2012,
        program_cost=5_917_000,
        general_fund=5_917_000,
        staffing=(("regular", Decimal("0.60"), 7_935_000),),
        population=PopulationInput(date(2013, 3, 31), 112_400, 47_247, "住民基本台帳"),
    )
    base.update(kw)
    return YearInput(**base)


@pytest.mark.parametrize("mode", ["half_up", "floor"])
def test_seed_figures_under_both_rounding_rules(mode):
    costs = compute_costs(seed_year(), r.SheetRules(money_rounding=mode, per_capita_rounding=mode))
    assert costs.thousands["total"] == 10_678
    assert costs.thousands["personnel"] == 4_761
    assert (costs.per_resident, costs.per_household) == (95, 226)
    assert costs.fte_regular == Decimal("0.60")


def test_rounding_rule_changes_the_thousands():
    year = seed_year(program_cost=1_500, general_fund=1_500, staffing=())
    assert compute_costs(year, r.SheetRules(money_rounding="half_up")).thousands["program_cost"] == 2
    assert compute_costs(year, r.SheetRules(money_rounding="floor")).thousands["program_cost"] == 1
    # totals are summed in yen before rounding
    assert r.thousand_yen(1_400 + 1_400, "half_up") == 3


def test_personnel_cost_sums_categories():
    assert r.personnel_cost([(Decimal("0.60"), 7_935_000), (Decimal("0.50"), 4_000_000)]) == 6_761_000


def test_attainment_rules():
    assert r.attainment(Decimal(100), Decimal(95), "up") == Decimal("95.0")
    assert r.attainment(Decimal(0), Decimal(0), "down") == Decimal("100.0")  # incidents: 0 of 0
    assert r.attainment(Decimal(0), Decimal(2), "down") == Decimal("0.0")
    assert r.attainment(Decimal(4), Decimal(2), "down") == Decimal("100.0")
    assert r.attainment(Decimal(2), Decimal(4), "down") == Decimal("50.0")
    assert r.attainment(None, Decimal(1), "up") is None


def test_suggestion_rules():
    s = r.suggest_ratings(
        activity=[Decimal(100)],
        outcome=[Decimal(85)],
        relevance="A",
        thresholds={"A": Decimal(100), "B": Decimal(80)},
    )
    assert (s.relevance, s.efficiency, s.effectiveness, s.overall, s.contribution) == (
        None,
        "A",
        "B",
        "B",
        "B",
    )
    none = r.suggest_ratings(
        activity=[], outcome=[], relevance="A", thresholds={"A": Decimal(100), "B": Decimal(80)}
    )
    assert none.overall is None


def test_rules_from_settings_refuse_unknown_modes():
    assert r.SheetRules.from_settings({"money_rounding": "floor"}).money_rounding == "floor"
    with pytest.raises(ValueError, match="money_rounding must be one of half_up, floor"):
        r.SheetRules.from_settings({"money_rounding": "banker"})


def test_the_rating_explanation_follows_the_language():
    thresholds = {"A": Decimal(100), "B": Decimal(80)}
    with translation.override("en"):
        basis = r.suggest_ratings(
            activity=[], outcome=[Decimal(90)], relevance=None, thresholds=thresholds
        ).basis
    assert (
        basis.startswith("Mean attainment of 1 outcome and 0 activity indicators") and "B from 80%" in basis
    )
    with translation.override("ja"):
        basis = r.suggest_ratings(
            activity=[], outcome=[Decimal(90)], relevance=None, thresholds=thresholds
        ).basis
    assert basis.startswith("成果指標1件・活動指標0件の平均達成率（各100%上限）: 100%以上A / 80%以上B")
