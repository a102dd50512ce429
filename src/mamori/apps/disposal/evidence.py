"""The audit evidence list for a fiscal year: every medium registered or handed over in it, each step
of its custody and its certificate's hash, checked against the stored file now. One row model, two
renderings: XLSX (user text written formula-safe) and the print page / PDF (one template)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from weasyprint import HTML

from mamori.apps.core.spreadsheet import xlsx_append

from .kpis import fiscal_year_span
from .models import Medium
from .selectors import certificate_verify


@dataclass(frozen=True)
class EvidenceRow:
    medium: Medium
    check: str  # "intact", "tampered", "missing" or "" (no certificate)


def evidence_rows(fiscal_year: int) -> list[EvidenceRow]:
    start, end = fiscal_year_span(fiscal_year)
    media = (
        Medium.objects.filter(
            Q(registered_at__gte=start, registered_at__lt=end)
            | Q(batch__handed_over_at__gte=start, batch__handed_over_at__lt=end)
        )
        .select_related("department", "department__parent", "registered_by", "batch", "certificate")
        .order_by("registered_at", "label")
    )
    checks: dict[int, str] = {}
    rows = []
    for m in media:
        if m.certificate_id and m.certificate_id not in checks:
            result = certificate_verify(m.certificate)  # type: ignore[arg-type]
            checks[m.certificate_id] = (
                "intact" if result.intact else ("missing" if result.missing else "tampered")
            )
        rows.append(EvidenceRow(m, checks.get(m.certificate_id, "") if m.certificate_id else ""))
    return rows


def _when(value: datetime | None) -> str:
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M}" if value else ""


def check_label(check: str) -> str:
    return {"intact": _("一致"), "tampered": _("不一致（改ざんの疑い）"), "missing": _("ファイルなし")}.get(
        check, ""
    )


HEADERS = [
    "管理番号", "種類", "所属", "情報資産の分類", "ネットワーク区分", "状態", "登録日時", "登録者", "保管開始",
    "保管場所", "引渡し日時", "委託業者", "処理方法", "受領者（業者側）", "立会人", "証明書番号", "発行日",
    "SHA-256", "照合",
]  # fmt: skip


def row_values(row: EvidenceRow) -> list[str]:
    m, b, c = row.medium, row.medium.batch, row.medium.certificate
    return [
        m.label, m.get_kind_display(), m.department.full_name, m.get_classification_display(),
        m.get_network_zone_display(), m.get_state_display(), _when(m.registered_at),
        m.registered_by.get_username() if m.registered_by else "", _when(m.stored_at), m.storage_location,
        _when(b.handed_over_at) if b else "", b.contractor if b else "", b.get_method_display() if b else "",
        b.received_by if b else "", b.witness if b else "", c.number if c else "",
        f"{c.issued_on:%Y-%m-%d}" if c else "", c.sha256 if c else "", check_label(row.check),
    ]  # fmt: skip


def evidence_xlsx(fiscal_year: int) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = f"FY{fiscal_year}"
    xlsx_append(ws, [_(h) for h in HEADERS])
    for row in evidence_rows(fiscal_year):
        xlsx_append(ws, row_values(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def evidence_context(fiscal_year: int, *, standalone: bool) -> dict[str, Any]:
    """What `disposal/evidence_table.html` shows (the web page includes it, the PDF renders it alone)."""
    rows = evidence_rows(fiscal_year)
    return {
        "fiscal_year": fiscal_year,
        "headers": [_(h) for h in HEADERS],
        "rows": [(r, row_values(r)) for r in rows],
        "standalone": standalone,
        "printed_at": timezone.localtime(),
    }


def evidence_pdf(fiscal_year: int) -> bytes:
    html = render_to_string("disposal/evidence_table.html", evidence_context(fiscal_year, standalone=True))
    return HTML(string=html).write_pdf()  # type: ignore[no-any-return]
