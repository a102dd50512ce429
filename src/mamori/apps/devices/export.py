"""The failing list as XLSX for the people who fix the devices; cells go through `xlsx_append`, so a
hostile host name or product name stays text."""

from __future__ import annotations

import io
from datetime import date

from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook

from mamori.apps.core.models import NetworkZone
from mamori.apps.core.spreadsheet import xlsx_append

from .hygiene import Rule, Thresholds
from .models import DeviceKind
from .selectors import FleetDevice


def failing_xlsx(devices: list[FleetDevice], *, today: date, thresholds: Thresholds) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = _("不適合の機器")
    xlsx_append(sheet, [
        pgettext("export", "基準日"), today.isoformat(),
        _("定義ファイル {n}日以内").format(n=thresholds.signature_days),
        _("報告 {n}日以内").format(n=thresholds.silent_days),
        _("パッチ {n}日以内").format(n=thresholds.patch_days),
        _("構成基準 {n}%以上").format(n=thresholds.baseline_min),
    ])  # fmt: skip
    xlsx_append(sheet, [
        _("資産番号"), _("ホスト名"), _("種別"), _("ネットワーク区分"), _("所属"), _("不適合の内容"),
        _("最終報告日"), _("ウイルス対策製品"), _("定義ファイル日付"), _("最終パッチ適用日"), _("未適用の更新"),
        _("構成基準の適合率"),
    ])  # fmt: skip
    for d in devices:
        s = d.state
        xlsx_append(sheet, [
            d.asset_tag, d.hostname, str(DeviceKind(d.kind).label), str(NetworkZone(d.zone).label), d.department,
            "、".join(str(Rule(r).label) for r in d.failed), s.last_report_day, s.av_product,
            s.signature_date, s.last_patch_date, s.missing_updates,
            float(s.baseline_pass_pct) if s.baseline_pass_pct is not None else None,
        ])  # fmt: skip
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
