"""The officer's journey in a real Chromium: four green systems, open one, browse the latest snapshot,
download a file whose bytes match the source. Screenshots go to the artifacts directory."""

from __future__ import annotations

import io
import os

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import sync_playwright

from mamori.apps.backups.demo import demo_data_dir, setup_demo
from mamori.apps.core.models import Membership, Organisation, Role
from tests.conftest import CHROMIUM_ARGS, require_tool

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def test_officer_browses_latest_snapshot_and_downloads_a_file(
    live_server, settings, tmp_path, monkeypatch, artifacts_dir
):
    settings.MAMORI_HOME = tmp_path / "home"
    settings.MAMORI_HOME.mkdir()
    monkeypatch.setenv("MAMORI_DEMO_PASSWORD", "browser-test-password")
    setup_demo(
        organisation=Organisation.objects.create(name="みなと台市", prefecture="神奈川県"),
        stdout=io.StringIO(),
    )
    officer = get_user_model().objects.create_user("officer", password="officer-pass-2026")
    Membership.objects.create(user=officer, role=Role.SECURITY_OFFICER)
    source = demo_data_dir() / "fileserver" / "共有" / "情報政策課" / "バックアップ手順書.md"

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=require_tool("chromium"), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(
            viewport={"width": 1280, "height": 900}, accept_downloads=True, locale="ja-JP"
        )
        page.goto(f"{live_server.url}/login/")
        page.fill("input[name=username]", "officer")
        page.fill("input[name=password]", "officer-pass-2026")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        page.screenshot(path=str(artifacts_dir / "backups-0-dashboard.png"), full_page=True)
        # the demo's offsite copies live on a local S3 server with Object Lock: 3-2-1-1-0 met, green
        assert page.locator("[data-card=backups] [data-light=green]").count() == 4
        page.goto(f"{live_server.url}/backups/")
        page.screenshot(path=str(artifacts_dir / "backups-1-overview.png"), full_page=True)
        assert page.locator(".bk-system [data-light=green]").count() == 4

        page.click("text=ファイルサーバ")
        page.screenshot(path=str(artifacts_dir / "backups-2-system.png"), full_page=True)
        assert page.locator("h1 [data-light=green]").count() == 1
        assert page.locator("[data-reason]").count() == 0  # no flag is ✗, so no reason is given

        page.click("[data-action=browse-latest]")
        start = page.locator(".crumbs[data-path]").get_attribute("data-path")
        assert start == str(demo_data_dir() / "fileserver")  # the backed-up folder, not the server root
        for part in source.parent.relative_to(start).parts:
            page.click(f"[data-entry='{part}'] a")
        page.screenshot(path=str(artifacts_dir / "backups-3-browse.png"), full_page=True)
        with page.expect_download() as info:
            page.click(f"[data-download='{source.name}']")
        download = info.value
        assert download.suggested_filename == source.name
        assert open(download.path(), "rb").read() == source.read_bytes()

        page.goto(f"{live_server.url}/backups/systems/fileserver/")
        page.click("[data-action=drill-now]")
        page.wait_for_selector("#run-progress[data-status=succeeded]")
        page.screenshot(path=str(artifacts_dir / "backups-4-drill.png"), full_page=True)
        assert page.locator("[data-field=passed]").inner_text().startswith("合格")
        browser.close()
