"""The sheet's arithmetic as pure functions: 千円 rounding, personnel cost, per-capita cost,
indicator attainment (達成率) and rating suggestions. Settings only choose among documented rules.

Settings (`MAMORI_EVALUATION` in Django settings, every key optional; an organisation's own
settings, set on the web or in the import document, override them — `sheet_settings.py`):
- `money_rounding`: "half_up" (四捨五入, default), "floor" (切り捨て) or "ceiling" (切り上げ), yen → 千円;
- `per_capita_rounding`: same choices, for 一人あたり / 世帯あたり (円);
- `era_style`: "wareki" (default) or "seireki" for fiscal-year labels on the sheet;
- `xlsx_font`: the Japanese font named in the XLSX cells (default "MS Gothic");
- `rating_thresholds`: minimum mean attainment (%) for A and B, default {"A": 100, "B": 80};
- `footnote`: a text printed at the foot of every sheet (default none).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext

ROUNDING_MODES = {"half_up": ROUND_HALF_UP, "floor": ROUND_FLOOR, "ceiling": ROUND_CEILING}
ROUNDING_LABELS = {"half_up": "四捨五入", "floor": "切り捨て", "ceiling": "切り上げ"}
GRADES = ("A", "B", "C")


@dataclass(frozen=True)
class SheetRules:
    """The configurable rules one sheet is computed under (printed at the foot of the sheet)."""

    money_rounding: str = "half_up"
    per_capita_rounding: str = "half_up"
    era_style: str = "wareki"
    xlsx_font: str = "MS Gothic"
    thresholds: dict[str, Decimal] = field(default_factory=lambda: {"A": Decimal(100), "B": Decimal(80)})
    footnote: str = ""

    def __post_init__(self) -> None:
        for name in ("money_rounding", "per_capita_rounding"):
            if getattr(self, name) not in ROUNDING_MODES:
                raise ValueError(
                    f"{name} must be one of {', '.join(ROUNDING_MODES)}, not {getattr(self, name)!r}"
                )
        if self.era_style not in {"wareki", "seireki"}:
            raise ValueError(f"era_style must be 'wareki' or 'seireki', not {self.era_style!r}")
        a, b = self.thresholds.get("A"), self.thresholds.get("B")
        if a is None or b is None or not Decimal(0) <= b <= a <= Decimal(100):
            raise ValueError(f"rating thresholds must satisfy 0 <= B <= A <= 100, not A={a}, B={b}")

    @classmethod
    def from_settings(cls, conf: dict[str, Any] | None) -> SheetRules:
        conf = conf or {}
        thresholds = {
            k: Decimal(str(v)) for k, v in conf.get("rating_thresholds", {"A": 100, "B": 80}).items()
        }
        return cls(
            money_rounding=conf.get("money_rounding", "half_up"),
            per_capita_rounding=conf.get("per_capita_rounding", "half_up"),
            era_style=conf.get("era_style", "wareki"),
            xlsx_font=conf.get("xlsx_font", "MS Gothic"),
            thresholds=thresholds,
            footnote=conf.get("footnote", ""),
        )


def round_div(numerator: int | Decimal, denominator: int | Decimal, mode: str) -> int:
    """numerator ÷ denominator rounded to an integer under a named rule (exact decimal arithmetic)."""
    q = Decimal(numerator) / Decimal(denominator)
    return int(q.quantize(Decimal(1), rounding=ROUNDING_MODES[mode]))


def thousand_yen(yen: int, mode: str) -> int:
    """Whole yen → 千円 for display."""
    return round_div(yen, 1000, mode)


def personnel_cost(lines: Iterable[tuple[Decimal, int]]) -> int:
    """人件費 (yen) = Σ unit cost × FTE over (fte, unit yen) pairs, rounded half up to the yen."""
    total = sum((Decimal(fte) * Decimal(unit) for fte, unit in lines), Decimal(0))
    return int(total.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def per_head(total_yen: int, count: int | None, mode: str) -> int | None:
    """一人あたり / 世帯あたり (円); None when no population record was chosen."""
    if not count:
        return None
    return round_div(total_yen, count, mode)


def attainment(target: Decimal | None, actual: Decimal | None, direction: str) -> Decimal | None:
    """達成率 (%), one decimal. None when target or actual is missing.

    ↑: actual ÷ target (a zero target is refused at entry, so never reaches here).
    ↓: at or under the target is 100%; above it, target ÷ actual. A zero target (e.g. incidents):
    actual 0 → 100%, anything else → 0%.
    """
    if target is None or actual is None:
        return None
    one = Decimal("0.1")
    if direction == "up":
        if target == 0:
            return None
        return (Decimal(actual) / Decimal(target) * 100).quantize(one, rounding=ROUND_HALF_UP)
    if target == 0:
        return Decimal(100).quantize(one) if actual == 0 else Decimal(0).quantize(one)
    if actual <= target:
        return Decimal(100).quantize(one)
    return (Decimal(target) / Decimal(actual) * 100).quantize(one, rounding=ROUND_HALF_UP)


def grade_for(values: list[Decimal], thresholds: dict[str, Decimal]) -> str | None:
    """A/B/C from the mean attainment (each capped at 100%); None without any value."""
    if not values:
        return None
    mean = sum(min(v, Decimal(100)) for v in values) / len(values)
    if mean >= thresholds["A"]:
        return "A"
    if mean >= thresholds["B"]:
        return "B"
    return "C"


def worst(grades: Iterable[str | None]) -> str | None:
    present = [g for g in grades if g in GRADES]
    return max(present, key=GRADES.index) if present else None


@dataclass(frozen=True)
class Suggestion:
    """What mamori suggests; the officer confirms or overrides each with a reason."""

    relevance: str | None
    efficiency: str | None
    effectiveness: str | None
    overall: str | None
    contribution: str | None
    basis: str


def suggest_ratings(
    *,
    activity: list[Decimal],
    outcome: list[Decimal],
    relevance: str | None,
    thresholds: dict[str, Decimal],
) -> Suggestion:
    """Default rules: 有効性 from 成果指標 attainment, 効率性 from 活動指標 attainment, 妥当性 is the
    officer's own judgement (no suggestion), 総合評価 = the worst of the three, 貢献度 = 有効性.
    """
    effectiveness = grade_for(outcome, thresholds)
    efficiency = grade_for(activity, thresholds)
    overall = worst([relevance, efficiency, effectiveness]) if (efficiency or effectiveness) else None
    a, b = thresholds["A"], thresholds["B"]
    basis = gettext(  # in the reader's language, like the rest of the sheet
        "成果指標%(outcome)s件・活動指標%(activity)s件の平均達成率（各100%%上限）: "
        "%(a)s%%以上A / %(b)s%%以上B / それ未満C。総合評価は妥当性・効率性・有効性の最も低い評価。"
    ) % {"outcome": len(outcome), "activity": len(activity), "a": a, "b": b}
    return Suggestion(None, efficiency, effectiveness, overall, effectiveness, basis)
