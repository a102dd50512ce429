"""The hygiene rules, in one place: how a device's reports merge into its current state, and which
rules that state fails on a given day. Used by the import (to keep `DeviceHygiene`), the pages and
the KPIs alike, so a figure on the sheet and a line on the failing list cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

MERGED_FIELDS = (
    "av_product",
    "signature_date",
    "signatures_current",
    "realtime",
    "last_patch_date",
    "missing_updates",
    "baseline_pass_pct",
)


class Rule(models.TextChoices):
    SILENT = "silent", _("報告が途絶えている")
    NO_AV = "no_av", _("ウイルス対策が無効・不明")
    SIGNATURES = "signatures", _("定義ファイルが古い")
    PATCHES = "patches", _("パッチが古い")
    BASELINE = "baseline", _("構成基準の適合率が低い")


@dataclass(frozen=True)
class Thresholds:
    """N of each rule. Defaults from settings (`MAMORI_DEVICES_*`); a page may ask for others."""

    signature_days: int = 7
    silent_days: int = 7
    patch_days: int = 35
    baseline_min: Decimal = Decimal(80)

    @classmethod
    def from_settings(cls) -> Thresholds:
        return cls(
            signature_days=int(getattr(settings, "MAMORI_DEVICES_SIGNATURE_DAYS", cls.signature_days)),
            silent_days=int(getattr(settings, "MAMORI_DEVICES_SILENT_DAYS", cls.silent_days)),
            patch_days=int(getattr(settings, "MAMORI_DEVICES_PATCH_DAYS", cls.patch_days)),
            baseline_min=Decimal(getattr(settings, "MAMORI_DEVICES_BASELINE_MIN", cls.baseline_min)),
        )


@dataclass(frozen=True)
class HygieneState:
    last_report_day: date | None = None
    av_product: str = ""
    signature_date: date | None = None
    signatures_current: bool | None = None
    realtime: bool | None = None
    last_patch_date: date | None = None
    missing_updates: int | None = None
    baseline_pass_pct: Decimal | None = None


#: figures that only make sense together: taken both from the same report
SIGNATURE_PAIR = ("signature_date", "signatures_current")


def merge(reports: Iterable[Mapping[str, Any]]) -> HygieneState:
    """Reports of one device, newest day first: each figure comes from the newest report that has it."""
    values: dict[str, Any] = {}
    last_day = None
    for report in reports:
        last_day = last_day or report["day"]
        for name in MERGED_FIELDS:
            if name not in values and report[name] not in (None, ""):
                values[name] = report[name]
                if name in SIGNATURE_PAIR:  # a newer "not up to date" outranks an older date
                    values.update({n: report[n] for n in SIGNATURE_PAIR})
        if len(values) == len(MERGED_FIELDS):
            break
    return HygieneState(last_report_day=last_day, **values)


def _older(day: date | None, today: date, days: int) -> bool:
    return day is None or (today - day).days > days


def silent(state: HygieneState, today: date, t: Thresholds) -> bool:
    return _older(state.last_report_day, today, t.silent_days)


def signatures_stale(state: HygieneState, today: date, t: Thresholds) -> bool:
    """Older than N days by their date; without a date, what the agent said (unknown: stale)."""
    if state.signature_date is not None:
        return _older(state.signature_date, today, t.signature_days)
    return state.signatures_current is not True


def av_current(state: HygieneState, today: date, t: Thresholds) -> bool:
    """Antivirus present, real-time protection not off, signatures current, still reporting."""
    return (
        bool(state.av_product)
        and state.realtime is not False
        and not signatures_stale(state, today, t)
        and not silent(state, today, t)
    )


def patch_current(state: HygieneState, today: date, t: Thresholds) -> bool:
    return not _older(state.last_patch_date, today, t.patch_days) and not silent(state, today, t)


def baseline_pass(state: HygieneState, t: Thresholds) -> bool | None:
    """None when no source has assessed the baseline."""
    if state.baseline_pass_pct is None:
        return None
    return state.baseline_pass_pct >= t.baseline_min


def failures(state: HygieneState, today: date, t: Thresholds) -> list[str]:
    """The rules this state fails on `today` (a silent device fails only SILENT: its old figures
    say nothing about today)."""
    if silent(state, today, t):
        return [Rule.SILENT]
    failed = []
    if not state.av_product or state.realtime is False:
        failed.append(Rule.NO_AV)
    elif signatures_stale(state, today, t):
        failed.append(Rule.SIGNATURES)
    if _older(state.last_patch_date, today, t.patch_days):
        failed.append(Rule.PATCHES)
    if baseline_pass(state, t) is False:
        failed.append(Rule.BASELINE)
    return failed
