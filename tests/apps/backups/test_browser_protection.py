"""Journey (Chromium, ja-JP): a new system backed up but without an offsite copy shows amber with the
reason; 「今すぐ遠隔地コピー」 then 「今すぐ検査」 turn it green. The offsite repository is a real REST
server (another service), as the design rule asks."""

from __future__ import annotations

import os

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import sync_playwright

from mamori.apps.backups.models import JobKind, RunStatus
from mamori.apps.core.models import Membership, Role
from tests.conftest import CHROMIUM_ARGS, require_tool

from .test_status_light import remote_system

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def test_amber_with_the_reason_then_green_after_copy_now_and_check_now(
    live_server, tmp_path, departments, rest_server, artifacts_dir
):
    sut = remote_system(tmp_path, departments, rest_server)
    assert sut.run(JobKind.BACKUP).status == RunStatus.SUCCEEDED
    officer = get_user_model().objects.create_user("officer", password="officer-pass-2026")
    Membership.objects.create(user=officer, role=Role.SECURITY_OFFICER)
    system_url = f"{live_server.url}/backups/systems/zaimu/"

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

        page.goto(system_url)
        assert page.locator("h1 [data-light=amber]").count() == 1
        assert "遠隔地コピーがまだありません" in page.locator("[data-reason]").inner_text()
        page.screenshot(path=str(artifacts_dir / "backups-protect-1-amber.png"), full_page=True)

        page.click("[data-action=copy-now]")
        page.wait_for_selector("#run-progress[data-status=succeeded]")
        page.goto(system_url)
        assert "整合性検査がまだありません" in page.locator("[data-reason]").inner_text()

        page.click("[data-action=check-now]")
        page.wait_for_selector("#run-progress[data-status=succeeded]")
        page.goto(system_url)
        assert (
            page.locator("h1 [data-light=green]").count() == 1 and page.locator("[data-reason]").count() == 0
        )
        page.screenshot(path=str(artifacts_dir / "backups-protect-2-green.png"), full_page=True)
        browser.close()
