"""The journeys a person takes in Debian's Chromium: sign in as each role, see the Japanese dashboard
with exactly that role's navigation; a staff login is refused an officer page. Screenshots go to
`test-artifacts/`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from mamori.apps.backups.services import system_create, system_update
from mamori.apps.core.models import Role
from mamori.apps.core.navigation import cards, nav_items
from tests.apps.core.world import build_world
from tests.conftest import CHROMIUM_ARGS, require_tool

from .factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

USERNAMES = {
    Role.ADMINISTRATOR: "admin",
    Role.SECURITY_OFFICER: "officer",
    Role.DEPARTMENT_LEAD: "lead",
    Role.STAFF: "staff",
    Role.AUDITOR: "auditor",
}
# What core itself promises each role (other apps may add entries; the registry check covers those).
CORE_NAV = {
    Role.ADMINISTRATOR: {"dashboard", "staff", "departments", "organisation", "audit", "users"},
    Role.SECURITY_OFFICER: {"dashboard", "staff", "departments", "organisation", "audit"},
    Role.DEPARTMENT_LEAD: {"dashboard", "staff", "departments"},
    Role.STAFF: {"dashboard"},
    Role.AUDITOR: {"dashboard", "staff", "departments", "organisation", "audit"},
}
CORE_KEYS = set().union(*CORE_NAV.values())


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = require_tool("chromium")
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still
    # synchronous and safe, so Django's async guard is lifted for these tests only.
    with pytest.MonkeyPatch.context() as mp, sync_playwright() as p:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _sign_in(browser: Browser, base: str, username: str, **options) -> Page:
    page = browser.new_page(**({"viewport": {"width": 1280, "height": 860}, "locale": "ja-JP"} | options))
    page.goto(f"{base}/login/")
    assert page.locator("h1").inner_text() == "ログイン"
    page.fill("#id_username", username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button.primary")
    page.wait_for_url(f"{base}/")
    return page


def test_each_role_sees_the_dashboard_and_only_its_navigation(browser, live_server, artifacts_dir):
    build_world()
    for role, username in USERNAMES.items():
        page = _sign_in(browser, live_server.url, username)
        assert page.locator("main h1").inner_text() == "ダッシュボード"
        assert page.locator("header .role").inner_text() == Role(role).label
        shown = set(page.locator("nav.main a").evaluate_all("links => links.map(a => a.dataset.nav)"))
        assert shown == {item.key for item in nav_items(role)}
        assert shown & CORE_KEYS == CORE_NAV[role]
        shown_cards = set(page.locator(".card").evaluate_all("cs => cs.map(c => c.dataset.card)"))
        assert shown_cards <= {card.key for card in cards(role)}  # minus those with nothing for them
        if role in (Role.STAFF, Role.DEPARTMENT_LEAD):
            assert {"tasks", "me"} <= shown_cards
            assert "まだ記録がありません" not in page.locator("main").inner_text()
        page.screenshot(path=artifacts_dir / f"core-dashboard-{username}.png", full_page=True)
        page.close()


def test_staff_is_refused_an_officer_page(browser, live_server, artifacts_dir):
    build_world()
    page = _sign_in(browser, live_server.url, "staff")
    response = page.goto(f"{live_server.url}/staff/import/")
    assert response.status == 403
    assert page.locator("main h1").inner_text() == "権限がありません"
    page.screenshot(path=artifacts_dir / "core-403-staff.png")
    page.close()


def test_officer_imports_a_bad_file_and_sees_line_numbered_errors(
    browser, live_server, artifacts_dir, tmp_path
):
    world = build_world()
    csv_file = tmp_path / "staff.csv"
    csv_file.write_bytes("職員番号,姓,名,所属コード\n500001,森,茂,X99\n500002,林,,1002\n".encode("cp932"))
    page = _sign_in(browser, live_server.url, "officer")
    console_errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
    page.click("nav.main a[data-nav=staff]")
    assert page.locator("main h1").inner_text() == "職員"
    table = page.locator("#staff-results table.list")
    assert world.staff_in_scope.full_name in table.inner_text()
    # Typing filters the list in place (htmx), under the Content-Security-Policy.
    page.fill("#id_q", "鈴木")
    page.wait_for_function("() => !document.querySelector('#staff-results').innerText.includes('佐藤')")
    assert world.staff_outside.full_name in table.inner_text()
    assert "q=" in page.url
    assert console_errors == []
    page.goto(f"{live_server.url}/staff/import/")
    page.set_input_files("#id_file", str(csv_file))
    page.click("button.primary")
    page.locator(".errors li").first.wait_for()  # the click does not wait for the answer's page
    errors = page.locator(".errors li").all_inner_texts()
    assert errors == ["2行目: 所属コード 'X99' が存在しません", "3行目: 名 が空です"]
    page.screenshot(path=artifacts_dir / "core-import-errors.png", full_page=True)
    page.close()


def test_the_language_switch_shows_english(browser, live_server):
    build_world()
    page = _sign_in(browser, live_server.url, "auditor")
    page.select_option("#language", "en")
    page.click("footer .language button")
    page.wait_for_load_state()
    assert page.locator("main h1").inner_text() == "Dashboard"
    assert page.locator("nav.main a[data-nav=departments]").inner_text() == "Departments"
    page.close()


def _luminance(rgb: str) -> float:
    """WCAG relative luminance of a CSS `rgb(r, g, b)` colour."""
    channels = [int(c) / 255 for c in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


FOCUSED = """() => { const e = document.activeElement, s = getComputedStyle(e), r = e.getBoundingClientRect();
  return {cls: e.className, id: e.id, inHeader: !!e.closest('header.top'), inMain: !!e.closest('main'),
          outline: s.outlineStyle, width: parseFloat(s.outlineWidth), color: s.outlineColor,
          top: r.top, height: r.height}; }"""


def test_a_keyboard_user_skips_to_the_content_and_sees_the_focus_on_the_dark_header(
    browser, live_server, artifacts_dir
):
    build_world()
    page = _sign_in(browser, live_server.url, "officer")
    header_bg = page.locator("header.top").evaluate("e => getComputedStyle(e).backgroundColor")
    page.keyboard.press("Tab")
    skip = page.evaluate(FOCUSED)
    assert skip["cls"] == "skip-link" and skip["top"] >= 0 and skip["height"] > 0  # on screen when focused
    assert page.locator(".skip-link").inner_text() == "本文へ移動"
    page.screenshot(path=artifacts_dir / "core-skip-link.png")
    # Every stop in the dark header shows a ring that stands out from the header (WCAG 1.4.11: 3:1).
    page.keyboard.press("Tab")
    stops = 0
    while (focused := page.evaluate(FOCUSED))["inHeader"]:
        assert focused["outline"] != "none" and focused["width"] >= 2, focused
        assert _contrast(focused["color"], header_bg) >= 3, focused
        stops += 1
        page.keyboard.press("Tab")
    assert stops >= 6  # the brand, five menu entries, the logout button
    page.screenshot(path=artifacts_dir / "core-header-focus.png")
    # The skip link moves the focus past the header: the next Tab lands in the main content.
    page.reload()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate(FOCUSED)["id"] == "main"
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED)["inMain"]
    page.close()


def test_on_a_phone_the_menu_is_one_button_that_opens_by_keyboard_without_script(
    browser, live_server, artifacts_dir
):
    build_world()
    phone = {"viewport": {"width": 390, "height": 844}, "java_script_enabled": False}
    page = _sign_in(browser, live_server.url, "officer", **phone)
    header = page.locator("header.top")
    assert header.bounding_box()["height"] <= 64  # one line: the brand and the menu button
    assert not page.locator("nav.main a[data-nav=audit]").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=artifacts_dir / "core-phone-menu-closed.png")
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")  # the brand
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.tagName") == "SUMMARY"
    assert page.locator("details.menu > summary").inner_text().strip() == "メニュー"
    page.keyboard.press("Enter")
    assert page.locator("nav.main a[data-nav=audit]").is_visible()
    assert page.locator("form.who button").is_visible()  # the logout too
    page.screenshot(path=artifacts_dir / "core-phone-menu-open.png")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.dataset.nav") == "dashboard"  # on into the entries
    page.click("nav.main a[data-nav=audit]")
    assert page.locator("main h1").inner_text() == "監査ログ"
    assert header.bounding_box()["height"] <= 64 and not page.locator("nav.main").is_visible()
    page.close()
    wide = _sign_in(browser, live_server.url, "officer")
    assert not wide.locator("details.menu > summary").is_visible()  # a wide screen has no button to press
    assert (
        wide.locator("nav.main a[data-nav=audit]").is_visible()
        and wide.locator("form.who button").is_visible()
    )
    wide.close()


def test_officer_imports_a_csv_that_renames_someone_and_confirms_it_from_the_preview(
    browser, live_server, artifacts_dir, tmp_path
):
    world = build_world()
    csv_file = tmp_path / "改姓.csv"
    csv_file.write_bytes("職員番号,姓,名,所属コード\n100001,田中,花子,1002\n".encode("cp932"))
    page = _sign_in(browser, live_server.url, "officer")
    page.goto(f"{live_server.url}/staff/import/")
    page.set_input_files("#id_file", str(csv_file))
    page.click("button.primary")
    page.locator("main h1", has_text="取込内容の確認").wait_for()  # the import page has an h1 too
    assert page.locator("main h1").inner_text() == "取込内容の確認"
    change = page.locator("table.import-changes tr[data-employee='100001']")
    assert change.locator("del").inner_text() == "佐藤" and change.locator("ins").inner_text() == "田中"
    assert "変更 1人" in page.locator(".preview-summary").inner_text()
    world.staff_in_scope.refresh_from_db()
    assert world.staff_in_scope.family_name == "佐藤"  # nothing saved before the confirmation
    page.screenshot(path=artifacts_dir / "core-import-preview.png", full_page=True)
    page.click("text=この内容で取り込む")
    page.wait_for_url(f"{live_server.url}/staff/")
    assert "1行を取り込みました" in page.locator("main .message").inner_text()
    assert "田中 花子" in page.locator("table.list").inner_text()
    page.close()


def test_officer_finds_a_systems_change_in_the_audit_log_by_its_name(browser, live_server, artifacts_dir):
    world = build_world()
    officer = world.users[Role.SECURITY_OFFICER]
    system = system_create(actor=officer, code="kaigo", name="介護保険システム", department=world.fukushi)
    system_update(actor=officer, system=system, rto_minutes=180)
    system_create(actor=officer, code="jumin", name="住民情報システム", department=world.soumu)
    page = _sign_in(browser, live_server.url, "officer")
    page.click("nav.main a[data-nav=audit]")
    page.fill("#q", "介護保険システム")
    page.click("form.filters button")
    rows = page.locator("table.audit tbody tr[data-sequence]")
    assert rows.count() == 2  # created, then changed; nothing of 住民情報システム
    change = rows.first
    assert change.locator("td.object strong").inner_text() == "介護保険システム"
    assert change.locator("li[data-field=rto_minutes] .field").inner_text() == "目標復旧時間 RTO（分）"
    assert change.locator("li[data-field=rto_minutes] del").inner_text() == "240"
    assert change.locator("li[data-field=rto_minutes] ins").inner_text() == "180"
    page.screenshot(path=artifacts_dir / "core-audit-search.png", full_page=True)
    # From the system's page, 「履歴」 leads to the same entries.
    page.goto(f"{live_server.url}/backups/systems/kaigo/")
    page.click("a.history")
    assert "介護保険システム" in page.locator(".object-history").inner_text()
    assert page.locator("table.audit tbody tr[data-sequence]").count() == 2
    page.close()
