"""Sheet settings per organisation: set on the web or in the import document, audited, and the
figures follow them; the Django setting is only the default of a new installation."""

from __future__ import annotations

import io

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import load_workbook

from mamori.apps.core.models import AuditEvent, Role
from mamori.apps.evaluation import services
from mamori.apps.evaluation.errors import EvaluationError
from mamori.apps.evaluation.interchange import dump, evaluation_export
from mamori.apps.evaluation.models import SheetSettings
from mamori.apps.evaluation.selectors import program_get, sheet_get
from tests.apps.evaluation.test_views import login

FORM = {
    "money_rounding": "half_up",
    "per_capita_rounding": "half_up",
    "era_style": "wareki",
    "threshold_a": "100",
    "threshold_b": "80",
    "footnote": "",
}


@pytest.fixture
def program(demo):
    return program_get(reference_number="1379")


def _costs(program):
    return sheet_get(program=program, fiscal_year=2012).sub_programs[0].costs


def test_the_officer_changes_the_rounding_rule_and_the_sheets_figures_follow(client, program):
    sub = program.sub_programs.get()
    year = sub.years.get(fiscal_year=2012)
    services.program_year_set_money(  # amounts that 千円 rounding can tell apart
        actor="t",
        program=sub,
        fiscal_year=2012,
        program_cost=5_917_400,
        general_fund=5_917_400,
        population=year.population,
    )
    login(client, Role.SECURITY_OFFICER)
    yen = _costs(program).yen
    page = reverse("evaluation:sheet_settings")
    assert client.get(page).status_code == 200
    for rule, expected in [
        ("floor", {k: v // 1000 for k, v in yen.items()}),
        ("ceiling", {k: -(-v // 1000) for k, v in yen.items()}),
    ]:
        response = client.post(page, {**FORM, "money_rounding": rule})
        assert response.status_code == 302, response.content.decode()
        assert _costs(program).thousands == expected
        html = client.get(
            reverse("evaluation:program_detail", args=[program.pk]) + "?fy=2012"
        ).content.decode()
        assert f">{expected['total']:,}<" in html  # 10,678 then 10,679
    assert yen["total"] == 10_678_400
    assert "千円未満を切り上げ" in html


def test_a_change_is_audited_and_saving_it_unchanged_records_nothing(program):
    org = program.measure.section.chapter.organisation
    services.sheet_settings_set(actor="t", organisation=org, money_rounding="floor", footnote="※ 決算見込み")
    event = AuditEvent.objects.filter(action="evaluation.settings.set").get()
    assert event.after["money_rounding"] == "floor" and event.before is None
    services.sheet_settings_set(actor="t", organisation=org, money_rounding="floor")
    assert AuditEvent.objects.filter(action="evaluation.settings.set").count() == 1
    services.sheet_settings_set(actor="t", organisation=org, era_style="seireki")
    assert AuditEvent.objects.filter(action="evaluation.settings.set").count() == 2


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"threshold_a": 70, "threshold_b": 80}, "0 ≦ B ≦ A ≦ 100"),
        ({"threshold_a": 120}, "0 ≦ B ≦ A ≦ 100"),
        ({"money_rounding": "bankers"}, "千円未満の端数: 'bankers'"),  # the field's label
        ({"colour": "red"}, "不明な項目: colour"),
    ],
)
def test_impossible_settings_are_refused_and_nothing_is_saved(program, values, message):
    org = program.measure.section.chapter.organisation
    with pytest.raises(EvaluationError, match=message):
        services.sheet_settings_set(actor="t", organisation=org, **values)
    assert not SheetSettings.objects.exists()


def test_era_style_and_footnote_reach_the_html_and_the_xlsx(client, program):
    org = program.measure.section.chapter.organisation
    services.sheet_settings_set(
        actor="t", organisation=org, era_style="seireki", footnote="=注記 決算見込みを含む"
    )
    login(client, Role.AUDITOR)
    html = client.get(reverse("evaluation:sheet_download", args=[program.pk, 2012, "html"])).content.decode()
    assert "2012年度 事務事業評価シート" in html and "=注記 決算見込みを含む" in html
    xlsx = client.get(reverse("evaluation:sheet_download", args=[program.pk, 2012, "xlsx"])).content
    cells = [c for row in load_workbook(io.BytesIO(xlsx)).active.iter_rows() for c in row]
    note = next(c for c in cells if c.value == "=注記 決算見込みを含む")
    assert note.data_type == "s"  # the footnote is the city's text: never a formula


def test_the_import_document_carries_the_settings(program, tmp_path):
    document = evaluation_export()
    assert document["settings"]["money_rounding"] == "half_up" and document["settings"]["threshold_b"] == "80"
    document["settings"]["money_rounding"] = "floor"
    path = tmp_path / "floor.yaml"
    path.write_text(dump(document, "yaml"), encoding="utf-8")
    call_command("evaluation", "import", str(path), stdout=io.StringIO())
    assert _costs(program).thousands == {k: v // 1000 for k, v in _costs(program).yen.items()}
    assert evaluation_export()["settings"]["money_rounding"] == "floor"


def test_a_bad_setting_in_the_document_names_its_line_and_saves_nothing(program, tmp_path):
    document = yaml.safe_load(dump(evaluation_export(), "yaml"))
    document["settings"]["threshold_a"] = "abc"
    path = tmp_path / "bad.yaml"
    path.write_text(dump(document, "yaml"), encoding="utf-8")
    with pytest.raises(CommandError) as exc:
        call_command("evaluation", "import", str(path))
    line = dump(document, "yaml").splitlines().index("settings:") + 2  # the mapping starts below its key
    assert str(exc.value) == f"settings（{line}行目）: 評価Aの基準は数値で入力してください（'abc'）"
    assert not SheetSettings.objects.exists()


def test_the_settings_page_leads_back_to_the_sheet_it_was_opened_from(client, program):
    login(client, Role.SECURITY_OFFICER)
    sheet = reverse("evaluation:program_detail", args=[program.pk])
    html = client.get(sheet + "?fy=2012").content.decode()
    settings_url = f"{reverse('evaluation:sheet_settings')}?program={program.pk}&fy=2012"
    assert f'href="{settings_url.replace("&", "&amp;")}"' in html
    back = f'href="{sheet}?fy=2012"'
    page = client.get(settings_url).content.decode()
    assert back in page and "戻る" in page
    response = client.post(settings_url, FORM)
    assert response.status_code == 302 and response["Location"] == f"{sheet}?fy=2012"
    # from the list (or with a program that does not exist) it goes back to the list
    program_list = reverse("evaluation:program_list")
    for url in (
        reverse("evaluation:sheet_settings"),
        reverse("evaluation:sheet_settings") + "?program=999999",
    ):
        assert f'href="{program_list}"' in client.get(url).content.decode().split('class="form"')[1]
