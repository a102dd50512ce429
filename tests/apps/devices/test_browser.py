"""The journey in Debian's Chromium: the officer uploads an osquery result log, follows the import on
its progress page while the worker runs it, the coverage chart moves, and the device whose
signatures are out of date appears in the failing list. Screenshots go to `test-artifacts/`."""

from __future__ import annotations

import pytest
from django.utils import timezone

from mamori.apps.backups.worker import BackupWorker
from mamori.apps.devices.demo_files import Observation, days_back, osquery_lines
from tests.apps.core.test_browser import _sign_in, browser  # noqa: F401 - the Chromium fixture
from tests.apps.core.world import build_world

from .helpers import device

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_osquery_import_moves_the_chart_and_lists_the_stale_device(
    browser,  # noqa: F811
    live_server,
    artifacts_dir,
    tmp_path,
    settings,
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}  # queued, as in production
    world = build_world()
    for n in (1, 2, 3):
        device(f"GK-PC-00{n}", world.gyokaku, hostname=f"GK-PC-00{n}", serial=f"SN{n}")
    today = timezone.localdate()
    log = tmp_path / "osquery-results.log"
    seen = [
        Observation(hostname=f"GK-PC-00{n}", serial=f"SN{n}", day=day, signatures_current=n != 3,
                    patches=(("KB5032190", today),))
        for n in (1, 2, 3) for day in days_back(today, 2)
    ]  # fmt: skip
    log.write_bytes(osquery_lines(seen))
    officer = _sign_in(browser, live_server.url, "officer")
    officer.click("nav.main a[data-nav=devices]")
    lgwan = officer.locator('svg.coverage-chart g[data-row="lgwan"]').first
    assert lgwan.get_attribute("data-av-pct") == "0.0"
    assert officer.locator('[data-kpi="av"]').inner_text() == "0.0%"

    officer.click("text=取込")
    officer.click("text=ファイルを取り込む")
    officer.set_input_files("#id_file", str(log))
    officer.click("button.primary")
    assert officer.locator("[data-field=state]").inner_text() == "待機中"
    officer.screenshot(path=artifacts_dir / "devices-import-queued.png", full_page=True)
    assert BackupWorker().drain() == 1  # what `mamori worker` does on its next poll
    officer.wait_for_selector('#progress[data-state="succeeded"]', timeout=15_000)  # polled every second
    assert "6件中 新規 6" in officer.locator('#progress [data-field="message"]').inner_text()
    officer.screenshot(path=artifacts_dir / "devices-import-osquery.png", full_page=True)
    officer.click("[data-field=detail]")
    assert "6件中 新規 6" in officer.locator('[data-field="counts"]').inner_text()

    officer.click("nav.main a[data-nav=devices]")
    assert lgwan.get_attribute("data-av-pct") == "66.7"
    assert officer.locator('[data-kpi="av"]').inner_text() == "66.7%"
    officer.screenshot(path=artifacts_dir / "devices-coverage.png", full_page=True)

    officer.click("text=定義ファイルが古い: 1")
    row = officer.locator('#failing tr[data-device="GK-PC-003"]')
    assert row.locator('[data-rule="signatures"]').inner_text() == "定義ファイルが古い"
    assert officer.locator("#failing tbody tr").count() == 1
    row.locator("a").click()
    assert officer.locator("main h1").inner_text() == "GK-PC-003 GK-PC-003"
    officer.screenshot(path=artifacts_dir / "devices-failing-device.png", full_page=True)
