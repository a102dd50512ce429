"""Fiscal years (April–March) and Japanese era (和暦) dates: parsing and formatting.

Pure Python so the CLI, the sheet and the importers share one set of rules. Fiscal-year labels
follow the local-government habit: FY2019 is 令和元年度 for the whole year, 平成31年度 and
平成32年度 are accepted as aliases and normalised to 令和 on output.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal

__all__ = [
    "ERAS",
    "Era",
    "era_of_date",
    "era_of_fiscal_year",
    "fiscal_year_of",
    "fiscal_year_range",
    "format_date",
    "format_fiscal_year",
    "parse_date",
    "parse_fiscal_year",
]


@dataclass(frozen=True)
class Era:
    name: str  # 令和
    letter: str  # R
    start: date  # first day of the era
    offset: int  # Gregorian year = era year + offset
    romaji: str  # Reiwa: the era's name in English text


# Newest first. 平成 starts 1989-01-08 (Java and .NET agree); 令和 2019-05-01.
ERAS: tuple[Era, ...] = (
    Era("令和", "R", date(2019, 5, 1), 2018, "Reiwa"),
    Era("平成", "H", date(1989, 1, 8), 1988, "Heisei"),
    Era("昭和", "S", date(1926, 12, 25), 1925, "Showa"),
    Era("大正", "T", date(1912, 7, 30), 1911, "Taisho"),
)
_BY_NAME = {e.name: e for e in ERAS} | {e.letter: e for e in ERAS} | {e.romaji.upper(): e for e in ERAS}
MIN_YEAR = 1912
MAX_YEAR = 2200

FiscalYearStyle = Literal["wareki", "seireki"]

_HINT = "2012, FY2012, 2012年度, 平成24年度, 平成24, H24 or 令和元年度"
_ERA_NAMES = "|".join(e.name for e in ERAS)
_ERA_LETTERS = "".join(e.letter for e in ERAS)
_ERA_FY = re.compile(rf"^(?P<era>{_ERA_NAMES}|[{_ERA_LETTERS}])(?P<year>元|\d{{1,3}})(?:年度|年|度)?$")
_ROMAJI_FY = re.compile(rf"^(?P<era>{'|'.join(e.romaji for e in ERAS)})(?P<year>\d{{1,3}})$", re.IGNORECASE)
_SEIREKI_FY = re.compile(r"^(?:FY)?(?P<year>\d{4})(?:年度|年|度)?$")
_ALIASED = re.compile(r"^(?P<a>[^()]+)\((?P<b>[^()]+)\)$")
_ERA_DATE = re.compile(
    rf"^(?P<era>{_ERA_NAMES}|[{_ERA_LETTERS}])\.?(?P<year>元|\d{{1,3}})[年.](?P<month>\d{{1,2}})[月.](?P<day>\d{{1,2}})日?$"
)
_ISO_DATE = re.compile(r"^(?P<year>\d{4})[-/年](?P<month>\d{1,2})[-/月](?P<day>\d{1,2})日?$")


def fiscal_year_of(d: date) -> int:
    """The fiscal year a date falls in: April to March, named by the year it starts."""
    return d.year if d.month >= 4 else d.year - 1


def fiscal_year_range(fiscal_year: int) -> tuple[date, date]:
    """First and last day of a fiscal year (1 April … 31 March)."""
    return date(fiscal_year, 4, 1), date(fiscal_year + 1, 3, 31)


def era_of_date(d: date) -> Era:
    for era in ERAS:
        if d >= era.start:
            return era
    raise ValueError(f"{d.isoformat()} is before 大正 ({ERAS[-1].start.isoformat()}); no era name for it")


def era_of_fiscal_year(fiscal_year: int) -> Era:
    """The era a fiscal year is named in: the newest era that began in or before its starting year.

    So FY2019 is 令和元年度 (not 平成31年度) and FY1989 is 平成元年度, as cities relabelled them.
    """
    for era in ERAS:
        if fiscal_year >= era.start.year:
            return era
    raise ValueError(f"fiscal year {fiscal_year} is before 大正; no era name for it")


def _era_year_text(year: int) -> str:
    return "元" if year == 1 else str(year)


def format_fiscal_year(fiscal_year: int, style: FiscalYearStyle = "wareki", language: str = "ja") -> str:
    """平成24年度 / 令和元年度 (style "wareki") or 2012年度 (style "seireki"); in English (any
    `language` but Japanese) "FY2012 (Heisei 24)" / "FY2019 (Reiwa 1)", or "FY2012"."""
    if style not in ("wareki", "seireki"):
        raise ValueError(f"unknown fiscal-year style {style!r}: use 'wareki' or 'seireki'")
    japanese = language.split("-")[0] == "ja"
    if style == "seireki":
        return f"{fiscal_year}年度" if japanese else f"FY{fiscal_year}"
    era = era_of_fiscal_year(fiscal_year)
    if not japanese:
        return f"FY{fiscal_year} ({era.romaji} {fiscal_year - era.offset})"
    return f"{era.name}{_era_year_text(fiscal_year - era.offset)}年度"


def _normalise(text: str) -> str:
    """Full-width digits, letters and brackets → ASCII; spaces removed; 'fy' → 'FY'."""
    folded = unicodedata.normalize("NFKC", text)
    folded = re.sub(r"\s+", "", folded)
    return folded.replace("fy", "FY").replace("Fy", "FY").replace("fY", "FY")


def _era_year(era_text: str, year_text: str) -> int:
    era = _BY_NAME[era_text.upper()]
    year = 1 if year_text == "元" else int(year_text)
    if year < 1:
        raise ValueError(f"{era.name}{year_text}: era years start at 元年 (1)")
    return year + era.offset


def _parse_one(text: str) -> int | None:
    if m := _ERA_FY.match(text) or _ERA_FY.match(text.upper()):
        return _era_year(m["era"], m["year"])
    if m := _SEIREKI_FY.match(text):
        return int(m["year"])
    if m := _ROMAJI_FY.match(text):  # the English label's half: "FY2026 (Reiwa 8)"
        return _era_year(m["era"], m["year"])
    return None


def parse_fiscal_year(text: str | int) -> int:
    """A fiscal year from any usual spelling; raises ValueError naming the accepted forms.

    Accepts 2012, "2012", "FY2012", "2012年度", "平成24年度", "平成24", "H24", "令和元年度",
    full-width digits, and an aliased pair such as "令和7年度（2025年度）" or the English label
    "FY2025 (Reiwa 7)" (both halves must agree).
    平成31年度 and 平成32年度 are read as FY2019 and FY2020 (令和元年度 and 令和2年度).
    """
    if isinstance(text, int) and not isinstance(text, bool):
        year: int | None = text
    else:
        if not isinstance(text, str):
            raise ValueError(f"unknown fiscal year {text!r}: write it as {_HINT}")
        folded = _normalise(text)
        if m := _ALIASED.match(folded):
            a, b = _parse_one(m["a"]), _parse_one(m["b"])
            if a is not None and b is not None and a != b:
                raise ValueError(f"fiscal year {text!r}: {m['a']} is FY{a} but {m['b']} is FY{b}")
            year = a if a is not None and b is not None else None
        else:
            year = _parse_one(folded)
    if year is None:
        raise ValueError(f"unknown fiscal year {text!r}: write it as {_HINT}")
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"fiscal year {text!r} (FY{year}) is outside {MIN_YEAR}–{MAX_YEAR}")
    return year


def format_date(d: date, style: FiscalYearStyle = "wareki", language: str = "ja") -> str:
    """平成25年3月31日 (the era in force on that day; 元年 for year 1) or 2013年3月31日; in English (any
    `language` but Japanese) "2013-03-31 (Heisei 25)" or "2013-03-31"."""
    if style not in ("wareki", "seireki"):
        raise ValueError(f"unknown date style {style!r}: use 'wareki' or 'seireki'")
    japanese = language.split("-")[0] == "ja"
    if style == "seireki":
        return f"{d.year}年{d.month}月{d.day}日" if japanese else d.isoformat()
    era = era_of_date(d)
    if not japanese:
        return f"{d.isoformat()} ({era.romaji} {d.year - era.offset})"
    return f"{era.name}{_era_year_text(d.year - era.offset)}年{d.month}月{d.day}日"


def parse_date(text: str) -> date:
    """A date written 平成25年3月31日, H25.3.31, 2013-03-31 or 2013年3月31日.

    An era date must lie inside its era (平成31年5月1日 does not exist: that day is 令和元年5月1日).
    """
    folded = _normalise(text)
    try:
        if m := _ERA_DATE.match(folded) or _ERA_DATE.match(folded.upper()):
            era = _BY_NAME[m["era"].upper()]
            d = date(_era_year(m["era"], m["year"]), int(m["month"]), int(m["day"]))
            if era_of_date(d) is not era:
                raise ValueError(f"date {text!r} is not in the {era.name} era ({era.name} began {era.start})")
            return d
        if m := _ISO_DATE.match(folded):
            return date(int(m["year"]), int(m["month"]), int(m["day"]))
    except ValueError as exc:
        if "era" in str(exc):
            raise
        raise ValueError(f"invalid date {text!r}: {exc}") from None
    raise ValueError(f"unknown date {text!r}: write it as 2013-03-31 or 平成25年3月31日")
