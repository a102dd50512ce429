"""Printing a page in Chromium prints the record, not the controls: no navigation, button, form field
or link that would change something (a link to a `writes` view: edit, delete, add, run) shows on
paper. The officer's pages hold the most controls; the samples are the role matrix's."""

from __future__ import annotations

import pytest
from django.urls import resolve, reverse
from playwright.sync_api import sync_playwright

from mamori.apps.core.models import Role
from mamori.apps.core.permissions import RoleRequiredMixin
from tests.apps.core.factories import TEST_PASSWORD
from tests.apps.core.world import build_world
from tests.apps.test_role_matrix import _sample_kwargs, sample_for
from tests.conftest import CHROMIUM_ARGS, require_tool

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = [
    "dashboard", "staff_list", "department_list", "audit_list", "incidents:list", "incidents:detail",
    "backups:systems", "backups:system-detail", "passwords:home", "evaluation:program_list",
    "evaluation:program_detail", "training:session-detail", "devices:renewals", "disposal:media",
]  # fmt: skip
ON_PAPER = """() => {
  const shown = e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';
  const controls = [...document.querySelectorAll(
      'nav, form, button, input:not([type=hidden]), select, textarea')]
    .filter(e => shown(e) && !e.closest('.print-keep'))  // a form whose content is the record
    .map(e => e.tagName.toLowerCase() + ' ' + (e.innerText || e.name || '').trim().slice(0, 30));
  const links = [...document.querySelectorAll('a[href]')].filter(shown)
    .map(a => [a.getAttribute('href'), a.innerText.trim().slice(0, 30)]);
  return {controls, links};
}"""


def _acts(href: str) -> bool:
    """A link to a view that writes: on paper it is a button nobody can press."""
    if not href.startswith("/") or href.startswith("/static/"):
        return False
    view = getattr(resolve(href.split("#")[0].split("?")[0]).func, "view_class", None)
    return isinstance(view, type) and issubclass(view, RoleRequiredMixin) and view.writes


def test_a_printed_page_shows_no_navigation_forms_buttons_or_action_links(live_server, artifacts_dir):
    world = build_world()
    samples = _sample_kwargs(world)
    officer = world.users[Role.SECURITY_OFFICER]
    problems = []
    with pytest.MonkeyPatch.context() as mp, sync_playwright() as p:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = p.chromium.launch(
            executable_path=require_tool("chromium"), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1280, "height": 860}, locale="ja-JP")
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", officer.username)
        page.fill("#id_password", TEST_PASSWORD)
        page.click("button.primary")
        page.wait_for_url(f"{live_server.url}/")
        for name in PAGES:
            url = reverse(name, kwargs=sample_for(samples.get(name), officer) or None)
            page.emulate_media(media="screen")
            assert page.goto(live_server.url + url).status == 200, name
            screen = page.evaluate(ON_PAPER)
            assert screen["controls"] or any(_acts(h) for h, _t in screen["links"]), (
                f"{name}: nothing to hide"
            )
            page.emulate_media(media="print")
            paper = page.evaluate(ON_PAPER)
            problems += [f"{name}: {c}" for c in paper["controls"]]
            problems += [f"{name}: link {text!r} to {href}" for href, text in paper["links"] if _acts(href)]
            if name == "backups:system-detail":
                page.pdf(path=artifacts_dir / "print-system-detail.pdf", format="A4")
        browser.close()
    assert not problems, "\n".join(problems)
