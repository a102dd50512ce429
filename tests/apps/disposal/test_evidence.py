"""The evidence list for an audit: every medium of the fiscal year with its steps and certificate
hash; XLSX keeps formula-like user text as text, the PDF prints, a tampered certificate is flagged."""

from __future__ import annotations

import io

from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from mamori.apps.core.models import Role
from mamori.apps.core.wareki import fiscal_year_of
from mamori.apps.disposal import certificates, services
from mamori.apps.disposal.evidence import evidence_pdf, evidence_rows, evidence_xlsx

from .helpers import checked_pdf, handed_over, medium, stored

FORMULA = '=HYPERLINK("http://evil.example/","開く")'


def _certified(world, label: str):
    m = stored(label, world.gyokaku)
    batch = handed_over([m])
    return services.certificate_register(
        actor="o", batch=batch, checked=checked_pdf(), number="C-1", issued_on=timezone.localdate(), media=[m]
    )


def test_the_xlsx_lists_every_step_and_keeps_formula_text_as_text(world):
    certificate = _certified(world, FORMULA)
    medium("USB-OPEN", world.gyokaku)
    fy = fiscal_year_of(timezone.localdate())
    ws = load_workbook(io.BytesIO(evidence_xlsx(fy))).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "管理番号" and rows[0][-2] == "SHA-256"
    by_label = {r[0]: r for r in rows[1:]}
    assert set(by_label) == {FORMULA, "USB-OPEN"}
    cell = next(c for c in ws["A"] if c.value == FORMULA)
    assert cell.data_type == "s"  # a string, not a formula
    assert by_label[FORMULA][-2] == certificate.sha256 and by_label[FORMULA][-1] == "一致"
    assert by_label["USB-OPEN"][5] == "登録済み" and by_label["USB-OPEN"][-1] is None


def test_a_tampered_certificate_is_flagged_in_the_list_and_the_pdf_prints(world, artifacts_dir):
    certificate = _certified(world, "USB-1")
    path = certificates.stored_path(certificate.stored_name)
    path.write_bytes(path.read_bytes() + b"\n% appended")
    fy = fiscal_year_of(timezone.localdate())
    assert [r.check for r in evidence_rows(fy)] == ["tampered"]
    pdf = evidence_pdf(fy)
    assert pdf.startswith(b"%PDF-")
    (artifacts_dir / "disposal-evidence.pdf").write_bytes(pdf)
    client = Client()
    client.force_login(world.users[Role.AUDITOR])
    page = client.get(reverse("disposal:evidence"), {"fiscal_year": fy}).content.decode()
    assert 'data-flag="tampered"' in page
    assert client.get(reverse("disposal:evidence"), {"fiscal_year": "../1"}).status_code == 404
    download = client.get(reverse("disposal:evidence-file", args=["xlsx"]), {"fiscal_year": fy})
    assert download["Content-Disposition"] == f'attachment; filename="disposal-evidence-FY{fy}.xlsx"'
