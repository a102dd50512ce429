"""Template filters for the backup pages: sizes, durations and status labels in Japanese."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _

from mamori.apps.backups.charts import human_bytes, human_seconds
from mamori.apps.backups.cron import cron_describe

register = template.Library()

LIGHT_LABELS = {"green": _("正常"), "amber": _("注意"), "red": _("異常")}
CHECK_LABELS = {
    "three_copies": _("3つのコピー"),
    "two_media": _("2種類の媒体"),
    "one_offsite": _("1つは遠隔地"),
    "one_immutable": _("1つは改ざん不可"),
    "zero_errors": _("検査エラー0"),
}


@register.filter
def hbytes(value: int | None) -> str:
    return "—" if value is None else human_bytes(float(value))


@register.filter
def hseconds(value: float | None) -> str:
    return "—" if value is None else human_seconds(float(value))


@register.filter
def light_label(value: str) -> object:
    return LIGHT_LABELS.get(value, value)


@register.filter
def check_label(value: str) -> object:
    return CHECK_LABELS.get(value, value)


@register.filter
def cron_human(value: str) -> str:
    return cron_describe(value)
