"""Issue 19, item 4, in a real Chromium (ja-JP): a file deleted this week is found by name in last
week's snapshot and restored to its original folder; the result page says where it went. The
snapshot browser starts at the backed-up folder, not at the server's root."""

from __future__ import annotations

import os
import socket
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import sync_playwright

from mamori.apps.backups import engine
from mamori.apps.backups.executors import primary_of_system
from mamori.apps.backups.models import RunStatus
from mamori.apps.backups.services import repository_access
from tests.conftest import CHROMIUM_ARGS, require_tool

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def test_find_a_deleted_file_from_last_week_and_restore_it_where_it_was(
    live_server, sut, users, artifacts_dir
):
    lost = sut.data / "共有" / "総務課" / "見積書[最終]_2026年度.xlsx"
    lost.write_bytes(os.urandom(20_000))
    content = lost.read_bytes()
    access = repository_access(primary_of_system(sut.system))
    last_week = timezone.now() - timedelta(days=7)
    engine.backup_paths(access, [sut.data], excludes=["*.tmp"], host=socket.gethostname(), time=last_week)
    lost.unlink()
    assert sut.run().status == RunStatus.SUCCEEDED  # today's snapshot no longer has it

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=require_tool("chromium"), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="ja-JP")
        page.goto(f"{live_server.url}/login/")
        page.fill("input[name=username]", "officer")
        page.fill("input[name=password]", "pw-for-tests-only")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")

        page.goto(f"{live_server.url}/backups/systems/{sut.system.code}/")
        page.click("[data-action=browse-latest]")
        assert page.locator(".crumbs[data-path]").get_attribute("data-path") == str(sut.data)
        assert page.locator("[data-entry='共有']").count() == 1  # the backed-up folder's content at once

        page.goto(f"{live_server.url}/backups/systems/{sut.system.code}/")
        page.click("[data-action=search]")
        page.fill("input[name=q]", "見積書")
        page.select_option("select[name=days]", "30")
        page.click("button[data-action=search]")
        hit = page.locator(f"[data-hit='{lost}']")
        assert hit.count() == 1
        assert timezone.localtime(last_week).strftime("%Y-%m-%d") in hit.inner_text()
        page.screenshot(path=str(artifacts_dir / "backups-restore-1-search.png"), full_page=True)
        hit.locator("[data-action=restore-original]").click()
        page.wait_for_selector("#run-progress[data-status=succeeded]")
        page.screenshot(path=str(artifacts_dir / "backups-restore-2-done.png"), full_page=True)
        assert page.locator("[data-field=restored-to]").inner_text() == str(lost)
        browser.close()
    assert lost.read_bytes() == content
