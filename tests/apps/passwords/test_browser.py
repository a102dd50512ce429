"""Browser journeys in Chromium: the officer configures the directory, tests it, runs an audit and
sees the overdue and leaver findings under a filter that stands out; a staff member checks a password on the leak page and the
network log shows that only the 5-character SHA-1 prefix left the browser."""

from __future__ import annotations

import hashlib

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from playwright.sync_api import sync_playwright

from mamori.apps.core.models import Membership, Role
from tests.conftest import CHROMIUM_ARGS, require_tool

from .conftest import BIND_PASSWORD, PEOPLE

LEAKED = "password1234"  # on Django's common-password list


def session_for(client, role: str) -> str:
    user = get_user_model().objects.create_user(username=role, password="x" * 12)
    Membership.objects.create(user=user, role=role)
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


@pytest.mark.browser
def test_officer_audits_the_directory_and_staff_checks_a_password(
    transactional_db, live_server, client, artifacts_dir, monkeypatch, slapd, staff, policies
):
    chromium = require_tool("chromium")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # ORM calls from the test thread
    officer = session_for(client, Role.SECURITY_OFFICER)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1200, "height": 1400}, locale="ja-JP")
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": officer, "url": live_server.url}]
        )
        page = context.new_page()
        page.goto(f"{live_server.url}/passwords/")
        page.click("text=ディレクトリを追加")
        page.fill("#id_name", "庁内LDAP")
        page.fill("#id_host", "127.0.0.1")
        page.fill("#id_port", str(slapd.port))
        page.fill("#id_ca_certificate", slapd.ca_pem)
        page.fill("#id_bind_dn", f"cn=admin,{PEOPLE.split(',', 1)[1]}")
        page.fill("#id_password", BIND_PASSWORD)
        page.fill("#id_base_dn", PEOPLE)
        page.click("button:has-text('保存')")
        page.click("button:has-text('接続テスト')")
        assert (
            "接続・TLS・バインド・検索ベースの確認に成功しました"
            in page.locator("[role=status]").inner_text()
        )
        page.click("button:has-text('監査を実行')")
        assert "監査が完了しました（11 アカウント）" in page.locator("[role=status]").inner_text()
        page.screenshot(path=str(artifacts_dir / "passwords-audit-findings.png"), full_page=True)
        page.click("[data-filter=leaver_enabled]")
        assert page.locator("tr[data-login]").count() == 1
        # the filter the list is under stands out from the others (and says so to a screen reader)
        chosen, other = page.locator("[data-filter=leaver_enabled]"), page.locator("[data-filter=overdue]")
        assert (chosen.get_attribute("aria-current"), other.get_attribute("aria-current")) == ("page", None)
        look = "a => [getComputedStyle(a).backgroundColor, getComputedStyle(a).color]"
        assert chosen.evaluate(look) != other.evaluate(look)
        page.locator("nav.filters").screenshot(path=str(artifacts_dir / "passwords-filter-current.png"))
        assert page.locator("tr[data-login=leaver] [data-flag=leaver_enabled]").is_visible()
        page.click("[data-filter=overdue]")
        assert page.locator("tr[data-login=overdue] [data-flag=overdue]").is_visible()
        assert BIND_PASSWORD not in page.content()
        context.close()

        staff_session = session_for(client, Role.STAFF)
        context = browser.new_context(locale="ja-JP")
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": staff_session, "url": live_server.url}]
        )
        page = context.new_page()
        sent: list[tuple[str, str | None]] = []
        page.on("request", lambda r: sent.append((r.url, r.post_data)))
        page.goto(f"{live_server.url}/passwords/leak-check/")
        sent.clear()
        page.fill("#leak-password", LEAKED)
        page.click("button:has-text('確認する')")
        page.wait_for_selector("#leak-result[data-outcome]")
        assert page.get_attribute("#leak-result", "data-outcome") == "found"
        digest = hashlib.sha1(LEAKED.encode()).hexdigest().upper()
        assert [url for url, _ in sent] == [f"{live_server.url}/passwords/range/{digest[:5]}"]
        assert all(body is None for _, body in sent)
        assert not any(LEAKED in url or digest[5:] in url for url, _ in sent)
        page.screenshot(path=str(artifacts_dir / "passwords-leak-check.png"), full_page=True)
        page.fill("#leak-password", "a sentence nobody has leaked 1379")
        page.click("button:has-text('確認する')")
        page.wait_for_selector("#leak-result[data-outcome=clean]")
        browser.close()
