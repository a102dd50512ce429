"""Cell values as officers and tools write them: dates (ISO, yyyy/mm/dd, 和暦), yes/no, percentages.

Each parser returns the value or raises ValueError; the readers turn that into a line-numbered
problem naming the column and the accepted forms.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from mamori.apps.core import wareki

from .errors import gettext_noop

MIN_YEAR, MAX_YEAR = 1950, 2200
BAD_DATE = gettext_noop(
    "%(column)s '%(value)s' は日付（例 2024-04-01、2024/4/1、令和6年4月1日）ではありません"
)
# GLPI and Excel write a time after the date ("2023-04-01 00:00", "2023/4/1 0:00:00", ISO "T…").
_TIME_TAIL = re.compile(r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)$")
_DOTTED = re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$")
_US = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")  # Windows' InstalledOn: M/D/YYYY

TRUE_WORDS = frozenset({"1", "true", "yes", "y", "on", "有効", "はい", "あり", "オン", "○", "〇", "enabled"})
FALSE_WORDS = frozenset({"0", "false", "no", "n", "off", "無効", "いいえ", "なし", "オフ", "×", "disabled"})


def fold(text: str) -> str:
    """Full-width → ASCII, outer spaces gone: how cells are compared with codes and aliases."""
    return unicodedata.normalize("NFKC", text).strip()


# Cached: a month of reports repeats the same few dates tens of thousands of times.
@lru_cache(maxsize=8192)
def parse_date(text: str) -> date:
    """2024-04-01, 2024/4/1, 2024.4.1, 2024年4月1日, 令和6年4月1日, R6.4.1; a time after it is ignored."""
    folded = _TIME_TAIL.sub("", fold(text))
    if m := _DOTTED.match(folded):
        folded = f"{m[1]}-{m[2]}-{m[3]}"
    value = wareki.parse_date(folded)
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"year {value.year} outside {MIN_YEAR}–{MAX_YEAR}")
    return value


@lru_cache(maxsize=8192)
def parse_us_date(text: str) -> date:
    """4/16/2024 as Windows writes a hotfix's InstalledOn; ISO is accepted too."""
    folded = _TIME_TAIL.sub("", fold(text))
    if m := _US.match(folded):
        value = date(int(m[3]), int(m[1]), int(m[2]))
        if not MIN_YEAR <= value.year <= MAX_YEAR:
            raise ValueError(f"year {value.year} outside {MIN_YEAR}–{MAX_YEAR}")
        return value
    return parse_date(folded)


def parse_bool(text: str) -> bool:
    word = fold(text).casefold()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(text)


def parse_count(text: str) -> int:
    folded = fold(text).replace(",", "")
    if not folded.isdigit() or len(folded) > 9:
        raise ValueError(text)
    return int(folded)


def parse_percent(text: str) -> Decimal:
    """85, 85.5, 85%, ８５％ → Decimal with one decimal place, 0–100."""
    folded = fold(text).removesuffix("%").strip()
    try:
        value = Decimal(folded)
    except InvalidOperation:
        raise ValueError(text) from None
    if not value.is_finite() or not 0 <= value <= 100:
        raise ValueError(text)
    return value.quantize(Decimal("0.1"))
