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
from tests.remote_servers import S3_KEY, S3_SECRET

from .test_status_light import remote_system

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def officer_page(p, live_server):
    """Chromium (ja-JP) with a security officer signed in."""
    officer = get_user_model().objects.create_user("officer", password="officer-pass-2026")
    Membership.objects.create(user=officer, role=Role.SECURITY_OFFICER)
    browser = p.chromium.launch(executable_path=require_tool("chromium"), headless=True, args=CHROMIUM_ARGS)
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "officer")
    page.fill("input[name=password]", "officer-pass-2026")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    return browser, page


def test_amber_with_the_reason_then_green_after_copy_now_and_check_now(
    live_server, tmp_path, departments, rest_server, artifacts_dir
):
    sut = remote_system(tmp_path, departments, rest_server)
    assert sut.run(JobKind.BACKUP).status == RunStatus.SUCCEEDED
    system_url = f"{live_server.url}/backups/systems/zaimu/"

    with sync_playwright() as p:
        browser, page = officer_page(p, live_server)

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


def test_the_officer_adds_an_immutable_s3_offsite_and_the_checklist_turns_fully_green(
    live_server, sut, s3_server, artifacts_dir
):
    """Issue 12: with a local-path "offsite" the page says why offsite is ✗; the officer adds an S3
    repository with Object Lock from the form, the next copy runs, and all of 3-2-1-1-0 is ✓."""
    for kind in (JobKind.BACKUP, JobKind.OFFSITE_COPY, JobKind.CHECK_SUBSET):
        assert sut.run(kind).status == RunStatus.SUCCEEDED
    system_url = f"{live_server.url}/backups/systems/fileserver/"

    with sync_playwright() as p:
        browser, page = officer_page(p, live_server)

        page.goto(system_url)
        offsite = page.locator("[data-check=one_offsite]")
        assert "bk-ng" in (offsite.get_attribute("class") or "")
        assert (
            "同じサーバ上のパスのため遠隔地とみなしません"
            in page.locator("[data-why=one_offsite]").inner_text()
        )
        assert (
            "Object Lock を読み取れたコピーがありません"
            in page.locator("[data-why=one_immutable]").inner_text()
        )
        page.screenshot(path=str(artifacts_dir / "backups-s3-1-local-offsite.png"), full_page=True)

        page.click("text=リポジトリを追加")
        page.fill("input[name=name]", "S3（改ざん防止）")
        page.fill("input[name=url]", s3_server.new_url(locked=True))
        page.select_option("select[name=role]", "offsite")
        page.select_option("select[name=medium]", "object_storage")
        page.fill("input[name=password]", "s3 repository password")
        page.fill("input[name=immutable_days]", "2")
        page.select_option("select[name=lock_mode]", "GOVERNANCE")
        page.fill("input[name=s3_access_key]", S3_KEY)
        page.fill("input[name=s3_secret_key]", S3_SECRET)
        page.click("form.bk-form button[type=submit]")
        page.wait_for_selector("h1 [data-light], .error-box", timeout=120_000)  # the bucket is checked first
        assert page.locator(".error-box").count() == 0, page.locator(".error-box").inner_text()

        page.click("[data-action=copy-now]")
        page.wait_for_selector("#run-progress[data-status=succeeded]")
        page.goto(system_url)
        checks = page.locator("[data-check]")
        assert checks.count() == 5 and page.locator("[data-check].bk-ok").count() == 5
        assert page.locator("[data-why]").count() == 0 and page.locator("h1 [data-light=green]").count() == 1
        assert "GOVERNANCE" in page.locator("[data-lock]").inner_text()
        assert S3_SECRET not in page.content()
        page.screenshot(path=str(artifacts_dir / "backups-s3-2-green.png"), full_page=True)
        browser.close()
