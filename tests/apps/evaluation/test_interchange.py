"""Export → import leaves every sheet identical; bad documents load nothing and say where they are wrong."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
import yaml
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from mamori.apps.core.models import AuditEvent, PopulationRecord
from mamori.apps.evaluation.interchange import dump, evaluation_export, evaluation_import
from mamori.apps.evaluation.models import PersonnelUnitCost, PolicyChapter, Program
from mamori.apps.evaluation.selectors import program_get, sheet_get

TEXT = st.text(alphabet="情報化安全対策事業あいうABC 123、。※…・\n", max_size=40)
GRADE = st.sampled_from(["", "A", "B", "C"])
YEARS = [2011, 2012, 2013]


def wipe():
    Program.objects.filter(parent__isnull=False).delete()
    Program.objects.all().delete()
    PolicyChapter.objects.all().delete()
    PersonnelUnitCost.objects.all().delete()
    PopulationRecord.objects.all().delete()


def all_sheets():
    return {
        (p.reference_number, fy): sheet_get(program=p, fiscal_year=fy)
        for p in Program.objects.filter(parent__isnull=True)
        for fy in YEARS
    }


@st.composite
def year_docs(draw, fy):
    funds = draw(st.lists(st.integers(0, 10**9), min_size=4, max_size=4))
    return {
        "fiscal_year": draw(st.sampled_from([fy, str(fy), f"FY{fy}", f"平成{fy - 1988}年度"])),
        "program_cost": sum(funds),
        "general_fund": funds[0],
        "national_prefectural": funds[1],
        "municipal_bonds": funds[2],
        "other_specific": funds[3],
        "debt_service": draw(st.integers(0, 10**8)),
        "population_date": draw(st.sampled_from([None, "2013-03-31"])),
        "staffing": draw(
            st.dictionaries(
                st.sampled_from(["regular", "reemployed", "fiscal_year"]),
                st.decimals(0, 20, places=2).map(str),
                max_size=3,
            )
        ),
        "outcome": draw(TEXT),
        "glossary": draw(st.lists(st.fixed_dictionaries({"term": TEXT, "text": TEXT}), max_size=2)),
        "direction_label": draw(TEXT),
        "direction_code": draw(st.sampled_from(["", "continue", "expand", "complete"])),
        "ratings": draw(
            st.fixed_dictionaries(
                {k: GRADE for k in ("relevance", "efficiency", "effectiveness", "overall", "contribution")}
            )
        ),
        "reasons": draw(st.fixed_dictionaries({"overall": TEXT, "contribution": TEXT})),
    }


@st.composite
def indicator_docs(draw, name):
    direction = draw(st.sampled_from(["up", "down"]))
    low = 1 if direction == "up" else 0
    return {
        "kind": draw(st.sampled_from(["activity", "outcome"])),
        "name": name,
        "unit": draw(st.sampled_from(["%", "件"])),
        "direction": direction,
        "kpi_code": "",
        "order": draw(st.integers(0, 3)),
        "years": [
            {
                "fiscal_year": fy,
                "target": draw(st.one_of(st.none(), st.decimals(low, 1000, places=1).map(str))),
                "actual": draw(st.one_of(st.none(), st.decimals(0, 1000, places=1).map(str))),
            }
            for fy in draw(st.lists(st.sampled_from(YEARS), unique=True, max_size=2))
        ],
    }


@st.composite
def program_docs(draw, ref, top=True):
    fys = draw(st.lists(st.sampled_from(YEARS), unique=True, min_size=1, max_size=2))
    names = draw(
        st.lists(st.sampled_from(["研修回数", "受講率", "事故件数", "訓練回数"]), unique=True, max_size=2)
    )
    doc = {
        "reference_number": ref,
        "department": {
            "code": "010200",
            "name": "行政改革課",
            "parent": {"code": "010000", "name": "総務部"},
        },
        "name": draw(TEXT.filter(str.strip)),
        "priority": draw(st.one_of(st.none(), st.integers(1, 9))),
        "purpose": draw(TEXT),
        "goal": draw(TEXT),
        "implementation": draw(st.sampled_from(["direct", "contracted"])),
        "start_fiscal_year": draw(st.one_of(st.none(), st.integers(1990, 2012))),
        "start_or_earlier": draw(st.booleans()),
        "legal_basis": draw(TEXT),
        "target_group": draw(TEXT),
        "years": [draw(year_docs(fy)) for fy in fys],
        "indicators": [draw(indicator_docs(n)) for n in names],
    }
    if top:
        doc.update(
            {
                "chapter": {"number": 5, "title": "自律協働都市"},
                "section": {"number": "03", "title": "情報化"},
                "measure": {"number": "03", "title": "情報資産に対する脅威に対応する"},
            }
        )
        subs = draw(st.lists(st.sampled_from(["01", "02", "03"]), unique=True, max_size=2))
        doc["sub_programs"] = [draw(program_docs(s, top=False)) for s in subs]
    return doc


@st.composite
def documents(draw):
    refs = draw(st.lists(st.sampled_from(["1379", "1380", "2001"]), unique=True, min_size=1, max_size=2))
    return {
        "format": "mamori-evaluation",
        "version": 1,
        "unit_costs": [
            {"fiscal_year": fy, "category": c, "yen": draw(st.integers(0, 10**7))}
            for fy in YEARS
            for c in ("regular", "reemployed")
        ],
        "populations": [
            {"reference_date": "2013-03-31", "residents": 112400, "households": 47247, "source": "住基"}
        ],
        "programs": [draw(program_docs(r)) for r in refs],
    }


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(document=documents(), fmt=st.sampled_from(["yaml", "json"]))
def test_export_import_round_trip_leaves_every_sheet_identical(organisation, document, fmt):
    wipe()
    evaluation_import(actor="t", document=document)
    before = all_sheets()
    exported = evaluation_export()
    text = dump(exported, fmt)
    wipe()
    evaluation_import(actor="t", document=yaml.safe_load(text))
    assert all_sheets() == before
    assert evaluation_export() == exported


def test_demo_round_trips_through_the_command(demo, tmp_path):
    path = tmp_path / "export.yaml"
    call_command("evaluation", "export", "--program", "1379", "-o", str(path), stdout=io.StringIO())
    before = sheet_get(program=program_get(reference_number="1379"), fiscal_year=2012)
    wipe()
    out = io.StringIO()
    call_command("evaluation", "import", str(path), stdout=out)
    assert out.getvalue().strip() == "取込: 事業 1 件・細事業 1 件・年度 4 件"
    after = sheet_get(program=program_get(reference_number="1379"), fiscal_year=2012)
    assert after == before
    assert after.program.costs.thousands["total"] == 10_678


def test_bad_document_loads_nothing_and_names_the_place(demo, tmp_path):
    document = evaluation_export()
    document["programs"][0]["sub_programs"][0]["years"][0]["general_fund"] = 1
    path = tmp_path / "bad.json"
    path.write_text(dump(document, "json"), encoding="utf-8")
    events = AuditEvent.objects.count()
    with pytest.raises(CommandError) as exc:
        call_command("evaluation", "import", str(path))
    message = str(exc.value)
    assert re.fullmatch(
        r"programs\[0\]\.sub_programs\[0\]\.years\[0\]（(\d+)行目）: 財源内訳の合計 1円が事業費 5,917,000円と一致しません",
        message,
    ), message
    line = int(re.search(r"（(\d+)行目）", message)[1])  # the year's "{" line; its first key follows
    assert (
        path.read_text(encoding="utf-8").splitlines()[line - 1 : line + 1][-1].strip()
        == '"fiscal_year": 2012,'
    )
    assert AuditEvent.objects.count() == events
    assert Program.objects.get(parent__isnull=False).years.get(fiscal_year=2012).general_fund == 5_917_000


def test_unreadable_or_foreign_file_is_a_clear_error(db, tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("format: something-else\n", encoding="utf-8")
    with pytest.raises(CommandError, match="format: mamori-evaluation の文書ではありません"):
        call_command("evaluation", "import", str(path))
    with pytest.raises(CommandError, match="読み込めません"):
        call_command("evaluation", "import", str(tmp_path / "missing.yaml"))


def test_malformed_yaml_is_one_line_naming_the_line_and_loads_nothing(demo, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(
        "format: mamori-evaluation\nversion: 1\nprograms: [\n  - {name: 情報化\n", encoding="utf-8"
    )
    events = AuditEvent.objects.count()
    with pytest.raises(CommandError) as exc:
        call_command("evaluation", "import", str(path))
    message = str(exc.value)
    assert "\n" not in message and message.startswith(f"{path}: 読み込めません: 4行目 3文字目")
    assert AuditEvent.objects.count() == events


def test_an_entry_of_the_wrong_shape_is_named_in_plain_words(demo, tmp_path):
    path = tmp_path / "shape.yaml"
    path.write_text("format: mamori-evaluation\nversion: 1\nprograms:\n- 1379\n", encoding="utf-8")
    with pytest.raises(CommandError) as exc:
        call_command("evaluation", "import", str(path))
    assert (
        str(exc.value)
        == "programs[0]（4行目）: 項目が不正です: キーと値の組（key: value）ではありません（1379）"
    )


def test_a_truncated_document_keeps_what_it_no_longer_mentions(demo, tmp_path):
    """A file cut short (copy interrupted) is still valid YAML; it must not blank the year it cuts."""
    before = sheet_get(program=program_get(reference_number="1379"), fiscal_year=2012)
    text = dump(evaluation_export(), "yaml")
    cut = text.index("general_fund: 5917000\n", text.index("sub_programs:"))
    path = tmp_path / "cut.yaml"
    path.write_text(text[: cut + len("general_fund: 5917000\n")], encoding="utf-8")
    call_command("evaluation", "import", str(path), stdout=io.StringIO())
    assert sheet_get(program=program_get(reference_number="1379"), fiscal_year=2012) == before


def test_fte_export_keeps_two_decimals(demo):
    sub = evaluation_export()["programs"][0]["sub_programs"][0]
    year = next(y for y in sub["years"] if y["fiscal_year"] == 2012)
    assert year["staffing"] == {"regular": "0.60"}
    assert Decimal(year["staffing"]["regular"]) == Decimal("0.6")


def test_flat_export_has_one_row_per_program_year_and_indicator_year(drill_kpi_for_flat, demo, tmp_path):
    path = tmp_path / "flat.xlsx"
    call_command("evaluation", "flat", "-o", str(path), stdout=io.StringIO())
    wb = load_workbook(path)
    programs = list(wb["事業"].values)
    header, rows = programs[0], programs[1:]
    seed = [dict(zip(header, r, strict=True)) for r in rows if r[0] == 2012]
    assert [(r["整理番号"], r["細事業番号"]) for r in seed] == [("1379", None), ("1379", "01")]
    assert seed[1]["総コスト(千円)"] == 10678 and seed[1]["総コスト(円)"] == 10_678_000
    assert seed[1]["一人あたり(円)"] == 95 and seed[0]["総合評価"] == "B"
    csv_path = tmp_path / "ind.csv"
    call_command("evaluation", "flat", "--table", "indicators", "-o", str(csv_path), stdout=io.StringIO())
    text = csv_path.read_bytes().decode("utf-8-sig")
    assert text.splitlines()[0].startswith("年度,年度(和暦),整理番号,細事業番号,事業名,種別,指標名")
    assert "test.flat_rate" in text


def test_flat_export_in_english_has_english_headers_and_labels(drill_kpi_for_flat, demo, tmp_path):
    """--language en: no Japanese header, and the labels among the values (era, chapter, direction,
    indicator kind) in English too; the officer's own texts (names) stay as written."""
    path = tmp_path / "flat-en.xlsx"
    call_command("evaluation", "flat", "--language", "en", "-o", str(path), stdout=io.StringIO())
    wb = load_workbook(path)
    assert wb.sheetnames == ["Program", "Indicators"]
    programs = list(wb["Program"].values)
    header = programs[0]
    japanese = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
    assert not [h for h in header if japanese.search(str(h))], header
    seed = [dict(zip(header, r, strict=True)) for r in programs[1:] if r[0] == 2012]
    assert seed[1]["Fiscal year (era)"] == "H24" and seed[1]["Total cost (¥1,000)"] == 10678
    assert seed[0]["Chapter"].startswith("Chapter 5 ") and seed[0]["Direction code"] == "Continue"
    assert seed[1]["Started"] == "FY2003 (Heisei 15) or earlier"  # 平成15年度以前 in Japanese
    assert wb["Program"].cell(row=2, column=header.index("Program cost (yen)") + 1).number_format == "#,##0"
    indicators = list(wb["Indicators"].values)
    assert not [h for h in indicators[0] if japanese.search(str(h))]
    kinds = {dict(zip(indicators[0], r, strict=True))["Kind"] for r in indicators[1:]}
    assert kinds <= {"Activity indicator", "Outcome indicator"} and kinds
    csv_path = tmp_path / "flat-en.csv"
    call_command("evaluation", "flat", "--language", "en", "-o", str(csv_path), stdout=io.StringIO())
    assert csv_path.read_bytes().decode("utf-8-sig").startswith("Fiscal year,Fiscal year (era),Ref. no.,")
    ja = tmp_path / "flat-ja.csv"  # and Japanese stays the default
    call_command("evaluation", "flat", "-o", str(ja), stdout=io.StringIO())
    assert ja.read_bytes().decode("utf-8-sig").startswith("年度,年度(和暦),整理番号,")
