"""On a 390 px phone (Chromium, ja-JP) no page of the backups app is wider than the viewport: long
paths, URLs and tables wrap or scroll inside their own box, never the page."""

from __future__ import annotations

import os

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import sync_playwright

from mamori.apps.backups import services
from mamori.apps.backups.models import JobKind, Run
from mamori.apps.core.models import Membership, Role
from tests.conftest import CHROMIUM_ARGS, require_tool

from .conftest import make_system

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
WIDTH = 390


def test_no_backups_page_is_wider_than_a_phone(live_server, tmp_path, departments, artifacts_dir):
    deep = tmp_path / ("とても長いフォルダ名の共有フォルダ" * 3)
    sut = make_system(deep, departments["joho"])
    services.schedule_set(actor="t", system=sut.system, kind=JobKind.BACKUP, cron="0 2 * * *")
    for kind in (JobKind.BACKUP, JobKind.OFFSITE_COPY, JobKind.RESTORE_DRILL):
        sut.run(kind)
    run = Run.objects.filter(kind=JobKind.BACKUP).first()
    source, repo = sut.system.sources.get(), sut.system.repositories.first()
    officer = get_user_model().objects.create_user("officer", password="officer-pass-2026")
    Membership.objects.create(user=officer, role=Role.SECURITY_OFFICER)
    base = f"{live_server.url}/backups"
    pages = [
        "/", "/systems/new/", "/systems/fileserver/", "/systems/fileserver/edit/",
        "/systems/fileserver/sources/new/", f"/systems/fileserver/sources/{source.pk}/",
        "/systems/fileserver/repositories/new/", f"/systems/fileserver/repositories/{repo.pk}/",
        f"/systems/fileserver/repositories/{repo.pk}/delete/", "/systems/fileserver/schedules/",
        "/systems/fileserver/retention/", "/systems/fileserver/delete/", "/systems/fileserver/snapshots/",
        f"/systems/fileserver/snapshots/latest/?path={sut.data}", f"/runs/{run.pk}/",
    ]  # fmt: skip

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=require_tool("chromium"), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": WIDTH, "height": 844}, locale="ja-JP", is_mobile=True)
        page.goto(f"{live_server.url}/login/")
        page.fill("input[name=username]", "officer")
        page.fill("input[name=password]", "officer-pass-2026")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        wide = {}
        for path in pages:
            response = page.goto(base + path)
            assert response is not None and response.status == 200, path
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > WIDTH:
                wide[path] = width
                name = path.strip("/").replace("/", "-").split("?")[0] or "overview"
                page.screenshot(path=str(artifacts_dir / f"backups-phone-{name}.png"), full_page=True)
        page.goto(base + "/systems/fileserver/")
        page.screenshot(path=str(artifacts_dir / "backups-phone-system.png"), full_page=True)
        browser.close()
    assert wide == {}
