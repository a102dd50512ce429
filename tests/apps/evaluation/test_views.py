"""Web pages: who may read and write, the sheet page, downloads and the entry forms."""

from __future__ import annotations

import base64
import hashlib
import io
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from openpyxl import load_workbook

from mamori.apps.core.kpis import Evidence, Kpi, KpiValue, _registry, register_kpi
from mamori.apps.core.models import AuditEvent, Department, Membership, Role
from mamori.apps.evaluation import services
from mamori.apps.evaluation.models import ProgramYear
from mamori.apps.evaluation.selectors import program_get


def login(client, role, department=None, username=None):
    user = get_user_model().objects.create_user(username=username or f"u-{role}", password="x" * 12)
    Membership.objects.create(user=user, role=role, department=department)
    client.force_login(user)
    return user


@pytest.fixture
def program(demo):
    return program_get(reference_number="1379")


@pytest.fixture
def sub(demo):
    return program_get(reference_number="1379", sub="01")


def test_anonymous_is_sent_to_login(client, program):
    response = client.get(reverse("evaluation:program_list"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_staff_role_may_not_read(client, program):
    login(client, Role.STAFF)
    assert client.get(reverse("evaluation:program_detail", args=[program.pk])).status_code == 403


def test_officer_sees_the_sheet_with_seed_figures(client, program):
    login(client, Role.SECURITY_OFFICER)
    response = client.get(reverse("evaluation:program_detail", args=[program.pk]) + "?fy=平成24")
    html = response.content.decode()
    assert response.status_code == 200
    for text in [
        "平成24年度 事務事業評価シート",
        "10,678",
        "4,761",
        ">95<",
        ">226<",
        "0.60",
        "貢献度",
        "継続",
    ]:
        assert text in html, text
    sub = program.sub_programs.get()
    assert reverse("evaluation:money", args=[sub.pk, 2012]) in html  # money is entered per 細事業
    assert reverse("evaluation:money", args=[program.pk, 2012]) not in html
    assert "細事業の合計（各細事業で入力）" in html


def test_unknown_fiscal_year_on_the_page_is_a_message_not_a_crash(client, program):
    login(client, Role.SECURITY_OFFICER)
    response = client.get(reverse("evaluation:program_detail", args=[program.pk]) + "?fy=来年")
    assert response.status_code == 200
    html = response.content.decode()
    assert "年度を読み取れません: 来年。2012、FY2012、2012年度、平成24年度" in html
    assert "unknown fiscal year" not in html  # the calendar module's English stays out of the Japanese page


def test_auditor_reads_and_downloads_but_may_not_write(client, program, sub):
    login(client, Role.AUDITOR)
    assert client.get(reverse("evaluation:program_detail", args=[program.pk])).status_code == 200
    response = client.get(reverse("evaluation:sheet_download", args=[program.pk, 2012, "xlsx"]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="evaluation-1379-2012.xlsx"'
    pdf = client.get(reverse("evaluation:sheet_download", args=[program.pk, 2012, "pdf"]))
    assert pdf.content.startswith(b"%PDF")
    url = reverse("evaluation:money", args=[sub.pk, 2012])
    assert client.get(url).status_code == 403
    assert client.post(url, {"program_cost": 1}).status_code == 403


def test_flat_export_download(client, program, tmp_path):
    login(client, Role.AUDITOR)
    response = client.get(reverse("evaluation:export", args=["xlsx"]))
    path = tmp_path / "flat.xlsx"
    path.write_bytes(response.content)
    book = load_workbook(path)
    assert book.sheetnames == ["事業", "指標"]
    programs = book["事業"]
    cost = next(c.column for c in programs[1] if c.value == "事業費(円)")
    assert programs.cell(row=2, column=cost).number_format == "#,##0"
    csv = client.get(reverse("evaluation:export", args=["csv"]) + "?table=indicators")
    assert csv.content.decode("utf-8-sig").startswith("年度,")


def test_department_lead_sees_only_own_department(client, program, organisation):
    other = Department.objects.create(organisation=organisation, code="990000", name="市民課")
    login(client, Role.DEPARTMENT_LEAD, department=other)
    assert "情報化安全対策事業" not in client.get(reverse("evaluation:program_list")).content.decode()
    assert client.get(reverse("evaluation:program_detail", args=[program.pk])).status_code == 404


def test_money_form_saves_and_refuses_funds_that_do_not_add_up(client, sub):
    login(client, Role.SECURITY_OFFICER)
    url = reverse("evaluation:money", args=[sub.pk, 2013])
    bad = {
        "program_cost": 1000,
        "general_fund": 900,
        "national_prefectural": 0,
        "municipal_bonds": 0,
        "other_specific": 0,
        "debt_service": 0,
    }
    response = client.post(url, bad)
    assert response.status_code == 200
    assert response.content.decode().count("財源内訳の合計 900円が事業費 1,000円と一致しません") == 1
    assert not ProgramYear.objects.filter(program=sub, fiscal_year=2013).exists()
    response = client.post(url, {**bad, "general_fund": 1000})
    assert response.status_code == 302
    assert ProgramYear.objects.get(program=sub, fiscal_year=2013).general_fund == 1000
    assert AuditEvent.objects.filter(action="evaluation.year.money", actor="u-security_officer").exists()


def test_staffing_form_refuses_negative_fte(client, sub):
    login(client, Role.SECURITY_OFFICER)
    response = client.post(
        reverse("evaluation:staffing", args=[sub.pk, 2012]),
        {"regular": "-1", "reemployed": "0", "fiscal_year": "0"},
    )
    assert "0以上で入力してください" in response.content.decode()


def test_rating_form_shows_suggestion_and_requires_reason_to_override(client, sub):
    login(client, Role.SECURITY_OFFICER)
    ind = services.indicator_create(
        actor="t", program=sub, kind="outcome", name="事故件数", unit="件", direction="down"
    )
    services.indicator_year_set(actor="t", indicator=ind, fiscal_year=2012, target=0, actual=0)
    url = reverse("evaluation:rating", args=[sub.pk, 2012])
    page = client.get(url).content.decode()
    assert "mamori の提案" in page and "有効性 A" in page
    data = {
        "relevance": "A",
        "efficiency": "A",
        "effectiveness": "B",
        "overall": "",
        "contribution": "",
        "reason_overall": "",
        "reason_contribution": "",
        "override_reason": "",
    }
    response = client.post(url, data)
    assert "提案と異なる評価（有効性）には変更理由が必要です" in response.content.decode()
    response = client.post(url, {**data, "override_reason": "監査指摘が1件あったため"})
    assert response.status_code == 302
    event = AuditEvent.objects.filter(action="evaluation.rating.override").latest("sequence")
    assert event.after["override_reason"] == "監査指摘が1件あったため"


def test_indicator_forms(client, sub):
    login(client, Role.SECURITY_OFFICER)
    response = client.post(
        reverse("evaluation:indicator_create", args=[sub.pk]),
        {"kind": "activity", "name": "研修回数", "unit": "回", "direction": "up", "kpi_code": ""},
    )
    assert response.status_code == 302
    indicator = sub.indicators.get(name="研修回数")
    url = reverse("evaluation:indicator_year", args=[indicator.pk, 2012])
    response = client.post(url, {"target": "0", "actual": "1"})
    assert "目標値0は設定できません" in response.content.decode()
    assert client.post(url, {"target": "2", "actual": "2"}).status_code == 302


def test_an_indicator_can_be_corrected_and_its_year_form_names_it(client, sub):
    login(client, Role.SECURITY_OFFICER)
    indicator = services.indicator_create(
        actor="t", program=sub, kind="activity", name="研収回数", unit="件", direction="down"
    )
    services.indicator_year_set(actor="t", indicator=indicator, fiscal_year=2012, target=2, actual=3)
    year_page = client.get(reverse("evaluation:indicator_year", args=[indicator.pk, 2012])).content.decode()
    edit_url = reverse("evaluation:indicator_edit", args=[indicator.pk])
    assert "研収回数" in year_page and f'href="{edit_url}"' in year_page  # which indicator, and how to fix it
    assert 'name="name" value="研収回数"' in client.get(edit_url).content.decode()
    response = client.post(
        edit_url, {"kind": "activity", "name": "研修回数", "unit": "回", "direction": "up", "kpi_code": ""}
    )
    assert response.status_code == 302
    indicator.refresh_from_db()
    assert (indicator.name, indicator.unit, indicator.direction) == ("研修回数", "回", "up")
    assert indicator.years.get(fiscal_year=2012).actual == 3  # the figures stay
    event = AuditEvent.objects.filter(action="evaluation.indicator.update").latest("sequence")
    assert event.after["name"] == "研修回数"
    sheet = client.get(
        reverse("evaluation:program_detail", args=[sub.parent_id]) + "?fy=2012"
    ).content.decode()
    assert f'href="{edit_url}"' in sheet


def test_dashboard_card_and_nav(client, program):
    login(client, Role.SECURITY_OFFICER)
    html = client.get(reverse("dashboard")).content.decode()
    assert 'data-card="evaluation"' in html and 'data-nav="evaluation"' in html


def test_program_list_page_issues_a_bounded_number_of_queries(client, program, django_assert_max_num_queries):
    for n in range(5):
        services.program_create(
            actor="t",
            measure=program.measure,
            department=program.department,
            reference_number=f"20{n:02d}",
            name=f"事業{n}",
        )
    login(client, Role.AUDITOR)
    with django_assert_max_num_queries(
        12
    ):  # session, user, membership, programs, sub-programs, card-free page
        response = client.get(reverse("evaluation:program_list"))
    assert response.content.decode().count("事業") >= 6


def test_printable_html_opens_in_the_browser_with_its_own_styles_allowed(client, program):
    """印刷用HTML is a page to read and print (inline), not a file to find in Downloads; its inlined
    stylesheet is allowed by its hash alone, nothing else may load or run."""
    login(client, Role.AUDITOR)
    response = client.get(reverse("evaluation:sheet_download", args=[program.pk, 2012, "html"]))
    assert response["Content-Disposition"] == 'inline; filename="evaluation-1379-2012.html"'
    html = response.content.decode()
    style = html.split("<style>")[1].split("</style>")[0]
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    assert policy["default-src"] == "'none'" and policy["style-src"] == f"'sha256-{digest}'"
    assert "script-src" not in policy and policy["frame-ancestors"] == "'none'"
    assert response["X-Content-Type-Options"] == "nosniff"
    page = client.get(reverse("evaluation:program_detail", args=[program.pk]) + "?fy=2012").content.decode()
    link = reverse("evaluation:sheet_download", args=[program.pk, 2012, "html"])
    assert f'<a href="{link}" target="_blank" rel="noopener">' in page


@pytest.mark.parametrize(
    ("fmt", "name"), [("xlsx", "evaluation-1379-2012.xlsx"), ("pdf", "evaluation-1379-2012.pdf")]
)
def test_the_workbook_and_the_pdf_stay_downloads(client, program, fmt, name):
    login(client, Role.AUDITOR)
    response = client.get(reverse("evaluation:sheet_download", args=[program.pk, 2012, fmt]))
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'


def test_english_sheet_and_card_have_no_japanese_headings_or_broken_plurals(client, program, settings):
    login(client, Role.SECURITY_OFFICER)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(reverse("evaluation:program_detail", args=[program.pk]) + "?fy=2012").content.decode()
    assert "<h3>Program：" in html and "<h3>Sub-program：" in html
    assert "1 program ·" in client.get(reverse("dashboard")).content.decode()


@pytest.mark.parametrize("fy", [0, 1, 99999])
def test_impossible_fiscal_year_in_the_url_is_not_found_not_a_server_error(client, program, fy):
    login(client, Role.SECURITY_OFFICER)
    assert client.get(reverse("evaluation:money", args=[program.pk, fy])).status_code == 404
    assert client.get(reverse("evaluation:sheet_download", args=[program.pk, fy, "xlsx"])).status_code == 404


def test_department_lead_finds_the_sheets_in_the_menu_and_on_the_dashboard(client, program):
    login(client, Role.DEPARTMENT_LEAD, department=program.department)
    html = client.get(reverse("dashboard")).content.decode()
    assert 'data-card="evaluation"' in html and 'data-nav="evaluation"' in html
    assert "1 事業" in html


@pytest.mark.parametrize("fmt", ["html", "xlsx", "pdf"])
def test_lead_of_a_sub_programs_department_may_not_download_the_parents_sheet(client, sub, organisation, fmt):
    """The 細事業 is in the lead's department, its 事業 (whose sheet holds it) is not: as on the page, 404."""
    other = Department.objects.create(organisation=organisation, code="990000", name="市民課")
    sub.department = other
    sub.save(update_fields=["department"])
    login(client, Role.DEPARTMENT_LEAD, department=other)
    assert client.get(reverse("evaluation:program_detail", args=[sub.pk])).status_code == 404
    response = client.get(reverse("evaluation:sheet_download", args=[sub.pk, 2012, fmt]))
    assert response.status_code == 404 and not response.has_header("Content-Disposition")
    login(client, Role.DEPARTMENT_LEAD, department=sub.parent.department, username="parent-lead")
    assert (
        client.get(reverse("evaluation:sheet_download", args=[sub.parent_id, 2012, fmt])).status_code == 200
    )


def test_money_and_staffing_of_a_program_with_sub_programs_say_where_the_figures_come_from(client, program):
    """The sheet sums the 細事業: a 事業-level form would save a figure the sheet never shows."""
    login(client, Role.SECURITY_OFFICER)
    sub = program.sub_programs.get()
    for name in ("money", "staffing"):
        url = reverse(f"evaluation:{name}", args=[program.pk, 2012])
        html = client.get(url).content.decode()
        assert '<form method="post"' not in html and "細事業の合計がシートに載ります" in html
        assert reverse(f"evaluation:{name}", args=[sub.pk, 2012]) in html
        events = AuditEvent.objects.count()
        response = client.post(url, {"program_cost": 999, "general_fund": 999, "regular": "3"})
        assert "各細事業で入力してください" in response.content.decode()
        assert AuditEvent.objects.count() == events
    year = ProgramYear.objects.filter(program=program, fiscal_year=2012).first()
    assert year is None or (year.program_cost, year.staffing.count()) == (0, 0)


def test_staff_of_a_category_without_a_unit_cost_are_warned_about_and_shown(client, sub):
    login(client, Role.SECURITY_OFFICER)
    response = client.post(
        reverse("evaluation:staffing", args=[sub.pk, 2012]),
        {"regular": "0.60", "fiscal_year": "0.50"},
        follow=True,
    )
    warning = "会計年度任用 0.50人の人件費単価（平成24年度）が未登録のため、人件費に含まれていません。"
    assert warning in response.content.decode()  # after saving
    page = client.get(
        reverse("evaluation:program_detail", args=[sub.parent_id]) + "?fy=2012"
    ).content.decode()
    assert warning in page and "会計年度任用職員数(人)" in page and ">0.50<" in page
    book = load_workbook(
        io.BytesIO(
            client.get(reverse("evaluation:sheet_download", args=[sub.parent_id, 2012, "xlsx"])).content
        )
    )
    cells = {c.value: c for row in book.active.iter_rows() for c in row if c.value is not None}
    label = cells["会計年度任用職員数(人)"]
    assert book.active.cell(row=label.row, column=9).value == 0.5
    assert any(warning in str(v) for v in cells)
    services.unit_cost_set(
        actor="t",
        organisation=sub.measure.section.chapter.organisation,
        fiscal_year=2012,
        category="fiscal_year",
        yen=2_000_000,
    )
    page = client.get(
        reverse("evaluation:program_detail", args=[sub.parent_id]) + "?fy=2012"
    ).content.decode()
    assert warning not in page and "5,761" in page  # 人件費 4,761 + 0.5 × 2,000千円


@pytest.fixture
def seven_records(sub, organisation):
    """A KPI with seven records: three of the sheet's own department, four of another."""
    other = Department.objects.create(organisation=organisation, code="880000", name="税務課")
    own = sub.parent.department_id
    evidence = [
        Evidence(f"記録{n}", url=f"/records/{n}/", department_id=own if n < 3 else other.pk) for n in range(7)
    ]
    kpi = Kpi("test.seven", "七件", "件", "up", lambda fy: KpiValue(Decimal(7), evidence))
    register_kpi(kpi)
    services.indicator_create(
        actor="t",
        program=sub,
        kind="outcome",
        name="七件の指標",
        unit="件",
        direction="up",
        kpi_code=kpi.code,
    )
    yield
    _registry.pop(kpi.code, None)


def test_the_evidence_list_shows_every_record_it_counts(client, sub, seven_records):
    login(client, Role.SECURITY_OFFICER)
    html = client.get(
        reverse("evaluation:program_detail", args=[sub.parent_id]) + "?fy=2012"
    ).content.decode()
    assert "<summary>7件</summary>" in html
    assert [f'<a href="/records/{n}/">記録{n}</a>' in html for n in range(7)] == [True] * 7


def test_a_lead_sees_other_departments_records_as_text_not_links(client, sub, seven_records):
    login(client, Role.DEPARTMENT_LEAD, department=sub.parent.department)
    html = client.get(
        reverse("evaluation:program_detail", args=[sub.parent_id]) + "?fy=2012"
    ).content.decode()
    assert [f'<a href="/records/{n}/">' in html for n in range(7)] == [True] * 3 + [False] * 4
    assert all(f"<li>記録{n}</li>" in html for n in range(3, 7))
