"""Template filters for the backup pages: sizes, durations and status labels in Japanese."""

from __future__ import annotations

from django import template

from mamori.apps.backups.charts import human_bytes, human_seconds

register = template.Library()

LIGHT_LABELS = {"green": "正常", "amber": "注意", "red": "異常"}
CHECK_LABELS = {
    "three_copies": "3つのコピー",
    "two_media": "2種類の媒体",
    "one_offsite": "1つは遠隔地",
    "one_immutable": "1つは改ざん不可",
    "zero_errors": "検査エラー0",
}


@register.filter
def hbytes(value: int | None) -> str:
    return "—" if value is None else human_bytes(float(value))


@register.filter
def hseconds(value: float | None) -> str:
    return "—" if value is None else human_seconds(float(value))


@register.filter
def light_label(value: str) -> str:
    return LIGHT_LABELS.get(value, value)


@register.filter
def check_label(value: str) -> str:
    return CHECK_LABELS.get(value, value)
