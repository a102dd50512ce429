"""The journey in Debian's Chromium on a phone-sized screen: a staff member sets their first password
through the one-time link the mail carries and signs in with it, reads the demo course page by page
with the keyboard, fails the quiz once, passes, and downloads the certificate; the officer's
completion page shows the department's rate move. The course also reads without JavaScript. The
officer sends the overdue reminder from the overdue list, once per person even from two lists open at once.
Screenshots go to `test-artifacts/`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from mamori.apps.core.models import Role
from mamori.apps.core.staff_logins import first_password_link
from mamori.apps.training import assignments, demo
from mamori.apps.training.models import Assignment, Choice, RuleKind
from tests.apps.core.factories import TEST_PASSWORD, staff_login
from tests.apps.core.test_browser import _sign_in, browser  # noqa: F401 - the Chromium fixture
from tests.apps.core.world import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}
NEW_PASSWORD = "夕焼け小焼けの赤とんぼ 2026"


def _first_password_then_sign_in(browser, base: str, user):  # type: ignore[no-untyped-def]  # noqa: F811
    """On the phone: open the mailed one-time link, set the first password, sign in with it."""
    page = browser.new_page(viewport=PHONE, locale="ja-JP", is_mobile=True, has_touch=True)
    page.goto(first_password_link(user))
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    page.click("button.primary")
    page.wait_for_url(f"{base}/login/")
    page.fill("#id_username", user.get_username())
    page.fill("#id_password", NEW_PASSWORD)
    page.click("button.primary")
    page.wait_for_url(f"{base}/")
    return page


def _answer(page, *, right: bool) -> None:  # type: ignore[no-untyped-def]
    for fieldset in page.locator("fieldset.question").all():
        question = int(fieldset.get_attribute("data-question"))
        choices = Choice.objects.filter(question_id=question, correct=right)
        for choice in choices if right else choices[:1]:
            fieldset.locator(f'input[value="{choice.pk}"]').check()
    page.click("button.primary")


def _fits_the_phone(page) -> bool:  # type: ignore[no-untyped-def]
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def _rate(page, code: str) -> int:  # type: ignore[no-untyped-def]
    return int(page.locator(f'#department-rates li[data-department="{code}"]').get_attribute("data-rate"))


def test_a_staff_member_fails_passes_and_downloads_the_certificate_and_the_rate_moves(
    browser,  # noqa: F811
    live_server,
    artifacts_dir,
    settings,
):
    world = build_world()
    settings.MAMORI_BASE_URL = live_server.url
    user = staff_login(staff=world.staff_in_scope, password=None)  # waiting for the first password
    course, _created = demo.course_ensure()
    assignments.rule_create(actor="test", course=course, kind=RuleKind.ALL,
                            due_on=timezone.localdate() + timedelta(days=14))  # fmt: skip
    base = live_server.url

    officer = _sign_in(browser, base, "officer")
    officer.goto(f"{base}/training/report/")
    before = _rate(officer, "1002")

    page = _first_password_then_sign_in(browser, base, user)
    page.click("details.menu > summary")  # a phone's menu is one button
    page.click("nav.main a[data-nav=training]")
    page.click(f'#assignments li[data-course="{course.pk}"] a')
    pages = page.locator("ol.toc li").count()
    assert pages == 6 and _fits_the_phone(page)
    for _ in range(pages - 1):  # the keyboard alone turns the pages
        page.focus('a[rel="next"]')
        page.keyboard.press("Enter")
        page.wait_for_load_state()
    page.screenshot(path=artifacts_dir / "training-phone-last-page.png", full_page=True)
    page.click("#quiz button.primary")
    assert page.locator("fieldset.question").count() == 5 and _fits_the_phone(page)
    _answer(page, right=False)
    assert page.locator('[data-passed="no"]').is_visible()
    assert page.locator(".result-item .small").first.inner_text().startswith("解説")
    page.screenshot(path=artifacts_dir / "training-phone-failed.png", full_page=True)

    # back to the course: it opens where the reader left (the last page), with the quiz
    page.goto(f"{base}/training/courses/{course.pk}/")
    page.click("#quiz button.primary")
    _answer(page, right=True)
    assert page.locator('[data-passed="yes"]').is_visible()
    with page.expect_download() as download:
        page.click("a[data-certificate]")
    pdf = download.value.path().read_bytes()
    assert pdf.startswith(b"%PDF-")
    page.screenshot(path=artifacts_dir / "training-phone-passed.png", full_page=True)

    officer.reload()
    assert _rate(officer, "1002") > before
    officer.click('#department-rates li[data-department="1002"] a')
    assert "修了" in officer.locator(f'tr[data-staff="{world.staff_in_scope.employee_number}"]').inner_text()
    officer.screenshot(path=artifacts_dir / "training-officer-report.png", full_page=True)


def test_the_course_reads_without_javascript(browser, live_server):  # noqa: F811
    world = build_world()
    user = world.users[Role.STAFF]
    user.membership.staff = world.staff_in_scope
    user.membership.save(update_fields=["staff"])
    course, _created = demo.course_ensure()
    assignments.rule_create(actor="test", course=course, kind=RuleKind.ALL, due_on=timezone.localdate())
    context = browser.new_context(java_script_enabled=False, viewport=PHONE, locale="ja-JP")
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "staff")
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button.primary")
    page.wait_for_url(f"{live_server.url}/")  # signed in before the next page is asked for
    page.goto(f"{live_server.url}/training/courses/{course.pk}/?section=2")
    assert "標的型攻撃メール" in page.locator("#course-text").inner_text()
    context.close()


def test_the_officer_reminds_an_overdue_person_then_everyone_once_from_two_lists(
    browser,  # noqa: F811
    live_server,
    artifacts_dir,
    smtp_sink,
):
    """「督促メールを送信」 on a row mails that person and the row shows when. The list open twice
    (the officer and the administrator): 「全員に督促メールを送信」 in one mails everyone; the same
    button in the other, opened before that, mails no one again and says so."""
    world = build_world()
    course, _created = demo.course_ensure()
    assignments.rule_create(actor="test", course=course, kind=RuleKind.ALL,
                            due_on=timezone.localdate() + timedelta(days=1))  # fmt: skip
    Assignment.objects.update(due_on=timezone.localdate() - timedelta(days=2))
    sato = Assignment.objects.get(staff=world.staff_in_scope)
    overdue = f"{live_server.url}/training/report/overdue/"
    page = _sign_in(browser, live_server.url, "officer")
    page.goto(overdue)
    page.click(f'[data-remind="{sato.pk}"]')
    page.wait_for_selector("p.message")  # the click does not wait for the answer's page
    assert page.locator("p.message").inner_text() == "佐藤 花子さんに督促メールを送信しました"
    assert page.locator(f'tr[data-assignment="{sato.pk}"] [data-reminded]').inner_text() != "—"
    assert smtp_sink.recipients == [[world.staff_in_scope.email]]
    page.screenshot(path=artifacts_dir / "training-overdue-reminded.png", full_page=True)

    other = _sign_in(browser, live_server.url, "admin")  # the administrator, on the same list
    other.goto(overdue)
    page.click('[data-remind="all"]')
    page.wait_for_selector("p.message >> text=督促メールを2人に送信しました")
    other.click('[data-remind="all"]')
    other.wait_for_selector("p.message")
    assert other.locator("p.message").inner_text() == (
        "この一覧を開いた後に督促メールを送信済みです（2人）。もう一度送るときは一覧を開き直してください"
    )
    assert sorted(r[0] for r in smtp_sink.recipients[1:]) == sorted(
        [world.staff_in_scope.email, world.staff_outside.email]
    )
    other.screenshot(path=artifacts_dir / "training-overdue-already.png", full_page=True)
    page.close()
    other.close()
