"""The officer imports a document on the web: upload, preview per program and year, confirm."""

from __future__ import annotations

import html as htmllib
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from mamori.apps.core.models import AuditEvent, Role
from mamori.apps.evaluation.interchange import dump, evaluation_export
from mamori.apps.evaluation.models import Program, ProgramYear
from tests.apps.evaluation.test_views import login

URL = reverse("evaluation:import")


@pytest.fixture
def officer(client, demo):
    login(client, Role.SECURITY_OFFICER)
    return client


def _upload(client, text: str, name: str = "data.yaml"):
    return client.post(URL, {"file": SimpleUploadedFile(name, text.encode("utf-8"))})


def _changed_document() -> str:
    document = evaluation_export()
    sub = document["programs"][0]["sub_programs"][0]
    next(y for y in sub["years"] if y["fiscal_year"] == 2012)["outcome"] = "改めた成果"
    new = {**document["programs"][0], "reference_number": "9001", "name": "新しい事業", "sub_programs": []}
    new["years"] = [{"fiscal_year": 2013, "program_cost": 1000, "general_fund": 1000}]
    new["indicators"] = []
    document["programs"].append(new)
    return dump(document, "yaml")


def test_upload_previews_per_program_and_year_then_confirm_saves(officer):
    events = AuditEvent.objects.count()
    response = _upload(officer, _changed_document())
    html = response.content.decode()
    rows = re.findall(r'<tr class="(\w+)"><td>(\w+)</td><td>(\w*)</td><td>[^<]*</td><td>([^<]*)</td>', html)
    assert ("updated", "1379", "01", "平成24年度") in rows
    assert ("unchanged", "1379", "", "平成24年度") in rows  # the 事業's own record of that year
    assert ("created", "9001", "", "平成25年度") in rows and ("created", "9001", "", "基本情報・指標") in rows
    assert (
        AuditEvent.objects.count() == events and not Program.objects.filter(reference_number="9001").exists()
    )
    document = re.search(r'name="document" value="([^"]*)"', html)[1]
    confirm = officer.post(
        URL, {"document": htmllib.unescape(document), "filename": "data.yaml", "confirm": "1"}
    )
    assert confirm.status_code == 302
    assert Program.objects.filter(reference_number="9001").exists()
    assert ProgramYear.objects.get(program__reference_number="01", fiscal_year=2012).outcome == "改めた成果"
    assert AuditEvent.objects.count() > events


def test_a_document_with_one_bad_line_names_it_and_saves_nothing(officer):
    text = _changed_document().replace("general_fund: 1000\n", "general_fund: 999\n", 1)
    events = AuditEvent.objects.count()
    html = _upload(officer, text).content.decode()
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "fiscal_year: 2013" in t)
    assert f"programs[1].years[0]（{line}行目）: 財源内訳の合計 999円が事業費 1,000円と一致しません" in html
    assert "何も取り込んでいません" in html
    assert (
        AuditEvent.objects.count() == events and not Program.objects.filter(reference_number="9001").exists()
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe\x00 not utf-8", "UTF-8 の文字として読めません"),
        (b"format: other\n", "format: mamori-evaluation の文書ではありません"),
        (b"a: &a [*a]\n", "1行目: 別名"),
        (b"#" * (2 * 1024 * 1024 + 1), "大きすぎます"),
    ],
)
def test_unreadable_uploads_are_one_line_and_save_nothing(officer, content, message):
    events = AuditEvent.objects.count()
    html = officer.post(URL, {"file": SimpleUploadedFile("x.yaml", content)}).content.decode()
    assert message in html and AuditEvent.objects.count() == events
