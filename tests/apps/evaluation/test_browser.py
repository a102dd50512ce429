"""Browser journeys: an officer opens the sheet page, downloads nothing by mistake, opens the
printable HTML in a tab of its own, and a refused entry shows its error in the form; sets the rounding rule and imports a document; makes the whole year's
workbook in the background and downloads it. Screenshots are kept as test artefacts."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from openpyxl import load_workbook
from playwright.sync_api import sync_playwright

from mamori.apps.backups.worker import BackupWorker
from mamori.apps.core.models import Membership, Role
from mamori.apps.evaluation import services
from mamori.apps.evaluation.interchange import dump, evaluation_export
from mamori.apps.evaluation.selectors import program_get
from tests.conftest import CHROMIUM_ARGS, require_tool


@pytest.mark.browser
def test_officer_reads_the_sheet_and_sees_a_refused_entry(
    transactional_db, demo, live_server, client, artifacts_dir, monkeypatch
):
    chromium = require_tool("chromium")
    monkeypatch.setenv(
        "DJANGO_ALLOW_ASYNC_UNSAFE", "true"
    )  # ORM calls from the test thread while Playwright runs
    user = get_user_model().objects.create_user(username="officer", password="x" * 12)
    Membership.objects.create(user=user, role=Role.SECURITY_OFFICER)
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    program = program_get(reference_number="1379")
    sub = program_get(reference_number="1379", sub="01")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1000, "height": 1400}, locale="ja-JP")
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
        )
        page = context.new_page()
        page.goto(f"{live_server.url}/evaluation/")
        page.click("text=情報化安全対策事業")
        page.fill("#fy", "平成24年度")
        page.click("button:has-text('表示')")
        sheet = page.locator("article.sheet")
        assert "10,678" in sheet.inner_text()
        assert "平成24年度 事務事業評価シート" in sheet.inner_text()
        page.screenshot(path=str(artifacts_dir / "evaluation-sheet-page.png"), full_page=True)
        # 印刷用HTML opens in a tab of its own, styled (its stylesheet passes the CSP), not as a download
        refused: list[str] = []
        context.on("console", lambda message: message.type == "error" and refused.append(message.text))
        with context.expect_page() as opened:
            page.click("a:has-text('印刷用HTML')")
        printable = opened.value
        printable.wait_for_load_state()
        assert "10,678" in printable.locator("article.sheet").inner_text()
        grid = printable.locator("table.grid").first
        assert grid.evaluate("t => getComputedStyle(t).borderCollapse") == "collapse"
        assert refused == []
        printable.screenshot(path=str(artifacts_dir / "evaluation-sheet-printable.png"), full_page=True)
        printable.close()
        page.goto(f"{live_server.url}/evaluation/programs/{sub.pk}/2013/money/")
        page.fill("#id_program_cost", "1000")
        page.fill("#id_general_fund", "900")
        page.click("button:has-text('保存')")
        assert (
            "財源内訳の合計 900円が事業費 1,000円と一致しません" in page.locator("[role=alert]").inner_text()
        )
        page.screenshot(path=str(artifacts_dir / "evaluation-money-refused.png"), full_page=True)
        browser.close()
    assert program.years.filter(fiscal_year=2012).exists()


@pytest.mark.browser
def test_officer_sets_the_rounding_rule_and_imports_a_document_with_a_preview(
    transactional_db, demo, live_server, client, artifacts_dir, monkeypatch, tmp_path
):
    chromium = require_tool("chromium")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    user = get_user_model().objects.create_user(username="officer", password="x" * 12)
    Membership.objects.create(user=user, role=Role.SECURITY_OFFICER)
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    program = program_get(reference_number="1379")
    sub = program_get(reference_number="1379", sub="01")
    population = sub.years.get(fiscal_year=2012).population
    services.program_year_set_money(  # 10,678,400 yen in all: 10,678 truncated, 10,679 rounded up
        actor="t",
        program=sub,
        fiscal_year=2012,
        program_cost=5_917_400,
        general_fund=5_917_400,
        population=population,
    )
    document = evaluation_export()
    document["programs"][0]["name"] = "情報化安全対策事業（改）"
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(dump(document, "yaml"), encoding="utf-8")
    bad_text = dump(document, "yaml").replace("general_fund: 5917400\n", "general_fund: 1\n", 1)
    bad.write_text(bad_text, encoding="utf-8")
    bad_line = bad_text.splitlines().index("    - fiscal_year: 2012") + 1
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1000, "height": 1400}, locale="ja-JP")
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
        )
        page = context.new_page()
        for rule, label, total in [("floor", "切り捨て", "10,678"), ("ceiling", "切り上げ", "10,679")]:
            page.goto(f"{live_server.url}/evaluation/")
            page.click("text=評価シートの設定")
            page.select_option("#id_money_rounding", rule)
            page.click("button:has-text('保存')")
            page.goto(f"{live_server.url}/evaluation/programs/{program.pk}/?fy=2012")
            text = page.locator("article.sheet").inner_text()
            assert total in text and f"千円未満を{label}" in text
        page.screenshot(path=str(artifacts_dir / "evaluation-rounding-ceiling.png"), full_page=True)
        page.goto(f"{live_server.url}/evaluation/")
        page.click("text=評価データの取り込み")
        page.set_input_files("#id_file", str(bad))
        page.click("button:has-text('確認する')")
        alert = page.locator("[role=alert]").inner_text()
        assert f"（{bad_line}行目）: 財源内訳の合計 1円が事業費 5,917,400円と一致しません" in alert
        assert program_get(reference_number="1379").name == "情報化安全対策事業"  # nothing saved
        assert sub.years.get(fiscal_year=2012).general_fund == 5_917_400
        page.set_input_files("#id_file", str(good))
        page.click("button:has-text('確認する')")
        assert "変更" in page.locator("table.list").inner_text()
        page.screenshot(path=str(artifacts_dir / "evaluation-import-preview.png"), full_page=True)
        assert program_get(reference_number="1379").name == "情報化安全対策事業"  # nothing saved yet
        page.click("button:has-text('この内容で取り込む')")
        assert "取り込みました" in page.content()
        browser.close()
    assert program_get(reference_number="1379").name == "情報化安全対策事業（改）"


@pytest.mark.browser
def test_officer_makes_the_whole_year_workbook_in_the_background_and_downloads_it(
    transactional_db, demo, live_server, client, artifacts_dir, monkeypatch, settings, tmp_path
):
    """Start → the progress page while the job waits → the worker runs it → the page (polling)
    offers the file → the workbook's 目次 lists the year's programs."""
    chromium = require_tool("chromium")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}  # queued, as in production
    user = get_user_model().objects.create_user(username="officer", password="x" * 12)
    Membership.objects.create(user=user, role=Role.SECURITY_OFFICER)
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": 1000, "height": 1000}, locale="ja-JP", accept_downloads=True
        )
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
        )
        page = context.new_page()
        page.goto(f"{live_server.url}/evaluation/")
        page.select_option("#year-book select[name=fiscal_year]", label="平成24年度")
        page.select_option("#year-book select[name=format]", "xlsx")
        page.click("#year-book button:has-text('作成を開始')")
        assert page.locator("h1").inner_text() == "平成24年度 全事業の評価シート（XLSX）"
        assert page.locator("[data-field=state]").inner_text() == "待機中"
        assert page.locator("#progress progress").count() == 1
        page.screenshot(path=str(artifacts_dir / "evaluation-year-book-queued.png"), full_page=True)
        assert BackupWorker().drain() == 1  # what `mamori worker` does on its next poll
        link = page.locator("[data-field=download]")
        link.wait_for(timeout=15_000)  # the page polls every second and swaps in the result
        assert page.locator("[data-field=state]").inner_text() == "完了"
        page.screenshot(path=str(artifacts_dir / "evaluation-year-book-done.png"), full_page=True)
        with page.expect_download() as download_info:
            link.click()
        download = download_info.value
        assert download.suggested_filename == "evaluation-FY2012-all.xlsx"
        path = tmp_path / download.suggested_filename
        download.save_as(path)
        browser.close()
    book = load_workbook(path)
    index = [[c.value for c in row] for row in book["目次"].iter_rows()]
    assert index[0][3:5] == ["整理番号", "事業名"]
    assert [row[3:7] for row in index[1:]] == [["1379", "情報化安全対策事業", 10_678, "B"]]
    assert book.sheetnames == ["目次", "1379"]
