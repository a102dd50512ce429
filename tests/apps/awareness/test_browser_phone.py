"""The journey on a 390 px phone (Chromium, ja-JP): a staff member opens the acknowledgement link
from the mail the real SMTP server received, signs in, reads the notice and acknowledges it; the
banner is gone from every page, and the officer's rate for the campaign and for her department moves.
No page is wider than the phone. Screenshots go to `test-artifacts/`."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import Page, sync_playwright

from mamori.apps.awareness import services
from mamori.apps.core.models import Role
from tests.apps.core.factories import TEST_PASSWORD
from tests.conftest import CHROMIUM_ARGS, require_tool

from .conftest import link_for
from .helpers import campaign_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
WIDTH = 390


def _sign_in(page: Page, username: str) -> None:
    page.fill("#id_username", username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button.primary")


def _fits(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= WIDTH


def test_a_staff_member_acknowledges_from_the_mail_on_a_phone_and_the_officer_sees_it(
    city, smtp_sink, settings, live_server, artifacts_dir
):
    settings.MAMORI_BASE_URL = live_server.url
    campaign = services.campaign_create(actor="officer", data=campaign_data())
    services.campaign_send(actor="officer", campaign=campaign)  # transactional test: mails go at commit
    link = live_server.url + link_for(smtp_sink, city.world.staff_in_scope.email)
    detail = f"{live_server.url}/awareness/{campaign.pk}/"
    gyokaku = f'#department-rates tr[data-department="{city.world.gyokaku.pk}"]'

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=require_tool("chromium"), headless=True, args=CHROMIUM_ARGS
        )
        officer = browser.new_page(viewport={"width": 1280, "height": 900}, locale="ja-JP")
        officer.goto(f"{live_server.url}/login/")
        _sign_in(officer, city.world.users[Role.SECURITY_OFFICER].username)
        officer.goto(detail)
        assert officer.locator("#rate").inner_text() == "0.0%"
        assert officer.locator(f"{gyokaku} .aw-percent").inner_text() == "0.0%"

        phone = browser.new_page(
            viewport={"width": WIDTH, "height": 844}, locale="ja-JP", is_mobile=True, has_touch=True
        )
        phone.goto(link)
        assert phone.locator("h1").inner_text() == "ログイン"  # the link asks her to sign in first
        _sign_in(phone, city.sato.username)
        phone.wait_for_url(re.compile(r"/awareness/ack/"))
        assert "佐藤 花子 様（総務部 行政改革課）" in phone.locator("article").inner_text()
        assert phone.locator("[data-banner]").count() == 1 and _fits(phone)
        phone.screenshot(path=str(artifacts_dir / "awareness-phone-notice.png"), full_page=True)
        phone.click("#acknowledge")
        phone.wait_for_url(f"{live_server.url}/awareness/mine/")
        assert phone.locator(".message.success").inner_text() == "確認しました。ご協力ありがとうございます。"
        assert phone.locator("[data-banner]").count() == 0 and _fits(phone)
        phone.screenshot(path=str(artifacts_dir / "awareness-phone-acknowledged.png"), full_page=True)
        phone.goto(f"{live_server.url}/")
        assert phone.locator("[data-banner]").count() == 0
        # The link is spent: opening it again says so, and nothing changes.
        phone.goto(link)
        assert phone.locator("h1").inner_text() != "ログイン"
        assert "確認済み" in phone.locator("main").inner_text()

        officer.goto(detail)
        assert officer.locator("#rate").inner_text() == "33.3%"  # 1 of 3
        assert officer.locator(f"{gyokaku} .aw-percent").inner_text() == "100.0%"
        officer.screenshot(path=str(artifacts_dir / "awareness-officer-rates.png"), full_page=True)
        officer.set_viewport_size({"width": WIDTH, "height": 844})
        assert _fits(officer)
        browser.close()
