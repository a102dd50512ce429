"""Journey (Chromium, ja-JP): an officer adds a source with a mistyped folder, is warned, sees the
backup fail, corrects the source on its edit page and sees the next backup succeed."""

from __future__ import annotations

import os

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import sync_playwright

from mamori.apps.backups import services
from mamori.apps.core.models import Membership, Role
from tests.conftest import CHROMIUM_ARGS, require_tool

from .conftest import REPO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def test_officer_fixes_a_mistyped_source_and_the_next_backup_succeeds(
    live_server, tmp_path, departments, artifacts_dir
):
    share = tmp_path / "共有フォルダ"
    (share / "総務課").mkdir(parents=True)
    (share / "総務課" / "議事録.txt").write_text("議事録\n" * 100, encoding="utf-8")
    system = services.system_create(
        actor="t", code="bunsho", name="文書管理システム", department=departments["joho"]
    )
    services.repository_create(
        actor="t",
        system=system,
        name="庁内",
        url=str(tmp_path / "repo"),
        password=REPO_PASSWORD,
        initialize=True,
    )
    officer = get_user_model().objects.create_user("officer", password="officer-pass-2026")
    Membership.objects.create(user=officer, role=Role.SECURITY_OFFICER)

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=require_tool("chromium"), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="ja-JP")
        page.goto(f"{live_server.url}/login/")
        page.fill("input[name=username]", "officer")
        page.fill("input[name=password]", "officer-pass-2026")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")

        page.goto(f"{live_server.url}/backups/systems/bunsho/sources/new/")
        page.select_option("select[name=kind]", "path")
        page.fill("input[name=path]", str(tmp_path / "共有フォルダー"))  # the typo: ー
        page.click(".bk-form button[type=submit]")
        assert "このサーバから見て存在しません" in page.locator(".message").inner_text()
        page.click("[data-action=backup-now]")
        page.wait_for_selector("#run-progress[data-status=failed]")
        assert "見つかりません" in page.locator("[data-field=error]").inner_text()
        page.screenshot(path=str(artifacts_dir / "backups-fix-1-failed.png"), full_page=True)

        page.goto(f"{live_server.url}/backups/systems/bunsho/")
        assert page.locator("h1 [data-light=red]").count() == 1
        page.click("[data-action=edit-source]")
        page.fill("input[name=path]", str(share))
        page.click(".bk-form button[type=submit]")
        assert page.locator(".message").inner_text() == "保存しました"
        page.click("[data-action=backup-now]")
        page.wait_for_selector("#run-progress[data-status=succeeded]")
        page.screenshot(path=str(artifacts_dir / "backups-fix-2-succeeded.png"), full_page=True)
        page.goto(f"{live_server.url}/backups/systems/bunsho/")
        assert page.locator("h1 [data-light=red]").count() == 0
        browser.close()
