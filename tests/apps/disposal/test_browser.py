"""The journey in Debian's Chromium: a department lead registers and stores two media, the officer
hands them over in one batch and uploads the contractor's certificate, and both show as certified;
a staff member reports an incident and the officer sees its report deadline. Screenshots go to
`test-artifacts/`."""

from __future__ import annotations

import pytest
from django.utils import timezone

from mamori.apps.disposal.models import Medium, MediumState
from mamori.apps.incidents.models import Incident
from mamori.apps.incidents.selectors import incident_reports
from tests.apps.core.test_browser import _sign_in, browser  # noqa: F401 - the Chromium fixture
from tests.apps.core.world import build_world

from .helpers import MINIMAL_PDF

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_media_from_registration_to_certificate_and_an_incident_deadline(
    browser,  # noqa: F811
    live_server,
    artifacts_dir,
    tmp_path,
    settings,
):
    settings.MEDIA_ROOT = tmp_path / "uploads"
    world = build_world()
    base = live_server.url

    lead = _sign_in(browser, base, "lead")
    for label in ("総務-USB-101", "総務-HDD-102"):
        lead.click("nav.main a[data-nav=disposal]")
        lead.click("text=媒体を登録")
        lead.fill("#id_label", label)
        lead.select_option("#id_department", str(world.gyokaku.pk))
        lead.select_option("#id_network_zone", "lgwan")
        lead.click("button.primary")
        assert lead.locator("main h1").inner_text().startswith(label)
        lead.click("text=保管庫に移す")
        assert "保管中" in lead.locator("main h1").inner_text()
    lead.screenshot(path=artifacts_dir / "disposal-lead-stored.png", full_page=True)
    lead.close()

    officer = _sign_in(browser, base, "officer")
    officer.click("nav.main a[data-nav=disposal]")
    officer.click("text=委託業者へ引渡し")
    for medium in Medium.objects.all():
        officer.check(f'input[name="media"][value="{medium.pk}"]')
    officer.fill("#id_contractor", "みなと台リサイクル株式会社")
    officer.fill("#id_received_by", "山口 健")
    officer.fill("#id_witness", "情報政策課 中村")
    officer.click("button.primary")
    assert officer.locator("#batch-media tbody tr").count() == 2
    officer.click("text=証明書を登録")
    certificate = tmp_path / "廃棄証明書.pdf"
    certificate.write_bytes(MINIMAL_PDF)
    officer.set_input_files("#id_file", str(certificate))
    officer.fill("#id_number", "MRC-2026-001")
    officer.fill("#id_issued_on", timezone.localdate().isoformat())
    for medium in Medium.objects.all():
        officer.check(f'input[name="media"][value="{medium.pk}"]')
    officer.click("button.primary")
    states = officer.locator("#batch-media tbody .status").all_inner_texts()
    assert states == ["証明書受領", "証明書受領"]
    assert set(Medium.objects.values_list("state", flat=True)) == {MediumState.CERTIFIED}
    officer.screenshot(path=artifacts_dir / "disposal-officer-certified.png", full_page=True)
    officer.goto(f"{base}/disposal/evidence/")  # 20 columns and a SHA-256: it must still fit 1280 px
    assert officer.locator("table.evidence tbody tr").count() == 2
    assert officer.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    officer.screenshot(path=artifacts_dir / "disposal-officer-evidence.png", full_page=True)

    staff = _sign_in(browser, base, "staff")
    staff.click("nav.main a[data-nav=incidents]")
    staff.click("text=事故を報告")
    staff.fill("#id_title", "USBメモリの紛失")
    staff.select_option("#id_kind", "loss")
    staff.fill("#id_description", "会議資料を保存したUSBメモリが見当たらない")
    staff.check("#id_personal_data")
    staff.fill("#id_people_affected", "120")
    staff.click("button.primary")
    assert staff.locator("main h1").inner_text().startswith("USBメモリの紛失")
    staff.close()

    incident = Incident.objects.get()
    final_day = incident_reports(incident).final.deadline.day
    officer.click("nav.main a[data-nav=incidents]")
    deadlines = officer.locator("[data-section=deadlines]")
    assert "USBメモリの紛失" in deadlines.inner_text()
    officer.click("text=USBメモリの紛失")
    assert f"{final_day:%Y-%m-%d}" in officer.locator("[data-section=reports]").inner_text()
    officer.screenshot(path=artifacts_dir / "incidents-officer-deadline.png", full_page=True)
    officer.close()
