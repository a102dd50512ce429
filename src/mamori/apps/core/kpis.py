"""The KPI registry: each app registers named KPIs; the evaluation sheet binds indicators to them.

A provider computes a fiscal year's value and the records behind it (the evidence), so every figure
on the sheet can be traced. Apps register in `AppConfig.ready()`; core imports no app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any


@dataclass(frozen=True)
class Evidence:
    """One record behind a KPI value: what it is and where a person can see it."""

    label: str
    object_type: str = ""
    object_id: str = ""
    url: str = ""
    department_id: int | None = None  # the owning department: the sheet links a lead only to their own


@dataclass(frozen=True)
class KpiValue:
    value: Decimal | None  # None: nothing recorded in that fiscal year
    evidence: list[Evidence] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Kpi:
    code: str  # e.g. "backups.success_rate"
    label: str  # Japanese label
    unit: str  # "%", "件", "回", "秒"
    direction: str  # "up" (higher is better) or "down"
    compute: Callable[[int], KpiValue]  # fiscal year (e.g. 2026 = 令和8年度) → value


def kpi_percent(part: int, whole: int) -> Decimal | None:
    """A KPI's rate: percent to one decimal, half up; None when there is nothing to count."""
    if not whole:
        return None
    return (Decimal(100 * part) / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


_registry: dict[str, Kpi] = {}


def register_kpi(kpi: Kpi) -> None:
    if kpi.direction not in {"up", "down"}:
        raise ValueError(f"KPI {kpi.code}: direction must be 'up' or 'down'")
    _registry[kpi.code] = kpi


def kpi_get(code: str) -> Kpi:
    try:
        return _registry[code]
    except KeyError:
        raise KeyError(
            f"unknown KPI {code!r}; registered: {', '.join(sorted(_registry)) or 'none'}"
        ) from None


def kpi_list() -> list[Kpi]:
    return [_registry[c] for c in sorted(_registry)]
